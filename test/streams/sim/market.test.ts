import { describe, expect, it } from 'vitest';
import { createScriptedMarket, DEFAULT_MARKET_SYMBOLS } from '../../../src/streams/sim/market.js';

const HOUR = 3_600_000;
const startTs = Date.UTC(2026, 5, 1, 0, 0, 0);

describe('scripted market funding regimes', () => {
  const plain = createScriptedMarket({ symbols: DEFAULT_MARKET_SYMBOLS, startTs });
  const scripted = createScriptedMarket({
    symbols: DEFAULT_MARKET_SYMBOLS,
    startTs,
    funding: [
      { symbol: 'DOGE', atTs: startTs + HOUR, untilTs: startTs + 5 * HOUR, fundingRate: 0.00375 },
      { symbol: 'DOGE', atTs: startTs + 2 * HOUR, intervalHours: 4 },
    ],
  });

  it('leaves the market unchanged without regimes, and other symbols unchanged with them', () => {
    for (const ts of [startTs, startTs + 90 * 60_000, startTs + 3 * HOUR]) {
      expect(scripted.stateAt('BTC', ts)).toEqual(plain.stateAt('BTC', ts));
      expect(plain.stateAt('DOGE', ts).fundingIntervalHours).toBe(8);
    }
    expect(scripted.stateAt('DOGE', startTs + HOUR - 1)).toEqual(plain.stateAt('DOGE', startTs + HOUR - 1));
  });

  it('holds the scripted rate while the regime lasts, then returns to the walk', () => {
    expect(scripted.stateAt('DOGE', startTs + HOUR).fundingRate).toBe(0.00375);
    expect(scripted.stateAt('DOGE', startTs + 4 * HOUR).fundingRate).toBe(0.00375);
    const after = startTs + 5 * HOUR;
    expect(scripted.stateAt('DOGE', after).fundingRate).toBe(plain.stateAt('DOGE', after).fundingRate);
  });

  it('changes the interval, and puts the next funding time on the new interval grid', () => {
    const before = scripted.stateAt('DOGE', startTs + 2 * HOUR - 1);
    expect(before.fundingIntervalHours).toBe(8);
    expect(before.nextFundingTs).toBe(startTs + 8 * HOUR);
    const at = scripted.stateAt('DOGE', startTs + 2 * HOUR);
    expect(at.fundingIntervalHours).toBe(4);
    expect(at.nextFundingTs).toBe(startTs + 4 * HOUR);
  });
});
