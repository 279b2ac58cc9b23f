import { describe, expect, it } from 'vitest';
import { holeVerdict, MAX_HOLES } from '../../src/analytics/holes.js';
import {
  applyMarketEvent,
  createInstrumentState,
  type InstrumentState,
  markGap,
  toSnapshot,
} from '../../src/analytics/instrument.js';
import type { MarketEvent } from '../../src/domain/types.js';
import { btcEvent } from '../support/events.js';

const SEC = 1_000;
const MIN = 60_000;
const HOUR = 3_600_000;
const T0 = Date.UTC(2026, 2, 1);

const ev = (eventTs: number, oiBase: number, markPrice = 100) =>
  btcEvent('bybit', eventTs, { oiBase, markPrice });

/** One event every `stepMs` from `fromTs` to `toTs` inclusive, OI from `oi(ts)`. */
function feed(s: InstrumentState, fromTs: number, toTs: number, stepMs: number, oi: (ts: number) => number) {
  for (let ts = fromTs; ts <= toTs; ts += stepMs) applyMarketEvent(s, ev(ts, oi(ts)));
}

describe('a gap counts in proportion to what it hides', () => {
  it('a 24h delta across a 20 s hole is trustworthy and says how much was missing', () => {
    const s = createInstrumentState('bybit', 'BTC', 'BTCUSDT');
    feed(s, T0, T0 + 12 * HOUR, 10 * SEC, () => 1000);
    markGap(s);
    const resumeTs = T0 + 12 * HOUR + 20 * SEC;
    feed(s, resumeTs, T0 + 24 * HOUR + 30 * MIN, 10 * SEC, (ts) => (ts > T0 + 24 * HOUR ? 1120 : 1000));
    const d = toSnapshot(s).oi.delta24h!;
    expect(d.pct).toBeCloseTo(12, 9);
    expect(d.gap).toBe(false);
    expect(d.gapMs).toBe(20 * SEC);
    // the same hole inside a 15m window hides 2%: still trustworthy while it is inside
    const s15 = createInstrumentState('bybit', 'BTC', 'BTCUSDT');
    feed(s15, T0, T0 + 20 * MIN, 5 * SEC, () => 1000);
    markGap(s15);
    feed(s15, T0 + 20 * MIN + 20 * SEC, T0 + 30 * MIN, 5 * SEC, () => 1000);
    expect(toSnapshot(s15).oi.delta15m).toMatchObject({ gap: false, gapMs: 20 * SEC });
  });

  it('a 15m delta whose start falls in a 10-minute hole is not', () => {
    const s = createInstrumentState('bybit', 'BTC', 'BTCUSDT');
    feed(s, T0, T0 + 30 * MIN, 10 * SEC, () => 1000);
    markGap(s);
    const resumeTs = T0 + 40 * MIN;
    // 15m later the window starts 5 minutes into the hole, and the hole itself is outside
    // [start, now] but for those 5 minutes: stale start, 33% hidden
    feed(s, resumeTs, resumeTs + 10 * MIN, 10 * SEC, () => 1050);
    let d = toSnapshot(s).oi.delta15m!;
    expect(d.gap).toBe(true);
    expect(d.gapMs).toBeGreaterThan(5 * MIN - 10 * SEC);
    // the start instant is quantized down to a 9 s step
    expect(d.gapMs).toBeLessThanOrEqual(5 * MIN + 9 * SEC);
    // 14 minutes after the hole the start sits 1 minute inside it: hides < 10%, but the start
    // value is 9 minutes old, far more than the 9 s resolution
    feed(s, resumeTs + 10 * MIN + 10 * SEC, resumeTs + 14 * MIN, 10 * SEC, () => 1050);
    d = toSnapshot(s).oi.delta15m!;
    expect(d.gapMs).toBeLessThan(0.1 * 15 * MIN);
    expect(d.gap).toBe(true);
    // once the start has left the hole the delta is trustworthy again, hole gone from it
    feed(s, resumeTs + 14 * MIN + 10 * SEC, resumeTs + 15 * MIN + 20 * SEC, 10 * SEC, () => 1050);
    d = toSnapshot(s).oi.delta15m!;
    expect(d).toMatchObject({ gap: false, gapMs: 0, base: 0 });
  });

  it('a 15m delta straddling a 10-minute hole is not (two thirds of it hidden)', () => {
    const s = createInstrumentState('bybit', 'BTC', 'BTCUSDT');
    feed(s, T0, T0 + 30 * MIN, 10 * SEC, () => 1000);
    markGap(s);
    feed(s, T0 + 40 * MIN, T0 + 42 * MIN, 10 * SEC, () => 1100);
    const d = toSnapshot(s).oi.delta15m!;
    expect(d.pct).toBeCloseTo(10, 9);
    expect(d.gapMs).toBe(10 * MIN);
    expect(d.gap).toBe(true);
  });

  it('a 15m delta across a few seconds of gap is not flagged, wherever its start falls', () => {
    const s = createInstrumentState('bybit', 'BTC', 'BTCUSDT');
    feed(s, T0, T0 + 20 * MIN, 1 * SEC, () => 1000);
    markGap(s);
    const resumeTs = T0 + 20 * MIN + 6 * SEC;
    for (let ts = resumeTs; ts <= resumeTs + 16 * MIN; ts += SEC) {
      applyMarketEvent(s, ev(ts, 1000));
      const d = toSnapshot(s).oi.delta15m!;
      expect(d.gap, `at +${(ts - resumeTs) / SEC} s`).toBe(false);
      expect(d.gapMs).toBeLessThanOrEqual(6 * SEC);
    }
  });

  it('an open hole makes the latest value stale once it is older than a resolution step', () => {
    expect(holeVerdict([{ fromTs: T0, toTs: null }], T0 - 15 * MIN, T0, 15 * MIN, 9 * SEC)).toEqual({
      gapMs: 0,
      gap: false,
    });
    expect(
      holeVerdict([{ fromTs: T0 - 10 * SEC, toTs: null }], T0 - 15 * MIN, T0, 15 * MIN, 9 * SEC),
    ).toEqual({ gapMs: 10 * SEC, gap: true });
  });

  it('starts a REST-fed hole where OI was last seen, not at the last price', () => {
    const s = createInstrumentState('binance', 'BTC', 'BTCUSDT');
    const at = (ts: number, fields: Partial<MarketEvent>): MarketEvent => ({
      ...ev(ts, 0),
      venue: 'binance',
      oiBase: undefined,
      markPrice: undefined,
      ...fields,
    });
    applyMarketEvent(s, at(T0, { oiBase: 1000, markPrice: 100 }));
    // prices keep flowing for 10 minutes while the OI poller is paused
    for (let ts = T0 + SEC; ts <= T0 + 10 * MIN; ts += SEC) applyMarketEvent(s, at(ts, { markPrice: 100 }));
    markGap(s);
    applyMarketEvent(s, at(T0 + 10 * MIN + SEC, { oiBase: 1010 }));
    expect(s.holes).toEqual([{ fromTs: T0, toTs: T0 + 10 * MIN + SEC }]);
  });

  it('keeps at most MAX_HOLES, merging the oldest, and forgets holes the 24h window no longer reaches', () => {
    const s = createInstrumentState('bybit', 'BTC', 'BTCUSDT');
    let ts = T0;
    applyMarketEvent(s, ev(ts, 1000));
    for (let i = 0; i < MAX_HOLES + 5; i++) {
      markGap(s);
      ts += 10 * SEC;
      applyMarketEvent(s, ev(ts, 1000));
      ts += MIN;
      applyMarketEvent(s, ev(ts, 1000));
    }
    expect(s.holes).toHaveLength(MAX_HOLES);
    // merged, never shrunk: the oldest hole still starts where the first one did
    expect(s.holes[0]!.fromTs).toBe(T0);
    const hidden = s.holes.reduce((acc, h) => acc + (h.toTs! - h.fromTs), 0);
    expect(hidden).toBeGreaterThanOrEqual((MAX_HOLES + 5) * 10 * SEC);
    applyMarketEvent(s, ev(ts + 25 * HOUR, 1000));
    expect(s.holes).toEqual([]);
  });

  it('costs nothing when complete: deltas say gapMs 0', () => {
    const s = createInstrumentState('bybit', 'BTC', 'BTCUSDT');
    feed(s, T0, T0 + 25 * HOUR, MIN, () => 1000);
    expect(s.holes).toEqual([]);
    const snap = toSnapshot(s);
    expect(snap.oi.delta15m).toMatchObject({ gap: false, gapMs: 0 });
    expect(snap.oi.delta24h).toMatchObject({ gap: false, gapMs: 0 });
  });
});
