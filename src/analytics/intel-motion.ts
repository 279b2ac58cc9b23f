import type { ActivityLevel, MomentumJson, MomentumState } from '../domain/types.js';
import type { IntelConfig, SizeFloor } from './intel-config.js';
import {
  AT_CURRENT,
  AT_NONE,
  deltaStartSlot,
  markPriceAtSlot,
  type OiWindow,
  oiBaseAtSlot,
  slotIndexAt,
  windowChangePct,
} from './window.js';

/** A USD OI change split into its causes; `positionUsd + priceEffectUsd` is the USD change. */
export interface DeltaSplit {
  /** `(oiNow − oiThen) × markNow`: positions opened or closed, valued at today's price. */
  readonly positionUsd: number;
  /** `oiThen × (markNow − markThen)`: the positions held then, repriced. */
  readonly priceEffectUsd: number;
}

/**
 * Splits `oiNow·markNow − oiThen·markThen` into the change in position size and the price effect,
 * so that "OI rose $50M" can never be a pure price move in disguise. The two parts sum to the USD
 * change algebraically (no residual term); in floating point, to within rounding.
 */
export function splitDeltaUsd(oiThen: number, markThen: number, oiNow: number, markNow: number): DeltaSplit {
  return { positionUsd: (oiNow - oiThen) * markNow, priceEffectUsd: oiThen * (markNow - markThen) };
}

/**
 * The split of the window's delta, read at the same past instant as `oiDelta`, and null exactly
 * when `oiDelta` is (history does not cover the window, or OI then was not positive).
 */
export function windowDeltaSplit(
  w: OiWindow,
  nowTs: number,
  oiNow: number,
  markNow: number,
): DeltaSplit | null {
  // Read through the slot index (the values `valueAt` returns): a snapshot must not allocate a point per read.
  const i = deltaStartSlot(w, nowTs);
  return i === AT_NONE ? null : splitDeltaUsd(oiBaseAtSlot(w, i), markPriceAtSlot(w, i), oiNow, markNow);
}

/**
 * Mark price change over the window to `markNow`, percent, against the mark in effect at the
 * window's start (quantized as `valueAt`). Null until the window covers, or when that mark was
 * not positive.
 */
export function priceChangePct(w: OiWindow, nowTs: number, markNow: number): number | null {
  if (!Number.isFinite(markNow)) return null;
  return windowChangePct(w, nowTs, markNow, 'markPrice');
}

/** Mean absolute change of OI (base) and of mark price per step over the long window. */
export interface MeanStepChange {
  readonly oiBase: number;
  readonly markPrice: number;
}

/**
 * Samples `w24h` with `valueAt` at `nowTs − windowMs + k·stepMs` for k = 0…n (n = windowMs ÷ stepMs,
 * 96 for 24h in 15m steps) and averages |value(k+1) − value(k)| over the n steps. Each sample is
 * quantized down to the long window's resolution (864 s for 24h), so a step spans one or two of its
 * buckets; over the n steps they add up to the window. Null until the window covers.
 *
 * Remembered per window (see `MeanCache`): a publish and the aggregate build the same instrument's
 * snapshot again, and a live process builds one per second, each of them 97 ring reads.
 */
export function meanStepChange(w24h: OiWindow, stepMs: number, nowTs: number): MeanStepChange | null {
  const grid = sampleGridMs(w24h, stepMs);
  const gridStep = grid > 0 ? Math.floor(nowTs / grid) : Number.NaN;
  const held = meanCache.get(w24h);
  if (
    held !== undefined &&
    held.gridStep === gridStep &&
    held.stepMs === stepMs &&
    held.currentBucket === w24h.currentBucket &&
    held.firstTs === w24h.firstTs
  ) {
    return held.mean;
  }
  const steps = Math.round(w24h.windowMs / stepMs);
  if (!(steps >= 1)) return null;
  const startTs = nowTs - w24h.windowMs;
  // Read through slot indexes (the same values `valueAt` returns): 97 samples must not allocate a
  // point each.
  let i = slotIndexAt(w24h, startTs);
  if (i === AT_NONE) return null;
  let fromRing = i !== AT_CURRENT;
  let prevOi = oiBaseAtSlot(w24h, i);
  let prevMark = markPriceAtSlot(w24h, i);
  let oiSum = 0;
  let markSum = 0;
  for (let k = 1; k <= steps; k++) {
    i = slotIndexAt(w24h, startTs + k * stepMs);
    if (i === AT_NONE) return null;
    if (i === AT_CURRENT) fromRing = false;
    const oi = oiBaseAtSlot(w24h, i);
    const mark = markPriceAtSlot(w24h, i);
    oiSum += Math.abs(oi - prevOi);
    markSum += Math.abs(mark - prevMark);
    prevOi = oi;
    prevMark = mark;
  }
  const mean = { oiBase: oiSum / steps, markPrice: markSum / steps };
  // Only a mean read wholly from the ring is kept: the current value changes with every event.
  if (fromRing && Number.isFinite(gridStep)) {
    meanCache.set(w24h, {
      gridStep,
      stepMs,
      currentBucket: w24h.currentBucket,
      firstTs: w24h.firstTs,
      mean,
    });
  }
  return mean;
}

/**
 * A mean read wholly from the ring, and what it was read from. The samples' buckets are
 * `floor((nowTs − windowMs + k·stepMs) ÷ resolutionMs)`: with windowMs, stepMs and resolutionMs
 * whole multiples of a grid g (their greatest common divisor), every one of them is the same for
 * all `nowTs` of one `floor(nowTs ÷ g)` (36 s for 24h, 15m and 864 s). The ring's values change
 * only when its current bucket moves on (`observeOi`) or history is put before its first
 * observation (`prependHistory`, which moves `firstTs` back); a restored window is a new object.
 */
interface MeanCache {
  readonly gridStep: number;
  readonly stepMs: number;
  readonly currentBucket: number;
  readonly firstTs: number;
  readonly mean: MeanStepChange;
}

const meanCache = new WeakMap<OiWindow, MeanCache>();

/** The grid g above, or 0 when the three spans are not whole milliseconds (no caching then). */
function sampleGridMs(w: OiWindow, stepMs: number): number {
  const { windowMs, resolutionMs } = w;
  if (!Number.isSafeInteger(windowMs) || !Number.isSafeInteger(stepMs) || !Number.isSafeInteger(resolutionMs))
    return 0;
  if (!(stepMs > 0)) return 0;
  return gcd(gcd(windowMs, stepMs), resolutionMs);
}

function gcd(a: number, b: number): number {
  while (b !== 0) {
    const r = a % b;
    a = b;
    b = r;
  }
  return a;
}

function pace(latestAbs: number, meanAbs: number): number | null {
  if (!Number.isFinite(latestAbs) || !(meanAbs > 0) || !Number.isFinite(meanAbs)) return null;
  return latestAbs / meanAbs;
}

/**
 * |latest short-window change| ÷ the mean, given the mean already computed. The mean counts as at
 * least `stepFloorPct` percent of `nowValue` (see `IntelConfig.momentum.oiStepFloorPct`): without
 * that floor a day of almost no movement makes any move look like a multiple of thousands.
 */
export function accelerationFrom(
  w15m: OiWindow,
  nowTs: number,
  nowValue: number,
  field: 'oiBase' | 'markPrice',
  mean: MeanStepChange | null,
  stepFloorPct = 0,
): number | null {
  if (mean === null) return null;
  const i = slotIndexAt(w15m, nowTs - w15m.windowMs);
  if (i === AT_NONE) return null;
  const then = field === 'oiBase' ? oiBaseAtSlot(w15m, i) : markPriceAtSlot(w15m, i);
  const floor = stepFloorPct > 0 && nowValue > 0 ? (stepFloorPct / 100) * nowValue : 0;
  return pace(Math.abs(nowValue - then), Math.max(mean[field], floor));
}

/**
 * OI acceleration: |latest 15m OI change| (from `w15m`, as `delta15m`) ÷ mean |15m OI change| over
 * the 96 consecutive 15m steps of the last 24h (see `meanStepChange`), that mean floored at
 * `stepFloorPct` percent of the OI now (0: no floor). 1 is the usual pace. Null until both windows
 * cover, or when the mean is 0 (OI did not move at all in 24h and no floor).
 */
export function oiAcceleration(
  w24h: OiWindow,
  w15m: OiWindow,
  nowTs: number,
  oiNow: number,
  stepFloorPct = 0,
): number | null {
  return accelerationFrom(
    w15m,
    nowTs,
    oiNow,
    'oiBase',
    meanStepChange(w24h, w15m.windowMs, nowTs),
    stepFloorPct,
  );
}

/** The same pace ratio for the mark price: |latest 15m price change| ÷ mean |15m price change| over 24h. */
export function priceAcceleration(
  w24h: OiWindow,
  w15m: OiWindow,
  nowTs: number,
  markNow: number,
  stepFloorPct = 0,
): number | null {
  return accelerationFrom(
    w15m,
    nowTs,
    markNow,
    'markPrice',
    meanStepChange(w24h, w15m.windowMs, nowTs),
    stepFloorPct,
  );
}

/**
 * Momentum state, first rule that applies:
 * - `reversing`: the 15m price move is at least `reversalPricePct` against a 24h move of at least
 *   `trendPricePct` (opposite signs);
 * - `accelerating`: `oiAccel ≥ accelerating` and |OI change 15m| ≥ `acceleratingMinOiPct` (the
 *   pace alone is no momentum when the move is a few tenths of a percent);
 * - `fading`: `oiAccel ≤ fading`; else `steady`.
 * Null when `oiAccel` is unknown and no reversal is seen.
 */
export function momentumState(
  priceChange15mPct: number | null,
  priceChange24hPct: number | null,
  oiAccel: number | null,
  oiChange15mPct: number | null,
  cfg: IntelConfig['momentum'],
): MomentumState | null {
  if (
    priceChange15mPct !== null &&
    priceChange24hPct !== null &&
    priceChange15mPct * priceChange24hPct < 0 &&
    Math.abs(priceChange15mPct) >= cfg.reversalPricePct &&
    Math.abs(priceChange24hPct) >= cfg.trendPricePct
  ) {
    return 'reversing';
  }
  if (oiAccel === null) return null;
  if (
    oiAccel >= cfg.accelerating &&
    oiChange15mPct !== null &&
    Math.abs(oiChange15mPct) >= cfg.acceleratingMinOiPct
  ) {
    return 'accelerating';
  }
  if (oiAccel <= cfg.fading) return 'fading';
  return 'steady';
}

/** The momentum block of the snapshot (`oiChange15mPct` decides only the state, see `momentumState`). */
export function momentumOf(
  priceChange15mPct: number | null,
  priceChange24hPct: number | null,
  oiAccel: number | null,
  oiChange15mPct: number | null,
  cfg: IntelConfig,
): MomentumJson {
  return {
    priceChange15mPct,
    priceChange24hPct,
    oiAccel,
    state: momentumState(priceChange15mPct, priceChange24hPct, oiAccel, oiChange15mPct, cfg.momentum),
  };
}

const LEVELS: readonly ActivityLevel[] = ['quiet', 'normal', 'active', 'extreme'];

/** What activity is read from; every figure may be unknown (null). */
export interface ActivityInput {
  /** Pace ratios against the instrument's own 24h (floored, see `accelerationFrom`). */
  readonly oiAccel: number | null;
  readonly priceAccel: number | null;
  /** The move's own size over 15m, percent. */
  readonly oiChange15mPct: number | null;
  readonly priceChange15mPct: number | null;
  readonly turnover24hUsd: number | null;
  readonly oiUsd: number | null;
}

function reaches(f: SizeFloor, oiAbsPct: number, priceAbsPct: number): boolean {
  return oiAbsPct >= f.oiPct || priceAbsPct >= f.pricePct;
}

/**
 * Activity: the larger of what the move's size says and what its pace says.
 * 1. pace = the larger of `oiAccel` and `priceAccel` (those known): below `quietPace` quiet, from
 *    `extremePace` extreme, from `activePace` active, else normal; then turnover24hUsd ÷ OI (USD),
 *    when both are known: below `lowTurnoverPerOi` one level down, from `highTurnoverPerOi` one
 *    level up. That pace level is capped by the move's size: `active` needs |OI 15m| or |price 15m|
 *    at `paceFloor.active`, `extreme` at `paceFloor.extreme`, else it is at most the level below.
 * 2. size: |OI 15m| or |price 15m| at `sizeBand.extreme` is extreme, at `sizeBand.active` active,
 *    whatever the history (a violent move after a busy day is still violent).
 * So a few tenths of a percent is never active or extreme, and ±3% price / ±6% OI is extreme on any
 * instrument. Null when neither pace is known (the 24h window does not cover yet).
 */
export function activityOf(input: ActivityInput, cfg: IntelConfig): ActivityLevel | null {
  const a = cfg.activity;
  const { oiAccel, priceAccel, turnover24hUsd, oiUsd } = input;
  const paceRatio =
    oiAccel === null ? priceAccel : priceAccel === null ? oiAccel : Math.max(oiAccel, priceAccel);
  if (paceRatio === null || !Number.isFinite(paceRatio)) return null;
  let level =
    paceRatio >= a.extremePace ? 3 : paceRatio >= a.activePace ? 2 : paceRatio < a.quietPace ? 0 : 1;
  if (turnover24hUsd !== null && oiUsd !== null && oiUsd > 0 && Number.isFinite(turnover24hUsd)) {
    const turnoverPerOi = turnover24hUsd / oiUsd;
    if (turnoverPerOi < a.lowTurnoverPerOi) level = Math.max(0, level - 1);
    else if (turnoverPerOi >= a.highTurnoverPerOi) level = Math.min(3, level + 1);
  }
  const oiAbsPct = absOrZero(input.oiChange15mPct);
  const priceAbsPct = absOrZero(input.priceChange15mPct);
  if (level >= 3 && !reaches(a.paceFloor.extreme, oiAbsPct, priceAbsPct)) level = 2;
  if (level >= 2 && !reaches(a.paceFloor.active, oiAbsPct, priceAbsPct)) level = 1;
  const sizeLevel = reaches(a.sizeBand.extreme, oiAbsPct, priceAbsPct)
    ? 3
    : reaches(a.sizeBand.active, oiAbsPct, priceAbsPct)
      ? 2
      : 0;
  return LEVELS[Math.max(level, sizeLevel)]!;
}

function absOrZero(pct: number | null): number {
  return pct !== null && Number.isFinite(pct) ? Math.abs(pct) : 0;
}
