import { describe, expect, it } from 'vitest';
import { meanStepChange } from '../../src/analytics/intel-motion.js';
import { createOiWindow, type OiWindow, observeOi, valueAt } from '../../src/analytics/window.js';
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
});
