/**
 * How a chat's threshold is kept and explained: on a level kind (`LEVEL_KINDS`) the processor
 * evaluates the chat's own level, snapped to the kind's grid and never below its floor; on other
 * kinds the threshold filters the server's alerts. Shared by `/settings` and its help.
 */
import { isLevelKind, LEVEL_GRIDS, LEVEL_KINDS, snapLevel } from '../domain/alert-levels.js';
import type { AlertKind } from '../domain/types.js';
import { KIND_LABELS, THRESHOLD_FIGURES } from './chat-policy.js';
import { escapeHtml } from './format-delta.js';

/** The threshold kept: on a level kind the grid value nearest to the asked one, within [floor, max]. */
export function storedThreshold(kind: AlertKind, asked: number): number {
  return isLevelKind(kind) ? snapLevel(kind, asked) : asked;
}

const unitOf = (kind: AlertKind) => THRESHOLD_FIGURES[kind]?.unit ?? '';
const withUnit = (kind: AlertKind, value: number) => `${value}${unitOf(kind)}`;

/**
 * What `/settings threshold` did with the asked value, in words: on a level kind the value is
 * snapped to the grid and never below the floor (below it a move is noise), and the chat gets
 * its own evaluation (`levelsPublished`) once the processor picks the level up; on other kinds
 * the threshold only filters the server's alerts, so it cannot go below the server's own.
 */
export function thresholdConfirmation(kind: AlertKind, asked: number, levelsPublished: boolean): string {
  const label = escapeHtml(KIND_LABELS[kind]);
  const description = escapeHtml(THRESHOLD_FIGURES[kind]?.description ?? '');
  if (!isLevelKind(kind)) {
    return `${label}: alerts from ${escapeHtml(withUnit(kind, asked))} (${description}). This filters the server's alerts: a threshold below the server's own adds none.`;
  }
  const grid = LEVEL_GRIDS[kind];
  const kept = snapLevel(kind, asked);
  const set = escapeHtml(withUnit(kind, kept));
  const lines: string[] = [];
  if (asked < grid.floorValue) {
    lines.push(
      `${escapeHtml(withUnit(kind, grid.floorValue))} is the lowest threshold for ${label}: below it a move is noise; set to ${set}.`,
    );
  } else if (asked > grid.maxValue) {
    lines.push(
      `${escapeHtml(withUnit(kind, grid.maxValue))} is the highest threshold for ${label}; set to ${set}.`,
    );
  } else if (kept !== asked) {
    lines.push(
      `Thresholds for ${label} go in steps of ${escapeHtml(withUnit(kind, grid.step))}; set to ${set}.`,
    );
  }
  lines.push(`${label}: alerts from ${set} (${description}), lower or higher than the server's.`);
  lines.push(
    levelsPublished
      ? "This chat's threshold is evaluated on its own (hysteresis, cooldown and direction as the server's). It takes effect within about 30 s, when the processor picks it up."
      : "Here it only filters the server's alerts: a threshold below the server's own adds none.",
  );
  return lines.join('\n');
}

/** `OI change 15m 1% · OI change 24h 3% · …`: the lowest threshold of each level kind. */
export function formatLevelFloors(): string {
  return LEVEL_KINDS.map(
    (kind) => `${escapeHtml(KIND_LABELS[kind])} ${escapeHtml(withUnit(kind, LEVEL_GRIDS[kind].floorValue))}`,
  ).join(' · ');
}
