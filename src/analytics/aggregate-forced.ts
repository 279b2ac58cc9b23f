/**
 * The forced-flow figures of the cross-venue aggregate (venue `all`), beside aggregate.ts:
 * - `liquidations`: sums over the included venues that have a feed, `missingVenues` the others;
 *   `coverage` `sampled` when any counted venue is, `partial` when any counted window is; the
 *   forced share against the OI change of the counted venues only.
 * - `longShort`: per figure, the OI(USD)-weighted mean of the venues that publish it, buckets over
 *   an hour old left out; `ts` the oldest bucket used.
 */
import type {
  LiquidationsJson,
  LiquidationWindowJson,
  LongShortJson,
  SnapshotJson,
} from '../domain/types.js';
import type { ControlDeadBand } from './control.js';
import { liquidatedOiShare } from './liquidations.js';

type Window = '15m' | '24h';

/** A venue's snapshot with its OI value, the weight of its long/short figures. */
export interface WeightedVenue {
  readonly snap: SnapshotJson;
  readonly oiUsd: number;
}

const num = (v: number | null | undefined): v is number => typeof v === 'number' && Number.isFinite(v);

const isWindow = (w: LiquidationWindowJson | undefined): w is LiquidationWindowJson =>
  w != null && num(w.longUsd) && num(w.shortUsd) && num(w.longBase) && num(w.shortBase) && num(w.count);

/**
 * The OI change of the venues whose liquidations are counted, summed (`pct` against their OI at
 * the window's start): the forced share sets liquidations against the positions of the same
 * venues only, so a venue without a feed whose OI rose cannot shrink the divisor. Null when one
 * of them lacks the delta.
 */
function countedOiDelta(counted: readonly SnapshotJson[], w: Window): { base: number; pct: number } | null {
  let base = 0;
  let then = 0;
  for (const s of counted) {
    const d = w === '15m' ? s.oi.delta15m : s.oi.delta24h;
    const now = s.oi.base;
    if (d == null || !num(d.base) || !num(now)) return null;
    base += d.base;
    then += now - d.base;
  }
  return then > 0 ? { base, pct: (100 * base) / then } : null;
}

export function sumLiquidations(
  all: readonly SnapshotJson[],
  included: readonly SnapshotJson[],
  controlBand: Readonly<Record<Window, ControlDeadBand>>,
): LiquidationsJson | null {
  const counted: SnapshotJson[] = [];
  const missingVenues: string[] = [];
  for (const s of all) {
    const l = s.liquidations;
    if (included.includes(s) && l != null && isWindow(l['15m']) && isWindow(l['24h'])) counted.push(s);
    else missingVenues.push(s.venue);
  }
  if (counted.length === 0) return null;
  const sum = (w: Window): LiquidationWindowJson => {
    let longUsd = 0;
    let shortUsd = 0;
    let longBase = 0;
    let shortBase = 0;
    let count = 0;
    let partial = false;
    for (const s of counted) {
      const x = s.liquidations![w];
      longUsd += x.longUsd;
      shortUsd += x.shortUsd;
      longBase += x.longBase;
      shortBase += x.shortBase;
      count += x.count;
      partial ||= x.partial !== false;
    }
    const oiShare = liquidatedOiShare(longBase + shortBase, countedOiDelta(counted, w), controlBand[w].oiPct);
    return { longUsd, shortUsd, longBase, shortBase, count, oiShare, partial };
  };
  return {
    '15m': sum('15m'),
    '24h': sum('24h'),
    coverage: counted.some((s) => s.liquidations!.coverage !== 'complete') ? 'sampled' : 'complete',
    missingVenues,
  };
}

/** A venue's long/short bucket older than this (against the aggregate's time) is left out of the mean. */
const LONG_SHORT_MAX_AGE_MS = 60 * 60_000;

export function meanLongShort(venues: readonly WeightedVenue[], ts: number): LongShortJson | null {
  // A statistic an hour old (a failing poll) would pass for the current crowd: leave it out.
  const fresh = venues.filter((v) => {
    const lsTs = v.snap.longShort?.ts;
    return v.oiUsd > 0 && num(lsTs) && ts - lsTs <= LONG_SHORT_MAX_AGE_MS;
  });
  const accountsLongPct = weightedMean(fresh, (ls) => ls.accountsLongPct);
  const topTradersLongPct = weightedMean(fresh, (ls) => ls.topTradersLongPct);
  if (accountsLongPct === null && topTradersLongPct === null) return null;
  let oldestTs = Number.POSITIVE_INFINITY;
  for (const v of fresh) {
    const ls = v.snap.longShort!;
    if (num(ls.accountsLongPct) || num(ls.topTradersLongPct)) oldestTs = Math.min(oldestTs, ls.ts);
  }
  return Number.isFinite(oldestTs) ? { accountsLongPct, topTradersLongPct, ts: oldestTs } : null;
}

/** The OI(USD)-weighted mean of one long/short figure over the venues that have it; null when none has. */
function weightedMean(
  venues: readonly WeightedVenue[],
  pick: (ls: LongShortJson) => number | null,
): number | null {
  let sum = 0;
  let weight = 0;
  for (const v of venues) {
    const x = pick(v.snap.longShort!);
    if (!num(x)) continue;
    sum += x * v.oiUsd;
    weight += v.oiUsd;
  }
  const mean = weight > 0 ? sum / weight : Number.NaN;
  return Number.isFinite(mean) ? mean : null;
}
