import { describe, expect, it } from 'vitest';
import {
  createLiquidationBook,
  createLiquidationWindow,
  FIELDS,
  liquidatedOiShare,
  liquidationBuckets,
  liquidationTotals,
  liquidationWindowStartTs,
  loadLiquidationBuckets,
  RING_BUCKETS,
  RING_BYTES,
  recordLiquidation,
  recordLiquidations,
} from '../../src/analytics/liquidations.js';
import { createOiWindow } from '../../src/analytics/window.js';
import type { Liquidation } from '../../src/domain/types.js';
import { mulberry32 } from '../support/prng.js';

const SEC = 1_000;
const MIN = 60_000;
const HOUR = 3_600_000;
const W15 = 15 * MIN;
const W24 = 24 * HOUR;
/** The grid: 2% of the window (15m in 18 s buckets, 24h in 28.8 min buckets). */
const RES15 = 18 * SEC;
const RES24 = 28.8 * MIN;
/** Aligned on both resolutions, so bucket edges are easy to name. */
const T0 = 20_000 * RES24;

describe('liquidation window', () => {
  it('sums USD, base and count by the side of the positions closed', () => {
    const w = createLiquidationWindow(W15);
    const now = T0 + 5 * MIN;
    expect(recordLiquidation(w, now, T0 + 1 * MIN, 'long', 2, 130_000)).toBe(true);
    expect(recordLiquidation(w, now, T0 + 2 * MIN, 'short', 0.5, 33_000)).toBe(true);
    expect(recordLiquidation(w, now, T0 + 3 * MIN, 'long', 1.25, 80_000)).toBe(true);
    expect(recordLiquidation(w, now, T0 + 3 * MIN, 'short', 4, 260_000)).toBe(true);
    expect(liquidationTotals(w, now)).toEqual({
      longUsd: 210_000,
      shortUsd: 293_000,
      longBase: 3.25,
      shortBase: 4.5,
      count: 4,
    });
  });

  it('a 15m window counts from the start of the bucket 50 steps before now, to now', () => {
    const w = createLiquidationWindow(W15);
    recordLiquidation(w, T0, T0, 'long', 1, 100);
    expect(w.resolutionMs).toBe(RES15);
    // the window read at now starts at floor(now / 18 s) − 50 buckets: T0 is still in it
    const lastIn = T0 + W15 + RES15 - 1;
    expect(liquidationWindowStartTs(w, lastIn)).toBe(T0);
    expect(liquidationTotals(w, lastIn).count).toBe(1);
    expect(liquidationTotals(w, lastIn + 1).count).toBe(0);
    // and 15 minutes (not a step more) after a bucket's last millisecond it has gone
    const w2 = createLiquidationWindow(W15);
    recordLiquidation(w2, T0 + RES15 - 1, T0 + RES15 - 1, 'short', 1, 100);
    expect(liquidationTotals(w2, T0 + W15 + RES15 - 1).count).toBe(1);
    expect(liquidationTotals(w2, T0 + W15 + RES15).count).toBe(0);
  });

  it('a 24h window keeps a liquidation for a day (plus at most one 28.8 min step) and no longer', () => {
    const w = createLiquidationWindow(W24);
    expect(w.resolutionMs).toBe(RES24);
    recordLiquidation(w, T0 + 1, T0 + 1, 'long', 3, 300);
    // more liquidations, each moving the open bucket on, so the first one is in the ring
    for (let h = 1; h <= 23; h++) recordLiquidation(w, T0 + h * HOUR, T0 + h * HOUR, 'short', 1, 100);
    expect(liquidationTotals(w, T0 + W24 + RES24 - 1)).toMatchObject({
      longBase: 3,
      shortBase: 23,
      count: 24,
    });
    expect(liquidationTotals(w, T0 + W24 + RES24)).toMatchObject({ longBase: 0, shortBase: 23, count: 23 });
    // nothing at all once every bucket has left, even without a new liquidation moving the head
    expect(liquidationTotals(w, T0 + 23 * HOUR + W24 + RES24).count).toBe(0);
  });

  it('reuses a ring slot only after clearing it: an expired bucket never reappears as a recent one', () => {
    const w = createLiquidationWindow(W15);
    recordLiquidation(w, T0, T0, 'long', 7, 700); // bucket B
    recordLiquidation(w, T0 + RES15, T0 + RES15, 'short', 1, 100); // B + 1 closes B into its slot
    // B + 51: B has left; B + 50 (empty, the same slot as B) must read as empty
    const now = T0 + 51 * RES15;
    recordLiquidation(w, now, now, 'short', 2, 200);
    expect(liquidationTotals(w, now)).toEqual({
      longUsd: 0,
      shortUsd: 300,
      longBase: 0,
      shortBase: 3,
      count: 2,
    });
  });

  it('starts where the OI delta of the same window starts, or one 1% step before it, never after', () => {
    // the OI delta compares with the value in effect at the 1% edge floor((now − window) / 1%)
    const rand = mulberry32(5);
    for (const windowMs of [W15, W24]) {
      const w = createLiquidationWindow(windowMs);
      const oiRes = createOiWindow(windowMs).resolutionMs;
      expect(oiRes).toBe(windowMs / 100);
      const seen = new Set<number>();
      for (let i = 0; i < 2_000; i++) {
        const now = T0 + Math.floor(rand() * 3 * W24);
        const oiStartTs = Math.floor((now - windowMs) / oiRes) * oiRes;
        const lead = oiStartTs - liquidationWindowStartTs(w, now);
        expect([0, oiRes]).toContain(lead);
        seen.add(lead);
      }
      expect([...seen].sort((a, b) => a - b)).toEqual([0, oiRes]);
    }
    // on a 2% edge the two spans are the same; a 1% step past it the liquidations reach one step further
    const w = createLiquidationWindow(W15);
    expect(liquidationWindowStartTs(w, T0 + W15)).toBe(T0);
    expect(liquidationWindowStartTs(w, T0 + W15 + 9 * SEC)).toBe(T0);
  });

  it('drops a liquidation older than the window at arrival, and counts one that is just inside', () => {
    const w = createLiquidationWindow(W24);
    const now = T0 + 2 * W24;
    const start = liquidationWindowStartTs(w, now);
    expect(recordLiquidation(w, now, start - 1, 'long', 1, 100)).toBe(false);
    expect(w.droppedCount).toBe(1);
    expect(recordLiquidation(w, now, start, 'long', 2, 200)).toBe(true);
    expect(liquidationTotals(w, now)).toMatchObject({ longBase: 2, count: 1 });
  });

  it('counts out-of-order liquidations in their own (older) bucket, so they expire on time', () => {
    const w = createLiquidationWindow(W15);
    const now = T0 + 10 * MIN;
    recordLiquidation(w, now, T0 + 9 * MIN, 'long', 1, 100);
    recordLiquidation(w, now, T0 + 10 * MIN, 'long', 1, 100);
    // arrives last, belongs 9 minutes earlier (a closed bucket of the ring)
    expect(recordLiquidation(w, now, T0 + 1 * MIN, 'short', 5, 500)).toBe(true);
    expect(liquidationTotals(w, now)).toEqual({
      longUsd: 200,
      shortUsd: 500,
      longBase: 2,
      shortBase: 5,
      count: 3,
    });
    // 15 minutes and a step after T0 + 1 min it has left; the others are still in
    const t = T0 + 1 * MIN + W15 + RES15;
    expect(liquidationTotals(w, t)).toMatchObject({ shortBase: 0, longBase: 2, count: 2 });
  });

  it('counts a liquidation newer than the latest event time at that time, never in the future', () => {
    const w = createLiquidationWindow(W15);
    const now = T0 + 30 * RES15; // on a bucket edge, so its bucket ends a step later
    expect(recordLiquidation(w, now, now + 10 * MIN, 'long', 1, 100)).toBe(true);
    expect(w.clampedCount).toBe(1);
    expect(w.headBucket).toBe(Math.floor(now / RES15));
    // it expires 15 minutes after `now`, not after its claimed time
    expect(liquidationTotals(w, now + W15 + RES15 - 1).count).toBe(1);
    expect(liquidationTotals(w, now + W15 + RES15).count).toBe(0);
    // a later liquidation at the real time of the first one's claim lands in its own bucket
    recordLiquidation(w, now + 10 * MIN, now + 10 * MIN, 'short', 1, 100);
    expect(liquidationTotals(w, now + W15 + RES15).count).toBe(1);
  });

  it('ignores malformed liquidations', () => {
    const w = createLiquidationWindow(W15);
    const now = T0;
    expect(recordLiquidation(w, now, Number.NaN, 'long', 1, 1)).toBe(false);
    expect(recordLiquidation(w, now, now, 'long', -1, 1)).toBe(false);
    expect(recordLiquidation(w, now, now, 'long', 1, Number.POSITIVE_INFINITY)).toBe(false);
    expect(recordLiquidation(w, now, now, 'sideways' as 'long', 1, 1)).toBe(false);
    expect(liquidationTotals(w, now).count).toBe(0);
    expect(w.ring).toBeNull();
  });

  it('keeps constant memory: one ring per window, allocated once, whatever the traffic', () => {
    const w = createLiquidationWindow(W15);
    expect(w.ring).toBeNull();
    recordLiquidation(w, T0, T0, 'long', 1, 1);
    const ring = w.ring!;
    expect(ring.length).toBe(RING_BUCKETS * FIELDS);
    expect(ring.byteLength).toBe(RING_BYTES);
    expect(RING_BUCKETS).toBe(50);
    expect(RING_BYTES).toBe(1000); // 2,000 bytes for the two windows of an instrument
    const rand = mulberry32(7);
    let now = T0;
    let expected = 0;
    const kept: { ts: number; base: number }[] = [];
    for (let i = 0; i < 50_000; i++) {
      now += Math.floor(rand() * 300);
      const ts = now - Math.floor(rand() * 60 * SEC); // up to a minute late
      const base = Math.floor(rand() * 100) / 4;
      recordLiquidation(w, now, ts, 'long', base, base * 10);
      kept.push({ ts, base });
    }
    expect(w.ring).toBe(ring);
    expect(ring.length).toBe(RING_BUCKETS * FIELDS);
    const startTs = liquidationWindowStartTs(w, now);
    for (const k of kept) if (k.ts >= startTs) expected += k.base;
    // quarters are exact in float32 while a bucket's sum stays below 2^22
    expect(liquidationTotals(w, now).longBase).toBe(expected);
  });

  it('keeps large sums close in the float32 ring (one rounding per closed bucket)', () => {
    const w = createLiquidationWindow(W24);
    const now = T0 + 10 * HOUR;
    let expected = 0;
    for (let h = 0; h <= 10; h++) {
      const usd = 123_456_789.123 + h;
      recordLiquidation(w, now, T0 + h * HOUR, 'short', 1, usd);
      expected += usd;
    }
    const got = liquidationTotals(w, now).shortUsd;
    expect(Math.abs(got - expected) / expected).toBeLessThan(1e-7);
  });

  it('round-trips through its bucket list (what a checkpoint stores)', () => {
    const w = createLiquidationWindow(W15);
    const now = T0 + 14 * MIN;
    for (let m = 0; m <= 14; m++)
      recordLiquidation(w, now, T0 + m * MIN, m % 2 ? 'long' : 'short', m, m * 100);
    const buckets = liquidationBuckets(w);
    expect(buckets).toHaveLength(15); // minute 0's liquidation has size 0: still one, counted
    const copy = createLiquidationWindow(W15);
    expect(loadLiquidationBuckets(copy, JSON.parse(JSON.stringify(buckets)))).toBe(buckets.length);
    expect(liquidationTotals(copy, now)).toEqual(liquidationTotals(w, now));
    expect(liquidationTotals(copy, now + 7 * MIN)).toEqual(liquidationTotals(w, now + 7 * MIN));
    // arbitrary float32 sums come back bit for bit from their short JSON form
    const rand = mulberry32(11);
    const noisy = createLiquidationWindow(W15);
    for (let m = 0; m <= 14; m++) {
      for (let j = 0; j < 5; j++)
        recordLiquidation(noisy, now, T0 + m * MIN, 'long', rand() * 3, rand() * 190_000);
    }
    const back = createLiquidationWindow(W15);
    loadLiquidationBuckets(back, JSON.parse(JSON.stringify(liquidationBuckets(noisy))));
    expect(Array.from(back.ring!)).toEqual(Array.from(noisy.ring!));
    expect(liquidationTotals(back, now)).toEqual(liquidationTotals(noisy, now));
    // malformed entries are skipped, the rest kept
    const bad = createLiquidationWindow(W15);
    expect(
      loadLiquidationBuckets(bad, [[1, 2], 'x', [Math.floor(now / RES15), 1, 0, 1, 0, -1], buckets[0]]),
    ).toBe(1);
  });
});

describe('liquidation book', () => {
  it('records a frame of liquidations in both windows', () => {
    const book = createLiquidationBook(W15, W24);
    const now = T0 + 2 * HOUR;
    const list: Liquidation[] = [
      { side: 'long', base: 1, usd: 100, ts: now - 1 * HOUR },
      { side: 'short', base: 2, usd: 200, ts: now - 1 * MIN },
    ];
    expect(recordLiquidations(book, now, list)).toBe(2);
    expect(liquidationTotals(book.w24h, now)).toMatchObject({ longBase: 1, shortBase: 2, count: 2 });
    expect(liquidationTotals(book.w15m, now)).toMatchObject({ longBase: 0, shortBase: 2, count: 1 });
  });
});

describe('liquidated share of the OI fall', () => {
  it('is the base liquidated over the size of the decrease, only when OI fell beyond the dead band', () => {
    // a squeeze: OI −2,000 base (−2% of 100,000), 1,240 base of shorts liquidated
    const fall = { base: -2000, pct: -2 };
    expect(liquidatedOiShare(1240, fall, 0.5)).toBe(0.62);
    expect(liquidatedOiShare(1240, { base: 0, pct: 0 }, 0.5)).toBeNull();
    expect(liquidatedOiShare(1240, { base: 500, pct: 0.5 }, 0.5)).toBeNull();
    expect(liquidatedOiShare(1240, null, 0.5)).toBeNull();
    expect(liquidatedOiShare(1240, undefined, 0.5)).toBeNull();
    // a dip inside the dead band (−0.01%) is noise: no share, never "≥100% forced"
    expect(liquidatedOiShare(30, { base: -10, pct: -0.01 }, 0.5)).toBeNull();
    expect(liquidatedOiShare(1240, fall, 2)).toBe(0.62);
    expect(liquidatedOiShare(1240, fall, 2.5)).toBeNull();
    // not clamped: positions reopened and liquidated again within the window
    expect(liquidatedOiShare(3000, fall, 0.5)).toBe(1.5);
  });
});
