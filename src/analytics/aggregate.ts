import {
  type ActivityLevel,
  type ControlState,
  type DeltaJson,
  type FreshnessJson,
  type MomentumJson,
  type MomentumState,
  NO_LIQUIDATION_FEED,
  NO_LONG_SHORT_STATS,
  type SnapshotJson,
} from '../domain/types.js';
import { meanLongShort, sumLiquidations } from './aggregate-forced.js';
import { type ControlDeadBand, controlState, fundingSupportsControl } from './control.js';
import { fundingPayer } from './funding.js';
import { formatAprForHint, pressureLevel } from './intel-funding.js';

/**
 * The cross-venue view of one symbol, published as venue `all` (`pulse:latest:all:{SYMBOL}`).
 * Rules (the README's "Cross-venue aggregate" copies them):
 *
 * - Identity: `v: 1`, `venue: 'all'`, `instrument: 'all'`, `ts` = the newest venue `ts`; `venues` = the
 *   venues included, sorted. Snapshots of another symbol, of venue `all` or with a non-finite `ts` are
 *   ignored; of two snapshots of one venue the newer counts.
 * - Staleness: a venue whose `ts` is more than `staleAfterMs` before the newest is stale: listed in
 *   `freshness.staleVenues` and excluded from every figure, so a dead feed never freezes a total.
 *   `freshness.priceTs`/`oiTs`/`fundingTs` are the oldest of the included venues' values (a venue
 *   snapshot without a `freshness` block counts its `ts` for the inputs it has); `maxInputAgeMs` is `ts`
 *   minus the oldest of them; `stale` is true when a venue is stale or that age exceeds `staleAfterMs`.
 * - OI: `oi.base`/`oi.usd` are sums over the included venues that have both. Null result when none has.
 * - Deltas: the sums of the venues' `base`, `usd` (and `positionUsd`/`priceEffectUsd` when every venue
 *   has them) only when every venue counted in the OI total has that window's delta, else null: a
 *   partial sum would show a venue's whole OI as a fake move. `pct = 100 × Σbase ÷ Σ(oiBase − base)`;
 *   `gap`/`backfilled` are true when any venue's is; `gapMs` is the largest of the venues' (a venue
 *   snapshot without one counts 0).
 * - Price: `mark` = the OI-base-weighted mean mark (= Σ oiUsd ÷ Σ oiBase); `last`/`index` null (a
 *   cross-venue last trade or index has no single meaning).
 * - Funding: `aprPct` = the OI-USD-weighted mean of the venues' `aprPct` (venues without funding or OI
 *   carry no weight); `hourly`, `rate8h`, `payer`, `annualCostUsdPer10kLong` follow from it and
 *   `pressure` from |aprPct| with the per-venue thresholds. `rate`, `intervalHours`, `nextFundingTime`,
 *   `msToNextFunding`, `atBound` are null: they differ per venue. `hint` is a cross-venue carry hint when
 *   the funding spread reaches the `elevated` pressure threshold, else null.
 * - `fundingSpread`: max − min `aprPct` over the included venues with funding (OI not needed), with
 *   both venues; null with fewer than two. A tie (|spread| below `FUNDING_TIE_APR_PCT`, what a message
 *   shows as 0.00%) names no venue: `{ aprPct, maxVenue: null, minVenue: null }`, never a winner.
 * - Momentum: `priceChange15mPct`/`priceChange24hPct` = the OI-USD-weighted mean of the venues' values,
 *   null unless every OI venue has one. `oiAccel` = the OI-USD-weighted mean over the venues that have
 *   one (the true aggregate acceleration needs the OI history, which snapshots do not carry); null if
 *   none. `state` = the state carrying the most OI USD among the venues (ties: reversing, accelerating,
 *   fading, steady).
 * - Control: `controlState(aggregate delta pct, aggregate price change, band)` per window;
 *   `controlFundingAgrees` from the weighted funding sign. `divergence`: per window, the included
 *   venues whose own control state is known and differs from the aggregate's; empty when the
 *   aggregate's is unknown (nothing to differ from).
 * - Activity: the level carrying the most OI USD among the venues (ties: the higher level); null if none.
 * - `turnover24hUsd`: the sum when every OI venue has one, else null.
 * - Liquidations: per window, the sums over the included venues that have them (a feed); `partial`
 *   when any counted venue's is; `coverage` `sampled` when any counted venue's is; `missingVenues` the
 *   symbol's venues not in the sums (no feed, like Hyperliquid, or stale), sorted. `oiShare` = the summed
 *   base ÷ |the aggregate's OI delta base| when that delta is known and negative, else null: with venues
 *   missing, or sampled, it is a lower bound. Null when no venue is counted; with the reason
 *   `unavailable.liquidations` only when none of the symbol's venues has a feed.
 * - `longShort`: per figure, the OI-USD-weighted mean over the OI venues that have it (a venue's share of
 *   the crowd in proportion to its positions); `ts` the oldest bucket time of the venues used; null when
 *   no venue has a figure, with `unavailable.longShort` only when none of the symbol's venues publishes any.
 * - No figure is ever NaN or Infinity (JSON would turn it into null silently): divisions are guarded.
 */
export interface AggregateOptions {
  /** A venue whose snapshot is older than this before the newest one is stale and left out. */
  readonly staleAfterMs: number;
  readonly controlBand: { readonly '15m': ControlDeadBand; readonly '24h': ControlDeadBand };
  /** |APR| levels of funding pressure, percent; the same as per venue. */
  readonly pressureAprPct: { readonly elevated: number; readonly high: number; readonly extreme: number };
}

export const AGGREGATE_VENUE = 'all';

/** A funding spread below this (APR percent, half the displayed precision) is a tie between venues. */
export const FUNDING_TIE_APR_PCT = 0.005;

const HOURS_PER_YEAR = 24 * 365;
const WINDOWS = ['15m', '24h'] as const;
type Window = (typeof WINDOWS)[number];
const MOMENTUM_PRIORITY: readonly MomentumState[] = ['reversing', 'accelerating', 'fading', 'steady'];
const ACTIVITY_PRIORITY: readonly ActivityLevel[] = ['extreme', 'active', 'normal', 'quiet'];

const num = (v: number | null | undefined): v is number => typeof v === 'number' && Number.isFinite(v);
const finiteOrNull = (v: number): number | null => (Number.isFinite(v) ? v : null);

interface OiVenue {
  readonly snap: SnapshotJson;
  readonly oiBase: number;
  readonly oiUsd: number;
}

/** Combines the latest per-venue snapshots of one symbol into the `all` snapshot; null when none has OI. */
export function aggregateSnapshots(
  symbol: string,
  venueSnapshots: readonly SnapshotJson[],
  opts: AggregateOptions,
): SnapshotJson | null {
  // Plain loops over a handful of venues: a Map, spreads and array callbacks were most of the
  // cost of an aggregate, which the rules build every half minute per symbol.
  const all = latestPerVenue(symbol, venueSnapshots);
  if (all.length === 0) return null;
  let ts = all[0]!.ts;
  for (const s of all) if (s.ts > ts) ts = s.ts;
  const included: SnapshotJson[] = [];
  const staleVenues: string[] = [];
  for (const s of all) {
    if (s.ts >= ts - opts.staleAfterMs) included.push(s);
    else staleVenues.push(s.venue);
  }

  const oiVenues: OiVenue[] = [];
  let oiBase = 0;
  let oiUsd = 0;
  for (const snap of included) {
    if (num(snap.oi.base) && num(snap.oi.usd)) {
      oiVenues.push({ snap, oiBase: snap.oi.base, oiUsd: snap.oi.usd });
      oiBase += snap.oi.base;
      oiUsd += snap.oi.usd;
    }
  }
  if (oiVenues.length === 0) return null;

  const delta15m = sumDeltas(oiVenues, (s) => s.oi.delta15m);
  const delta24h = sumDeltas(oiVenues, (s) => s.oi.delta24h);

  const aprPct = weightedMean(oiVenues, (s) => s.funding.aprPct, false);
  const hourly = aprPct === null ? null : aprPct / (HOURS_PER_YEAR * 100);
  const spread = fundingSpread(included);

  const momentum: MomentumJson = {
    priceChange15mPct: weightedMean(oiVenues, (s) => s.momentum?.priceChange15mPct, true),
    priceChange24hPct: weightedMean(oiVenues, (s) => s.momentum?.priceChange24hPct, true),
    oiAccel: weightedMean(oiVenues, (s) => s.momentum?.oiAccel, false),
    state: weightedMode(oiVenues, (s) => s.momentum?.state, MOMENTUM_PRIORITY),
  };
  const priceChange = { '15m': momentum.priceChange15mPct, '24h': momentum.priceChange24hPct };
  const deltas = { '15m': delta15m, '24h': delta24h };
  const control = {} as Record<Window, ControlState | null>;
  const agrees = {} as Record<Window, boolean | null>;
  const divergence = {} as Record<Window, string[]>;
  for (const w of WINDOWS) {
    const state = controlState(deltas[w]?.pct, priceChange[w], opts.controlBand[w]);
    control[w] = state;
    agrees[w] = fundingSupportsControl(state, hourly);
    divergence[w] =
      state === null
        ? []
        : included.filter((s) => s.control?.[w] != null && s.control[w] !== state).map((s) => s.venue);
  }

  let turnoverSum: number | null = 0;
  for (const v of oiVenues) {
    const t = v.snap.turnover24hUsd;
    turnoverSum = turnoverSum !== null && num(t) ? turnoverSum + t : null;
  }
  const turnover24hUsd = turnoverSum === null ? null : finiteOrNull(turnoverSum);
  const liquidations = sumLiquidations(all, included, opts.controlBand);
  const longShort = meanLongShort(oiVenues, ts);
  let unavailable: { liquidations?: string; longShort?: string } | null = null;
  if (liquidations === null && all.every((s) => s.unavailable?.liquidations !== undefined)) {
    unavailable = { liquidations: NO_LIQUIDATION_FEED };
  }
  if (longShort === null && all.every((s) => s.unavailable?.longShort !== undefined)) {
    unavailable = { ...unavailable, longShort: NO_LONG_SHORT_STATS };
  }

  const out: SnapshotJson = {
    v: 1,
    venue: AGGREGATE_VENUE,
    symbol,
    instrument: AGGREGATE_VENUE,
    ts,
    price: { mark: weightedMark(oiVenues), last: null, index: null },
    oi: { base: finiteOrNull(oiBase), usd: finiteOrNull(oiUsd), delta15m, delta24h },
    funding: {
      rate: null,
      intervalHours: null,
      hourly,
      aprPct,
      nextFundingTime: null,
      rate8h: hourly === null ? null : hourly * 8,
      payer: fundingPayer(hourly),
      pressure: pressureLevel(aprPct, opts.pressureAprPct),
      annualCostUsdPer10kLong: hourly === null ? null : 10_000 * hourly * HOURS_PER_YEAR,
      msToNextFunding: null,
      hint: spreadHint(spread, opts.pressureAprPct.elevated),
      atBound: null,
    },
    turnover24hUsd,
    momentum,
    control,
    controlFundingAgrees: agrees,
    activity: weightedMode(oiVenues, (s) => s.activity, ACTIVITY_PRIORITY),
    freshness: freshnessOf(ts, included, staleVenues, opts.staleAfterMs),
    venues: included.map((s) => s.venue),
    fundingSpread: spread && { aprPct: spread.aprPct, maxVenue: spread.maxVenue, minVenue: spread.minVenue },
    divergence,
    liquidations,
    longShort,
  };
  return unavailable === null ? out : { ...out, unavailable };
}

/**
 * One snapshot per venue (of two of one venue, the newer; at equal `ts` the later), sorted by venue;
 * snapshots of another symbol, of venue `all` or with a non-finite `ts` left out.
 */
function latestPerVenue(symbol: string, venueSnapshots: readonly SnapshotJson[]): SnapshotJson[] {
  const out: SnapshotJson[] = [];
  for (const s of venueSnapshots) {
    if (s.symbol !== symbol || s.venue === AGGREGATE_VENUE || !num(s.ts)) continue;
    let i = 0;
    while (i < out.length && out[i]!.venue < s.venue) i++;
    if (i < out.length && out[i]!.venue === s.venue) {
      if (s.ts >= out[i]!.ts) out[i] = s;
    } else {
      out.splice(i, 0, s);
    }
  }
  return out;
}

function sumDeltas(
  venues: readonly OiVenue[],
  pick: (s: SnapshotJson) => DeltaJson | null,
): DeltaJson | null {
  let base = 0;
  let usd = 0;
  let then = 0;
  let positionUsd: number | null = 0;
  let priceEffectUsd: number | null = 0;
  let gap = false;
  let gapMs = 0;
  let backfilled = false;
  for (const v of venues) {
    const d = pick(v.snap);
    if (d == null || !num(d.base) || !num(d.usd)) return null;
    base += d.base;
    usd += d.usd;
    then += v.oiBase - d.base;
    positionUsd = positionUsd !== null && num(d.positionUsd) ? positionUsd + d.positionUsd : null;
    priceEffectUsd =
      priceEffectUsd !== null && num(d.priceEffectUsd) ? priceEffectUsd + d.priceEffectUsd : null;
    gap ||= d.gap === true;
    if (num(d.gapMs) && d.gapMs > gapMs) gapMs = d.gapMs;
    backfilled ||= d.backfilled === true;
  }
  const pct = (100 * base) / then;
  if (!(then > 0) || !Number.isFinite(pct) || !Number.isFinite(base) || !Number.isFinite(usd)) return null;
  // Built field by field in the contract's key order (an object spread allocated twice per delta).
  if (positionUsd !== null && priceEffectUsd !== null && Number.isFinite(positionUsd + priceEffectUsd)) {
    return { base, usd, pct, gap, gapMs, positionUsd, priceEffectUsd, backfilled };
  }
  return { base, usd, pct, gap, gapMs, backfilled };
}

/**
 * OI-USD-weighted mean of a per-venue figure. `requireAll`: null unless every venue has it; else the
 * venues without it carry no weight. Null when the weights sum to zero.
 */
function weightedMean(
  venues: readonly OiVenue[],
  pick: (s: SnapshotJson) => number | null | undefined,
  requireAll: boolean,
): number | null {
  let sum = 0;
  let weight = 0;
  for (const v of venues) {
    const x = pick(v.snap);
    if (!num(x)) {
      if (requireAll) return null;
      continue;
    }
    sum += x * v.oiUsd;
    weight += v.oiUsd;
  }
  return weight > 0 ? finiteOrNull(sum / weight) : null;
}

function weightedMark(venues: readonly OiVenue[]): number | null {
  let sum = 0;
  let weight = 0;
  for (const v of venues) {
    const mark = v.snap.price.mark;
    if (!num(mark)) continue;
    sum += mark * v.oiBase;
    weight += v.oiBase;
  }
  return weight > 0 ? finiteOrNull(sum / weight) : null;
}

/** The value carrying the most OI USD; ties go to the earlier entry of `priority`. */
function weightedMode<T extends string>(
  venues: readonly OiVenue[],
  pick: (s: SnapshotJson) => T | null | undefined,
  priority: readonly T[],
): T | null {
  const weights = new Map<T, number>();
  for (const v of venues) {
    const x = pick(v.snap);
    if (x != null) weights.set(x, (weights.get(x) ?? 0) + Math.max(v.oiUsd, 0));
  }
  let best: T | null = null;
  let bestWeight = -1;
  for (const x of priority) {
    const w = weights.get(x);
    if (w !== undefined && w > bestWeight) {
      best = x;
      bestWeight = w;
    }
  }
  return best;
}

interface Spread {
  readonly aprPct: number;
  /** Null on a tie: no venue is dearer. */
  readonly maxVenue: string | null;
  readonly minVenue: string | null;
  /** The dearer venue's own aprPct, for the hint's wording. */
  readonly maxAprPct: number;
}

function fundingSpread(included: readonly SnapshotJson[]): Spread | null {
  let max: { venue: string; aprPct: number } | null = null;
  let min: { venue: string; aprPct: number } | null = null;
  let count = 0;
  for (const s of included) {
    const aprPct = s.funding.aprPct;
    if (!num(aprPct)) continue;
    count++;
    if (max === null || aprPct > max.aprPct) max = { venue: s.venue, aprPct };
    if (min === null || aprPct <= min.aprPct) min = { venue: s.venue, aprPct };
  }
  if (count < 2 || max === null || min === null) return null;
  const aprPct = max.aprPct - min.aprPct;
  if (!Number.isFinite(aprPct)) return null;
  if (aprPct < FUNDING_TIE_APR_PCT) return { aprPct, maxVenue: null, minVenue: null, maxAprPct: max.aprPct };
  return { aprPct, maxVenue: max.venue, minVenue: min.venue, maxAprPct: max.aprPct };
}

/**
 * "Longs pay 40% APR more on binance than on okx: long okx, short binance to collect the gap", when the
 * spread reaches `minSpreadAprPct`. Worded from the side that pays more: longs when the dearer venue's
 * rate is positive, else shorts (every rate is then ≤ 0 and shorts pay most where it is lowest).
 */
function spreadHint(spread: Spread | null, minSpreadAprPct: number): string | null {
  if (spread === null || !(spread.aprPct >= minSpreadAprPct) || !(spread.aprPct > 0)) return null;
  const { maxVenue, minVenue } = spread;
  if (maxVenue === null || minVenue === null) return null;
  const more = `${formatAprForHint(spread.aprPct)} APR more`;
  const trade = `long ${minVenue}, short ${maxVenue} to collect the gap`;
  return spread.maxAprPct > 0
    ? `Longs pay ${more} on ${maxVenue} than on ${minVenue}: ${trade}`
    : `Shorts pay ${more} on ${minVenue} than on ${maxVenue}: ${trade}`;
}

function freshnessOf(
  ts: number,
  included: readonly SnapshotJson[],
  staleVenues: readonly string[],
  staleAfterMs: number,
): FreshnessJson {
  let priceTs: number | null = null;
  let oiTs: number | null = null;
  let fundingTs: number | null = null;
  const older = (held: number | null, x: number | null | undefined): number | null =>
    num(x) ? (held === null ? x : Math.min(held, x)) : held;
  for (const s of included) {
    const f = s.freshness;
    priceTs = older(priceTs, f ? f.priceTs : num(s.price.mark) ? s.ts : null);
    oiTs = older(oiTs, f ? f.oiTs : num(s.oi.base) ? s.ts : null);
    fundingTs = older(
      fundingTs,
      f ? f.fundingTs : num(s.funding.rate) || num(s.funding.aprPct) ? s.ts : null,
    );
  }
  const known = [priceTs, oiTs, fundingTs].filter(num);
  const maxInputAgeMs = known.length > 0 ? Math.max(0, ts - Math.min(...known)) : null;
  return {
    priceTs,
    oiTs,
    fundingTs,
    maxInputAgeMs,
    stale: staleVenues.length > 0 || (maxInputAgeMs !== null && maxInputAgeMs > staleAfterMs),
    staleVenues,
  };
}
