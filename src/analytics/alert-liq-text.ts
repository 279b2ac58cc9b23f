/**
 * How liquidations read, in the alerts' `text` and in the bot's messages alike (plain text: the
 * bot escapes it): sums by side, the forced share of an OI fall, and how much of the market the
 * counted feeds see. A sampled feed (Binance, OKX: at most one order per instrument per second)
 * or a window counted from after its start gives a lower bound, worded "at least"; a venue without
 * a public feed (Hyperliquid) is named as such, never shown as zero. Pure string building.
 */
import {
  LIQUIDATION_COVERAGE,
  type LiquidationsJson,
  type LiquidationWindowJson,
  type SnapshotJson,
} from '../domain/types.js';
import { formatUsd } from '../domain/units.js';

export const NO_FEED_WORDS = 'no public liquidation feed';

/** A forced share below this (of the OI fall) explains nothing and is not shown. */
export const MIN_SHOWN_FORCED_SHARE = 0.1;

const VENUE_NAMES: Readonly<Record<string, string>> = {
  binance: 'Binance',
  bybit: 'Bybit',
  okx: 'OKX',
  hyperliquid: 'Hyperliquid',
};

/** `Binance`, `OKX`; an unknown id as written. */
export function venueName(venue: string): string {
  return VENUE_NAMES[venue] ?? venue;
}

const isNum = (v: unknown): v is number => typeof v === 'number' && Number.isFinite(v);

/**
 * Whether the sums are a lower bound: a sampled feed, counting that began inside the window, or
 * (aggregate) a venue that has a feed left out of the sums (stale, or without its windows yet).
 */
export function isLowerBound(
  liq: Pick<LiquidationsJson, 'coverage' | 'missingVenues'>,
  w: LiquidationWindowJson,
): boolean {
  if (liq.coverage !== 'complete' || w.partial === true) return true;
  return (liq.missingVenues ?? []).some(
    (v) =>
      !(v in LIQUIDATION_COVERAGE) || LIQUIDATION_COVERAGE[v as keyof typeof LIQUIDATION_COVERAGE] !== null,
  );
}

/** `at least ` before a lower bound, else nothing. */
export function atLeast(lowerBound: boolean): string {
  return lowerBound ? 'at least ' : '';
}

/**
 * The snapshot has no liquidations because its venue publishes none (`unavailable.liquidations`,
 * or a venue `LIQUIDATION_COVERAGE` marks null). Not the same as a feed that saw nothing yet.
 */
export function hasNoFeed(s: SnapshotJson): boolean {
  if (s.liquidations != null) return false;
  if (s.unavailable?.liquidations !== undefined) return true;
  return (
    s.venue in LIQUIDATION_COVERAGE &&
    LIQUIDATION_COVERAGE[s.venue as keyof typeof LIQUIDATION_COVERAGE] === null
  );
}

/**
 * Which feeds the sums come from: `Bybit complete` for a venue; for the aggregate its counted
 * venues by coverage (`Bybit complete, Binance/OKX sampled`) and the venues it lacks
 * (`Hyperliquid: no public liquidation feed`). Empty parts are left out.
 */
export function coverageParts(s: SnapshotJson, liq: LiquidationsJson): string[] {
  if (s.venue !== 'all') return [`${venueName(s.venue)} ${liq.coverage}`];
  const missing = liq.missingVenues ?? [];
  const counted = (s.venues ?? []).filter((v) => !missing.includes(v));
  const byCoverage = new Map<string, string[]>();
  for (const v of counted) {
    const coverage = LIQUIDATION_COVERAGE[v as keyof typeof LIQUIDATION_COVERAGE] ?? liq.coverage;
    byCoverage.set(coverage, [...(byCoverage.get(coverage) ?? []), venueName(v)]);
  }
  const parts: string[] = [];
  const covered = (['complete', 'sampled'] as const)
    .filter((c) => byCoverage.has(c))
    .map((c) => `${byCoverage.get(c)!.join('/')} ${c}`);
  if (covered.length > 0) parts.push(covered.join(', '));
  else parts.push(liq.coverage);
  if (missing.length > 0) parts.push(`${missing.map(venueName).join('/')}: ${NO_FEED_WORDS}`);
  return parts;
}

/** `≥100%` from a share of 1 up (positions reopened inside the window can push it past 1), else `62%`. */
export function sharePctText(share: number): string {
  return share >= 1 ? '≥100%' : `${Math.round(share * 100)}%`;
}

/**
 * `62% forced (short liquidations $24.1M)`: how much of the window's OI fall liquidations account
 * for, with the side that dominated (and the other, when it is a tenth of the total or more).
 * On a lower bound both figures read "at least". Null unless `oiShare` is known and at least
 * `MIN_SHOWN_FORCED_SHARE` (OI fell and liquidations explain a real part of it).
 */
export function forcedShareText(
  w: LiquidationWindowJson | undefined,
  liq: Pick<LiquidationsJson, 'coverage' | 'missingVenues'>,
): string | null {
  if (w === undefined || !isNum(w.oiShare) || w.oiShare < MIN_SHOWN_FORCED_SHARE) return null;
  const bound = atLeast(isLowerBound(liq, w));
  const shortsLead = w.shortUsd > w.longUsd;
  const [lead, leadUsd, other, otherUsd] = shortsLead
    ? (['short', w.shortUsd, 'long', w.longUsd] as const)
    : (['long', w.longUsd, 'short', w.shortUsd] as const);
  const total = w.longUsd + w.shortUsd;
  const second = otherUsd > 0 && otherUsd >= 0.1 * total ? `, ${other} ${bound}${formatUsd(otherUsd)}` : '';
  const share = w.oiShare >= 1 ? sharePctText(w.oiShare) : `${bound}${sharePctText(w.oiShare)}`;
  return `${share} forced (${lead} liquidations ${bound}${formatUsd(leadUsd)}${second})`;
}

/** `forcedShareText` of a snapshot's window; null when the snapshot has no liquidations. */
export function snapshotForcedShare(s: SnapshotJson, window: '15m' | '24h'): string | null {
  const liq = s.liquidations;
  return liq ? forcedShareText(liq[window], liq) : null;
}

/** What a cascade on one side does to the price: longs sold by force push it down, shorts bought up. */
export function cascadeMeaning(side: 'longs' | 'shorts'): string {
  return side === 'shorts' ? 'short squeeze' : 'long flush';
}

/** ` 62% forced (short liquidations $24.1M).` as a sentence of an alert's text, or empty. */
export function forcedShareSentence(s: SnapshotJson, window: '15m' | '24h'): string {
  const text = snapshotForcedShare(s, window);
  return text === null ? '' : ` ${text.charAt(0).toUpperCase()}${text.slice(1)}.`;
}
