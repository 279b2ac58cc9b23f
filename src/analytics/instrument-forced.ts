/**
 * The forced-flow part of an instrument: liquidations and long/short statistics, how an event
 * carrying them is applied, and their snapshot fields. Pure, like the rest of the instrument state.
 */
import {
  type DeltaJson,
  LIQUIDATION_COVERAGE,
  type LiquidationCoverage,
  type LiquidationsJson,
  type LiquidationWindowJson,
  type LongShortJson,
  type MarketEvent,
  NO_LIQUIDATION_FEED,
  NO_LONG_SHORT_STATS,
  type SnapshotJson,
  type VenueId,
} from '../domain/types.js';
import { holesOverlap } from './holes.js';
import type { InstrumentState } from './instrument.js';
import type { IntelConfig } from './intel-config.js';
import {
  type LiquidationBook,
  type LiquidationTotals,
  type LiquidationWindow,
  liquidatedOiShare,
  liquidationTotals,
  liquidationWindowStartTs,
  recordLiquidations,
} from './liquidations.js';

const isNum = (v: number | undefined): v is number => v !== undefined && Number.isFinite(v);

/** Venues that publish long/short statistics (Binance, Bybit, OKX over REST); Hyperliquid publishes none. */
export const LONG_SHORT_STATS: Readonly<Record<VenueId, boolean>> = {
  binance: true,
  bybit: true,
  okx: true,
  hyperliquid: false,
};

/** The venue's liquidation coverage; null for a venue without a feed (or unknown). */
export const coverageOf = (venue: string): LiquidationCoverage | null =>
  LIQUIDATION_COVERAGE[venue as VenueId] ?? null;

/** Whether the event carries any price, OI, funding or turnover field. */
export function carriesMarketFields(ev: MarketEvent): boolean {
  return (
    ev.markPrice !== undefined ||
    ev.lastPrice !== undefined ||
    ev.indexPrice !== undefined ||
    ev.oiBase !== undefined ||
    ev.oiUsd !== undefined ||
    ev.fundingRate !== undefined ||
    ev.fundingRateCap !== undefined ||
    ev.fundingRateFloor !== undefined ||
    ev.fundingIntervalHours !== undefined ||
    ev.nextFundingTs !== undefined ||
    ev.turnover24hUsd !== undefined
  );
}

/**
 * Liquidations into the windows (at their own times, never after `nowTs`), and long/short figures
 * that are not older than the held ones (a figure without `longShortTs` counts at `nowTs`). Ignored
 * for a venue that publishes neither. Returns whether a sum or a figure changed.
 */
export function applyForcedFlows(state: InstrumentState, ev: MarketEvent, nowTs: number): boolean {
  let changed = false;
  const book = state.liquidations;
  if (
    book !== null &&
    ev.liquidations !== undefined &&
    recordLiquidations(book, nowTs, ev.liquidations) > 0
  ) {
    changed = true;
  }
  if (!LONG_SHORT_STATS[state.venue as VenueId]) return changed;
  const bucketTs = isNum(ev.longShortTs) ? ev.longShortTs : nowTs;
  const accounts = ev.accountsLongPct;
  if (isNum(accounts) && !(state.accountsLongTs !== null && bucketTs < state.accountsLongTs)) {
    changed ||= state.accountsLongPct !== accounts || state.accountsLongTs !== bucketTs;
    state.accountsLongPct = accounts;
    state.accountsLongTs = bucketTs;
  }
  const top = ev.topTradersLongPct;
  if (isNum(top) && !(state.topTradersLongTs !== null && bucketTs < state.topTradersLongTs)) {
    changed ||= state.topTradersLongPct !== top || state.topTradersLongTs !== bucketTs;
    state.topTradersLongPct = top;
    state.topTradersLongTs = bucketTs;
  }
  return changed;
}

/** Per venue, why its liquidations or long/short figures are null (absent when both exist). */
export const UNAVAILABLE: ReadonlyMap<string, NonNullable<SnapshotJson['unavailable']>> = new Map(
  (Object.keys(LIQUIDATION_COVERAGE) as VenueId[]).flatMap((venue) => {
    const why: { liquidations?: string; longShort?: string } = {};
    if (LIQUIDATION_COVERAGE[venue] === null) why.liquidations = NO_LIQUIDATION_FEED;
    if (!LONG_SHORT_STATS[venue]) why.longShort = NO_LONG_SHORT_STATS;
    return Object.keys(why).length > 0 ? [[venue, Object.freeze(why)] as const] : [];
  }),
);

/** Scratch for the window sums (a snapshot is built synchronously). */
const totals: LiquidationTotals = { longUsd: 0, shortUsd: 0, longBase: 0, shortBase: 0, count: 0 };

/**
 * `partial` when counting did not cover the window: it started after the window's start (first
 * seen, or restored from a checkpoint without liquidations), or a feed hole overlaps the window.
 */
function liquidationWindowJson(
  state: InstrumentState,
  book: LiquidationBook,
  w: LiquidationWindow,
  delta: DeltaJson | null,
  minFallPct: number,
): LiquidationWindowJson {
  const nowTs = state.lastEventTs;
  const t = liquidationTotals(w, nowTs, totals);
  const startTs = liquidationWindowStartTs(w, nowTs);
  const partial =
    !(book.countingSinceTs <= startTs) ||
    (state.holes.length > 0 && holesOverlap(state.holes, startTs, nowTs));
  return {
    longUsd: t.longUsd,
    shortUsd: t.shortUsd,
    longBase: t.longBase,
    shortBase: t.shortBase,
    count: t.count,
    oiShare: liquidatedOiShare(t.longBase + t.shortBase, delta, minFallPct),
    partial,
  };
}

export function liquidationsJson(
  state: InstrumentState,
  d15: DeltaJson | null,
  d24: DeltaJson | null,
  controlBand: IntelConfig['controlBand'],
): LiquidationsJson | null {
  const book = state.liquidations;
  const coverage = coverageOf(state.venue);
  if (book === null || coverage === null) return null;
  return {
    '15m': liquidationWindowJson(state, book, book.w15m, d15, controlBand['15m'].oiPct),
    '24h': liquidationWindowJson(state, book, book.w24h, d24, controlBand['24h'].oiPct),
    coverage,
  };
}

/** Null until a figure arrived (and always for a venue without statistics); `ts` the older figure's bucket. */
export function longShortJson(state: InstrumentState): LongShortJson | null {
  const { accountsLongTs, topTradersLongTs } = state;
  if (accountsLongTs === null && topTradersLongTs === null) return null;
  return {
    accountsLongPct: state.accountsLongPct,
    topTradersLongPct: state.topTradersLongPct,
    ts: Math.min(accountsLongTs ?? Number.POSITIVE_INFINITY, topTradersLongTs ?? Number.POSITIVE_INFINITY),
  };
}
