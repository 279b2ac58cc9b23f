/**
 * How an OI change reads in every message (`/oi`, `/market`, `/top`, alerts, merged bursts): the
 * tokens opened or closed with THEIR value at the current mark in parentheses, and the change of
 * the OI's USD value (which also moves with the price) signed and labelled on its own line.
 * Output is HTML for Telegram's HTML parse mode; every dynamic value is escaped.
 */
import type { DeltaJson } from '../domain/types.js';
import { formatSignedPct, formatSignedTokenAmount, formatSignedUsd } from '../domain/units.js';

const isNum = (v: unknown): v is number => typeof v === 'number' && Number.isFinite(v);

/** Escapes the three characters HTML mode treats specially outside tags (and `"` for attributes). */
export function escapeHtml(value: unknown): string {
  return String(value)
    .replace(/&/g, '&amp;')
    .replace(/</g, '&lt;')
    .replace(/>/g, '&gt;')
    .replace(/"/g, '&quot;');
}

/** 🟢 growth, 🔴 decline, ⚪ flat or unknown. */
export function changeDot(deltaBase: number | null | undefined): string {
  if (!isNum(deltaBase) || deltaBase === 0) return '⚪';
  return deltaBase > 0 ? '🟢' : '🔴';
}

/**
 * The USD value of the tokens opened or closed, at the current mark: the delta's `positionUsd`
 * (base × mark now), else base × `markPrice`. Null when neither is known. Never the total USD
 * change, which is mostly the price moving the positions already open.
 */
export function positionValueUsd(
  delta: DeltaJson | null | undefined,
  markPrice?: number | null,
): number | null {
  if (!delta) return null;
  if (isNum(delta.positionUsd)) return delta.positionUsd;
  return isNum(delta.base) && isNum(markPrice) ? delta.base * markPrice : null;
}

/**
 * What makes a change less than a plain measurement, as text after it: ` · ⚠️ feed gap` when the
 * window's start or end value is stale (`gap`), ` · ≈ from venue history` when its start value
 * came from the venue's REST history. Missing seconds inside a window (`gapMs` with `gap` false)
 * say nothing: the processor judged the change sound, and a note on every 24h line for a day
 * after a restart would teach users to ignore the real warning.
 */
export function deltaCaveat(delta: DeltaJson | null | undefined): string {
  if (!delta) return '';
  const parts: string[] = [];
  if (delta.gap === true) parts.push('⚠️ feed gap');
  if (delta.backfilled === true) parts.push('≈ from venue history');
  return parts.map((p) => ` · ${p}`).join('');
}

/**
 * `🔴 -1,000 SOL (-$150.0K) · -2.00% in 15m`, then the caveats (`deltaCaveat`). The parentheses
 * hold the value of the tokens (`positionValueUsd`) and are left out when it is unknown; a null
 * delta reads as a warming-up note.
 */
export function formatDeltaLine(
  symbol: string,
  delta: DeltaJson | null,
  windowLabel: string,
  markPrice?: number | null,
): string {
  const label = escapeHtml(windowLabel);
  if (delta === null || delta === undefined) return `⏳ ${label}: warming up (needs ${label} of history)`;
  const base = isNum(delta.base) ? formatSignedTokenAmount(delta.base) : 'n/a';
  const valueUsd = positionValueUsd(delta, markPrice);
  const usd = valueUsd === null ? '' : ` (${formatSignedUsd(valueUsd)})`;
  const pct = isNum(delta.pct) ? formatSignedPct(delta.pct) : 'n/a';
  return `${changeDot(delta.base)} ${base} ${escapeHtml(symbol)}${usd} · ${pct} in ${label}${deltaCaveat(delta)}`;
}

/**
 * `↳ OI value +$2.00M (positions -$150.0K, price effect +$2.15M)`: the change of the OI's USD
 * value, signed, with its causes when the delta carries the split; `↳ OI value +$2.00M` without
 * it. Null when the delta has no USD change.
 */
export function formatDeltaValueLine(delta: DeltaJson | null | undefined): string | null {
  if (!delta || !isNum(delta.usd)) return null;
  const total = `↳ OI value ${formatSignedUsd(delta.usd)}`;
  if (!isNum(delta.positionUsd) || !isNum(delta.priceEffectUsd)) return total;
  return `${total} (positions ${formatSignedUsd(delta.positionUsd)}, price effect ${formatSignedUsd(delta.priceEffectUsd)})`;
}

/** The change line and, when known, its USD value line. */
export function formatDeltaLines(
  symbol: string,
  delta: DeltaJson | null,
  windowLabel: string,
  markPrice?: number | null,
): string[] {
  const value = formatDeltaValueLine(delta);
  const line = formatDeltaLine(symbol, delta, windowLabel, markPrice);
  return value === null ? [line] : [line, value];
}

/**
 * One line's worth of a change, for merged bursts and rankings:
 * `+5.00% in 15m · +1,000 SOL (+$150.0K) · OI value +$2.00M`, then the caveats.
 */
export function formatCompactDelta(
  symbol: string,
  delta: DeltaJson,
  windowLabel: string,
  markPrice?: number | null,
): string {
  const parts = [`${isNum(delta.pct) ? formatSignedPct(delta.pct) : 'n/a'} in ${escapeHtml(windowLabel)}`];
  if (isNum(delta.base)) {
    const valueUsd = positionValueUsd(delta, markPrice);
    const usd = valueUsd === null ? '' : ` (${formatSignedUsd(valueUsd)})`;
    parts.push(`${formatSignedTokenAmount(delta.base)} ${escapeHtml(symbol)}${usd}`);
  }
  if (isNum(delta.usd)) parts.push(`OI value ${formatSignedUsd(delta.usd)}`);
  return `${parts.join(' · ')}${deltaCaveat(delta)}`;
}
