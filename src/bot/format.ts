/**
 * Message text for Telegram's HTML parse mode. Every dynamic value goes through `escapeHtml`;
 * markup is only ever our own `<b>`/`<i>`/`<code>` around escaped text.
 * https://core.telegram.org/bots/api#html-style
 */
import type { FeedHealthJson } from '../bus/types.js';
import type { DeltaJson, FundingPressure, SnapshotJson } from '../domain/types.js';
import {
  formatAmount,
  formatAprPct,
  formatDuration,
  formatSignedRatePct,
  formatTokenAmount,
  formatUsd,
  formatUsdAmount,
} from '../domain/units.js';
import { escapeHtml, formatDeltaLine, formatDeltaLines } from './format-delta.js';

export {
  changeDot,
  deltaCaveat,
  escapeHtml,
  formatDeltaLine,
  formatDeltaLines,
  formatDeltaValueLine,
} from './format-delta.js';

/** Telegram rejects longer texts; we stay well below to leave room for entities. */
export const MAX_MESSAGE_CHARS = 4000;

export type OiWindow = '15m' | '24h';

const isNum = (v: unknown): v is number => typeof v === 'number' && Number.isFinite(v);

/** The OI change over one window (tokens with their value at the mark), or a warming-up note. */
export function formatOiLine(snapshot: SnapshotJson, window: OiWindow): string {
  return formatDeltaLine(snapshot.symbol, deltaOf(snapshot, window), window, snapshot.price?.mark);
}

export function deltaOf(snapshot: SnapshotJson, window: OiWindow): DeltaJson | null {
  return (window === '15m' ? snapshot.oi?.delta15m : snapshot.oi?.delta24h) ?? null;
}

/** The OI line of a window followed by the change of the OI's USD value, with its causes. */
export function oiLinesOf(snapshot: SnapshotJson, window: OiWindow): string[] {
  return formatDeltaLines(snapshot.symbol, deltaOf(snapshot, window), window, snapshot.price?.mark);
}

/** `Funding +0.0100% / 8h · 10.95% APR · longs pay shorts · reset in 3h 12m`. */
export function formatFundingLine(snapshot: SnapshotJson, nowMs: number): string {
  const f = snapshot.funding;
  if (f && !isNum(f.rate) && isNum(f.aprPct)) {
    // The cross-venue view has no single rate or reset time: its APR is OI-weighted.
    const payer = f.aprPct > 0 ? 'longs pay shorts' : f.aprPct < 0 ? 'shorts pay longs' : 'nobody pays';
    return `Funding ${formatAprPct(f.aprPct)} APR (OI-weighted) · ${payer}`;
  }
  if (!f || !isNum(f.rate)) return 'Funding n/a';
  const parts = [
    `Funding ${formatSignedRatePct(f.rate)}${isNum(f.intervalHours) ? ` / ${f.intervalHours}h` : ''}`,
  ];
  const aprPct = isNum(f.aprPct)
    ? f.aprPct
    : isNum(f.intervalHours) && f.intervalHours > 0
      ? f.rate * (24 / f.intervalHours) * 365 * 100
      : null;
  if (aprPct !== null) parts.push(`${formatAprPct(aprPct)} APR`);
  parts.push(f.rate > 0 ? 'longs pay shorts' : f.rate < 0 ? 'shorts pay longs' : 'nobody pays');
  if (isNum(f.nextFundingTime)) {
    const leftMs = f.nextFundingTime - nowMs;
    parts.push(leftMs > 0 ? `reset in ${formatDuration(leftMs)}` : 'reset due now');
  }
  return parts.join(' · ');
}

/** The snapshot's APR, or one derived from rate and interval; null when unknown. */
export function aprPctOf(snapshot: SnapshotJson): number | null {
  const f = snapshot.funding;
  if (!f) return null;
  if (isNum(f.aprPct)) return f.aprPct;
  if (isNum(f.hourly)) return f.hourly * 24 * 365 * 100;
  if (isNum(f.rate) && isNum(f.intervalHours) && f.intervalHours > 0) {
    return f.rate * (24 / f.intervalHours) * 365 * 100;
  }
  return null;
}

const PAYER_WORDS = { longs: 'longs pay shorts', shorts: 'shorts pay longs', none: 'nobody pays' } as const;

export function payerWords(snapshot: SnapshotJson, aprPct: number | null): string | null {
  const payer = snapshot.funding?.payer;
  if (payer === 'longs' || payer === 'shorts' || payer === 'none') return PAYER_WORDS[payer];
  if (aprPct === null) return null;
  return aprPct > 0 ? PAYER_WORDS.longs : aprPct < 0 ? PAYER_WORDS.shorts : PAYER_WORDS.none;
}

const PRESSURE_LABELS: Readonly<Record<FundingPressure, string>> = {
  neutral: 'neutral',
  elevated: 'elevated',
  high: 'high ⚠️',
  extreme: 'extreme 🔥',
};

/** `neutral`, `elevated`, `high ⚠️`, `extreme 🔥`. */
export function pressureLabel(pressure: FundingPressure): string {
  return PRESSURE_LABELS[pressure] ?? escapeHtml(pressure);
}

/**
 * `A $10,000 long pays $1,095 a year`: the snapshot's `annualCostUsdPer10kLong`, else the same
 * figure from the APR (10,000 × APR). Null when neither is known.
 */
export function formatAnnualCostLine(snapshot: SnapshotJson): string | null {
  const given = snapshot.funding?.annualCostUsdPer10kLong;
  const aprPct = aprPctOf(snapshot);
  const costUsd = isNum(given) ? given : aprPct === null ? null : (10_000 * aprPct) / 100;
  if (costUsd === null) return null;
  const amount = formatUsdAmount(Math.abs(costUsd));
  if (amount === '$0' || amount === '$0.00') return 'A $10,000 long pays nothing at this rate';
  return costUsd > 0
    ? `A $10,000 long pays ${amount} a year (shorts earn it)`
    : `A $10,000 long earns ${amount} a year (shorts pay it)`;
}

/** `Pressure: high ⚠️ · at the venue's cap`, from the snapshot's analytics; null without them. */
export function formatPressureLine(snapshot: SnapshotJson): string | null {
  const { pressure, atBound } = snapshot.funding ?? {};
  const parts: string[] = [];
  if (pressure) parts.push(`Pressure: ${pressureLabel(pressure)}`);
  if (atBound === 'cap') parts.push("at the venue's cap");
  if (atBound === 'floor') parts.push("at the venue's floor");
  return parts.length === 0 ? null : parts.join(' · ');
}

/** `💡 …`: the analytics' one-line strategy hint, escaped; null without one. */
export function formatHintLine(snapshot: SnapshotJson): string | null {
  const hint = snapshot.funding?.hint;
  return typeof hint === 'string' && hint.trim() !== '' ? `💡 ${escapeHtml(hint.trim())}` : null;
}

export function formatPrice(value: number | null | undefined): string {
  return isNum(value) ? `$${formatAmount(value)}` : 'n/a';
}

export function header(title: string): string {
  return `<b>${title}</b>`;
}

function footer(snapshot: SnapshotJson, nowMs: number): string {
  const ageMs = nowMs - snapshot.ts;
  const age = isNum(ageMs) && ageMs >= 0 ? ` · updated ${formatDuration(ageMs)} ago` : '';
  return `<i>${escapeHtml(snapshot.instrument)}${age}</i>`;
}

/** `OI 52,000 BTC ($4.43B)`. */
export function formatOiNow(snapshot: SnapshotJson): string {
  const { base, usd } = snapshot.oi ?? { base: null, usd: null };
  if (!isNum(base)) return isNum(usd) ? `OI ${formatUsd(usd)}` : 'OI n/a';
  return `OI ${formatTokenAmount(base)} ${escapeHtml(snapshot.symbol)}${isNum(usd) ? ` (${formatUsd(usd)})` : ''}`;
}

/** Reply to `/oi`: OI now, its 15m and 24h changes (with positions vs price effect), mark price. */
export function formatOiMessage(snapshot: SnapshotJson, nowMs: number): string {
  return limitLength(
    [
      header(`${escapeHtml(snapshot.symbol)} open interest · ${escapeHtml(snapshot.venue)}`),
      formatOiNow(snapshot),
      ...oiLinesOf(snapshot, '15m'),
      ...oiLinesOf(snapshot, '24h'),
      `Mark ${formatPrice(snapshot.price?.mark)}`,
      footer(snapshot, nowMs),
    ].join('\n'),
  );
}

/**
 * Reply to `/funding`: rate, APR, who pays, reset countdown; hourly and 8h-equivalent rates;
 * pressure level; the annual cost of a $10,000 long; the strategy hint; mark price.
 */
export function formatFundingMessage(snapshot: SnapshotJson, nowMs: number): string {
  const f = snapshot.funding;
  const lines = [
    header(`${escapeHtml(snapshot.symbol)} funding · ${escapeHtml(snapshot.venue)}`),
    formatFundingLine(snapshot, nowMs),
  ];
  if (isNum(f?.hourly)) lines.push(`Hourly ${formatSignedRatePct(f.hourly)}`);
  if (isNum(f?.rate8h) && f.intervalHours !== 8) lines.push(`Per 8h ${formatSignedRatePct(f.rate8h)}`);
  for (const line of [
    formatPressureLine(snapshot),
    formatAnnualCostLine(snapshot),
    formatHintLine(snapshot),
  ]) {
    if (line !== null) lines.push(line);
  }
  lines.push(`Mark ${formatPrice(snapshot.price?.mark)}`, footer(snapshot, nowMs));
  return limitLength(lines.join('\n'));
}

/** `BTC, ETH, SOL … and 12 more`: long lists are cut so a reply never nears the limit. */
export function formatSymbolList(symbols: readonly string[], max = 40): string {
  const shown = symbols.slice(0, max).map(escapeHtml).join(', ');
  return symbols.length > max ? `${shown} … and ${symbols.length - max} more` : shown;
}

/**
 * Cuts at a line boundary so no tag is split (each line closes its own tags).
 * Our messages are far shorter; this guards against a hostile or huge value.
 */
export function limitLength(html: string, maxChars = MAX_MESSAGE_CHARS): string {
  if (html.length <= maxChars) return html;
  const cut = html.lastIndexOf('\n', maxChars - 2);
  return cut > 0 ? `${html.slice(0, cut)}\n…` : 'This message was too long to show.';
}

// ── /status: feed freshness ────────────────────────────────────────────────────────────────────

export interface StatusInput {
  /** Every process's feed health (`bus.feedStatus()`). */
  readonly statuses: readonly FeedHealthJson[];
  /** Venues the bot expects; one without a status is listed as not reporting. */
  readonly venues?: readonly string[];
  /** Per venue, the `ts` of its newest snapshot (null: none). */
  readonly newestSnapshotTs?: Readonly<Record<string, number | null>>;
}

/** Stale when the processor says so, or its last data (wall clock) is older than its own bound. */
export function isFeedStale(status: FeedHealthJson, nowMs: number): boolean {
  if (!status.ok || !isNum(status.lastDataTs)) return true;
  return nowMs - status.lastDataTs > status.staleAfterMs;
}

function ago(tsMs: number, nowMs: number): string {
  return `${formatDuration(Math.max(0, nowMs - tsMs))} ago`;
}

/** Reply to `/status`: per venue (and shard) ✅/⚠️, data age, connections, instruments, newest snapshot. */
export function formatStatusMessage(input: StatusInput, nowMs: number): string {
  const newest = input.newestSnapshotTs ?? {};
  const lines: string[] = [header('Feed status')];
  if (input.statuses.length === 0) {
    lines.push('⚠️ No feed status: the processor is not running or not reachable.');
  }
  for (const s of input.statuses) {
    const stale = isFeedStale(s, nowMs);
    const shard = s.shard === 'all' ? '' : ` (shard ${escapeHtml(s.shard)})`;
    const data = isNum(s.lastDataTs) ? `data ${ago(s.lastDataTs, nowMs)}` : 'no data yet';
    const parts = [
      `${stale ? '⚠️' : '✅'} <b>${escapeHtml(s.venue)}</b>${shard}`,
      data,
      `${formatAmount(s.open)}/${formatAmount(s.connections)} connections`,
      `${formatAmount(s.instruments)} instruments`,
    ];
    if (stale) parts.push('stale');
    lines.push(parts.join(' · '));
  }
  const reported = new Set(input.statuses.map((s) => s.venue));
  for (const venue of input.venues ?? []) {
    if (!reported.has(venue)) lines.push(`❔ <b>${escapeHtml(venue)}</b> · no status reported`);
  }
  const newestEntries = Object.entries(newest).sort((a, b) => a[0].localeCompare(b[0]));
  if (newestEntries.some(([, ts]) => isNum(ts))) {
    const snapshots = newestEntries.map(
      ([venue, ts]) => `${escapeHtml(venue)} ${isNum(ts) ? ago(ts, nowMs) : 'none'}`,
    );
    lines.push(`Newest snapshot: ${snapshots.join(' · ')}`);
  } else {
    lines.push('Newest snapshot: none yet');
  }
  return limitLength(lines.join('\n'));
}
