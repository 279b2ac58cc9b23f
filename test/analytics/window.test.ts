import { describe, expect, it } from 'vitest';
import {
  createOiWindow,
  type OiPoint,
  observeOi,
  oiDelta,
  oiDeltaPct,
  prependHistory,
  valueAt,
  windowCovers,
} from '../../src/analytics/window.js';
import type { DeltaJson } from '../../src/domain/types.js';
import { mulberry32 } from '../support/prng.js';

/** Keeps every observation; the value at an instant is the last one at or before its boundary. */
class Reference {
  readonly ts: number[] = [];
  readonly points: OiPoint[] = [];
  constructor(
    readonly windowMs: number,
    readonly resolutionMs: number,
  ) {}

  observe(ts: number, oiBase: number, markPrice: number): void {
    const last = this.ts.at(-1);
    this.ts.push(last !== undefined && ts < last ? last : ts);
    this.points.push({ oiBase, markPrice });
  }

  valueAt(instantTs: number): OiPoint | null {
    const quantizedTs = Math.floor(instantTs / this.resolutionMs) * this.resolutionMs - 1;
    let found: OiPoint | null = null;
    for (let i = 0; i < this.ts.length && this.ts[i]! <= quantizedTs; i++) found = this.points[i]!;
    return found;
  }

  delta(nowTs: number, nowOiBase: number, nowMarkPrice: number): DeltaJson | null {
    const then = this.valueAt(nowTs - this.windowMs);
    if (then === null || then.oiBase <= 0) return null;
    const base = nowOiBase - then.oiBase;
    return {
      base,
      usd: nowOiBase * nowMarkPrice - then.oiBase * then.markPrice,
      pct: (100 * base) / then.oiBase,
    };
  }
}

function randomGap(rand: () => number, windowMs: number, resolutionMs: number): number {
  const r = rand();
  if (r < 0.05) return 0;
  if (r < 0.1) return -Math.floor(rand() * 2 * resolutionMs); // out of order: clamped
  if (r < 0.7) return 1 + Math.floor(rand() * 2 * resolutionMs);
  if (r < 0.95) return 1 + Math.floor(rand() * windowMs);
  return 1 + Math.floor(rand() * 3 * windowMs);
}

describe('OI window against a reference that keeps every observation', () => {
  const cases = [
    { seed: 1, windowMs: 900_000, resolutionMs: undefined },
    { seed: 2, windowMs: 60_000, resolutionMs: 600 },
    { seed: 3, windowMs: 10_000, resolutionMs: 300 }, // resolution does not divide the window
    { seed: 4, windowMs: 1_000, resolutionMs: 1 },
    { seed: 5, windowMs: 86_400_000, resolutionMs: undefined },
  ];
  for (const { seed, windowMs, resolutionMs } of cases) {
    it(`matches exactly (seed ${seed}, window ${windowMs} ms, resolution ${resolutionMs ?? 'default'})`, () => {
      const rand = mulberry32(seed);
      const w = createOiWindow(windowMs, resolutionMs);
      const ref = new Reference(windowMs, w.resolutionMs);
      let ts = 1_700_000_000_000 + Math.floor(rand() * 1e6);
      let oiBase = 50_000;
      let markPrice = 85_000;
      let compared = 0;
      let nonNullDeltas = 0;
      for (let n = 0; n < 1500; n++) {
        ts += randomGap(rand, windowMs, w.resolutionMs);
        oiBase = Math.max(1, oiBase * (1 + (rand() - 0.5) * 0.02));
        markPrice = markPrice * (1 + (rand() - 0.5) * 0.01);
        observeOi(w, ts, oiBase, markPrice);
        ref.observe(ts, oiBase, markPrice);
        const lastTs = ref.ts.at(-1)!;
        for (let q = 0; q < 4; q++) {
          const nowTs = lastTs + Math.floor(rand() * 2 * windowMs * (rand() < 0.5 ? 0.01 : 1));
          const expected = ref.delta(nowTs, oiBase, markPrice);
          expect(oiDelta(w, nowTs, oiBase, markPrice)).toStrictEqual(expected);
          // The pre-check's shortcut is the very same number, null at the same times.
          expect(oiDeltaPct(w, nowTs, oiBase)).toBe(expected === null ? null : expected.pct);
          expect(windowCovers(w, nowTs)).toBe(ref.valueAt(nowTs - windowMs) !== null);
          if (expected !== null) nonNullDeltas++;
          const instantTs = lastTs - windowMs + Math.floor(rand() * 2 * windowMs);
          expect(valueAt(w, instantTs)).toStrictEqual(ref.valueAt(instantTs));
          compared += 2;
        }
      }
      expect(w.clampedCount).toBeGreaterThan(0);
      expect(nonNullDeltas).toBeGreaterThan(1000);
      expect(compared).toBe(12_000);
    });
  }
});

describe('OI window behaviour', () => {
  it('keeps 1% resolution by default with two spare slots', () => {
    const w = createOiWindow(900_000);
    expect(w.resolutionMs).toBe(9_000);
    expect(w.size).toBe(102);
    expect(() => createOiWindow(0)).toThrow(RangeError);
    expect(() => createOiWindow(1000, 2000)).toThrow(RangeError);
  });

  it('is null until history covers the whole window, then computes base, usd and pct', () => {
    const w = createOiWindow(1_000, 10);
    observeOi(w, 10_000, 100, 2);
    expect(oiDelta(w, 10_500, 110, 3)).toBeNull();
    expect(windowCovers(w, 10_999)).toBe(false);
    // now − window = 10_000 quantizes to 9_999, still before the first observation
    expect(oiDelta(w, 11_000, 110, 3)).toBeNull();
    observeOi(w, 10_500, 120, 2.5);
    observeOi(w, 11_010, 110, 3);
    expect(windowCovers(w, 11_010)).toBe(true);
    expect(oiDelta(w, 11_010, 110, 3)).toStrictEqual({ base: 10, usd: 330 - 200, pct: 10 });
    // 11_500 − 1_000 is read at 10_499: still the first value; 11_510 reads 10_509, the second
    expect(oiDelta(w, 11_500, 110, 3)?.base).toBe(10);
    const later = oiDelta(w, 11_510, 110, 3);
    expect(later?.base).toBe(-10);
    expect(later?.usd).toBe(30);
    expect(later?.pct).toBeCloseTo(-8.3333, 4);
  });

  it('returns null when OI then was not positive', () => {
    const w = createOiWindow(1_000, 10);
    observeOi(w, 0, 0, 100);
    observeOi(w, 2_000, 5, 100);
    expect(windowCovers(w, 2_000)).toBe(true);
    expect(oiDelta(w, 2_000, 5, 100)).toBeNull();
  });

  it('clamps an out-of-order observation to the latest time and never rewrites history', () => {
    const w = createOiWindow(1_000, 10);
    observeOi(w, 1_000, 10, 1);
    observeOi(w, 2_000, 20, 1);
    observeOi(w, 1_500, 30, 1);
    expect(w.clampedCount).toBe(1);
    expect(w.lastTs).toBe(2_000);
    expect(valueAt(w, 1_600)).toStrictEqual({ oiBase: 10, markPrice: 1 });
    expect(valueAt(w, 2_000)).toStrictEqual({ oiBase: 10, markPrice: 1 });
    expect(valueAt(w, 2_010)).toStrictEqual({ oiBase: 30, markPrice: 1 });
  });

  it('bridges a gap longer than the window with the value held before it', () => {
    const w = createOiWindow(1_000, 10);
    observeOi(w, 0, 100, 1);
    observeOi(w, 500, 200, 1);
    observeOi(w, 5_000, 300, 1);
    expect(oiDelta(w, 5_000, 300, 1)).toStrictEqual({ base: 100, usd: 100, pct: 50 });
    expect(oiDelta(w, 6_000, 300, 1)?.base).toBe(100);
    expect(oiDelta(w, 6_010, 300, 1)).toStrictEqual({ base: 0, usd: 0, pct: 0 });
    // Older than the ring reaches: forgotten rather than guessed.
    expect(valueAt(w, 3_000)).toBeNull();
    expect(valueAt(w, 4_000)).toStrictEqual({ oiBase: 200, markPrice: 1 });
  });

  it('keeps memory bounded over days of observations', () => {
    const w = createOiWindow(900_000);
    const before = Object.entries(w).map(([k, v]) => [k, v instanceof Float64Array ? v.length : typeof v]);
    const rand = mulberry32(42);
    let ts = 1_700_000_000_000;
    for (let n = 0; n < 100_000; n++) {
      ts += 1 + Math.floor(rand() * 6_000);
      observeOi(w, ts, 1_000 + n, 2);
    }
    expect(ts - 1_700_000_000_000).toBeGreaterThan(3 * 86_400_000);
    expect(w.observationCount).toBe(100_000);
    const after = Object.entries(w).map(([k, v]) => [k, v instanceof Float64Array ? v.length : typeof v]);
    expect(after).toStrictEqual(before);
    expect(w.slotOiBase.length).toBe(102);
    expect(oiDelta(w, ts, 101_000, 2)).not.toBeNull();
  });
});

describe('history prepended at warm start', () => {
  it('reads exactly as if the history had been observed before the live data (seeded random)', () => {
    for (let seed = 1; seed <= 40; seed++) {
      const rnd = mulberry32(seed);
      const windowMs = 900_000;
      const history: { ts: number; oiBase: number; markPrice: number }[] = [];
      let t = 1_700_000_000_000 + Math.floor(rnd() * 100_000);
      for (let i = 0; i < 20 + Math.floor(rnd() * 60); i++) {
        t += Math.floor(rnd() * 60_000);
        history.push({ ts: t, oiBase: 1000 + rnd() * 100, markPrice: 50 + rnd() });
      }
      const live: { ts: number; oiBase: number; markPrice: number }[] = [];
      t += 1 + Math.floor(rnd() * 30_000);
      for (let i = 0; i < 10 + Math.floor(rnd() * 200); i++) {
        live.push({ ts: t, oiBase: 1000 + rnd() * 100, markPrice: 50 + rnd() });
        t += Math.floor(rnd() * 20_000);
      }
      const together = createOiWindow(windowMs);
      for (const p of [...history, ...live]) observeOi(together, p.ts, p.oiBase, p.markPrice);
      const prepended = createOiWindow(windowMs);
      for (const p of live) observeOi(prepended, p.ts, p.oiBase, p.markPrice);
      // shuffled on purpose: the function orders the points itself
      const shuffled = [...history].sort(() => rnd() - 0.5);
      expect(prependHistory(prepended, shuffled)).toBe(history.length);
      for (let instant = history[0]!.ts - 20_000; instant <= t + 20_000; instant += 3_000) {
        expect(valueAt(prepended, instant), `seed ${seed} at ${instant}`).toEqual(valueAt(together, instant));
      }
      expect(prepended.firstTs).toBe(together.firstTs);
    }
  });

  it('never overwrites live data and ignores points at or after the first live observation', () => {
    const w = createOiWindow(900_000);
    observeOi(w, 1_000_000_000, 500, 10);
    observeOi(w, 1_000_100_000, 600, 11);
    const before = valueAt(w, 1_000_100_000);
    expect(prependHistory(w, [{ ts: 1_000_000_000, oiBase: 1, markPrice: 1 }])).toBe(0);
    expect(prependHistory(w, [{ ts: 999_990_000, oiBase: 400, markPrice: 9 }])).toBe(1);
    expect(valueAt(w, 1_000_100_000)).toEqual(before);
    expect(valueAt(w, 1_000_000_000)).toEqual({ oiBase: 400, markPrice: 9 });
  });

  it('observes the points in order when the window is empty, skipping non-finite ones', () => {
    const w = createOiWindow(900_000);
    const n = prependHistory(w, [
      { ts: 2_000, oiBase: 2, markPrice: 1 },
      { ts: 1_000, oiBase: 1, markPrice: 1 },
      { ts: Number.NaN, oiBase: 3, markPrice: 1 },
    ]);
    expect(n).toBe(2);
    expect(w.currentOiBase).toBe(2);
    expect(w.firstTs).toBe(1_000);
  });
});
