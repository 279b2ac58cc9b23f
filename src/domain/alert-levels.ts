import type { AlertKind } from './types.js';

/**
 * Per-chat alert thresholds that the processor evaluates itself (a chat's own threshold on these
 * kinds, lower or higher than the server's, gets its own hysteresis, cooldown and direction).
 * The bot publishes the thresholds its chats asked for (`pulse:alert-levels`); the processor runs
 * each of these rules once more per requested level and marks those alerts `forThreshold`.
 * Other kinds keep a chat threshold as a filter on the server's alerts.
 */
export type LevelKind = 'oi_change_15m' | 'oi_change_24h' | 'funding_pressure' | 'momentum_spike';

export const LEVEL_KINDS: readonly LevelKind[] = [
  'oi_change_15m',
  'oi_change_24h',
  'funding_pressure',
  'momentum_spike',
];

export function isLevelKind(kind: AlertKind | string): kind is LevelKind {
  return (LEVEL_KINDS as readonly string[]).includes(kind);
}

/**
 * The grid chat thresholds are snapped to, per kind, in the unit of the kind's threshold figure
 * (OI kinds: |change| percent; funding_pressure: |APR| percent; momentum_spike: × the usual pace).
 * `floorValue` is the lowest threshold any chat can have: below it a move is noise (a few tenths
 * of a percent of OI is the venues' own rounding and position churn), and the bot says so.
 */
export interface LevelGrid {
  readonly floorValue: number;
  readonly maxValue: number;
  readonly step: number;
}

export const LEVEL_GRIDS: Readonly<Record<LevelKind, LevelGrid>> = {
  oi_change_15m: { floorValue: 1, maxValue: 50, step: 0.5 },
  oi_change_24h: { floorValue: 3, maxValue: 200, step: 1 },
  funding_pressure: { floorValue: 10, maxValue: 1000, step: 5 },
  momentum_spike: { floorValue: 1.5, maxValue: 50, step: 0.5 },
};

/** The processor evaluates at most this many chat levels per kind (the most requested ones). */
export const MAX_LEVELS_PER_KIND = 32;

/** Chat thresholds the processor evaluates, per kind, ascending, each on its kind's grid. */
export type AlertLevels = Readonly<Partial<Record<LevelKind, readonly number[]>>>;

/** `value` on the kind's grid: rounded to the nearest step, clamped to [floor, max]. */
export function snapLevel(kind: LevelKind, value: number): number {
  const g = LEVEL_GRIDS[kind];
  if (!Number.isFinite(value)) return g.floorValue;
  const snapped = Math.round(value / g.step) * g.step;
  // Rounded to the grid's decimals so that equal levels compare equal as numbers and as text.
  const clean = Number(snapped.toFixed(6));
  return Math.min(g.maxValue, Math.max(g.floorValue, clean));
}

/**
 * Reads stored levels (`{"v":1,"levels":{kind:[…]}}`): unknown kinds and values off the grid are
 * dropped, each kind is de-duplicated, sorted and cut to `MAX_LEVELS_PER_KIND`. Unreadable → {}.
 */
export function parseAlertLevels(text: string | null): AlertLevels {
  if (text === null) return {};
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch {
    return {};
  }
  if (typeof parsed !== 'object' || parsed === null) return {};
  const o = parsed as { v?: unknown; levels?: unknown };
  if (o.v !== 1 || typeof o.levels !== 'object' || o.levels === null) return {};
  const out: Partial<Record<LevelKind, number[]>> = {};
  for (const [kind, values] of Object.entries(o.levels as Record<string, unknown>)) {
    if (!isLevelKind(kind) || !Array.isArray(values)) continue;
    const clean = values.filter(
      (v): v is number => typeof v === 'number' && Number.isFinite(v) && snapLevel(kind, v) === v,
    );
    const unique = [...new Set(clean)].slice(0, MAX_LEVELS_PER_KIND).sort((a, b) => a - b);
    if (unique.length > 0) out[kind] = unique;
  }
  return out;
}

/** The stored form of `levels` (see `parseAlertLevels`). */
export function stringifyAlertLevels(levels: AlertLevels): string {
  return JSON.stringify({ v: 1, levels });
}
