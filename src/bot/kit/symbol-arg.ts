import { canonicalSymbol } from '../../domain/symbols.js';
import { escapeHtml, formatSymbolList } from '../format.js';
import type { FeatureDeps } from './deps.js';

export type SymbolArg =
  | { readonly kind: 'missing' }
  | { readonly kind: 'invalid'; readonly raw: string }
  | { readonly kind: 'ok'; readonly symbol: string };

/** The words after the command (`/subscribe BTC bybit` → `['BTC', 'bybit']`), at most `max`. */
export function splitArgs(match: string, max = 4): string[] {
  return match
    .trim()
    .split(/[\s,]+/)
    .filter((w) => w.length > 0)
    .slice(0, max);
}

/** The first word after the command, as a canonical symbol (`btc-usdt-swap` → `BTC`). */
export function parseSymbolArg(match: string): SymbolArg {
  const raw = splitArgs(match, 1)[0] ?? '';
  if (raw === '') return { kind: 'missing' };
  const symbol = canonicalSymbol(raw);
  return symbol === null ? { kind: 'invalid', raw } : { kind: 'ok', symbol };
}

/** Levenshtein distance, two rows. */
export function editDistance(a: string, b: string): number {
  let prev = Array.from({ length: b.length + 1 }, (_, j) => j);
  for (let i = 1; i <= a.length; i++) {
    const cur = [i];
    for (let j = 1; j <= b.length; j++) {
      const cost = a[i - 1] === b[j - 1] ? 0 : 1;
      cur[j] = Math.min(prev[j]! + 1, cur[j - 1]! + 1, prev[j - 1]! + cost);
    }
    prev = cur;
  }
  return prev[b.length]!;
}

/**
 * The tracked symbol the user most likely meant: a prefix match either way (`ET` → `ETH`,
 * `BTCX` → `BTC`), else the nearest by edit distance within about half the input's length.
 */
export function closestSymbol(input: string, candidates: readonly string[]): string | null {
  const s = input.toUpperCase();
  const prefixed = candidates
    .filter((c) => c !== s && (c.startsWith(s) || s.startsWith(c)))
    .sort((a, b) => Math.abs(a.length - s.length) - Math.abs(b.length - s.length) || a.localeCompare(b));
  if (prefixed[0] !== undefined) return prefixed[0];
  const maxDistance = Math.max(1, Math.ceil(s.length / 2));
  let best: { symbol: string; distance: number } | null = null;
  for (const c of [...candidates].sort()) {
    const distance = editDistance(s, c);
    if (distance <= maxDistance && (best === null || distance < best.distance))
      best = { symbol: c, distance };
  }
  return best?.symbol ?? null;
}

/** Union of the tracked symbols of every venue, sorted. */
export async function trackedSymbols(deps: Pick<FeatureDeps, 'bus' | 'venues'>): Promise<string[]> {
  const lists = await Promise.all(deps.venues.map((v) => deps.bus.trackedSymbols(v)));
  return [...new Set(lists.flat())].sort();
}

/** The venue a user typed (case-insensitive): one of `venues`, or `all` for the cross-venue view; else null. */
export function parseVenueArg(raw: string, venues: readonly string[]): string | null {
  const venue = raw.trim().toLowerCase();
  if (venue === 'all') return 'all';
  return venues.find((v) => v.toLowerCase() === venue) ?? null;
}

/** `“foo” is not a venue. Venues: all, binance, bybit.` */
export function unknownVenueReply(raw: string, venues: readonly string[]): string {
  const list = ['all', ...venues].map((v) => `<code>${escapeHtml(v)}</code>`).join(', ');
  return `“${escapeHtml(raw.slice(0, 40))}” is not a venue. Venues: ${list} (<code>all</code> = every venue combined).`;
}

/** `Usage: <code>/oi SYMBOL</code> …`; `extra` adds further forms, e.g. `SYMBOL VENUE`. */
export function usageReply(command: string, what: string, extra: readonly string[] = []): string {
  const forms = [
    `<code>/${command} SYMBOL</code>`,
    ...extra.map((f) => `<code>/${command} ${escapeHtml(f)}</code>`),
  ];
  return `Usage: ${forms.join(' or ')} ${escapeHtml(what)}\nExample: <code>/${command} BTC</code>`;
}

export function invalidSymbolReply(command: string, raw: string): string {
  return `“${escapeHtml(raw.slice(0, 40))}” is not a symbol.\nExample: <code>/${command} BTC</code>`;
}

/** `XYZ is not tracked. Tracked: BTC, ETH, … Did you mean XRP?` */
export function notTrackedReply(symbol: string, tracked: readonly string[]): string {
  if (tracked.length === 0) return `${escapeHtml(symbol)} is not tracked, and no symbol is tracked yet.`;
  const guess = closestSymbol(symbol, tracked);
  const hint = guess === null ? '' : `\nDid you mean <b>${escapeHtml(guess)}</b>?`;
  return `${escapeHtml(symbol)} is not tracked. Tracked: ${formatSymbolList(tracked)}.${hint}`;
}

/**
 * The reply when no venue has a snapshot of `symbol`: tracked but not published yet (a fresh
 * start), or not tracked at all (with the closest tracked symbol).
 */
export async function noDataReply(
  deps: Pick<FeatureDeps, 'bus' | 'venues'>,
  symbol: string,
): Promise<string> {
  const tracked = await trackedSymbols(deps);
  return tracked.includes(symbol)
    ? `${escapeHtml(symbol)} is tracked but has no data yet. Try again in a minute.`
    : notTrackedReply(symbol, tracked);
}
