import { describe, expect, it } from 'vitest';
import { checkpointInstrument, restoreInstrument } from '../../src/analytics/checkpoint.js';
import {
  applyMarketEvent,
  createInstrumentState,
  markGap,
  toSnapshot,
} from '../../src/analytics/instrument.js';
import { btcEvent } from '../support/events.js';

const SEC = 1_000;
const MIN = 60_000;
const HOUR = 3_600_000;
const t0 = Date.UTC(2026, 0, 1);
const ev = (ts: number, oiBase: number) => btcEvent('okx', ts, { oiBase, markPrice: 100 });

/** 25 hours a minute apart, with a 5-minute hole after 24 hours. */
function withHole() {
  const s = createInstrumentState('okx', 'BTC', 'BTC-USDT-SWAP');
  for (let m = 0; m <= 24 * 60; m++) applyMarketEvent(s, ev(t0 + m * MIN, 1000 + m));
  markGap(s);
  for (let m = 24 * 60 + 5; m <= 25 * 60; m++) applyMarketEvent(s, ev(t0 + m * MIN, 1000 + m));
  return s;
}

const roundTrip = <T>(x: T): T => JSON.parse(JSON.stringify(x));

describe('checkpoint and holes', () => {
  it('keeps the holes across a round trip, so deltas weigh them the same', () => {
    const original = withHole();
    const cp = roundTrip(checkpointInstrument(original));
    expect(cp.holes).toEqual([[t0 + 24 * HOUR, t0 + 24 * HOUR + 5 * MIN]]);
    const restored = restoreInstrument(cp)!;
    expect(restored.holes.slice(0, 1)).toEqual(original.holes);
    const next = ev(t0 + 25 * HOUR + 20 * SEC, 2000);
    applyMarketEvent(original, next);
    applyMarketEvent(restored, next);
    const a = toSnapshot(original);
    const b = toSnapshot(restored);
    // the restart's own 20 s is the only difference
    expect(b.oi.delta24h!.gapMs).toBe(a.oi.delta24h!.gapMs! + 20 * SEC);
    expect(b.oi.delta24h!.gap).toBe(false);
    expect(b.oi.delta24h!.pct).toBe(a.oi.delta24h!.pct);
  });

  it('a restart opens a hole from the last event to the first live one, not a day-long flag', () => {
    const s = createInstrumentState('okx', 'BTC', 'BTC-USDT-SWAP');
    for (let m = 0; m <= 25 * 60; m++) applyMarketEvent(s, ev(t0 + m * MIN, 1000));
    const restored = restoreInstrument(roundTrip(checkpointInstrument(s)))!;
    const lastTs = t0 + 25 * HOUR;
    expect(restored.holes).toEqual([{ fromTs: lastTs, toTs: null }]);
    applyMarketEvent(restored, ev(lastTs + 20 * SEC, 1150));
    expect(restored.holes).toEqual([{ fromTs: lastTs, toTs: lastTs + 20 * SEC }]);
    const snap = toSnapshot(restored);
    expect(snap.oi.delta24h).toMatchObject({ gap: false, gapMs: 20 * SEC, pct: 15 });
    // the 15m window hides 20 s of 15 min (2%) and its start is long before the hole
    expect(snap.oi.delta15m).toMatchObject({ gap: false, gapMs: 20 * SEC });
  });

  it('restores a checkpoint written before holes existed, and ignores holes that make no sense', () => {
    const s = createInstrumentState('okx', 'BTC', 'BTC-USDT-SWAP');
    for (let m = 0; m <= 25 * 60; m++) applyMarketEvent(s, ev(t0 + m * MIN, 1000));
    const { holes: _dropped, ...old } = roundTrip(checkpointInstrument(s));
    const restored = restoreInstrument({ ...old, lastGapEndTs: t0 + 10 * HOUR })!;
    expect(restored).not.toBeNull();
    expect(restored.holes).toEqual([{ fromTs: t0 + 25 * HOUR, toTs: null }]);
    const bad = restoreInstrument({
      ...old,
      holes: [[t0, t0 - 1], [Number.NaN, t0] as unknown as [number, number], [t0 + HOUR, t0 + 2 * HOUR]],
    })!;
    expect(bad.holes).toEqual([
      { fromTs: t0 + HOUR, toTs: t0 + 2 * HOUR },
      { fromTs: t0 + 25 * HOUR, toTs: null },
    ]);
  });
});
