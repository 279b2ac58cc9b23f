/**
 * Liquidations and long/short figures for Telegram's HTML parse mode: the `/liq` view, the
 * `/market` lines, the forced share next to an OI change or a control state. The words are the
 * alerts' own (`alert-liq-text.ts`), escaped here. A sampled feed or a window counted from after
 * its start reads "at least"; a venue without a public feed reads so, never as zero.
 */
import {
  atLeast,
  cascadeMeaning,
  coverageParts,
  hasNoFeed,
  isLowerBound,
  NO_FEED_WORDS,
  sharePctText,
  snapshotForcedShare,
  venueName,
} from '../analytics/alert-liq-text.js';
import type {
  AlertJson,
  ControlState,
  LiquidationsJson,
  LiquidationWindowJson,
  SnapshotJson,
} from '../domain/types.js';
import { formatAmount, formatTokenAmount, formatUsd } from '../domain/units.js';
import { limitLength } from './format.js';
import { escapeHtml } from './format-delta.js';

export type LiqWindow = '15m' | '24h';

const isNum = (v: unknown): v is number => typeof v === 'number' && Number.isFinite(v);

/** Control states that close positions: where liquidations can explain the move. */
const CLOSING: ReadonlySet<string> = new Set<ControlState>(['short_covering', 'long_unwinding']);

/** ` · 62% forced (short liquidations $24.1M)` after a closing control state or an OI fall; else empty. */
export function forcedShareSuffix(snapshot: SnapshotJson | undefined, window: LiqWindow): string {
  if (!snapshot) return '';
  const text = snapshotForcedShare(snapshot, window);
  return text === null ? '' : ` · ${escapeHtml(text)}`;
}

/** `forcedShareSuffix` only when `control` closes positions (short covering, long unwinding). */
export function controlForcedSuffix(
  snapshot: SnapshotJson | undefined,
  window: LiqWindow,
  control: string | null | undefined,
): string {
  return typeof control === 'string' && CLOSING.has(control) ? forcedShareSuffix(snapshot, window) : '';
}

/** `$42.1M (842 BTC)`: USD with the base amount in parentheses, like the OI display. */
function usdWithBase(usd: number, base: number, symbol: string): string {
  const tokens = isNum(base) ? ` (${formatTokenAmount(base)} ${escapeHtml(symbol)})` : '';
  return `${formatUsd(usd)}${tokens}`;
}

/** `longs $1.20M (24 BTC) · shorts $42.1M (842 BTC) · 37 liquidations · 62% forced`. */
function windowFigures(
  w: LiquidationWindowJson,
  symbol: string,
  liq: LiquidationsJson,
  withBase: boolean,
): string {
  const bound = atLeast(isLowerBound(liq, w));
  const side = (usd: number, base: number) => (withBase ? usdWithBase(usd, base, symbol) : formatUsd(usd));
  const parts = [
    `longs ${bound}${side(w.longUsd, w.longBase)}`,
    `shorts ${bound}${side(w.shortUsd, w.shortBase)}`,
  ];
  if (withBase && isNum(w.count))
    parts.push(`${formatAmount(w.count)} liquidation${w.count === 1 ? '' : 's'}`);
  if (isNum(w.oiShare) && w.oiShare >= 0.1)
    parts.push(`${w.oiShare >= 1 ? '' : bound}${sharePctText(w.oiShare)} of the OI fall forced`);
  if (w.partial) parts.push('partial: counting began inside the window');
  return parts.join(' · ');
}

/** `Liquidations 15m: longs $1.20M · shorts at least $42.1M …`, or the no-feed line; null when unknown. */
export function formatLiqLine(snapshot: SnapshotJson, window: LiqWindow): string | null {
  const liq = snapshot.liquidations;
  if (liq == null) return null;
  return `Liquidations ${window}: ${windowFigures(liq[window], snapshot.symbol, liq, false)}`;
}

/** The `/market` liquidation lines for the windows shown: coverage, then one line per window. */
export function formatMarketLiqLines(snapshot: SnapshotJson, windows: readonly LiqWindow[]): string[] {
  const liq = snapshot.liquidations;
  if (liq == null) {
    if (!hasNoFeed(snapshot)) return [];
    return [`Liquidations: ${escapeHtml(NO_FEED_WORDS)}`];
  }
  const lines = windows.map((w) => formatLiqLine(snapshot, w)).filter((l): l is string => l !== null);
  lines.push(`<i>Liquidation feeds: ${coverageParts(snapshot, liq).map(escapeHtml).join(' · ')}</i>`);
  return lines;
}

/** Bucket ages up to this read as current (a 5-minute bucket, published after it closes, polled every 5–10 min). */
const LONG_SHORT_SHOWN_AS_CURRENT_MS = 20 * 60_000;

/** `40m`, `2h 5m`. */
function formatAge(ms: number): string {
  const min = Math.round(ms / 60_000);
  return min < 60 ? `${min}m` : `${Math.floor(min / 60)}h${min % 60 ? ` ${min % 60}m` : ''}`;
}

/**
 * `Long/short: 74% of accounts long · top traders 61% long`, with `· as of 40m ago` when the
 * bucket is older than 20 minutes at the snapshot's time; null without the statistics.
 */
export function formatLongShortLine(snapshot: SnapshotJson): string | null {
  const ls = snapshot.longShort;
  if (!ls) return null;
  const parts: string[] = [];
  if (isNum(ls.accountsLongPct)) parts.push(`${ls.accountsLongPct.toFixed(0)}% of accounts long`);
  if (isNum(ls.topTradersLongPct)) parts.push(`top traders ${ls.topTradersLongPct.toFixed(0)}% long`);
  if (parts.length === 0) return null;
  // A bucket is published after it closes (5 min); an older one is said to be old, never passed off as now.
  const ageMs = isNum(snapshot.ts) && isNum(ls.ts) ? snapshot.ts - ls.ts : 0;
  if (ageMs > LONG_SHORT_SHOWN_AS_CURRENT_MS) parts.push(`as of ${formatAge(ageMs)} ago`);
  return `Long/short: ${parts.join(' · ')}`;
}

/** One venue's (or the aggregate's) block of `/liq`. */
function liqBlock(snapshot: SnapshotJson): string[] {
  const where = snapshot.venue === 'all' ? 'all venues' : escapeHtml(venueName(snapshot.venue));
  const liq = snapshot.liquidations;
  if (liq == null) {
    return hasNoFeed(snapshot)
      ? [`<b>${where}</b>: ${escapeHtml(NO_FEED_WORDS)}`]
      : [`<b>${where}</b>: ⏳ no liquidation data yet`];
  }
  let coverage: string[];
  if (snapshot.venue === 'all') {
    coverage = coverageParts(snapshot, liq).map(escapeHtml);
    if (liq.coverage === 'sampled') coverage[0] = `${coverage[0]}: at least`;
  } else {
    coverage = [liq.coverage === 'sampled' ? 'sampled: at least' : 'complete'];
  }
  const lines = [`<b>${where}</b> · ${coverage.join(' · ')}`];
  for (const window of ['15m', '24h'] as const) {
    lines.push(`${window}: ${windowFigures(liq[window], snapshot.symbol, liq, true)}`);
  }
  return lines;
}

/**
 * Reply to `/liq SYMBOL`: the aggregate first (when there is one), then each venue, each with 15m
 * and 24h liquidations by side (USD and base), the count, the forced share of an OI fall and the
 * feed's coverage; a venue without a public feed says so.
 */
export function formatLiqMessage(symbol: string, snapshots: readonly SnapshotJson[]): string {
  const ordered = [...snapshots].sort((a, b) => Number(b.venue === 'all') - Number(a.venue === 'all'));
  const blocks = ordered.map((s) => liqBlock(s).join('\n'));
  const ls = ordered.map((s) => ({ s, line: formatLongShortLine(s) })).filter((x) => x.line !== null);
  const lsLines = ls.map(
    ({ s, line }) =>
      `${s.venue === 'all' ? 'all venues' : escapeHtml(venueName(s.venue))}: ${line!.replace(/^Long\/short: /, '')}`,
  );
  const parts = [`<b>💥 ${escapeHtml(symbol)} liquidations</b>`, ...blocks];
  if (lsLines.length > 0) parts.push(['<b>Long/short</b>', ...lsLines].join('\n'));
  return limitLength(parts.join('\n\n'));
}

// ── the liquidation_cascade alert ──────────────────────────────────────────────────────────────

function num(alert: AlertJson, name: string): number | null {
  const v = alert.figures?.[name];
  return isNum(v) ? v : null;
}

/** The alert's side and its USD, from its figures (else its snapshot's 15m window); null when unknown. */
function cascadeOf(alert: AlertJson): { side: 'longs' | 'shorts'; usd: number; lowerBound: boolean } | null {
  const side = alert.figures?.side;
  if (side !== 'longs' && side !== 'shorts') return null;
  const w = alert.snapshot?.liquidations?.['15m'];
  const usd = num(alert, 'sideUsd') ?? (w ? (side === 'longs' ? w.longUsd : w.shortUsd) : null);
  if (usd === null || !isNum(usd)) return null;
  const given = alert.figures?.lowerBound;
  const lowerBound =
    typeof given === 'boolean'
      ? given
      : alert.figures?.coverage !== 'complete' || alert.figures?.partial === true;
  return { side, usd, lowerBound };
}

/** `at least $42.1M shorts in 15m (0.90% of OI)`: a merged message's one line. */
export function cascadeSummary(alert: AlertJson): string {
  const c = cascadeOf(alert);
  if (c === null) return escapeHtml(alert.text ?? '');
  const pct = num(alert, 'pctOfOi');
  return `${atLeast(c.lowerBound)}${formatUsd(c.usd)} ${c.side} in 15m${pct === null ? '' : ` (${pct.toFixed(2)}% of OI)`}`;
}

/**
 * What a cascade alert shows: the side's sum (and its share of OI, and what it does to the
 * price), both sides with their base amounts and the count, then the feeds it was counted from.
 */
export function cascadeLines(alert: AlertJson): string[] {
  const c = cascadeOf(alert);
  if (c === null) return [escapeHtml(alert.text ?? '')];
  const pct = num(alert, 'pctOfOi');
  const head = [`💥 ${atLeast(c.lowerBound)}${formatUsd(c.usd)} of ${c.side} liquidated in 15m`];
  if (pct !== null) head.push(`${pct.toFixed(2)}% of OI`);
  head.push(cascadeMeaning(c.side));
  const lines = [head.join(' · ')];
  const longUsd = num(alert, 'longUsd');
  const shortUsd = num(alert, 'shortUsd');
  if (longUsd !== null && shortUsd !== null) {
    const longBase = num(alert, 'longBase');
    const shortBase = num(alert, 'shortBase');
    const bound = atLeast(c.lowerBound);
    const both = [
      `Longs ${bound}${longBase === null ? formatUsd(longUsd) : usdWithBase(longUsd, longBase, alert.symbol)}`,
      `shorts ${bound}${shortBase === null ? formatUsd(shortUsd) : usdWithBase(shortUsd, shortBase, alert.symbol)}`,
    ];
    const count = num(alert, 'count');
    if (count !== null) both.push(`${formatAmount(count)} liquidation${count === 1 ? '' : 's'}`);
    lines.push(both.join(' · '));
  }
  const last = num(alert, 'lastAlertUsd');
  if (alert.escalated === true && last !== null && last > 0) {
    lines.push(`⏫ ${(c.usd / last).toFixed(1)}× the last alert (${formatUsd(last)})`);
  }
  const liq = alert.snapshot?.liquidations;
  const feeds = liq ? coverageParts(alert.snapshot, liq) : [];
  if (feeds.length === 0 && typeof alert.figures?.coverage === 'string') feeds.push(alert.figures.coverage);
  if (alert.figures?.partial === true || liq?.['15m']?.partial === true)
    feeds.push('counting began inside the window');
  if (feeds.length > 0) lines.push(`<i>${feeds.map(escapeHtml).join(' · ')}</i>`);
  return lines;
}
