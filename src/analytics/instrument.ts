import type { DeltaJson, MarketEvent, SnapshotJson } from '../domain/types.js';
import { fundingMetrics } from './funding.js';
import { closeHole, type FeedHole, forgetBefore, holeVerdict, openHole } from './holes.js';
import {
  applyForcedFlows,
  carriesMarketFields,
  coverageOf,
  liquidationsJson,
  longShortJson,
  UNAVAILABLE,
} from './instrument-forced.js';
import { instrumentIntel } from './intel.js';
import { DEFAULT_INTEL_CONFIG, type IntelConfig } from './intel-config.js';
import { createLiquidationBook, type LiquidationBook } from './liquidations.js';
import {
  createOiWindow,
  type HistoryPoint,
  type OiWindow,
  observeOi,
  oiDelta,
  prependHistory,
  valueAt,
} from './window.js';

export const OI_WINDOW_15M_MS = 900_000;
export const OI_WINDOW_24H_MS = 86_400_000;

/**
 * Everything known about one instrument, merged from its market events. A value never seen is
 * null. Mutated in place by `applyMarketEvent`; memory is bounded (fixed-size windows).
 */
export interface InstrumentState {
  readonly venue: string;
  readonly symbol: string;
  readonly instrument: string;
  /** Latest event time applied, epoch ms; 0 before any event. */
  lastEventTs: number;
  markPrice: number | null;
  lastPrice: number | null;
  indexPrice: number | null;
  oiBase: number | null;
  fundingRate: number | null;
  /** The venue's bounds on `fundingRate`, where it publishes them. */
  fundingRateCap: number | null;
  fundingRateFloor: number | null;
  fundingIntervalHours: number | null;
  nextFundingTs: number | null;
  turnover24hUsd: number | null;
  /** Event time each input was last carried by an event (even unchanged); null before. */
  priceTs: number | null;
  oiTs: number | null;
  fundingTs: number | null;
  readonly window15m: OiWindow;
  readonly window24h: OiWindow;
  eventCount: number;
  /** Events whose time was older than `lastEventTs`, applied at `lastEventTs`. */
  outOfOrderCount: number;
  /** The feed reported missing data; the next event closes the gap. */
  gapOpen: boolean;
  /** Event time of the first event after the latest gap (kept for the checkpoint contract). */
  lastGapEndTs: number | null;
  /**
   * Recent spans of event time the feed did not cover, oldest first, at most `MAX_HOLES`, none
   * older than the 24h window reaches (see holes.ts for how they weigh on a delta).
   */
  readonly holes: FeedHole[];
  /** Window values before this time came from a venue's REST history, not the feed (warm start). */
  backfilledUntilTs: number | null;
  /** Seen through history only so far: the history's last value counts until the first live event. */
  awaitingLive: boolean;
  /** Liquidation windows; null for a venue without a liquidation feed (`LIQUIDATION_COVERAGE`). */
  readonly liquidations: LiquidationBook | null;
  /** Latest long/short statistics, percent, and their buckets' times; null before any. */
  accountsLongPct: number | null;
  accountsLongTs: number | null;
  topTradersLongPct: number | null;
  topTradersLongTs: number | null;
}

export function createInstrumentState(venue: string, symbol: string, instrument: string): InstrumentState {
  return {
    venue,
    symbol,
    instrument,
    lastEventTs: 0,
    markPrice: null,
    lastPrice: null,
    indexPrice: null,
    oiBase: null,
    fundingRate: null,
    fundingRateCap: null,
    fundingRateFloor: null,
    fundingIntervalHours: null,
    nextFundingTs: null,
    turnover24hUsd: null,
    priceTs: null,
    oiTs: null,
    fundingTs: null,
    window15m: createOiWindow(OI_WINDOW_15M_MS),
    window24h: createOiWindow(OI_WINDOW_24H_MS),
    eventCount: 0,
    outOfOrderCount: 0,
    gapOpen: false,
    lastGapEndTs: null,
    holes: [],
    backfilledUntilTs: null,
    awaitingLive: false,
    liquidations:
      coverageOf(venue) === null ? null : createLiquidationBook(OI_WINDOW_15M_MS, OI_WINDOW_24H_MS),
    accountsLongPct: null,
    accountsLongTs: null,
    topTradersLongPct: null,
    topTradersLongTs: null,
  };
}

/**
 * The feed lost data for this instrument (a disconnect, a REST source left unrefreshed, a
 * restart): a hole opens, and the next event closes it. The windows hold OI, so the hole starts
 * where OI was last seen: for a venue whose OI comes from REST polls while prices keep flowing,
 * that is earlier than the last event. How a hole weighs on a delta: see holes.ts.
 */
export function markGap(state: InstrumentState): void {
  if (state.lastEventTs <= 0) return;
  const fromTs = state.oiTs !== null && state.oiTs < state.lastEventTs ? state.oiTs : state.lastEventTs;
  openHole(state.holes, fromTs);
  state.gapOpen = true;
}

/** Holes that ended this long before an event can no longer touch any window. */
const HOLE_HORIZON_MS = OI_WINDOW_24H_MS + 2 * (OI_WINDOW_24H_MS / 100);

const isNum = (v: number | undefined): v is number => v !== undefined && Number.isFinite(v);

/** An event time this far ahead of both the receive time and the instrument's last event is not believed. */
export const MAX_TIME_JUMP_MS = 3_600_000;

/**
 * Merges one event: every field it carries replaces the held value; an absent (or non-finite)
 * field leaves it unchanged. The event counts at `max(ev.eventTs, lastEventTs)`, so time never
 * goes back. Once OI and mark price are both known they are observed into both windows.
 * Events for another venue or instrument are ignored. Returns whether any held value changed
 * (time moving on alone does not count); a liquidation counted or a new long/short figure is a
 * change. An event carrying only liquidations or long/short statistics moves event time on but
 * leaves the price/OI/funding freshness, the OI windows and the feed's holes alone (instrument-forced.ts).
 */
export function applyMarketEvent(state: InstrumentState, ev: MarketEvent): boolean {
  if (ev.venue !== state.venue || ev.instrument !== state.instrument) return false;
  // Field by field, not a loop over names: keyed loads from events of every venue's shape were
  // the costliest part of an event (most events carry two or three of these fields).
  let changed = false;
  let v = ev.markPrice;
  if (isNum(v) && state.markPrice !== v) {
    state.markPrice = v;
    changed = true;
  }
  v = ev.lastPrice;
  if (isNum(v) && state.lastPrice !== v) {
    state.lastPrice = v;
    changed = true;
  }
  v = ev.indexPrice;
  if (isNum(v) && state.indexPrice !== v) {
    state.indexPrice = v;
    changed = true;
  }
  v = ev.oiBase;
  if (isNum(v) && state.oiBase !== v) {
    state.oiBase = v;
    changed = true;
  }
  v = ev.fundingRate;
  if (isNum(v) && state.fundingRate !== v) {
    state.fundingRate = v;
    changed = true;
  }
  v = ev.fundingRateCap;
  if (isNum(v) && state.fundingRateCap !== v) {
    state.fundingRateCap = v;
    changed = true;
  }
  v = ev.fundingRateFloor;
  if (isNum(v) && state.fundingRateFloor !== v) {
    state.fundingRateFloor = v;
    changed = true;
  }
  v = ev.fundingIntervalHours;
  if (isNum(v) && state.fundingIntervalHours !== v) {
    state.fundingIntervalHours = v;
    changed = true;
  }
  v = ev.nextFundingTs;
  if (isNum(v) && state.nextFundingTs !== v) {
    state.nextFundingTs = v;
    changed = true;
  }
  v = ev.turnover24hUsd;
  if (isNum(v) && state.turnover24hUsd !== v) {
    state.turnover24hUsd = v;
    changed = true;
  }
  // A timestamp far ahead of both our clock and the instrument's own time (a corrupt frame) must
  // not drag event time into the future, where it would freeze every window and rule until real
  // time caught up. Accelerated simulations stay possible: each step is small.
  let ts = ev.eventTs;
  const knownTs = Math.max(state.lastEventTs, ev.receiveTs);
  if (ts > knownTs + MAX_TIME_JUMP_MS) ts = knownTs;
  if (!(ts >= state.lastEventTs)) {
    ts = state.lastEventTs;
    state.outOfOrderCount++;
  }
  state.lastEventTs = ts;
  state.eventCount++;
  const book = state.liquidations;
  if (book !== null && Number.isNaN(book.countingSinceTs)) book.countingSinceTs = ts;
  if (
    ev.liquidations !== undefined ||
    ev.accountsLongPct !== undefined ||
    ev.topTradersLongPct !== undefined ||
    ev.longShortTs !== undefined
  ) {
    if (applyForcedFlows(state, ev, ts)) changed = true;
    // A liquidation or statistics frame says nothing about price, OI or funding: their freshness,
    // the OI windows and the feed's holes are left to the market frames.
    if (!carriesMarketFields(ev)) return changed;
  }
  if (isNum(ev.markPrice)) state.priceTs = ts;
  if (isNum(ev.oiBase)) state.oiTs = ts;
  if (isNum(ev.fundingRate)) state.fundingTs = ts;
  if (state.gapOpen) {
    state.gapOpen = false;
    const closedTs = closeHole(state.holes, ts, ts - HOLE_HORIZON_MS);
    if (closedTs !== null) state.lastGapEndTs = closedTs;
  } else if (state.holes.length > 0 && (state.holes[0]!.toTs ?? ts) < ts - HOLE_HORIZON_MS) {
    forgetBefore(state.holes, ts - HOLE_HORIZON_MS);
  }
  if (state.awaitingLive) {
    // The history's last value was in effect until now: windows reaching back before this are backfilled.
    state.awaitingLive = false;
    state.backfilledUntilTs = Math.max(state.backfilledUntilTs ?? 0, ts);
  }
  if (state.oiBase !== null && state.markPrice !== null) {
    observeOi(state.window15m, ts, state.oiBase, state.markPrice);
    observeOi(state.window24h, ts, state.oiBase, state.markPrice);
  }
  return changed;
}

/**
 * Warm start: fills both windows' past from a venue's OI history (see `prependHistory`), where
 * the feed has nothing yet. A point without a mark price takes the oldest mark known (the USD
 * figures across it are then approximate, and flagged like every backfilled window). Deltas whose
 * window starts in the backfilled part carry `backfilled: true`. Returns the points used.
 */
export function applyHistory(
  state: InstrumentState,
  points: readonly { readonly ts: number; readonly oiBase: number; readonly markPrice: number | null }[],
): number {
  const fallbackMark = state.window24h.observationCount > 0 ? oldestMark(state) : null;
  const usable: HistoryPoint[] = [];
  let lastMark = fallbackMark;
  for (const p of [...points].sort((a, b) => a.ts - b.ts)) {
    const mark = p.markPrice !== null && Number.isFinite(p.markPrice) ? p.markPrice : lastMark;
    if (mark === null) continue;
    lastMark = mark;
    usable.push({ ts: p.ts, oiBase: p.oiBase, markPrice: mark });
  }
  if (usable.length === 0) return 0;
  const liveFirstTs = state.window24h.observationCount > 0 ? state.window24h.firstTs : null;
  const used = prependHistory(state.window24h, usable);
  prependHistory(state.window15m, usable);
  if (used === 0) return 0;
  const until = liveFirstTs ?? Math.max(...usable.map((p) => p.ts)) + 1;
  state.backfilledUntilTs = Math.max(state.backfilledUntilTs ?? 0, until);
  if (liveFirstTs === null) {
    state.awaitingLive = true;
    // Seen only through history so far: the values are the latest history point's.
    const last = usable[usable.length - 1]!;
    state.oiBase ??= last.oiBase;
    state.markPrice ??= last.markPrice;
    state.lastEventTs = Math.max(state.lastEventTs, last.ts);
  }
  return used;
}

function oldestMark(state: InstrumentState): number | null {
  const p = valueAt(state.window24h, state.window24h.firstTs + state.window24h.resolutionMs);
  return p?.markPrice ?? state.markPrice;
}

function deltaOf(
  state: InstrumentState,
  w: OiWindow,
  split: { readonly positionUsd: number; readonly priceEffectUsd: number } | null,
): DeltaJson | null {
  if (state.oiBase === null || state.markPrice === null) return null;
  const delta = oiDelta(w, state.lastEventTs, state.oiBase, state.markPrice);
  if (delta === null) return null;
  // The delta compares with the value in effect at the quantized past instant (see window.ts).
  const pastInstantTs = Math.floor((state.lastEventTs - w.windowMs) / w.resolutionMs) * w.resolutionMs - 1;
  let gap = false;
  let gapMs = 0;
  if (state.holes.length > 0) {
    const verdict = holeVerdict(state.holes, pastInstantTs, state.lastEventTs, w.windowMs, w.resolutionMs);
    gap = verdict.gap;
    gapMs = verdict.gapMs;
  }
  const backfilled = state.backfilledUntilTs !== null && pastInstantTs < state.backfilledUntilTs;
  // Built field by field: object spreads were a measurable share of a snapshot's cost.
  const out: { -readonly [K in keyof DeltaJson]: DeltaJson[K] } = {
    base: delta.base,
    usd: delta.usd,
    pct: delta.pct,
    gap,
    gapMs,
  };
  if (split !== null) {
    out.positionUsd = split.positionUsd;
    out.priceEffectUsd = split.priceEffectUsd;
  }
  if (backfilled) out.backfilled = true;
  return out;
}

/**
 * Snapshot contract v1 at `lastEventTs`, with the market-intelligence fields (see intel.ts);
 * unknown values are null, so JSON round-trips.
 */
export function toSnapshot(state: InstrumentState, cfg: IntelConfig = DEFAULT_INTEL_CONFIG): SnapshotJson {
  const { hourly, aprPct } = fundingMetrics(state.fundingRate, state.fundingIntervalHours);
  const intel = instrumentIntel(state, cfg);
  const d15 = deltaOf(state, state.window15m, intel.delta15mSplit);
  const d24 = deltaOf(state, state.window24h, intel.delta24hSplit);
  const snapshot: { -readonly [K in keyof SnapshotJson]: SnapshotJson[K] } = {
    v: 1,
    venue: state.venue,
    symbol: state.symbol,
    instrument: state.instrument,
    ts: state.lastEventTs,
    price: { mark: state.markPrice, last: state.lastPrice, index: state.indexPrice },
    oi: {
      base: state.oiBase,
      usd: state.oiBase !== null && state.markPrice !== null ? state.oiBase * state.markPrice : null,
      delta15m: d15,
      delta24h: d24,
    },
    funding: {
      rate: state.fundingRate,
      intervalHours: state.fundingIntervalHours,
      hourly,
      aprPct,
      nextFundingTime: state.nextFundingTs,
      rate8h: intel.funding.rate8h,
      payer: intel.funding.payer,
      pressure: intel.funding.pressure,
      annualCostUsdPer10kLong: intel.funding.annualCostUsdPer10kLong,
      msToNextFunding: intel.funding.msToNextFunding,
      hint: intel.funding.hint,
      atBound: intel.funding.atBound,
    },
    turnover24hUsd: state.turnover24hUsd,
    momentum: intel.momentum,
    control: intel.control,
    controlFundingAgrees: intel.controlFundingAgrees,
    activity: intel.activity,
    freshness: intel.freshness,
    liquidations: liquidationsJson(state, d15, d24, cfg.controlBand),
    longShort: longShortJson(state),
  };
  const unavailable = UNAVAILABLE.get(state.venue);
  if (unavailable !== undefined) snapshot.unavailable = unavailable;
  return snapshot;
}
