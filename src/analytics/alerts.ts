import type { AlertJson, AlertKind, SnapshotJson } from '../domain/types.js';
import {
  formatAmount,
  formatDuration,
  formatSignedAmount,
  formatSignedPct,
  formatUsd,
} from '../domain/units.js';
import { OI_WINDOW_15M_MS } from './instrument.js';

export interface OiAlertConfig {
  /** Fire when |15-minute OI change| reaches this many percent (inclusive). */
  readonly oiAlertPct15m: number;
  /** Minimum event time between two alerts of the same venue, symbol and rule. */
  readonly cooldownMs: number;
}

/** When each `${venue}:${symbol}:${kind}` last fired, in event time. */
export interface AlertState {
  readonly lastFiredTs: Map<string, number>;
  /** Beyond this many keys the least recently fired one is forgotten. */
  readonly maxKeys: number;
}

export function createAlertState(maxKeys = 10_000): AlertState {
  if (!(maxKeys >= 1)) throw new RangeError(`maxKeys must be >= 1: ${maxKeys}`);
  return { lastFiredTs: new Map(), maxKeys };
}

function inCooldown(state: AlertState, key: string, ts: number, cooldownMs: number): boolean {
  const last = state.lastFiredTs.get(key);
  // `ts <= last` too: with no cooldown, two firings at one event time would share an id.
  return last !== undefined && (ts - last < cooldownMs || ts <= last);
}

function recordFired(state: AlertState, key: string, ts: number): void {
  // Re-inserting keeps the Map in last-fired order, so the first key is the one to drop.
  state.lastFiredTs.delete(key);
  state.lastFiredTs.set(key, ts);
  while (state.lastFiredTs.size > state.maxKeys) {
    const oldest = state.lastFiredTs.keys().next();
    if (oldest.done) break;
    state.lastFiredTs.delete(oldest.value);
  }
}

/** `0.0001` → `0.0100%`: funding is quoted unsigned when positive, as venues show it. */
function formatRatePct(rate: number): string {
  const text = (rate * 100).toFixed(4);
  return Number(text) === 0 ? `${(0).toFixed(4)}%` : `${text}%`;
}

function fundingText(s: SnapshotJson): string {
  const { rate, intervalHours, aprPct } = s.funding;
  if (rate === null || !Number.isFinite(rate)) return '';
  if (intervalHours === null || aprPct === null) return ` Funding ${formatRatePct(rate)}.`;
  return ` Funding ${formatRatePct(rate)} per ${formatAmount(intervalHours)}h (${aprPct.toFixed(2)}% APR).`;
}

function nowText(s: SnapshotJson): string {
  const parts: string[] = [];
  if (s.oi.base !== null) {
    const usd = s.oi.usd !== null ? ` (${formatUsd(s.oi.usd)})` : '';
    parts.push(`Now ${formatAmount(s.oi.base)} ${s.symbol}${usd}`);
  }
  if (s.price.mark !== null) parts.push(`mark ${formatAmount(s.price.mark)}`);
  return parts.length > 0 ? ` ${parts.join(', ')}.` : '';
}

/**
 * Rule `oi_change_15m`: fires when the snapshot's 15-minute OI change reaches the threshold in
 * either direction and the same venue and symbol did not fire within `cooldownMs` before
 * `snapshot.ts`. Firing is recorded in `state`.
 */
export function evaluateOiChange15m(
  state: AlertState,
  snapshot: SnapshotJson,
  cfg: OiAlertConfig,
): AlertJson | null {
  const delta = snapshot.oi.delta15m;
  // A window across missing data could show a move that never happened: no alert from it.
  if (delta === null || delta.gap === true || !(Math.abs(delta.pct) >= cfg.oiAlertPct15m)) return null;
  const kind: AlertKind = 'oi_change_15m';
  const { venue, symbol, ts } = snapshot;
  const key = `${venue}:${symbol}:${kind}`;
  if (inCooldown(state, key, ts, cfg.cooldownMs)) return null;
  recordFired(state, key, ts);
  const text =
    `${symbol} on ${venue}: open interest ${formatSignedPct(delta.pct)} in ${formatDuration(OI_WINDOW_15M_MS)}: ` +
    `${formatSignedAmount(delta.base)} ${symbol} (${formatUsd(delta.usd)}).` +
    nowText(snapshot) +
    fundingText(snapshot);
  return {
    v: 1,
    id: `${kind}:${venue}:${symbol}:${ts}`,
    kind,
    venue,
    symbol,
    ts,
    text,
    thresholdPct: cfg.oiAlertPct15m,
    delta,
    windowMs: OI_WINDOW_15M_MS,
    snapshot,
  };
}
