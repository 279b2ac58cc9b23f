/**
 * What a chat's settings may hold (validation, merging a change, the stored form) and the chat
 * levels they ask the processor for. Pure: the stores in `chat-settings-store.ts` do the I/O.
 */
import {
  type AlertLevels,
  isLevelKind,
  LEVEL_KINDS,
  MAX_LEVELS_PER_KIND,
  snapLevel,
} from '../domain/alert-levels.js';
import { ALERT_KINDS, type AlertKind, VENUE_IDS } from '../domain/types.js';
import { type ChatSettings, DEFAULT_CHAT_SETTINGS } from './types.js';

export const MIN_REMINDER_MIN = 1;
export const MAX_REMINDER_MIN = 240;

export type ChatSettingsErrorCode = 'E_SETTINGS_INVALID';

/** Thrown by `update` (and `mute`) when a value is out of range; the message names the field. */
export class ChatSettingsError extends Error {
  constructor(
    readonly code: ChatSettingsErrorCode,
    message: string,
  ) {
    super(message);
    this.name = 'ChatSettingsError';
  }
}

export const invalid = (message: string) => new ChatSettingsError('E_SETTINGS_INVALID', message);
type KindEntry = { readonly enabled: boolean; readonly threshold?: number };

export function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

const isHour = (h: unknown): h is number => Number.isInteger(h) && (h as number) >= 0 && (h as number) <= 23;

/**
 * Checks every field and returns a clean copy: unknown kinds, venues outside VENUE_IDS, hours
 * outside 0–23, thresholds ≤ 0 and reminders outside 1–240 min throw `ChatSettingsError`.
 * A kind entry `{ enabled: true }` without a threshold is the default and is dropped.
 */
export function validateChatSettings(input: unknown): ChatSettings {
  if (!isRecord(input)) throw invalid('settings must be an object');
  const kindsIn = input.kinds ?? {};
  if (!isRecord(kindsIn)) throw invalid('kinds must be an object');
  const kinds: Partial<Record<AlertKind, KindEntry>> = {};
  for (const [name, entry] of Object.entries(kindsIn)) {
    if (!ALERT_KINDS.includes(name as AlertKind)) throw invalid(`unknown alert kind: ${name}`);
    if (entry === undefined) continue;
    if (!isRecord(entry) || typeof entry.enabled !== 'boolean') {
      throw invalid(`kinds.${name} needs enabled: true or false`);
    }
    const { threshold } = entry;
    if (threshold !== undefined && threshold !== null) {
      if (typeof threshold !== 'number' || !Number.isFinite(threshold) || threshold <= 0) {
        throw invalid(`threshold of ${name} must be a number above 0`);
      }
      kinds[name as AlertKind] = { enabled: entry.enabled, threshold };
    } else if (!entry.enabled) {
      kinds[name as AlertKind] = { enabled: false };
    }
  }
  let venues: string[] | null = null;
  if (input.venues !== undefined && input.venues !== null) {
    if (!Array.isArray(input.venues) || input.venues.length === 0) {
      throw invalid('venues must be a non-empty list (or null for every venue)');
    }
    for (const v of input.venues) {
      if (!VENUE_IDS.includes(v)) throw invalid(`unknown venue: ${String(v)} (use ${VENUE_IDS.join(', ')})`);
    }
    venues = VENUE_IDS.filter((v) => (input.venues as unknown[]).includes(v));
  }
  let quietHours: ChatSettings['quietHours'] = null;
  if (input.quietHours !== undefined && input.quietHours !== null) {
    const q = input.quietHours;
    if (!isRecord(q) || !isHour(q.startHour) || !isHour(q.endHour)) {
      throw invalid('quiet hours need a start and an end hour between 0 and 23');
    }
    if (q.startHour === q.endHour) throw invalid('quiet hours must start and end at different hours');
    quietHours = { startHour: q.startHour, endHour: q.endHour };
  }
  let fundingReminderMin: number | null = null;
  if (input.fundingReminderMin !== undefined && input.fundingReminderMin !== null) {
    const m = input.fundingReminderMin;
    if (!Number.isInteger(m) || (m as number) < MIN_REMINDER_MIN || (m as number) > MAX_REMINDER_MIN) {
      throw invalid(`the funding reminder must be ${MIN_REMINDER_MIN}–${MAX_REMINDER_MIN} minutes`);
    }
    fundingReminderMin = m as number;
  }
  return { kinds, venues, quietHours, fundingReminderMin };
}

/**
 * `patch` over `current`: top-level fields replace, `kinds` merges per kind (a patch entry
 * replaces that kind's entry, so toggling one kind never touches another). Validated.
 */
export function mergeChatSettings(current: ChatSettings, patch: Partial<ChatSettings>): ChatSettings {
  const merged = {
    kinds: patch.kinds === undefined ? current.kinds : { ...current.kinds, ...patch.kinds },
    venues: patch.venues === undefined ? current.venues : patch.venues,
    quietHours: patch.quietHours === undefined ? current.quietHours : patch.quietHours,
    fundingReminderMin:
      patch.fundingReminderMin === undefined ? current.fundingReminderMin : patch.fundingReminderMin,
  };
  return validateChatSettings(merged);
}

/** The patch that puts every field back to the server default (kinds merge, so each is reset). */
export function resetPatch(): Partial<ChatSettings> {
  return {
    ...DEFAULT_CHAT_SETTINGS,
    kinds: Object.fromEntries(ALERT_KINDS.map((k) => [k, { enabled: true }])),
  };
}

/** Quiet hours or a reminder: the sweep must look at this chat. */
export function hasSchedule(settings: ChatSettings): boolean {
  return settings.quietHours !== null || settings.fundingReminderMin !== null;
}

/** Stored JSON → settings, or null when it cannot be read (bad JSON, unknown version, bad field). */
export function parseStoredSettings(text: string): ChatSettings | null {
  try {
    const parsed: unknown = JSON.parse(text);
    if (!isRecord(parsed) || parsed.v !== 1) return null;
    return validateChatSettings(parsed);
  } catch {
    return null;
  }
}

/**
 * The chat levels to publish (`{prefix}:alert-levels`) from every chat's settings: per level kind,
 * each enabled threshold snapped to the kind's grid (never below its floor), counted once per
 * chat; the `MAX_LEVELS_PER_KIND` levels most chats asked for are kept (ties: the lower level,
 * which catches more), ascending. A kind nobody set is absent.
 */
export function requestedLevelsOf(all: Iterable<ChatSettings>): AlertLevels {
  const counts = new Map<string, Map<number, number>>();
  for (const settings of all) {
    for (const [kind, entry] of Object.entries(settings.kinds)) {
      if (!isLevelKind(kind) || entry?.enabled === false || entry?.threshold === undefined) continue;
      const level = snapLevel(kind, entry.threshold);
      const perKind = counts.get(kind) ?? new Map<number, number>();
      perKind.set(level, (perKind.get(level) ?? 0) + 1);
      counts.set(kind, perKind);
    }
  }
  const out: Partial<Record<(typeof LEVEL_KINDS)[number], number[]>> = {};
  for (const kind of LEVEL_KINDS) {
    const perKind = counts.get(kind);
    if (perKind === undefined) continue;
    out[kind] = [...perKind]
      .sort((a, b) => b[1] - a[1] || a[0] - b[0])
      .slice(0, MAX_LEVELS_PER_KIND)
      .map(([level]) => level)
      .sort((a, b) => a - b);
  }
  return out;
}
