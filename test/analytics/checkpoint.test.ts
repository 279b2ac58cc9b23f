import { describe, expect, it } from 'vitest';
import {
  CHECKPOINT_VERSION,
  checkpointInstrument,
  restoreInstrument,
} from '../../src/analytics/checkpoint.js';
import { applyMarketEvent, createInstrumentState, toSnapshot } from '../../src/analytics/instrument.js';
import { btcEvent } from '../support/events.js';

const MIN = 60_000;
const t0 = Date.UTC(2026, 0, 1);
const ev = (ts: number, oiBase: number, markPrice: number) =>
  btcEvent('okx', ts, {
    oiBase,
    markPrice,
    fundingRate: 0.0001,
    fundingIntervalHours: 8,
    nextFundingTs: ts + 3_600_000,
  });

function filled() {
  const s = createInstrumentState('okx', 'BTC', 'BTC-USDT-SWAP');
  // 25 hours, one point a minute, OI and price moving
  for (let m = 0; m <= 25 * 60; m++)
    applyMarketEvent(s, ev(t0 + m * MIN, 1000 + 3 * Math.sin(m / 50) * 100 + m, 100 + (m % 37)));
  return s;
}

describe('analytics checkpoint', () => {
  it('restores an instrument whose snapshot equals the original, windows included', () => {
    const original = filled();
    const restored = restoreInstrument(JSON.parse(JSON.stringify(checkpointInstrument(original))))!;
    expect(restored).not.toBeNull();
    const a = toSnapshot(original);
    const b = toSnapshot(restored);
    expect(b).toEqual(a);
    expect(a.oi.delta24h).not.toBeNull();
  });

  it('treats the time since the checkpoint as a gap: the next deltas are flagged, the values still exact', () => {
    const original = filled();
    const restored = restoreInstrument(JSON.parse(JSON.stringify(checkpointInstrument(original))))!;
    const next = ev(t0 + 25 * 60 * MIN + 30 * MIN, 2000, 120);
    applyMarketEvent(original, next);
    applyMarketEvent(restored, next);
    const a = toSnapshot(original);
    const b = toSnapshot(restored);
    expect(b.oi.delta24h?.base).toBe(a.oi.delta24h?.base);
    expect(b.oi.delta15m?.pct).toBe(a.oi.delta15m?.pct);
    expect(a.oi.delta15m?.gap).toBe(false);
    expect(b.oi.delta15m?.gap).toBe(true);
  });

  it('ignores a checkpoint of another version or another window layout', () => {
    const cp = checkpointInstrument(filled());
    expect(restoreInstrument({ ...cp, v: (CHECKPOINT_VERSION + 1) as 1 })).toBeNull();
    expect(restoreInstrument({ ...cp, window15m: { ...cp.window15m, resolutionMs: 1000 } })).toBeNull();
  });
});
