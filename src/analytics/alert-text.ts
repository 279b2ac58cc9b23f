/**
 * The plain-text `text` of alerts (the JSON field subscribers read): one sentence per fact, numbers
 * formatted by `src/domain/units.ts`. Pure string building, no state.
 */
import type { ControlState, DeltaJson, SnapshotJson } from '../domain/types.js';
import {
  formatAmount,
  formatRatePct,
  formatSignedAmount,
  formatSignedUsd,
  formatUsd,
} from '../domain/units.js';

export function venueLabel(venue: string): string {
  return venue === 'all' ? 'all venues' : venue;
}

export function words(control: ControlState): string {
  return control.replace('_', ' ');
}

/**
 * ` Funding 0.0100% per 8h (10.95% APR).`: the rate as venues quote it (unsigned when positive).
 * The APR keeps `toFixed(2)`'s sign (`-0.00%` for a tiny negative APR), as the bot's alert
 * messages show it; `formatAprPct` (which writes `0.00%`) would change alert texts already published.
 */
export function fundingText(s: SnapshotJson): string {
  const { rate, intervalHours, aprPct } = s.funding;
  if (rate === null || !Number.isFinite(rate)) return '';
  if (intervalHours === null || aprPct === null) return ` Funding ${formatRatePct(rate)}.`;
  return ` Funding ${formatRatePct(rate)} per ${formatAmount(intervalHours)}h (${aprPct.toFixed(2)}% APR).`;
}

export function nowText(s: SnapshotJson): string {
  const parts: string[] = [];
  if (s.oi.base !== null) {
    const usd = s.oi.usd !== null ? ` (${formatUsd(s.oi.usd)})` : '';
    parts.push(`Now ${formatAmount(s.oi.base)} ${s.symbol}${usd}`);
  }
  if (s.price.mark !== null) parts.push(`mark ${formatAmount(s.price.mark)}`);
  return parts.length > 0 ? ` ${parts.join(', ')}.` : '';
}

/** The value of the token change at the current mark: `positionUsd`, else base × mark; null if neither. */
export function positionUsdOf(delta: DeltaJson, markNow: number | null): number | null {
  if (delta.positionUsd !== undefined && Number.isFinite(delta.positionUsd)) return delta.positionUsd;
  if (markNow !== null && Number.isFinite(markNow)) return delta.base * markNow;
  return null;
}

/**
 * `-1,000 SOL (-$150.0K); OI value +$2.00M incl. price effect +$2.15M.`: the parentheses hold the
 * signed value of the tokens opened or closed at today's mark, never the total USD change, which
 * is mostly price effect and can have the other sign. The total follows, signed and labelled.
 */
export function oiChangeText(s: SnapshotJson, delta: DeltaJson): string {
  const positionUsd = positionUsdOf(delta, s.price.mark);
  const tokens = `${formatSignedAmount(delta.base)} ${s.symbol}`;
  if (positionUsd === null) return `${tokens}; OI value ${formatSignedUsd(delta.usd)}.`;
  const priceEffectUsd = delta.priceEffectUsd ?? delta.usd - positionUsd;
  return (
    `${tokens} (${formatSignedUsd(positionUsd)}); OI value ${formatSignedUsd(delta.usd)} ` +
    `incl. price effect ${formatSignedUsd(priceEffectUsd)}.`
  );
}
