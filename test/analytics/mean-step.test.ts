import { describe, expect, it } from 'vitest';
import { meanStepChange } from '../../src/analytics/intel-motion.js';
import {
  createOiWindow,
  type OiWindow,
  observeOi,
  prependHistory,
  valueAt,
} from '../../src/analytics/window.js';
import { mulberry32 } from '../support/prng.js';

/** The definition, sample by sample through `valueAt`. */
function reference(w: OiWindow, stepMs: number, nowTs: number): { oiBase: number; markPrice: number } | null {
  const steps = Math.round(w.windowMs / stepMs);
  const startTs = nowTs - w.windowMs;
  let prev = valueAt(w, startTs);
  if (prev === null) return null;
  let oi = 0;
  let mark = 0;
  for (let k = 1; k <= steps; k++) {
    const cur = valueAt(w, startTs + k * stepMs);
    if (cur === null) return null;
    oi += Math.abs(cur.oiBase - prev.oiBase);
    mark += Math.abs(cur.markPrice - prev.markPrice);
    prev = cur;
  }
  return { oiBase: oi / steps, markPrice: mark / steps };
}

describe('meanStepChange', () => {
  it('equals the valueAt definition exactly, before and after the window covers', () => {
    const rand = mulberry32(7);
    const w = createOiWindow(86_400_000);
    let ts = 1_700_000_000_000;
    let oi = 10_000;
    let mark = 100;
    let nonNull = 0;
    for (let n = 0; n < 2_000; n++) {
      ts += Math.floor(rand() * 120_000);
      oi = Math.max(1, oi * (1 + (rand() - 0.5) * 0.02));
      mark *= 1 + (rand() - 0.5) * 0.01;
      observeOi(w, ts, oi, mark);
      const nowTs = ts + Math.floor(rand() * 5_000);
      const expected = reference(w, 900_000, nowTs);
      expect(meanStepChange(w, 900_000, nowTs)).toStrictEqual(expected);
      if (expected !== null) nonNull++;
    }
    expect(nonNull).toBeGreaterThan(500);
  });

  it('stays exact when asked again and again between observations (remembered means)', () => {
    const rand = mulberry32(11);
    const windows = [createOiWindow(86_400_000), createOiWindow(86_400_000)];
    const t0 = 1_700_000_000_000;
    // The second window gets its past from history later: its ring changes behind the first observation.
    let ts = t0 + 30 * 3_600_000;
    const oi = [10_000, 20_000];
    const mark = [100, 50];
    let asked = 0;
    let nonNull = 0;
    for (let n = 0; n < 3_000; n++) {
      ts += Math.floor(rand() * 60_000);
      for (let j = 0; j < 2; j++) {
        oi[j] = Math.max(1, oi[j]! * (1 + (rand() - 0.5) * 0.02));
        mark[j] = mark[j]! * (1 + (rand() - 0.5) * 0.01);
        observeOi(windows[j]!, ts, oi[j]!, mark[j]!);
      }
      if (n === 1_500) {
        const history = Array.from({ length: 200 }, (_, k) => ({
          ts: t0 + k * 600_000,
          oiBase: 15_000 + k,
          markPrice: 60 + k / 100,
        }));
        expect(prependHistory(windows[1]!, history)).toBeGreaterThan(0);
      }
      // Several times per state: the same instant, later in the same 36 s, and beyond it.
      for (const nowTs of [ts, ts, ts + Math.floor(rand() * 36_000), ts + Math.floor(rand() * 200_000)]) {
        for (const w of windows) {
          const expected = reference(w, 900_000, nowTs);
          expect(meanStepChange(w, 900_000, nowTs)).toStrictEqual(expected);
          if (expected !== null) nonNull++;
          asked++;
        }
      }
    }
    expect(asked).toBe(24_000);
    expect(nonNull).toBeGreaterThan(5_000);
  });
});
