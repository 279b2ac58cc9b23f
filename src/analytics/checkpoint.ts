/**
 * Instrument state as plain JSON, so a restarted processor resumes its 15m and 24h windows
 * instead of waiting a day for them to fill. Pure: no I/O (the bus stores the JSON).
 */
import { MAX_HOLES } from './holes.js';
import { createInstrumentState, type InstrumentState, markGap } from './instrument.js';
import {
  type LiquidationBucket,
  type LiquidationWindow,
  liquidationBuckets,
  loadLiquidationBuckets,
} from './liquidations.js';
import type { OiWindow } from './window.js';

/** Contract version of a checkpoint; an unknown version is ignored at restore. */
export const CHECKPOINT_VERSION = 1;

interface WindowCheckpoint {
  windowMs: number;
  resolutionMs: number;
  /** Ring slots; NaN (never written) becomes null in JSON. */
  oiBase: (number | null)[];
  markPrice: (number | null)[];
  bucket: (number | null)[];
  current: [bucket: number | null, oiBase: number | null, markPrice: number | null];
  firstTs: number | null;
  lastTs: number | null;
  observationCount: number;
}

interface LiquidationWindowCheckpoint {
  windowMs: number;
  /**
   * The grid the bucket numbers are on. Absent from checkpoints written on the 1% grid: their bucket
   * numbers would read as twice as far in time, so they restore like a checkpoint without windows.
   */
  resolutionMs?: number;
  /** The buckets with liquidations, oldest first, the open one last. */
  buckets: LiquidationBucket[];
}

interface LiquidationsCheckpoint {
  /** Since when the windows count (null: not yet, the first live event starts it). */
  countingSinceTs: number | null;
  w15m: LiquidationWindowCheckpoint;
  w24h: LiquidationWindowCheckpoint;
}

export interface InstrumentCheckpoint {
  v: typeof CHECKPOINT_VERSION;
  venue: string;
  symbol: string;
  instrument: string;
  lastEventTs: number;
  fields: Record<string, number | null>;
  lastGapEndTs: number | null;
  /**
   * Recent feed holes as `[fromTs, toTs]` in event time, oldest first; `toTs` null while open.
   * Optional: a checkpoint written before holes existed restores without them.
   */
  holes?: [fromTs: number, toTs: number | null][];
  window15m: WindowCheckpoint;
  window24h: WindowCheckpoint;
  /**
   * Liquidation windows of a venue with a feed. Optional: a checkpoint written before them restores
   * with counting starting at its `lastEventTs`, so its windows are `partial`, never complete zeros.
   */
  liquidations?: LiquidationsCheckpoint;
}

const FIELDS = [
  'markPrice',
  'lastPrice',
  'indexPrice',
  'oiBase',
  'fundingRate',
  'fundingRateCap',
  'fundingRateFloor',
  'fundingIntervalHours',
  'nextFundingTs',
  'turnover24hUsd',
  'priceTs',
  'oiTs',
  'fundingTs',
  'backfilledUntilTs',
  // Long/short statistics: absent from older checkpoints, so restored as null (not answered yet).
  'accountsLongPct',
  'accountsLongTs',
  'topTradersLongPct',
  'topTradersLongTs',
] as const;

const orNull = (n: number) => (Number.isFinite(n) ? n : null);
const orNaN = (n: number | null | undefined) => (typeof n === 'number' ? n : Number.NaN);

function saveWindow(w: OiWindow): WindowCheckpoint {
  return {
    windowMs: w.windowMs,
    resolutionMs: w.resolutionMs,
    oiBase: Array.from(w.slotOiBase, orNull),
    markPrice: Array.from(w.slotMarkPrice, orNull),
    bucket: Array.from(w.slotBucket, orNull),
    current: [orNull(w.currentBucket), orNull(w.currentOiBase), orNull(w.currentMarkPrice)],
    firstTs: orNull(w.firstTs),
    lastTs: orNull(w.lastTs),
    observationCount: w.observationCount,
  };
}

function loadWindow(into: OiWindow, cp: WindowCheckpoint): boolean {
  if (
    cp.windowMs !== into.windowMs ||
    cp.resolutionMs !== into.resolutionMs ||
    cp.bucket.length !== into.size
  ) {
    return false;
  }
  for (let i = 0; i < into.size; i++) {
    into.slotOiBase[i] = orNaN(cp.oiBase[i]);
    into.slotMarkPrice[i] = orNaN(cp.markPrice[i]);
    into.slotBucket[i] = orNaN(cp.bucket[i]);
  }
  into.currentBucket = orNaN(cp.current[0]);
  into.currentOiBase = orNaN(cp.current[1]);
  into.currentMarkPrice = orNaN(cp.current[2]);
  into.firstTs = orNaN(cp.firstTs);
  into.lastTs = orNaN(cp.lastTs);
  into.observationCount = cp.observationCount;
  return true;
}

export function checkpointInstrument(state: InstrumentState): InstrumentCheckpoint {
  const fields: Record<string, number | null> = {};
  for (const f of FIELDS) fields[f] = state[f];
  return {
    v: CHECKPOINT_VERSION,
    venue: state.venue,
    symbol: state.symbol,
    instrument: state.instrument,
    lastEventTs: state.lastEventTs,
    fields,
    lastGapEndTs: state.lastGapEndTs,
    holes: state.holes.map((h) => [h.fromTs, h.toTs]),
    window15m: saveWindow(state.window15m),
    window24h: saveWindow(state.window24h),
    ...(state.liquidations === null
      ? {}
      : {
          liquidations: {
            countingSinceTs: orNull(state.liquidations.countingSinceTs),
            w15m: saveLiquidations(state.liquidations.w15m),
            w24h: saveLiquidations(state.liquidations.w24h),
          },
        }),
  };
}

function saveLiquidations(w: LiquidationWindow): LiquidationWindowCheckpoint {
  return { windowMs: w.windowMs, resolutionMs: w.resolutionMs, buckets: liquidationBuckets(w) };
}

/**
 * Whether a saved window's buckets can be loaded into `w`: the same window on the same grid, and no
 * bucket after the one of the checkpoint's last event time (the windows never count past it). A
 * bucket from the future would keep the window from taking any live liquidation until real time
 * reached it.
 */
function fitsWindow(
  saved: LiquidationWindowCheckpoint | undefined,
  w: LiquidationWindow,
  lastEventTs: number,
): saved is LiquidationWindowCheckpoint {
  if (saved?.windowMs !== w.windowMs || saved.resolutionMs !== w.resolutionMs) return false;
  if (!Array.isArray(saved.buckets)) return false;
  const lastBucket = Math.floor(lastEventTs / w.resolutionMs);
  return saved.buckets.every((b) => !Array.isArray(b) || !(b[0] > lastBucket));
}

/**
 * The checkpoint's liquidation windows into `state`'s empty ones. Without them (an older
 * checkpoint, or windows of another size or grid), counting starts at the checkpoint's last event
 * time: what came before is unknown.
 */
function restoreLiquidations(state: InstrumentState, cp: InstrumentCheckpoint): void {
  const book = state.liquidations;
  if (book === null) return;
  const saved = cp.liquidations;
  if (
    saved != null &&
    fitsWindow(saved.w15m, book.w15m, cp.lastEventTs) &&
    fitsWindow(saved.w24h, book.w24h, cp.lastEventTs)
  ) {
    loadLiquidationBuckets(book.w15m, saved.w15m.buckets);
    loadLiquidationBuckets(book.w24h, saved.w24h.buckets);
    const since = saved.countingSinceTs;
    book.countingSinceTs = typeof since === 'number' && Number.isFinite(since) ? since : Number.NaN;
    return;
  }
  book.countingSinceTs = cp.lastEventTs > 0 ? cp.lastEventTs : Number.NaN;
}

/**
 * Rebuilds an instrument from its checkpoint, or null when the checkpoint does not fit this
 * version. The time between the checkpoint and the next event is a hole, like any disconnect: it
 * weighs on the deltas in proportion to what it hides (a short restart leaves the 24h window
 * trustworthy), not as a flag on every window reaching back past it.
 */
export function restoreInstrument(cp: InstrumentCheckpoint): InstrumentState | null {
  if (cp?.v !== CHECKPOINT_VERSION) return null;
  const state = createInstrumentState(cp.venue, cp.symbol, cp.instrument);
  if (!loadWindow(state.window15m, cp.window15m) || !loadWindow(state.window24h, cp.window24h)) return null;
  for (const f of FIELDS) {
    const value = cp.fields[f];
    state[f] = typeof value === 'number' ? value : null;
  }
  state.lastEventTs = cp.lastEventTs;
  state.lastGapEndTs = cp.lastGapEndTs;
  restoreLiquidations(state, cp);
  for (const h of readHoles(cp.holes)) state.holes.push(h);
  state.gapOpen = state.holes.length > 0 && state.holes[state.holes.length - 1]!.toTs === null;
  markGap(state);
  return state;
}

/** The stored holes that make sense (finite, ordered, non-empty), the newest `MAX_HOLES`. */
function readHoles(raw: unknown): { fromTs: number; toTs: number | null }[] {
  if (!Array.isArray(raw)) return [];
  const out: { fromTs: number; toTs: number | null }[] = [];
  for (const h of raw) {
    if (!Array.isArray(h)) continue;
    const [fromTs, toTs] = h as unknown[];
    if (typeof fromTs !== 'number' || !Number.isFinite(fromTs)) continue;
    if (toTs === null) {
      // Only the newest hole can be open; an open one is reopened at restore anyway.
      out.push({ fromTs, toTs: null });
      break;
    }
    if (typeof toTs !== 'number' || !(toTs > fromTs)) continue;
    if (out.length > 0 && out[out.length - 1]!.toTs! > fromTs) continue;
    out.push({ fromTs, toTs });
  }
  return out.slice(-MAX_HOLES);
}
