/**
 * The `/market` view (who is in control, momentum, activity, funding pressure, OI with its value)
 * and the `/top` ranking, for Telegram's HTML parse mode; every dynamic value is escaped.
 */
import type { ActivityLevel, ControlState, MomentumState, SnapshotJson } from '../domain/types.js';
import {
  formatAprPct,
  formatDuration,
  formatMultiple,
  formatSignedPct,
  formatSignedTokenAmount,
  formatSignedUsd,
} from '../domain/units.js';
import {
  aprPctOf,
  deltaOf,
  formatAnnualCostLine,
  formatHintLine,
  formatOiNow,
  formatPrice,
  header,
  limitLength,
  type OiWindow,
  oiLinesOf,
  payerWords,
  pressureLabel,
} from './format.js';
import { changeDot, deltaCaveat, escapeHtml, positionValueUsd } from './format-delta.js';
import { controlForcedSuffix, formatLongShortLine, formatMarketLiqLines } from './format-liq.js';

const isNum = (v: unknown): v is number => typeof v === 'number' && Number.isFinite(v);

/** Which windows a `/market` view shows. */
export type MarketTimeframe = '15m' | '24h' | 'both';

export const MARKET_TIMEFRAMES: readonly MarketTimeframe[] = ['15m', '24h', 'both'];

const CONTROL_LABELS: Readonly<Record<ControlState, string>> = {
  longs_opening: 'Longs opening (price ↑, OI ↑)',
  shorts_opening: 'Shorts opening (price ↓, OI ↑)',
  short_covering: 'Short covering (price ↑, OI ↓)',
  long_unwinding: 'Long unwinding (price ↓, OI ↓)',
  neutral: 'Neutral (no clear side)',
};

const MOMENTUM_LABELS: Readonly<Record<MomentumState, string>> = {
  accelerating: 'Accelerating',
  steady: 'Steady',
  fading: 'Fading',
  reversing: 'Reversing',
};

const ACTIVITY_LABELS: Readonly<Record<ActivityLevel, string>> = {
  quiet: 'Quiet',
  normal: 'Normal',
  active: 'Active',
  extreme: 'Extreme 🔥',
};

/** `Longs opening (price ↑, OI ↑)` and the like; an unknown value is shown escaped. */
export function controlLabel(state: ControlState): string {
  return CONTROL_LABELS[state] ?? escapeHtml(state);
}

export function momentumLabel(state: MomentumState): string {
  return MOMENTUM_LABELS[state] ?? escapeHtml(state);
}

export function activityLabel(level: ActivityLevel): string {
  return ACTIVITY_LABELS[level] ?? escapeHtml(level);
}

/** The windows a timeframe shows, longest first. */
function windowsOf(tf: MarketTimeframe): OiWindow[] {
  return tf === 'both' ? ['24h', '15m'] : [tf];
}

/**
 * `Control 24h: Longs opening (price ↑, OI ↑) · funding agrees`, with the forced share when the
 * state closes positions (`Short covering … · 62% forced (short liquidations $24.1M)`); null when
 * the snapshot has no control field.
 */
export function formatControlLine(snapshot: SnapshotJson, window: OiWindow): string | null {
  if (!snapshot.control) return null;
  const state = snapshot.control[window];
  if (!state) return `Control ${window}: ⏳ warming up`;
  const agrees = snapshot.controlFundingAgrees?.[window];
  const funding = agrees === true ? ' · funding agrees' : agrees === false ? ' · funding disagrees' : '';
  return `Control ${window}: ${controlLabel(state)}${funding}${controlForcedSuffix(snapshot, window, state)}`;
}

/** `Momentum: Accelerating · OI pace 2.4× usual · price +1.20% in 15m · +3.40% in 24h`. */
export function formatMomentumLine(snapshot: SnapshotJson, tf: MarketTimeframe): string | null {
  const m = snapshot.momentum;
  if (!m) return null;
  const parts: string[] = [m.state ? momentumLabel(m.state) : '⏳ warming up'];
  if (isNum(m.oiAccel)) parts.push(`OI pace ${formatMultiple(m.oiAccel)} usual`);
  for (const window of windowsOf(tf).reverse()) {
    const pct = window === '15m' ? m.priceChange15mPct : m.priceChange24hPct;
    if (isNum(pct)) parts.push(`price ${formatSignedPct(pct)} in ${window}`);
  }
  return `Momentum: ${parts.join(' · ')}`;
}

/** `Funding: 10.95% APR · longs pay shorts · pressure elevated · reset in 3h 12m`. */
function marketFundingLine(snapshot: SnapshotJson, nowMs: number): string {
  const aprPct = aprPctOf(snapshot);
  if (aprPct === null) return 'Funding: n/a';
  const parts = [`${formatAprPct(aprPct)} APR`];
  const payer = payerWords(snapshot, aprPct);
  if (payer !== null) parts.push(payer);
  const { pressure, atBound, nextFundingTime } = snapshot.funding;
  if (pressure) parts.push(`pressure ${pressureLabel(pressure)}`);
  if (atBound === 'cap' || atBound === 'floor') parts.push(`at the ${atBound}`);
  if (isNum(nextFundingTime) && nextFundingTime > nowMs) {
    parts.push(`reset in ${formatDuration(nextFundingTime - nowMs)}`);
  }
  return `Funding: ${parts.join(' · ')}`;
}

function isAggregate(snapshot: SnapshotJson): boolean {
  return snapshot.venue === 'all';
}

/** `⚠️ Stale, left out of the totals: okx` (aggregate) or `⚠️ Stale data: oldest input 2m old`. */
function freshnessLine(snapshot: SnapshotJson): string | null {
  const fresh = snapshot.freshness;
  if (!fresh) return null;
  if (fresh.staleVenues.length > 0) {
    return `⚠️ Stale, left out of the totals: ${fresh.staleVenues.map(escapeHtml).join(', ')}`;
  }
  if (!fresh.stale) return null;
  return isNum(fresh.maxInputAgeMs)
    ? `⚠️ Stale data: oldest input ${formatDuration(fresh.maxInputAgeMs)} old`
    : '⚠️ Stale data';
}

/**
 * `Funding spread 12.40% APR: binance highest, okx lowest`. A spread that rounds to 0.00%, or one
 * without both venues named (a tie names no winner), reads `equal on every venue`; null for a
 * snapshot without a spread (a venue's own view).
 */
export function formatFundingSpreadLine(snapshot: SnapshotJson): string | null {
  const spread = snapshot.fundingSpread as
    | { readonly aprPct?: unknown; readonly maxVenue?: unknown; readonly minVenue?: unknown }
    | null
    | undefined;
  if (!spread || !isNum(spread.aprPct)) return null;
  const apr = formatAprPct(Math.abs(spread.aprPct));
  const { maxVenue, minVenue } = spread;
  const named = typeof maxVenue === 'string' && typeof minVenue === 'string' && maxVenue !== minVenue;
  if (apr === '0.00%' || !named) return 'Funding spread 0.00% APR: equal on every venue';
  return `Funding spread ${apr} APR: ${escapeHtml(maxVenue)} highest, ${escapeHtml(minVenue)} lowest`;
}

/**
 * The `/market` view of one snapshot (a venue's, or the aggregate `all`) for one timeframe:
 * who is in control, momentum, activity, funding pressure, long/short, OI change with its split,
 * liquidations, freshness.
 */
export function formatMarketMessage(snapshot: SnapshotJson, tf: MarketTimeframe, nowMs: number): string {
  const where = isAggregate(snapshot) ? 'all venues' : escapeHtml(snapshot.venue);
  const lines: (string | null)[] = [header(`📊 ${escapeHtml(snapshot.symbol)} market · ${where}`)];
  for (const window of windowsOf(tf)) lines.push(formatControlLine(snapshot, window));
  lines.push(formatMomentumLine(snapshot, tf));
  if (snapshot.activity !== undefined) {
    lines.push(`Activity: ${snapshot.activity ? activityLabel(snapshot.activity) : '⏳ warming up'}`);
  }
  lines.push(marketFundingLine(snapshot, nowMs), formatAnnualCostLine(snapshot), formatHintLine(snapshot));
  lines.push(formatFundingSpreadLine(snapshot), formatLongShortLine(snapshot));
  lines.push(formatOiNow(snapshot));
  for (const window of windowsOf(tf)) {
    lines.push(...oiLinesOf(snapshot, window));
    const diverging = snapshot.divergence?.[window] ?? [];
    if (diverging.length > 0)
      lines.push(`↳ ${window} control differs on ${diverging.map(escapeHtml).join(', ')}`);
  }
  lines.push(...formatMarketLiqLines(snapshot, windowsOf(tf)));
  lines.push(`Mark ${formatPrice(snapshot.price?.mark)}`, freshnessLine(snapshot));
  const ageMs = nowMs - snapshot.ts;
  const age = isNum(ageMs) && ageMs >= 0 ? ` · updated ${formatDuration(ageMs)} ago` : '';
  const source =
    isAggregate(snapshot) && snapshot.venues && snapshot.venues.length > 0
      ? snapshot.venues.map(escapeHtml).join(', ')
      : escapeHtml(snapshot.instrument);
  lines.push(`<i>${source}${age}</i>`);
  return limitLength(lines.filter((l): l is string => l !== null).join('\n'));
}

// ── /top: the biggest OI movers ────────────────────────────────────────────────────────────────

export interface OiMover {
  readonly symbol: string;
  readonly pct: number;
  /** The change of the OI's USD value (positions and price). */
  readonly usd: number;
  readonly base: number;
  /** The value of `base` at the current mark; null when unknown. */
  readonly valueUsd: number | null;
  /** `all` (the cross-venue aggregate) or the one venue the symbol was ranked on. */
  readonly venue: string;
  /** The start of the window came from the venue's REST history. */
  readonly backfilled: boolean;
}

/**
 * What `/top` ranks for each symbol: its aggregate (`all`) where one exists, else its snapshot
 * on one venue (the one with the largest OI in USD when several answered without an aggregate:
 * a symbol listed on one venue, `VENUES` with one venue, or no aggregate published yet).
 * `aggregates` and each of `byVenue`'s lists are aligned with `symbols` (null = no snapshot).
 */
export function rankedSnapshots(
  symbols: readonly string[],
  aggregates: readonly (SnapshotJson | null)[],
  byVenue: readonly (readonly (SnapshotJson | null)[])[],
): SnapshotJson[] {
  const out: SnapshotJson[] = [];
  for (let i = 0; i < symbols.length; i++) {
    let best: SnapshotJson | null = aggregates[i] ?? null;
    for (const list of best === null ? byVenue : []) {
      const s = list[i];
      if (s && (best === null || (s.oi?.usd ?? -1) > (best.oi?.usd ?? -1))) best = s;
    }
    if (best !== null) out.push(best);
  }
  return out;
}

/**
 * The snapshots' OI changes over `window`, largest |pct| first (ties by symbol), at most `limit`.
 * Unknown deltas and deltas across a feed gap are left out: they are not a move we can vouch for.
 */
export function topOiMovers(snapshots: readonly SnapshotJson[], window: OiWindow, limit = 10): OiMover[] {
  const movers: OiMover[] = [];
  for (const s of snapshots) {
    const d = deltaOf(s, window);
    if (d === null || d.gap === true || !isNum(d.pct) || !isNum(d.usd) || !isNum(d.base)) continue;
    movers.push({
      symbol: s.symbol,
      pct: d.pct,
      usd: d.usd,
      base: d.base,
      valueUsd: positionValueUsd(d, s.price?.mark),
      venue: s.venue,
      backfilled: d.backfilled === true,
    });
  }
  movers.sort((a, b) => Math.abs(b.pct) - Math.abs(a.pct) || a.symbol.localeCompare(b.symbol));
  return movers.slice(0, Math.max(0, limit));
}

/** How many of the snapshots have a change over `window` that spans a feed gap. */
function gapCount(snapshots: readonly SnapshotJson[], window: OiWindow): number {
  return snapshots.filter((s) => deltaOf(s, window)?.gap === true).length;
}

/** `1. 🟢 SOL +5.00% · +1,000 SOL (+$150.0K) · OI value +$2.00M · binance · ≈ from venue history`. */
function moverRow(m: OiMover, rank: number): string {
  const value = m.valueUsd === null ? '' : ` (${formatSignedUsd(m.valueUsd)})`;
  const venue = m.venue === 'all' ? '' : ` · ${escapeHtml(m.venue)}`;
  const caveat = m.backfilled ? deltaCaveat({ base: m.base, usd: m.usd, pct: m.pct, backfilled: true }) : '';
  const symbol = escapeHtml(m.symbol);
  return `${rank}. ${changeDot(m.base)} <b>${symbol}</b> ${formatSignedPct(m.pct)} · ${formatSignedTokenAmount(m.base)} ${symbol}${value} · OI value ${formatSignedUsd(m.usd)}${venue}${caveat}`;
}

/**
 * Reply to `/top`: the top movers over 15m and over 24h (see `rankedSnapshots` for what is
 * ranked), a feed-gap note where changes were left out, or a warming-up note.
 */
export function formatTopMessage(snapshots: readonly SnapshotJson[], limit = 10): string {
  const sections: string[] = [];
  let any = false;
  for (const window of ['15m', '24h'] as const) {
    const movers = topOiMovers(snapshots, window, limit);
    const gapped = gapCount(snapshots, window);
    any ||= movers.length > 0 || gapped > 0;
    const rows = movers.map((m, i) => moverRow(m, i + 1));
    if (rows.length === 0) {
      rows.push(
        gapped > 0
          ? `⚠️ no ${window} change to vouch for: the feed missed data (${gapped} symbol${gapped === 1 ? '' : 's'})`
          : `⏳ warming up (needs ${window} of history)`,
      );
    } else if (gapped > 0) {
      rows.push(`⚠️ ${gapped} symbol${gapped === 1 ? '' : 's'} left out: feed gap`);
    }
    sections.push([`<b>${window}</b>`, ...rows].join('\n'));
  }
  if (!any) {
    return 'Top OI movers: ⏳ warming up. The 15m ranking needs 15 minutes of history; try again soon.';
  }
  const single = snapshots.some((s) => s.venue !== 'all');
  const note = single
    ? '<i>Ranked by OI change in percent: all venues combined, or the venue named</i>'
    : '<i>Ranked by OI change in percent, all venues combined</i>';
  return limitLength([header('Top OI movers'), ...sections, note].join('\n\n'));
}
