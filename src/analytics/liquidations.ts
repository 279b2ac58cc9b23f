import type { Liquidation } from '../domain/types.js';

/**
 * Liquidations of one instrument over a window of event time, by the side of the positions closed,
 * in fixed memory. Pure: every time is passed in.
 *
 * Time is cut into buckets of `resolutionMs`, 2% of the window (15m in 18 s buckets, 24h in 28.8 min
 * buckets). The bucket of the latest liquidation (`headBucket`) sums in float64 scalars; the
 * `RING_BUCKETS` buckets before it sit in one `Float32Array` ring, `FIELDS` numbers a bucket,
 * allocated at the first liquidation (an instrument that never sees one costs no ring). A window
 * read at `nowTs` covers the buckets from `floor(nowTs / res) − 50` to now: the window plus at most
 * one 2% step (a liquidation leaves it between `windowMs` and `windowMs + res` after it happened).
 *
 * Why 2% when the OI windows (window.ts) use 1%: the memory target of 16 KB per instrument. Two rings
 * of 100 buckets × 5 figures cost 4,000 bytes per instrument with a feed; 50 buckets cost 2,000.
 * What it costs: `oiShare` sets these sums against the OI delta of the same window, which covers
 * the window plus at most one 1% step (it compares with the value in effect at the 1% edge
 * `floor((nowTs − windowMs) / 1%) × 1%`). The 2% edges are every other 1% edge, so a liquidation
 * read starts either at the OI delta's start or one 1% step before it (9 s of 15 minutes, 14.4 min
 * of 24 hours), never after: the share may count liquidations from up to that step before the OI
 * fall it is read against, and never leaves out any inside it (at 1% the two spans were the same).
 *
 * Why float32 for the closed buckets: float64 would double the rings (4,000 bytes per instrument).
 * A closed bucket is rounded once (relative error ≤ 6e-8, counts exact below 2^24); the open
 * bucket, where nearly every liquidation lands, accumulates in float64. Only a liquidation arriving
 * after its bucket closed (out of order) adds in float32.
 */
export interface LiquidationWindow {
  readonly windowMs: number;
  readonly resolutionMs: number;
  /** Closed buckets `headBucket − RING_BUCKETS … headBucket − 1`, `FIELDS` figures each; null before any liquidation. */
  ring: Float32Array | null;
  /** Bucket of the open (latest) bucket; NaN before any liquidation. */
  headBucket: number;
  headLongUsd: number;
  headShortUsd: number;
  headLongBase: number;
  headShortBase: number;
  headCount: number;
  /** Liquidations older than the window at the time they arrived, not counted. */
  droppedCount: number;
  /** Liquidations newer than the latest event time, counted at it. */
  clampedCount: number;
}

/**
 * Buckets kept before the open one, so the resolution is 1/50 of the window: a window read spans 51
 * buckets (50 closed + the open one). A checkpoint's bucket numbers are on this grid.
 */
export const RING_BUCKETS = 50;
/** Figures per bucket, in this order. */
const LONG_USD = 0;
const SHORT_USD = 1;
const LONG_BASE = 2;
const SHORT_BASE = 3;
const COUNT = 4;
export const FIELDS = 5;

/** Bytes of one window's ring once allocated (backing store only). */
export const RING_BYTES = RING_BUCKETS * FIELDS * Float32Array.BYTES_PER_ELEMENT;

/** Sums over a window, by the side of the positions liquidated. */
export interface LiquidationTotals {
  longUsd: number;
  shortUsd: number;
  longBase: number;
  shortBase: number;
  count: number;
}

export function createLiquidationWindow(windowMs: number): LiquidationWindow {
  if (!(windowMs > 0) || !Number.isFinite(windowMs))
    throw new RangeError(`windowMs must be > 0: ${windowMs}`);
  return {
    windowMs,
    resolutionMs: windowMs / RING_BUCKETS,
    ring: null,
    headBucket: Number.NaN,
    headLongUsd: 0,
    headShortUsd: 0,
    headLongBase: 0,
    headShortBase: 0,
    headCount: 0,
    droppedCount: 0,
    clampedCount: 0,
  };
}

function slotOf(bucket: number): number {
  const i = bucket % RING_BUCKETS;
  return (i < 0 ? i + RING_BUCKETS : i) * FIELDS;
}

/** Closes the open bucket and opens bucket `k` (> headBucket); buckets in between were empty. */
function advance(w: LiquidationWindow, ring: Float32Array, k: number): void {
  const h = w.headBucket;
  if (k - h <= RING_BUCKETS) {
    const i = slotOf(h);
    ring[i + LONG_USD] = w.headLongUsd;
    ring[i + SHORT_USD] = w.headShortUsd;
    ring[i + LONG_BASE] = w.headLongBase;
    ring[i + SHORT_BASE] = w.headShortBase;
    ring[i + COUNT] = w.headCount;
  }
  // Only the last RING_BUCKETS of the empty buckets can still be read.
  for (let b = Math.max(h + 1, k - RING_BUCKETS); b < k; b++) ring.fill(0, slotOf(b), slotOf(b) + FIELDS);
  w.headBucket = k;
  w.headLongUsd = 0;
  w.headShortUsd = 0;
  w.headLongBase = 0;
  w.headShortBase = 0;
  w.headCount = 0;
}

/**
 * Counts one liquidation at its own time `ts`, or at `nowTs` (the latest event time) when `ts` is
 * newer: the future is never written. One older than the window read at `nowTs` reaches, or with a
 * non-finite or negative size, is not counted. Returns whether it was counted.
 */
export function recordLiquidation(
  w: LiquidationWindow,
  nowTs: number,
  ts: number,
  side: Liquidation['side'],
  base: number,
  usd: number,
): boolean {
  if (!Number.isFinite(ts) || !Number.isFinite(nowTs) || !(base >= 0) || !(usd >= 0)) return false;
  if (!Number.isFinite(base) || !Number.isFinite(usd) || (side !== 'long' && side !== 'short')) return false;
  if (ts > nowTs) {
    ts = nowTs;
    w.clampedCount++;
  }
  const k = Math.floor(ts / w.resolutionMs);
  if (k < Math.floor(nowTs / w.resolutionMs) - RING_BUCKETS) {
    w.droppedCount++;
    return false;
  }
  const long = side === 'long';
  if (w.ring === null) {
    // Once per instrument and window, at its first liquidation.
    w.ring = new Float32Array(RING_BUCKETS * FIELDS);
    w.headBucket = k;
  }
  const h = w.headBucket;
  if (k > h) advance(w, w.ring, k);
  if (k >= h) {
    if (long) {
      w.headLongUsd += usd;
      w.headLongBase += base;
    } else {
      w.headShortUsd += usd;
      w.headShortBase += base;
    }
    w.headCount++;
    return true;
  }
  if (k < h - RING_BUCKETS) {
    // Older than the ring, though inside the window at `nowTs`: only possible when `nowTs` is
    // behind the head, which a caller passing the latest event time never does.
    w.droppedCount++;
    return false;
  }
  const i = slotOf(k);
  const ring = w.ring;
  if (long) {
    ring[i + LONG_USD]! += usd;
    ring[i + LONG_BASE]! += base;
  } else {
    ring[i + SHORT_USD]! += usd;
    ring[i + SHORT_BASE]! += base;
  }
  ring[i + COUNT]! += 1;
  return true;
}

/** First bucket a window read at `nowTs` covers. */
function firstBucket(w: LiquidationWindow, nowTs: number): number {
  return Math.floor(nowTs / w.resolutionMs) - RING_BUCKETS;
}

/** Event time the window read at `nowTs` starts at (inclusive): the start of its first bucket. */
export function liquidationWindowStartTs(w: LiquidationWindow, nowTs: number): number {
  return firstBucket(w, nowTs) * w.resolutionMs;
}

/** The sums over the window read at `nowTs`, written into `out` (returned). Never allocates. */
export function liquidationTotals(
  w: LiquidationWindow,
  nowTs: number,
  out: LiquidationTotals = { longUsd: 0, shortUsd: 0, longBase: 0, shortBase: 0, count: 0 },
): LiquidationTotals {
  out.longUsd = 0;
  out.shortUsd = 0;
  out.longBase = 0;
  out.shortBase = 0;
  out.count = 0;
  const ring = w.ring;
  if (ring === null || !Number.isFinite(nowTs)) return out;
  const from = firstBucket(w, nowTs);
  const h = w.headBucket;
  if (h >= from && h <= from + RING_BUCKETS) {
    out.longUsd = w.headLongUsd;
    out.shortUsd = w.headShortUsd;
    out.longBase = w.headLongBase;
    out.shortBase = w.headShortBase;
    out.count = w.headCount;
  }
  for (let b = Math.max(from, h - RING_BUCKETS); b < h; b++) {
    const i = slotOf(b);
    out.longUsd += ring[i + LONG_USD]!;
    out.shortUsd += ring[i + SHORT_USD]!;
    out.longBase += ring[i + LONG_BASE]!;
    out.shortBase += ring[i + SHORT_BASE]!;
    out.count += ring[i + COUNT]!;
  }
  return out;
}

/** One bucket with liquidations, as a checkpoint stores it. */
export type LiquidationBucket = [
  bucket: number,
  longUsd: number,
  shortUsd: number,
  longBase: number,
  shortBase: number,
  count: number,
];

/**
 * A float32 in the fewest digits that still read back as the same float32 (9 significant digits
 * always do): about half the characters of its full double expansion.
 */
const f32Json = (x: number): number => Number(x.toPrecision(9));

/** The non-empty buckets, oldest first, the open one last (for a checkpoint). */
export function liquidationBuckets(w: LiquidationWindow): LiquidationBucket[] {
  const out: LiquidationBucket[] = [];
  const ring = w.ring;
  if (ring === null) return out;
  const h = w.headBucket;
  for (let b = h - RING_BUCKETS; b < h; b++) {
    const i = slotOf(b);
    if (ring[i + COUNT]! > 0) {
      out.push([
        b,
        f32Json(ring[i + LONG_USD]!),
        f32Json(ring[i + SHORT_USD]!),
        f32Json(ring[i + LONG_BASE]!),
        f32Json(ring[i + SHORT_BASE]!),
        ring[i + COUNT]!,
      ]);
    }
  }
  if (w.headCount > 0) {
    out.push([h, w.headLongUsd, w.headShortUsd, w.headLongBase, w.headShortBase, w.headCount]);
  }
  return out;
}

/**
 * Refills an empty window from `liquidationBuckets` output (a checkpoint): buckets in time order,
 * the last one open. Entries that are not finite, negative, or not strictly ascending are skipped.
 * Returns the buckets used.
 */
export function loadLiquidationBuckets(w: LiquidationWindow, buckets: readonly unknown[]): number {
  let used = 0;
  for (const raw of buckets) {
    if (!Array.isArray(raw) || raw.length !== FIELDS + 1) continue;
    const [b, longUsd, shortUsd, longBase, shortBase, count] = raw as unknown[];
    const figures = [longUsd, shortUsd, longBase, shortBase, count];
    if (typeof b !== 'number' || !Number.isInteger(b)) continue;
    if (!figures.every((x) => typeof x === 'number' && Number.isFinite(x) && x >= 0)) continue;
    if (w.ring === null) {
      w.ring = new Float32Array(RING_BUCKETS * FIELDS);
      w.headBucket = b;
    } else if (b <= w.headBucket) continue;
    else advance(w, w.ring, b);
    w.headLongUsd = longUsd as number;
    w.headShortUsd = shortUsd as number;
    w.headLongBase = longBase as number;
    w.headShortBase = shortBase as number;
    w.headCount = count as number;
    used++;
  }
  return used;
}

/** Both windows of one instrument and since when they count. */
export interface LiquidationBook {
  readonly w15m: LiquidationWindow;
  readonly w24h: LiquidationWindow;
  /**
   * Event time counting started: the instrument's first live event, or the restore of a checkpoint
   * that held no liquidations. NaN before either. A window starting earlier is `partial`.
   */
  countingSinceTs: number;
}

export function createLiquidationBook(window15mMs: number, window24hMs: number): LiquidationBook {
  return {
    w15m: createLiquidationWindow(window15mMs),
    w24h: createLiquidationWindow(window24hMs),
    countingSinceTs: Number.NaN,
  };
}

/** Counts each liquidation in both windows (see `recordLiquidation`); returns how many the 24h window took. */
export function recordLiquidations(
  book: LiquidationBook,
  nowTs: number,
  list: readonly Liquidation[],
): number {
  let counted = 0;
  for (let i = 0; i < list.length; i++) {
    const l = list[i]!;
    if (recordLiquidation(book.w24h, nowTs, l.ts, l.side, l.base, l.usd)) counted++;
    recordLiquidation(book.w15m, nowTs, l.ts, l.side, l.base, l.usd);
  }
  return counted;
}

/**
 * Base liquidated ÷ the size of the OI decrease over the same window, or null unless OI fell by at
 * least `minFallPct` percent (the window's control dead band: a dip of a few hundredths of a
 * percent is noise, and a share of it would read "≥100% forced"). Not clamped: above 1 when
 * positions reopened within the window and were liquidated again, so more was forced out than OI
 * fell by net. On sampled venues, a lower bound.
 */
export function liquidatedOiShare(
  liquidatedBase: number,
  oiDelta: { readonly base: number; readonly pct: number } | null | undefined,
  minFallPct: number,
): number | null {
  if (oiDelta == null || !(oiDelta.base < 0) || !(-oiDelta.pct >= minFallPct)) return null;
  const share = liquidatedBase / -oiDelta.base;
  return Number.isFinite(share) ? share : null;
}
