/**
 * Message text for Telegram's HTML parse mode. Every dynamic value goes through `escapeHtml`;
 * markup is only ever our own `<b>`/`<i>`/`<code>` around escaped text.
 * https://core.telegram.org/bots/api#html-style
 */
import type { AlertJson, DeltaJson, SnapshotJson } from '../domain/types.js';
import {
  formatAmount,
  formatDuration,
  formatSignedAmount,
  formatSignedPct,
  formatUsd,
} from '../domain/units.js';

/** Telegram rejects longer texts; we stay well below to leave room for entities. */
export const MAX_MESSAGE_CHARS = 4000;

export type OiWindow = '15m' | '24h';

/** Escapes the three characters HTML mode treats specially outside tags (and `"` for attributes). */
export function escapeHtml(value: unknown): string {
  return String(value)
    .replace(/&/g, '&amp;')
    .replace(/</g, '&lt;')
    .replace(/>/g, '&gt;')
    .replace(/"/g, '&quot;');
}

const isNum = (v: unknown): v is number => typeof v === 'number' && Number.isFinite(v);

/** 🟢 growth, 🔴 decline, ⚪ flat or unknown. */
export function changeDot(deltaBase: number | null | undefined): string {
  if (!isNum(deltaBase) || deltaBase === 0) return '⚪';
  return deltaBase > 0 ? '🟢' : '🔴';
}

/** `🟢 +2,500 BTC ($213.0M) · +5.00% in 15m` from one delta. */
export function formatDeltaLine(symbol: string, delta: DeltaJson | null, windowLabel: string): string {
  const label = escapeHtml(windowLabel);
  if (delta === null || delta === undefined) return `⏳ ${label}: warming up (needs ${label} of history)`;
  const base = isNum(delta.base) ? formatSignedAmount(delta.base) : 'n/a';
  const usd = isNum(delta.usd) ? ` (${formatUsd(delta.usd)})` : '';
  const pct = isNum(delta.pct) ? formatSignedPct(delta.pct) : 'n/a';
  return `${changeDot(delta.base)} ${base} ${escapeHtml(symbol)}${usd} · ${pct} in ${label}`;
}

/** The OI change over one window, or a warming-up note when the window has no history yet. */
export function formatOiLine(snapshot: SnapshotJson, window: OiWindow): string {
  const delta = window === '15m' ? snapshot.oi?.delta15m : snapshot.oi?.delta24h;
  return formatDeltaLine(snapshot.symbol, delta ?? null, window);
}

/** `10.95%`: APR is shown unsigned when positive, as in the funding line contract. */
function formatAprPct(aprPct: number): string {
  const fixed = aprPct.toFixed(2);
  return Number(fixed) === 0 ? '0.00%' : `${fixed}%`;
}

/** `Funding +0.0100% / 8h · 10.95% APR · longs pay shorts · reset in 3h 12m`. */
export function formatFundingLine(snapshot: SnapshotJson, nowMs: number): string {
  const f = snapshot.funding;
  if (!f || !isNum(f.rate)) return 'Funding n/a';
  const parts = [
    `Funding ${formatSignedPct(f.rate * 100, 4)}${isNum(f.intervalHours) ? ` / ${f.intervalHours}h` : ''}`,
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

function formatPrice(value: number | null | undefined): string {
  return isNum(value) ? `$${formatAmount(value)}` : 'n/a';
}

function header(title: string): string {
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
  return `OI ${formatAmount(base)} ${escapeHtml(snapshot.symbol)}${isNum(usd) ? ` (${formatUsd(usd)})` : ''}`;
}

/** Reply to `/oi`: OI now, its 15m and 24h changes, mark price. */
export function formatOiMessage(snapshot: SnapshotJson, nowMs: number): string {
  return limitLength(
    [
      header(`${escapeHtml(snapshot.symbol)} open interest · ${escapeHtml(snapshot.venue)}`),
      formatOiNow(snapshot),
      formatOiLine(snapshot, '15m'),
      formatOiLine(snapshot, '24h'),
      `Mark ${formatPrice(snapshot.price?.mark)}`,
      footer(snapshot, nowMs),
    ].join('\n'),
  );
}

/** Reply to `/funding`: the funding line, hourly rate and mark price. */
export function formatFundingMessage(snapshot: SnapshotJson, nowMs: number): string {
  const hourly = snapshot.funding?.hourly;
  const lines = [
    header(`${escapeHtml(snapshot.symbol)} funding · ${escapeHtml(snapshot.venue)}`),
    formatFundingLine(snapshot, nowMs),
  ];
  if (isNum(hourly)) lines.push(`Hourly ${formatSignedPct(hourly * 100, 4)}`);
  lines.push(`Mark ${formatPrice(snapshot.price?.mark)}`, footer(snapshot, nowMs));
  return limitLength(lines.join('\n'));
}

/** An alert: bold header, the triggering OI change, funding, mark price. */
export function formatAlertMessage(alert: AlertJson, nowMs: number): string {
  const s = alert.snapshot;
  const kind = isNum(alert.delta?.pct) && alert.delta.pct < 0 ? 'OI drop' : 'OI surge';
  const windowLabel = isNum(alert.windowMs) && alert.windowMs > 0 ? formatDuration(alert.windowMs) : '15m';
  return limitLength(
    [
      header(`🚨 ${escapeHtml(alert.symbol)} ${kind} · ${escapeHtml(alert.venue)}`),
      formatDeltaLine(alert.symbol, alert.delta ?? s.oi?.delta15m ?? null, windowLabel),
      formatFundingLine(s, nowMs),
      `Mark ${formatPrice(s.price?.mark)}`,
    ].join('\n'),
  );
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
