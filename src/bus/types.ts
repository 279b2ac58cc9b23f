import type { AlertLevels } from '../domain/alert-levels.js';
import type { AlertJson, AlertKind, SnapshotJson } from '../domain/types.js';

/**
 * Where the processor's results go: Redis, or the in-process bus when no Redis is available.
 * Redis names below are under `{prefix}` (`REDIS_PREFIX`, default `pulse`).
 */
export interface Bus {
  readonly kind: 'redis' | 'memory';
  /**
   * Sets `{prefix}:latest:{venue}:{SYMBOL}` and publishes on `{prefix}:snapshot:{venue}:{SYMBOL}`.
   * Resolves to how many were written (the rest were dropped: pub/sub is at-most-once).
   */
  publishSnapshots(snapshots: readonly SnapshotJson[]): Promise<number>;
  /** Resolves once the bus can publish, or rejects after `timeoutMs`. */
  ready(timeoutMs: number): Promise<void>;
  /**
   * Publishes on `{prefix}:alert` and appends to the `{prefix}:alerts` stream. Never loses an alert it
   * accepted. `state`: alert-engine entries written in the same transaction (`{prefix}:alert-state`),
   * so a restart knows exactly which alerts went out.
   * Idempotent per `alert.id`: an id already written (by this process, a replay, or another
   * processor) is skipped and counted, checked atomically in Redis (`{prefix}:alert-id:{id}`, kept
   * 3 days) or, in memory, among the last ids published; `state` is written either way.
   */
  publishAlert(alert: AlertJson, state?: readonly AlertStateEntry[]): Promise<void>;
  /** Alert-engine state that changed without an alert (a rule re-armed); written in order with alerts. */
  saveAlertState(state: readonly AlertStateEntry[]): Promise<void>;
  /** Every stored alert-engine entry (`{prefix}:alert-state`). */
  loadAlertState(): Promise<string[]>;
  /** Reads `{prefix}:latest:{venue}:{SYMBOL}`. */
  latest(venue: string, symbol: string): Promise<SnapshotJson | null>;
  /** Reads many `{prefix}:latest:{venue}:{SYMBOL}` in one round trip; null where absent or unreadable. */
  latestMany(venue: string, symbols: readonly string[]): Promise<(SnapshotJson | null)[]>;
  /** Writes this process's feed health (`{prefix}:status`, one hash field per venue and shard). */
  publishFeedStatus(statuses: readonly FeedHealthJson[]): Promise<void>;
  /** Every process's feed health, for `/status` in a bot that runs apart from the processor. */
  feedStatus(): Promise<FeedHealthJson[]>;
  /** Symbols the processor tracks on a venue (`{prefix}:symbols:{venue}`). */
  trackedSymbols(venue: string): Promise<string[]>;
  setTrackedSymbols(venue: string, symbols: readonly string[]): Promise<void>;
  /** Replaces the analytics checkpoint stored under `key` (one JSON document per instrument). */
  saveCheckpoint(
    key: string,
    documents: readonly { readonly id: string; readonly json: string }[],
  ): Promise<void>;
  /** The checkpoint documents stored under `key`. */
  loadCheckpoint(key: string): Promise<string[]>;
  /** Replaces the chat thresholds the processor evaluates (`{prefix}:alert-levels`), written by the bot. */
  publishAlertLevels(levels: AlertLevels): Promise<void>;
  /** The chat thresholds to evaluate; {} when none were published or the value is unreadable. */
  alertLevels(): Promise<AlertLevels>;
  close(): Promise<void>;
}

/** One alert-engine rule state: field `key` of the `{prefix}:alert-state` hash. */
export interface AlertStateEntry {
  readonly key: string;
  readonly json: string;
}

/** One venue's feed health as one processor (or shard) sees it: the `{prefix}:status` hash, field `{venue}@{shard}`. */
export interface FeedHealthJson {
  readonly v: 1;
  readonly venue: string;
  /** `all`, or `i/n` under SHARD. */
  readonly shard: string;
  /** Wall-clock time this status was written. */
  readonly ts: number;
  /** Connections open and market data within `staleAfterMs`. */
  readonly ok: boolean;
  readonly connections: number;
  readonly open: number;
  /** Wall-clock time of the last market data on any connection of this venue; null before any. */
  readonly lastDataTs: number | null;
  readonly staleAfterMs: number;
  readonly instruments: number;
}

/** Which chats want alerts for which symbols. Stored in Redis so it survives a restart. */
export interface SubscriptionStore {
  /** Subscribes on every venue (venue undefined) or adds `venue` (`all` = the aggregate's alerts); true when the subscription changed. */
  add(chatId: number, symbol: string, venue?: string): Promise<boolean>;
  /** The venues whose alerts the chat wants for `symbol`: null = every venue; [] = not subscribed. */
  venuesFor(chatId: number, symbol: string): Promise<string[] | null>;
  remove(chatId: number, symbol: string): Promise<boolean>;
  removeChat(chatId: number): Promise<void>;
  /** Moves a chat's subscriptions to its new id (a group upgraded to a supergroup). */
  migrateChat(oldChatId: number, newChatId: number): Promise<void>;
  listForChat(chatId: number): Promise<string[]>;
  chatsFor(symbol: string): Promise<number[]>;
  /** Chats with a subscription, and subscriptions in all (for the operator's `/stats`). */
  counts?(): Promise<{ chats: number; subscriptions: number }>;
  close(): Promise<void>;
}

/** One chat's alert preferences. Absent fields mean "the server default". */
export interface ChatSettings {
  /** Per alert kind: off, or a threshold in the kind's unit (OI kinds: percent) replacing the server's. */
  readonly kinds: Readonly<
    Partial<Record<AlertKind, { readonly enabled: boolean; readonly threshold?: number }>>
  >;
  /** Venues whose alerts this chat wants; null = every venue. */
  readonly venues: readonly string[] | null;
  /** Alerts are held from `startHour` to `endHour` (UTC, 0–23, may wrap midnight) and summarized after. */
  readonly quietHours: { readonly startHour: number; readonly endHour: number } | null;
  /** Remind this many minutes before a subscribed symbol's funding settles; null = off. */
  readonly fundingReminderMin: number | null;
}

export const DEFAULT_CHAT_SETTINGS: ChatSettings = {
  kinds: {},
  venues: null,
  quietHours: null,
  fundingReminderMin: null,
};

/** Per-chat settings, mutes and quiet-hour holds, in Redis (`{prefix}:chat:{chatId}:*`). */
export interface ChatSettingsStore {
  get(chatId: number): Promise<ChatSettings>;
  /** Merges `patch` into the chat's settings and returns the result. */
  update(chatId: number, patch: Partial<ChatSettings>): Promise<ChatSettings>;
  /** Alerts for `symbol` are not sent to this chat before `untilMs` (wall clock). */
  mute(chatId: number, symbol: string, untilMs: number): Promise<void>;
  /** When the mute ends, or null when not muted at `nowMs`. */
  mutedUntil(chatId: number, symbol: string, nowMs: number): Promise<number | null>;
  /** Keeps an alert for the summary after quiet hours (bounded; the oldest are dropped). */
  hold(chatId: number, alert: AlertJson): Promise<void>;
  /** Returns and forgets the held alerts, oldest first. */
  takeHeld(chatId: number): Promise<AlertJson[]>;
  /** Chats with quiet hours or a funding reminder set (for the bot's once-a-minute sweep). */
  chatsWithSchedules(): Promise<number[]>;
  /**
   * The chat levels every chat's thresholds ask the processor to evaluate (see
   * `requestedLevelsOf`: snapped to the grid, the most requested `MAX_LEVELS_PER_KIND` per kind).
   */
  requestedLevels(): Promise<AlertLevels>;
  removeChat(chatId: number): Promise<void>;
  migrateChat(oldChatId: number, newChatId: number): Promise<void>;
  close(): Promise<void>;
}
