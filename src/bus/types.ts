import type { AlertJson, SnapshotJson } from '../domain/types.js';

/** Where the processor's results go: Redis, or the in-process bus when no Redis is available. */
export interface Bus {
  readonly kind: 'redis' | 'memory';
  /**
   * Sets `pulse:latest:{venue}:{SYMBOL}` and publishes on `pulse:snapshot:{venue}:{SYMBOL}`.
   * Resolves to how many were written (the rest were dropped: pub/sub is at-most-once).
   */
  publishSnapshots(snapshots: readonly SnapshotJson[]): Promise<number>;
  /** Resolves once the bus can publish, or rejects after `timeoutMs`. */
  ready(timeoutMs: number): Promise<void>;
  /** Publishes on `pulse:alert` and appends to the `pulse:alerts` stream. Never loses an alert it accepted. */
  publishAlert(alert: AlertJson): Promise<void>;
  /** Reads `pulse:latest:{venue}:{SYMBOL}`. */
  latest(venue: string, symbol: string): Promise<SnapshotJson | null>;
  /** Symbols the processor tracks on a venue (`pulse:symbols:{venue}`). */
  trackedSymbols(venue: string): Promise<string[]>;
  setTrackedSymbols(venue: string, symbols: readonly string[]): Promise<void>;
  /** Replaces the analytics checkpoint stored under `key` (one JSON document per instrument). */
  saveCheckpoint(
    key: string,
    documents: readonly { readonly id: string; readonly json: string }[],
  ): Promise<void>;
  /** The checkpoint documents stored under `key`. */
  loadCheckpoint(key: string): Promise<string[]>;
  close(): Promise<void>;
}

/** Which chats want alerts for which symbols. Stored in Redis so it survives a restart. */
export interface SubscriptionStore {
  add(chatId: number, symbol: string): Promise<boolean>;
  remove(chatId: number, symbol: string): Promise<boolean>;
  removeChat(chatId: number): Promise<void>;
  /** Moves a chat's subscriptions to its new id (a group upgraded to a supergroup). */
  migrateChat(oldChatId: number, newChatId: number): Promise<void>;
  listForChat(chatId: number): Promise<string[]>;
  chatsFor(symbol: string): Promise<number[]>;
  close(): Promise<void>;
}
