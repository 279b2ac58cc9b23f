import { describe, expect, it } from 'vitest';
import { createScriptedMarket, DEFAULT_MARKET_SYMBOLS } from '../../../src/streams/sim/market.js';

const startTs = Date.UTC(2026, 0, 1);

describe('scripted market liquidations', () => {
  const market = createScriptedMarket({
    symbols: DEFAULT_MARKET_SYMBOLS,
    startTs,
    liquidations: [
      { symbol: 'BTC', atTs: startTs + 60_000, durationMs: 60_000, side: 'short', totalUsd: 20_000_000 },
    ],
  });

  it('a cascade sums to about its total, on its side, inside its span', () => {
    const orders = market.liquidationsBetween('BTC', startTs + 60_000, startTs + 120_000);
    const shorts = orders.filter((o) => o.side === 'short');
    const usd = shorts.reduce((n, o) => n + o.base * o.price, 0);
    expect(shorts.length).toBeGreaterThanOrEqual(120);
    expect(usd).toBeGreaterThan(16_000_000);
    expect(usd).toBeLessThan(24_000_000);
    expect(
      market
        .liquidationsBetween('BTC', startTs + 200_000, startTs + 260_000)
        .every((o) => o.base * o.price < 100_000),
    ).toBe(true);
  });

  it('adjacent spans neither repeat nor miss an order', () => {
    const whole = market.liquidationsBetween('ETH', startTs, startTs + 600_000);
    const parts = [
      ...market.liquidationsBetween('ETH', startTs, startTs + 250_250),
      ...market.liquidationsBetween('ETH', startTs + 250_250, startTs + 600_000),
    ];
    expect(parts).toEqual(whole);
    expect(whole.length).toBeGreaterThan(5);
    expect(new Set(whole.map((o) => o.side)).size).toBe(2);
  });
});
