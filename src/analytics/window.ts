import type { DeltaJson } from '../domain/types.js';

/**
 * History of (oiBase, markPrice) over event time, bounded in memory, for deltas such as
 * `OI(now) − OI(now − 15 min)`.
 *
 * Time is cut into buckets of `resolutionMs`; bucket `k` covers `[k·res, (k+1)·res)`. A ring of
 * `ceil(windowMs / resolutionMs) + 2` slots keeps, for each recent bucket, the value in effect at
 * its end (the last observation before `(k+1)·res`). A past instant is read at the last
 * millisecond of the bucket before it, so the answer is exact for an instant quantized down to a
 * bucket boundary: never coarser than `resolutionMs`, which defaults to 1% of the window.
 * Timestamps are integer epoch ms; boundaries are exact when `resolutionMs` is an integer.
 */
export interface OiWindow {
  readonly windowMs: number;
  readonly resolutionMs: number;
  /** Number of ring slots; fixed at creation. */
  readonly size: number;
  readonly slotOiBase: Float64Array;
  readonly slotMarkPrice: Float64Array;
  /** Bucket index each slot holds; NaN for a slot never written. */
  readonly slotBucket: Float64Array;
  /** Bucket of the latest observation; the current value is in effect from there on. */
  currentBucket: number;
  currentOiBase: number;
  currentMarkPrice: number;
  /** Time of the first observation; NaN before any. */
  firstTs: number;
  /** Time of the latest observation after clamping; NaN before any. */
  lastTs: number;
  observationCount: number;
  /** Observations older than the latest one, recorded at the latest time instead. */
  clampedCount: number;
}

/** A value in effect at some instant. */
export interface OiPoint {
  readonly oiBase: number;
  readonly markPrice: number;
}

const CURRENT = -1;
const NONE = -2;

/** A window of `windowMs` at `resolutionMs` (default 1% of the window). */
export function createOiWindow(windowMs: number, resolutionMs = windowMs / 100): OiWindow {
  if (!(windowMs > 0) || !Number.isFinite(windowMs))
    throw new RangeError(`windowMs must be > 0: ${windowMs}`);
  if (!(resolutionMs > 0) || resolutionMs > windowMs) {
    throw new RangeError(`resolutionMs must be in (0, windowMs]: ${resolutionMs}`);
  }
  const size = Math.ceil(windowMs / resolutionMs) + 2;
  return {
    windowMs,
    resolutionMs,
    size,
    slotOiBase: new Float64Array(size),
    slotMarkPrice: new Float64Array(size),
    slotBucket: new Float64Array(size).fill(Number.NaN),
    currentBucket: Number.NaN,
    currentOiBase: Number.NaN,
    currentMarkPrice: Number.NaN,
    firstTs: Number.NaN,
    lastTs: Number.NaN,
    observationCount: 0,
    clampedCount: 0,
  };
}

function slotOf(w: OiWindow, bucket: number): number {
  const i = bucket % w.size;
  return i < 0 ? i + w.size : i;
}

/**
 * Records the value observed at `ts`. An observation older than the latest is recorded at the
 * latest time (history is never rewritten) and counted in `clampedCount`. A non-finite `ts` is
 * ignored.
 */
export function observeOi(w: OiWindow, ts: number, oiBase: number, markPrice: number): void {
  if (!Number.isFinite(ts)) return;
  if (w.observationCount === 0) {
    w.firstTs = ts;
    w.lastTs = ts;
    w.currentBucket = Math.floor(ts / w.resolutionMs);
  } else {
    if (ts < w.lastTs) {
      ts = w.lastTs;
      w.clampedCount++;
    }
    w.lastTs = ts;
    const k = Math.floor(ts / w.resolutionMs);
    const c = w.currentBucket;
    if (k > c) {
      // Buckets c..k-1 all ended with the previous current value; only the last `size` of
      // them can still be read, so a long gap costs at most `size` writes.
      for (let b = Math.max(c, k - w.size); b < k; b++) {
        const i = slotOf(w, b);
        w.slotOiBase[i] = w.currentOiBase;
        w.slotMarkPrice[i] = w.currentMarkPrice;
        w.slotBucket[i] = b;
      }
      w.currentBucket = k;
    }
  }
  w.currentOiBase = oiBase;
  w.currentMarkPrice = markPrice;
  w.observationCount++;
}

/** Slot index holding the value for `instantTs`, or CURRENT, or NONE. */
function locate(w: OiWindow, instantTs: number): number {
  if (w.observationCount === 0 || !Number.isFinite(instantTs)) return NONE;
  const boundaryBucket = Math.floor(instantTs / w.resolutionMs);
  const quantizedTs = boundaryBucket * w.resolutionMs - 1;
  if (w.firstTs > quantizedTs) return NONE;
  const j = boundaryBucket - 1;
  if (j >= w.currentBucket) return CURRENT;
  if (j < w.currentBucket - (w.size - 1)) return NONE;
  const i = slotOf(w, j);
  return w.slotBucket[i] === j ? i : NONE;
}

/** `slotIndexAt`: the value is the window's current one. */
export const AT_CURRENT = CURRENT;
/** `slotIndexAt`: history does not reach back there (`valueAt` is null). */
export const AT_NONE = NONE;

/**
 * Where `valueAt(w, instantTs)` reads: a ring slot index (`slotOiBase[i]`, `slotMarkPrice[i]`),
 * `AT_CURRENT` or `AT_NONE`. For loops over many instants that must not allocate a point each.
 */
export function slotIndexAt(w: OiWindow, instantTs: number): number {
  return locate(w, instantTs);
}

/** The OI (base) at a `slotIndexAt` index other than `AT_NONE`. */
export function oiBaseAtSlot(w: OiWindow, i: number): number {
  return i === CURRENT ? w.currentOiBase : w.slotOiBase[i]!;
}

/** The mark price at a `slotIndexAt` index other than `AT_NONE`. */
export function markPriceAtSlot(w: OiWindow, i: number): number {
  return i === CURRENT ? w.currentMarkPrice : w.slotMarkPrice[i]!;
}

/**
 * The value in effect at `instantTs` quantized down to a bucket boundary (the last observation at
 * or before `floor(instantTs / res) · res − 1`), or null when history does not reach back there.
 * Exact for any instant no older than `lastTs − windowMs`.
 */
export function valueAt(w: OiWindow, instantTs: number): OiPoint | null {
  const i = locate(w, instantTs);
  if (i === NONE) return null;
  if (i === CURRENT) return { oiBase: w.currentOiBase, markPrice: w.currentMarkPrice };
  return { oiBase: w.slotOiBase[i]!, markPrice: w.slotMarkPrice[i]! };
}

/** Whether history reaches back a whole window before `nowTs`. */
export function windowCovers(w: OiWindow, nowTs: number): boolean {
  return locate(w, nowTs - w.windowMs) !== NONE;
}

/**
 * Where every delta over the window reads its start value (`slotIndexAt(w, nowTs − windowMs)`),
 * or `AT_NONE` when history does not reach there or OI then was not positive (no delta).
 */
export function deltaStartSlot(w: OiWindow, nowTs: number): number {
  const i = locate(w, nowTs - w.windowMs);
  return i !== NONE && oiBaseAtSlot(w, i) > 0 ? i : NONE;
}

/**
 * Change from `windowMs` before `nowTs` to now: `base` and `usd` (OI × mark price) differences,
 * `pct = 100 × base / oiThen`. Null until history covers the whole window, or when OI then was
 * not positive.
 */
export function oiDelta(
  w: OiWindow,
  nowTs: number,
  nowOiBase: number,
  nowMarkPrice: number,
): DeltaJson | null {
  const i = deltaStartSlot(w, nowTs);
  if (i === NONE) return null;
  const oiThen = oiBaseAtSlot(w, i);
  const markThen = markPriceAtSlot(w, i);
  const base = nowOiBase - oiThen;
  return {
    base,
    usd: nowOiBase * nowMarkPrice - oiThen * markThen,
    pct: (100 * base) / oiThen,
  };
}

/**
 * `oiDelta(w, nowTs, nowOiBase, ·).pct` without building the delta (a per-event pre-check):
 * the same number, null exactly when `oiDelta` is null.
 */
export function oiDeltaPct(w: OiWindow, nowTs: number, nowOiBase: number): number | null {
  return windowChangePct(w, nowTs, nowOiBase, 'oiBase');
}

/**
 * Change of OI (`oiBase`) or mark price (`markPrice`) over the window to `nowValue`, percent,
 * against the value in effect at the window's start (as `valueAt` reads it): null until history
 * covers the window, or when that value was not positive.
 */
export function windowChangePct(
  w: OiWindow,
  nowTs: number,
  nowValue: number,
  field: 'oiBase' | 'markPrice',
): number | null {
  const i = locate(w, nowTs - w.windowMs);
  if (i === NONE) return null;
  const then = field === 'oiBase' ? oiBaseAtSlot(w, i) : markPriceAtSlot(w, i);
  if (!(then > 0)) return null;
  return (100 * (nowValue - then)) / then;
}

/** A past value from another source than the live feed (a venue's REST history). */
export interface HistoryPoint {
  readonly ts: number;
  readonly oiBase: number;
  readonly markPrice: number;
}

/**
 * Fills the window's past from `points` (any order; non-finite ones skipped) without touching
 * what the live feed recorded: with no observation yet the points are simply observed in time
 * order; otherwise only buckets before the first live observation are written, each with the
 * last point before its end, exactly as if the points had been observed first. Returns the
 * number of points used. `firstTs` moves back to the oldest point used.
 */
export function prependHistory(w: OiWindow, points: readonly HistoryPoint[]): number {
  const usable = points
    .filter((p) => Number.isFinite(p.ts) && Number.isFinite(p.oiBase) && Number.isFinite(p.markPrice))
    .sort((a, b) => a.ts - b.ts);
  if (w.observationCount === 0) {
    for (const p of usable) observeOi(w, p.ts, p.oiBase, p.markPrice);
    return usable.length;
  }
  const older = usable.filter((p) => p.ts < w.firstTs);
  if (older.length === 0) return 0;
  const firstLiveBucket = Math.floor(w.firstTs / w.resolutionMs);
  const oldestReadable = w.currentBucket - (w.size - 1);
  let k = 0;
  let inEffect: HistoryPoint | null = null;
  const fromBucket = Math.max(Math.floor(older[0]!.ts / w.resolutionMs), oldestReadable);
  for (let b = fromBucket; b < firstLiveBucket; b++) {
    const endTs = (b + 1) * w.resolutionMs;
    while (k < older.length && older[k]!.ts < endTs) inEffect = older[k++]!;
    if (inEffect === null) continue;
    const i = slotOf(w, b);
    w.slotOiBase[i] = inEffect.oiBase;
    w.slotMarkPrice[i] = inEffect.markPrice;
    w.slotBucket[i] = b;
  }
  w.firstTs = older[0]!.ts;
  w.observationCount += older.length;
  return older.length;
}
