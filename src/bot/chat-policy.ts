import type { ChatSettings, ChatSettingsStore } from '../bus/types.js';
import { type AlertLevels, isLevelKind, snapLevel } from '../domain/alert-levels.js';
import type { AlertJson, AlertKind } from '../domain/types.js';
import { alertDirection, CROSS_VENUE_KINDS } from './alert-direction.js';
import type { ChatDecision, ChatPolicy } from './policy.js';

const HOUR_MS = 3_600_000;
const DAY_MS = 24 * HOUR_MS;

/**
 * Whether `nowMs` (wall clock) falls in the quiet hours, in UTC. The span is [start, end):
 * 22–7 is quiet from 22:00 to 06:59 across midnight, 1–5 from 01:00 to 04:59. No quiet hours,
 * or start == end, means never quiet.
 */
export function inQuietHours(quiet: ChatSettings['quietHours'], nowMs: number): boolean {
  if (quiet === null || quiet.startHour === quiet.endHour) return false;
  const hour = Math.floor((((nowMs % DAY_MS) + DAY_MS) % DAY_MS) / HOUR_MS);
  const { startHour, endHour } = quiet;
  return startHour < endHour ? hour >= startHour && hour < endHour : hour >= startHour || hour < endHour;
}

/** The figure a per-kind threshold is compared with, in the unit the threshold is given in. */
export interface ThresholdFigure {
  /** What `/settings` tells the user the threshold means. */
  readonly description: string;
  /** Short unit shown after a threshold: `%`, `× usual pace`. */
  readonly unit: string;
  /** The alert's value of the figure (absolute), or null when the alert does not carry it. */
  read(alert: AlertJson): number | null;
}

const isNum = (v: unknown): v is number => typeof v === 'number' && Number.isFinite(v);

/** The first finite number among `alert.figures[names]`. */
function figure(alert: AlertJson, ...names: string[]): number | null {
  for (const name of names) {
    const v = alert.figures?.[name];
    if (isNum(v)) return v;
  }
  return null;
}

const abs = (v: number | null | undefined): number | null => (isNum(v) ? Math.abs(v) : null);

const oiChangePct: ThresholdFigure = {
  description: '|OI change| in percent',
  unit: '%',
  read: (a) => abs(a.delta?.pct) ?? abs(figure(a, 'pct', 'oiChangePct')),
};

const fundingAprPct: ThresholdFigure = {
  description: '|funding APR| in percent',
  unit: '% APR',
  read: (a) => abs(figure(a, 'aprPct', 'fundingAprPct') ?? a.snapshot?.funding?.aprPct),
};

/**
 * Which figure each kind's threshold applies to:
 * - `oi_change_15m`, `oi_change_24h`: |`delta.pct`|, the triggering OI change, percent.
 * - `funding_pressure`, `funding_at_bound`: |funding APR|, percent (`figures.aprPct`, else the
 *   snapshot's `funding.aprPct`): "only when holding costs at least X% a year".
 * - `control_flip`: |15m OI change| at the flip (`delta.pct`), percent: flips on a tiny OI move are noise.
 * - `momentum_spike`: OI acceleration, × the usual 15m pace (`figures.oiAccel`, else `snapshot.momentum.oiAccel`).
 * - `funding_interval_change`: none (on/off only): an interval change has no size.
 * - `liquidation_cascade`: none (on/off only). It fires once per cascade, as the side crosses the
 *   server's `LIQ_ALERT_PCT_OI`, so its figure is always near that level: a chat threshold above
 *   it would hide nearly every cascade instead of the small ones.
 */
export const THRESHOLD_FIGURES: Readonly<Record<AlertKind, ThresholdFigure | null>> = {
  oi_change_15m: oiChangePct,
  oi_change_24h: oiChangePct,
  funding_pressure: fundingAprPct,
  funding_at_bound: fundingAprPct,
  control_flip: { ...oiChangePct, description: '|15m OI change| at the flip, in percent' },
  momentum_spike: {
    description: 'OI acceleration, × the usual 15m pace',
    unit: '×',
    read: (a) => abs(figure(a, 'oiAccel') ?? a.snapshot?.momentum?.oiAccel),
  },
  funding_interval_change: null,
  liquidation_cascade: null,
};

/**
 * The level a chat's threshold on a level kind is evaluated at by the processor (the grid value
 * nearest to it, never below the kind's floor); null for other kinds or without a threshold.
 */
export function chatLevel(kind: AlertKind, threshold: number | undefined): number | null {
  if (threshold === undefined || !isLevelKind(kind)) return null;
  return snapLevel(kind, threshold);
}

const sameLevel = (a: number, b: number) => Math.abs(a - b) < 1e-9;

/**
 * Which of the server's and the chat levels' alerts a chat with this threshold receives:
 * - an alert evaluated at a chat level (`forThreshold`) only reaches chats whose own threshold is
 *   that level: it never reaches a chat that did not ask for it;
 * - a server alert of a level kind skips a chat whose level is published (`levels`): that chat
 *   gets its own level's alerts, with their own hysteresis and cooldown, instead;
 * - otherwise the threshold filters the server's alerts on the kind's figure (the fallback when a
 *   chat's level did not make the published cap, and the only rule for other kinds). An alert
 *   without the figure passes (the server's own rule already fired; better one alert too many
 *   than a silent chat).
 */
function thresholdLetsThrough(alert: AlertJson, threshold: number | undefined, levels: AlertLevels): boolean {
  const level = chatLevel(alert.kind, threshold);
  if (typeof alert.forThreshold === 'number') return level !== null && sameLevel(level, alert.forThreshold);
  if (level !== null && isLevelKind(alert.kind)) {
    if ((levels[alert.kind] ?? []).some((l) => sameLevel(l, level))) return false;
  }
  if (threshold === undefined) return true;
  const value = THRESHOLD_FIGURES[alert.kind]?.read(alert) ?? null;
  return value === null || value >= threshold;
}

/**
 * Whether the chat's settings let this alert through:
 * - kind off → no;
 * - a threshold on the kind → see `thresholdLetsThrough` (`levels`: the chat levels the bot
 *   published for the processor, `pulse:alert-levels`);
 * - a venue filter → the alert's venue must be in it. A cross-venue alert (venue `all`) passes when
 *   one of the venues it aggregates (`snapshot.venues`) is in the filter, or when it does not say.
 */
export function alertPassesSettings(
  settings: ChatSettings,
  alert: AlertJson,
  levels: AlertLevels = {},
): boolean {
  const entry = settings.kinds[alert.kind];
  if (entry?.enabled === false) return false;
  if (!thresholdLetsThrough(alert, entry?.threshold, levels)) return false;
  const venues = settings.venues;
  if (venues !== null) {
    if (alert.venue === 'all') {
      const included = alert.snapshot?.venues;
      if (included !== undefined && included.length > 0 && !included.some((v) => venues.includes(v))) {
        return false;
      }
    } else if (!venues.includes(alert.venue)) {
      return false;
    }
  }
  return true;
}

/**
 * The per-chat policy delivery asks once per (alert, chat): symbol muted → skip; the settings
 * do not want it → skip; quiet hours now → hold (summarized after); else send. `nowMs` is wall clock.
 */
export interface ChatPolicyOptions {
  /**
   * One move, one message, for the same fact only: after a chat got an alert of some kind and
   * direction for a symbol from one venue (or the aggregate), an alert of the same kind, symbol
   * and direction from another venue is skipped for this long, unless it is an escalation. A move
   * the other way, or an alert whose direction is unknown, is a new fact and always comes through;
   * funding-interval changes and rates at a bound are per-venue facts and never merged.
   * Default 30 min (the rules' default cooldown); 0 turns it off.
   */
  readonly crossVenueQuietMs?: number;
  /** (chat, symbol, kind, direction) entries remembered; the least recent is forgotten first. Default 20,000. */
  readonly maxRemembered?: number;
  /**
   * The chat levels published for the processor (`pulse:alert-levels`), read at every decision.
   * Default none: every chat threshold filters the server's alerts.
   */
  readonly levels?: () => AlertLevels;
}

export function createChatPolicy(store: ChatSettingsStore, options: ChatPolicyOptions = {}): ChatPolicy {
  const quietMs = options.crossVenueQuietMs ?? 30 * 60_000;
  const maxRemembered = options.maxRemembered ?? 20_000;
  const levels = options.levels ?? (() => ({}));
  const lastByMove = new Map<string, { readonly venue: string; readonly atMs: number }>();
  const sameMoveElsewhere = (chatId: number, alert: AlertJson, nowMs: number): boolean => {
    if (quietMs <= 0 || !CROSS_VENUE_KINDS.has(alert.kind)) return false;
    const direction = alertDirection(alert);
    if (direction === null) return false;
    const key = `${chatId}:${alert.symbol}:${alert.kind}:${direction}`;
    const last = lastByMove.get(key);
    if (last && last.venue !== alert.venue && nowMs - last.atMs < quietMs && alert.escalated !== true)
      return true;
    lastByMove.delete(key);
    lastByMove.set(key, { venue: alert.venue, atMs: nowMs });
    while (lastByMove.size > maxRemembered) {
      const oldest = lastByMove.keys().next();
      if (oldest.done) break;
      lastByMove.delete(oldest.value);
    }
    return false;
  };
  return {
    async decide(chatId: number, alert: AlertJson, nowMs: number): Promise<ChatDecision> {
      if ((await store.mutedUntil(chatId, alert.symbol, nowMs)) !== null) return 'skip';
      const settings = await store.get(chatId);
      if (!alertPassesSettings(settings, alert, levels())) return 'skip';
      if (sameMoveElsewhere(chatId, alert, nowMs)) return 'skip';
      return inQuietHours(settings.quietHours, nowMs) ? 'hold' : 'send';
    },
  };
}

/** How `/settings`, its keyboard and the quiet-hours summary name each kind. */
export const KIND_LABELS: Readonly<Record<AlertKind, string>> = {
  oi_change_15m: 'OI change 15m',
  oi_change_24h: 'OI change 24h',
  funding_pressure: 'Funding pressure',
  funding_interval_change: 'Funding interval change',
  funding_at_bound: 'Funding at cap/floor',
  control_flip: 'Control flip',
  momentum_spike: 'Momentum spike',
  liquidation_cascade: 'Liquidation cascade',
};

export function kindLabel(kind: string): string {
  return KIND_LABELS[kind as AlertKind] ?? kind;
}
