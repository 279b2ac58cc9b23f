/**
 * Alert messages for Telegram's HTML parse mode, one layout per alert kind, a compact form for a
 * burst merged into one message, the mute keyboard, and splitting below the length limit.
 * Every dynamic value goes through `escapeHtml` (alert JSON comes from Redis: never trust it).
 * https://core.telegram.org/bots/api#html-style, https://core.telegram.org/bots/api#sendmessage
 */
import type { InlineKeyboardMarkup } from 'grammy/types';
import type { AlertJson, ControlState, DeltaJson } from '../domain/types.js';
import {
  formatAmount,
  formatDuration,
  formatSignedPct,
  formatSignedRatePct,
  formatUsd,
} from '../domain/units.js';
import { THRESHOLD_FIGURES } from './chat-policy.js';
import { formatFundingLine, MAX_MESSAGE_CHARS } from './format.js';
import { changeDot, escapeHtml, formatCompactDelta, formatDeltaLines } from './format-delta.js';
import { cascadeLines, cascadeSummary, controlForcedSuffix, forcedShareSuffix } from './format-liq.js';

const isNum = (v: unknown): v is number => typeof v === 'number' && Number.isFinite(v);
const HOUR_MS = 3_600_000;

/** A figure of the alert by name, or `fallback` when absent or of another type. */
function figureNum(alert: AlertJson, name: string, fallback?: number | null): number | null {
  const v = alert.figures?.[name];
  return isNum(v) ? v : isNum(fallback) ? fallback : null;
}
function figureStr(alert: AlertJson, name: string, fallback?: string | null): string | null {
  const v = alert.figures?.[name];
  return typeof v === 'string' && v !== '' ? v : typeof fallback === 'string' ? fallback : null;
}

/** `15m`, `24h`, `1h 30m`. */
function windowLabel(windowMs: number | null | undefined, fallback: string): string {
  if (!isNum(windowMs) || windowMs <= 0) return fallback;
  if (windowMs % HOUR_MS === 0 && windowMs <= 48 * HOUR_MS) return `${windowMs / HOUR_MS}h`;
  return formatDuration(windowMs);
}

const hours = (v: number | null) => (v === null ? '?' : `${formatAmount(v)}h`);

const CONTROL_LABEL: Readonly<Record<ControlState, string>> = {
  longs_opening: 'longs opening',
  shorts_opening: 'shorts opening',
  short_covering: 'short covering',
  long_unwinding: 'long unwinding',
  neutral: 'neutral',
};
const controlLabel = (c: string | null) =>
  c === null ? '?' : escapeHtml(CONTROL_LABEL[c as ControlState] ?? c.replace(/_/g, ' '));

const SEVERITY_MARK = { critical: '🚨', warning: '⚠️', info: '🔔' } as const;
const severityMark = (alert: AlertJson) => SEVERITY_MARK[alert.severity ?? 'critical'] ?? '🚨';
const venueLabel = (venue: string) => (venue === 'all' ? 'all venues' : escapeHtml(venue));

/** The OI change an OI rule fired on: the alert's delta, else the snapshot's for that window. */
function oiDelta(alert: AlertJson): DeltaJson | null {
  if (alert.delta) return alert.delta;
  const oi = alert.snapshot?.oi;
  return (alert.kind === 'oi_change_24h' ? oi?.delta24h : oi?.delta15m) ?? null;
}
const oiWindow = (alert: AlertJson) =>
  windowLabel(alert.windowMs, alert.kind === 'oi_change_24h' ? '24h' : '15m');

interface KindLayout {
  /** Header words after the symbol, escaped. */
  title(alert: AlertJson): string;
  /** The lines that say what fired, escaped. */
  main(alert: AlertJson, nowMs: number): string[];
  /** The key figure for a merged message's one line, escaped. */
  compact(alert: AlertJson): string;
}

const oiLayout: KindLayout = {
  title(alert) {
    const pct = oiDelta(alert)?.pct;
    const what = isNum(pct) && pct < 0 ? 'OI drop' : 'OI surge';
    return alert.kind === 'oi_change_24h' ? `24h ${what}` : what;
  },
  main(alert) {
    const lines = formatDeltaLines(
      alert.symbol,
      oiDelta(alert),
      oiWindow(alert),
      alert.snapshot?.price?.mark,
    );
    const forced = forcedShareSuffix(alert.snapshot, alert.kind === 'oi_change_24h' ? '24h' : '15m');
    if (forced !== '') lines.push(`↳${forced.slice(2)}`);
    return lines;
  },
  compact(alert) {
    const d = oiDelta(alert);
    if (!d) return 'OI change n/a';
    return `${changeDot(d.base)} ${formatCompactDelta(alert.symbol, d, oiWindow(alert), alert.snapshot?.price?.mark)}`;
  },
};

function pressureOf(alert: AlertJson): string {
  return figureStr(alert, 'pressure', alert.snapshot?.funding?.pressure) ?? 'high';
}
function aprOf(alert: AlertJson): string {
  const aprPct = figureNum(alert, 'aprPct', alert.snapshot?.funding?.aprPct);
  return aprPct === null ? 'APR n/a' : `${aprPct.toFixed(2)}% APR`;
}
function boundOf(alert: AlertJson): string {
  return figureStr(alert, 'atBound', alert.snapshot?.funding?.atBound) ?? 'bound';
}
function ratePer(alert: AlertJson): string {
  const f = alert.snapshot?.funding;
  if (!f || !isNum(f.rate)) return 'rate n/a';
  return `${formatSignedRatePct(f.rate)}${isNum(f.intervalHours) ? ` / ${f.intervalHours}h` : ''}`;
}
function intervalChange(alert: AlertJson): string {
  const after = figureNum(alert, 'intervalHoursAfter', alert.snapshot?.funding?.intervalHours);
  const before = figureNum(alert, 'intervalHoursBefore');
  return before === null ? `interval now ${hours(after)}` : `interval ${hours(before)} → ${hours(after)}`;
}
function controlChange(alert: AlertJson): string {
  const now = figureStr(alert, 'control', alert.snapshot?.control?.['15m']);
  const before = figureStr(alert, 'previousControl');
  const change = before === null ? controlLabel(now) : `${controlLabel(before)} → ${controlLabel(now)}`;
  return change + controlForcedSuffix(alert.snapshot, '15m', now);
}
function momentumFigures(alert: AlertJson): string {
  const m = alert.snapshot?.momentum;
  const accel = figureNum(alert, 'oiAccel', m?.oiAccel);
  const pricePct = figureNum(alert, 'priceChange15mPct', m?.priceChange15mPct);
  const parts = [accel === null ? 'OI pace n/a' : `OI pace ${accel.toFixed(1)}× usual`];
  if (pricePct !== null) parts.push(`price ${formatSignedPct(pricePct)} in 15m`);
  return parts.join(' · ');
}

const LAYOUTS: Readonly<Record<string, KindLayout>> = {
  oi_change_15m: oiLayout,
  oi_change_24h: oiLayout,
  funding_pressure: {
    title: (a) => `funding pressure ${escapeHtml(pressureOf(a))}`,
    main(a) {
      const previous = figureStr(a, 'previousPressure');
      const lines = previous ? [`Pressure ${escapeHtml(previous)} → ${escapeHtml(pressureOf(a))}`] : [];
      const costUsd = a.snapshot?.funding?.annualCostUsdPer10kLong;
      if (isNum(costUsd)) {
        lines.push(`A $10k long ${costUsd >= 0 ? 'pays' : 'earns'} ~${formatUsd(Math.abs(costUsd))} a year`);
      }
      return lines;
    },
    compact: (a) => `${escapeHtml(pressureOf(a))} · ${aprOf(a)}`,
  },
  funding_interval_change: {
    title: () => 'funding interval changed',
    main: (a) => [`Funding ${intervalChange(a)}`],
    compact: (a) => intervalChange(a),
  },
  funding_at_bound: {
    title: (a) => `funding at ${escapeHtml(boundOf(a))}`,
    main: (a) => [`The rate sits at the venue's ${escapeHtml(boundOf(a))}: ${ratePer(a)}`],
    compact: (a) => `${ratePer(a)} · ${aprOf(a)}`,
  },
  control_flip: {
    title: () => 'control flip',
    main: (a) => [`Control 15m: ${controlChange(a)}`],
    compact: (a) => controlChange(a),
  },
  momentum_spike: {
    title: () => 'momentum spike',
    main: (a) => [momentumFigures(a)],
    compact: (a) => momentumFigures(a),
  },
  liquidation_cascade: {
    title: (a) => `${figureStr(a, 'side') === 'longs' ? 'long' : 'short'} liquidation cascade`,
    main: (a) => cascadeLines(a),
    compact: (a) => cascadeSummary(a),
  },
};

const layoutOf = (alert: AlertJson): KindLayout =>
  LAYOUTS[alert.kind] ?? {
    title: () => escapeHtml(String(alert.kind).replace(/_/g, ' ')),
    main: () => [],
    compact: () => escapeHtml(alert.text ?? ''),
  };

/** `Control 15m: longs opening · 24h: short covering`, or null when unknown. */
function controlLine(alert: AlertJson): string | null {
  const c = alert.snapshot?.control;
  if (!c || (c['15m'] == null && c['24h'] == null)) return null;
  const parts = [];
  const s = alert.snapshot;
  if (c['15m'] != null)
    parts.push(`15m: ${controlLabel(c['15m'])}${controlForcedSuffix(s, '15m', c['15m'])}`);
  if (c['24h'] != null)
    parts.push(`24h: ${controlLabel(c['24h'])}${controlForcedSuffix(s, '24h', c['24h'])}`);
  return `Control ${parts.join(' · ')}`;
}

function momentumLine(alert: AlertJson): string | null {
  const m = alert.snapshot?.momentum;
  if (!m?.state) return null;
  const parts = [`Momentum ${escapeHtml(m.state)}`];
  if (isNum(m.oiAccel)) parts.push(`OI pace ${m.oiAccel.toFixed(1)}× usual`);
  if (isNum(m.priceChange15mPct)) parts.push(`price ${formatSignedPct(m.priceChange15mPct)} in 15m`);
  return parts.join(' · ');
}

/** One alert as a message: header, what fired, OI, funding (with the hint), control, momentum, mark. */
export function formatAlert(alert: AlertJson, nowMs: number): string {
  const layout = layoutOf(alert);
  const s = alert.snapshot;
  const escalated = alert.escalated ? ' · ⏫ escalated' : '';
  const lines = [
    `<b>${severityMark(alert)} ${escapeHtml(alert.symbol)} ${layout.title(alert)} · ${venueLabel(alert.venue)}</b>${escalated}`,
    ...layout.main(alert, nowMs),
  ];
  const unit = THRESHOLD_FIGURES[alert.kind]?.unit ?? '';
  if (isNum(alert.forThreshold))
    lines.push(`<i>At this chat's threshold: ${alert.forThreshold}${escapeHtml(unit)}</i>`);
  const isOi = layout === oiLayout;
  if (!isOi && alert.delta) lines.push(...formatDeltaLines(alert.symbol, alert.delta, '15m', s?.price?.mark));
  if (s) {
    lines.push(formatFundingLine(s, nowMs));
    if (s.funding?.hint) lines.push(`💡 <i>${escapeHtml(s.funding.hint)}</i>`);
    if (alert.kind !== 'control_flip') {
      const control = controlLine(alert);
      if (control) lines.push(control);
    }
    if (alert.kind !== 'momentum_spike') {
      const momentum = momentumLine(alert);
      if (momentum) lines.push(momentum);
    }
    if (isNum(s.price?.mark)) lines.push(`Mark $${formatAmount(s.price.mark)}`);
    if (s.freshness?.stale) {
      const venues = s.freshness.staleVenues?.length
        ? `: ${s.freshness.staleVenues.map(escapeHtml).join(', ')}`
        : '';
      lines.push(`⚠️ <i>some inputs are stale${venues}</i>`);
    }
  }
  return lines.join('\n');
}

/**
 * One compact line of a merged message:
 * `🚨 <b>SOL</b> OI surge · bybit: 🟢 +3.57% in 15m · +85,000 SOL (+$12.8M) · OI value +$22.3M`.
 */
export function formatCompactAlert(alert: AlertJson): string {
  const layout = layoutOf(alert);
  const escalated = alert.escalated ? ' ⏫' : '';
  return `${severityMark(alert)} <b>${escapeHtml(alert.symbol)}</b> ${layout.title(alert)} · ${venueLabel(alert.venue)}: ${layout.compact(alert)}${escalated}`;
}

/** A burst as one message: `N alerts`, then one compact line per alert, newest last. */
export function formatMergedAlerts(alerts: readonly AlertJson[], _nowMs: number): string {
  const ordered = alerts
    .map((alert, i) => ({ alert, i }))
    .sort((a, b) => (a.alert.ts ?? 0) - (b.alert.ts ?? 0) || a.i - b.i)
    .map(({ alert }) => formatCompactAlert(alert));
  return [`<b>📬 ${alerts.length} alerts</b>`, ...ordered].join('\n');
}

/** Telegram's limit on `callback_data`, in bytes. */
const MAX_CALLBACK_DATA_BYTES = 64;

/**
 * The mute buttons under a single alert: callback data `mute:{SYMBOL}:1h` and `mute:{SYMBOL}:24h`.
 * Null for a symbol that cannot be carried in callback data (not `[A-Z0-9._-]`, or too long).
 */
export function alertKeyboard(symbol: string): InlineKeyboardMarkup | null {
  const sym = String(symbol).toUpperCase();
  if (!/^[A-Z0-9._-]+$/.test(sym) || Buffer.byteLength(`mute:${sym}:24h`) > MAX_CALLBACK_DATA_BYTES) {
    return null;
  }
  return {
    inline_keyboard: [
      [
        { text: '🔕 Mute 1h', callback_data: `mute:${sym}:1h` },
        { text: '🔕 Mute 24h', callback_data: `mute:${sym}:24h` },
      ],
    ],
  };
}

type OpenTag = { readonly name: string; readonly open: string };
/** A tag, an entity (`&amp;`, `&#39;`) or one code point: the units a line may be cut between. */
const UNIT = /<\/?[a-zA-Z][^<>]*>|&(?:[a-zA-Z]+|#\d+|#x[0-9a-fA-F]+);|[\s\S]/gu;
const TAG = /<(\/?)([a-zA-Z][a-zA-Z0-9-]*)[^<>]*>/g;

/** The open tags after `html`, starting from `stack`. A close without its open is ignored. */
function afterTags(stack: readonly OpenTag[], html: string): readonly OpenTag[] {
  if (!html.includes('<')) return stack;
  let out: OpenTag[] | undefined;
  for (const m of html.matchAll(TAG)) {
    out ??= [...stack];
    const name = m[2]!.toLowerCase();
    if (m[1] === '') out.push({ name, open: m[0] });
    else {
      const at = out.map((t) => t.name).lastIndexOf(name);
      if (at >= 0) out.splice(at);
    }
  }
  return out ?? stack;
}
const closeTags = (stack: readonly OpenTag[]) =>
  stack
    .map((t) => `</${t.name}>`)
    .reverse()
    .join('');

/**
 * Splits an HTML message into parts of at most `maxChars`, at line boundaries where it can.
 * A tag is never cut; tags open at a cut are closed at the end of the part and opened again at
 * the start of the next, so every part is valid on its own. A line longer than a part is cut
 * between characters (never inside an entity like `&amp;` or a surrogate pair).
 */
export function splitMessage(html: string, maxChars = MAX_MESSAGE_CHARS): string[] {
  if (html.length <= maxChars) return [html];
  const parts: string[] = [];
  let stack: readonly OpenTag[] = [];
  let current = '';
  let hasText = false;
  const fits = (extra: string, after: readonly OpenTag[]) =>
    current.length + extra.length + closeTags(after).length <= maxChars;
  const flush = () => {
    if (hasText) parts.push(current + closeTags(stack));
    current = stack.map((t) => t.open).join('');
    hasText = false;
  };
  for (const line of html.split('\n')) {
    const after = afterTags(stack, line);
    const sep = hasText ? '\n' : '';
    if (fits(sep + line, after)) {
      current += sep + line;
      stack = after;
      hasText ||= line.replace(TAG, '').trim() !== '';
      continue;
    }
    flush();
    if (fits(line, after)) {
      current += line;
      stack = after;
      hasText = line.replace(TAG, '').trim() !== '';
      continue;
    }
    for (const unit of line.match(UNIT) ?? []) {
      const isTag = unit.length > 1 && unit.startsWith('<');
      const unitAfter = isTag ? afterTags(stack, unit) : stack;
      if (!fits(unit, unitAfter) && hasText) flush();
      current += unit;
      stack = unitAfter;
      if (!isTag) hasText = true;
    }
  }
  flush();
  return parts;
}
