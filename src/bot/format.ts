/**
 * Message text for Telegram's HTML parse mode. Every dynamic value goes through `escapeHtml`;
 * markup is only ever our own `<b>`/`<i>`/`<code>` around escaped text.
 * https://core.telegram.org/bots/api#html-style
 */
import type { FeedHealthJson } from '../bus/types.js';
import type {
  ActivityLevel,
  ControlState,
  DeltaJson,
  FundingPressure,
  MomentumState,
  SnapshotJson,
} from '../domain/types.js';
import {
  formatAmount,
  formatDuration,
  formatMultiple,
  formatSignedPct,
  formatSignedTokenAmount,
  formatSignedUsd,
  formatTokenAmount,
  formatUsd,
  formatUsdAmount,
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

/**
 * `🟢 +2,500 BTC ($213.0M) · +5.00% in 15m` from one delta; ` · ⚠️ feed gap` when the window
 * spans data the feed missed.
 */
export function formatDeltaLine(symbol: string, delta: DeltaJson | null, windowLabel: string): string {
  const label = escapeHtml(windowLabel);
  if (delta === null || delta === undefined) return `⏳ ${label}: warming up (needs ${label} of history)`;
  const base = isNum(delta.base) ? formatSignedTokenAmount(delta.base) : 'n/a';
  const usd = isNum(delta.usd) ? ` (${formatUsd(delta.usd)})` : '';
  const pct = isNum(delta.pct) ? formatSignedPct(delta.pct) : 'n/a';
  const gap = delta.gap === true ? ' · ⚠️ feed gap' : '';
  return `${changeDot(delta.base)} ${base} ${escapeHtml(symbol)}${usd} · ${pct} in ${label}${gap}`;
}

/**
 * `↳ positions +$200.0M · price effect +$13.0M`: how much of the USD change is positions opened
 * or closed and how much is the same positions repriced. Null when the delta lacks the split.
 */
export function formatDeltaSplitLine(delta: DeltaJson | null | undefined): string | null {
  if (!delta || !isNum(delta.positionUsd) || !isNum(delta.priceEffectUsd)) return null;
  return `↳ positions ${formatSignedUsd(delta.positionUsd)} · price effect ${formatSignedUsd(delta.priceEffectUsd)}`;
}

/** The OI change over one window, or a warming-up note when the window has no history yet. */
export function formatOiLine(snapshot: SnapshotJson, window: OiWindow): string {
  return formatDeltaLine(snapshot.symbol, deltaOf(snapshot, window), window);
}

function deltaOf(snapshot: SnapshotJson, window: OiWindow): DeltaJson | null {
  return (window === '15m' ? snapshot.oi?.delta15m : snapshot.oi?.delta24h) ?? null;
}

/** The OI line of a window followed by its position/price split when the snapshot has one. */
function oiLinesOf(snapshot: SnapshotJson, window: OiWindow): string[] {
  const split = formatDeltaSplitLine(deltaOf(snapshot, window));
  return split === null ? [formatOiLine(snapshot, window)] : [formatOiLine(snapshot, window), split];
}

/** `10.95%`: APR is shown unsigned when positive, as in the funding line contract. */
function formatAprPct(aprPct: number): string {
  const fixed = aprPct.toFixed(2);
  return Number(fixed) === 0 ? '0.00%' : `${fixed}%`;
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

/** The snapshot's APR, or one derived from rate and interval; null when unknown. */
function aprPctOf(snapshot: SnapshotJson): number | null {
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

function payerWords(snapshot: SnapshotJson, aprPct: number | null): string | null {
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
  if (isNum(f?.hourly)) lines.push(`Hourly ${formatSignedPct(f.hourly * 100, 4)}`);
  if (isNum(f?.rate8h) && f.intervalHours !== 8) lines.push(`Per 8h ${formatSignedPct(f.rate8h * 100, 4)}`);
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

// ── /market: the market-intelligence view ─────────────────────────────────────────────────────

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

/** `Control 24h: Longs opening (price ↑, OI ↑) · funding agrees`; null when the snapshot has no control field. */
export function formatControlLine(snapshot: SnapshotJson, window: OiWindow): string | null {
  if (!snapshot.control) return null;
  const state = snapshot.control[window];
  if (!state) return `Control ${window}: ⏳ warming up`;
  const agrees = snapshot.controlFundingAgrees?.[window];
  const funding = agrees === true ? ' · funding agrees' : agrees === false ? ' · funding disagrees' : '';
  return `Control ${window}: ${controlLabel(state)}${funding}`;
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
 * The `/market` view of one snapshot (a venue's, or the aggregate `all`) for one timeframe:
 * who is in control, momentum, activity, funding pressure, OI change with its split, freshness.
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
  const spread = snapshot.fundingSpread;
  if (spread && isNum(spread.aprPct)) {
    lines.push(
      `Funding spread ${formatAprPct(spread.aprPct)} APR: ${escapeHtml(spread.maxVenue)} highest, ${escapeHtml(spread.minVenue)} lowest`,
    );
  }
  lines.push(formatOiNow(snapshot));
  for (const window of windowsOf(tf)) {
    lines.push(...oiLinesOf(snapshot, window));
    const diverging = snapshot.divergence?.[window] ?? [];
    if (diverging.length > 0)
      lines.push(`↳ ${window} control differs on ${diverging.map(escapeHtml).join(', ')}`);
  }
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
  readonly usd: number;
  readonly base: number;
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
    movers.push({ symbol: s.symbol, pct: d.pct, usd: d.usd, base: d.base });
  }
  movers.sort((a, b) => Math.abs(b.pct) - Math.abs(a.pct) || a.symbol.localeCompare(b.symbol));
  return movers.slice(0, Math.max(0, limit));
}

/** Reply to `/top`: the top movers over 15m and over 24h, or a warming-up note. */
export function formatTopMessage(snapshots: readonly SnapshotJson[], limit = 10): string {
  const sections: string[] = [];
  let any = false;
  for (const window of ['15m', '24h'] as const) {
    const movers = topOiMovers(snapshots, window, limit);
    any ||= movers.length > 0;
    const rows = movers.map(
      (m, i) =>
        `${i + 1}. ${changeDot(m.base)} <b>${escapeHtml(m.symbol)}</b> ${formatSignedPct(m.pct)} · ${formatSignedUsd(m.usd)}`,
    );
    sections.push(
      [`<b>${window}</b>`, ...(rows.length > 0 ? rows : [`⏳ warming up (needs ${window} of history)`])].join(
        '\n',
      ),
    );
  }
  if (!any) {
    return 'Top OI movers: ⏳ warming up. The 15m ranking needs 15 minutes of history across venues; try again soon.';
  }
  return limitLength(
    [header('Top OI movers · all venues'), ...sections, '<i>Ranked by OI change in percent</i>'].join('\n\n'),
  );
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
