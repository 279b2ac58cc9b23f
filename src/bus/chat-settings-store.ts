import { Redis } from 'ioredis';
import type { Logger } from 'pino';
import type { AlertLevels } from '../domain/alert-levels.js';
import { canonicalSymbol } from '../domain/symbols.js';
import type { AlertJson } from '../domain/types.js';
import {
  hasSchedule,
  invalid,
  isRecord,
  mergeChatSettings,
  parseStoredSettings,
  requestedLevelsOf,
} from './chat-settings.js';
import { DEFAULT_REDIS_NAMES, DEFAULT_REDIS_PREFIX, type RedisNames, redisNames } from './keys.js';
import { type ChatSettings, type ChatSettingsStore, DEFAULT_CHAT_SETTINGS } from './types.js';

export {
  ChatSettingsError,
  type ChatSettingsErrorCode,
  hasSchedule,
  MAX_REMINDER_MIN,
  MIN_REMINDER_MIN,
  mergeChatSettings,
  parseStoredSettings,
  requestedLevelsOf,
  resetPatch,
  validateChatSettings,
} from './chat-settings.js';

/** Alerts kept per chat for the summary after quiet hours; older ones are dropped. */
export const MAX_HELD_ALERTS = 50;
/** Held alerts nobody collected (the bot was down for days) expire with their list. */
const HELD_TTL_SEC = 2 * 24 * 3600;

function toStoredJson(settings: ChatSettings): string {
  return JSON.stringify({ v: 1, ...settings });
}

function toMutedSymbol(symbol: string): string {
  const s = canonicalSymbol(symbol);
  if (s === null) throw invalid(`not a symbol: ${JSON.stringify(symbol)}`);
  return s;
}

function parseHeld(items: readonly string[], onBad: () => void): AlertJson[] {
  const out: AlertJson[] = [];
  for (const item of items) {
    try {
      const alert: unknown = JSON.parse(item);
      if (isRecord(alert) && typeof alert.id === 'string' && typeof alert.symbol === 'string') {
        out.push(alert as unknown as AlertJson);
        continue;
      }
    } catch {
      // counted below
    }
    onBad();
  }
  return out;
}

/** `pulse:schedules` (default prefix). */
export const SCHEDULES_KEY = DEFAULT_REDIS_NAMES.schedulesKey;

type ExecResult = [error: Error | null, result: unknown][] | null;

function replies(res: ExecResult): unknown[] {
  if (res === null) throw new Error('chat settings store: transaction aborted');
  return res.map(([err, value]) => {
    if (err) throw err;
    return value;
  });
}

/**
 * Settings in Redis: `{prefix}:chat:{chatId}:settings` (JSON, `v: 1`), `{prefix}:chat:{chatId}:mutes`
 * (hash SYMBOL → until, epoch ms; the key expires with its last mute), `{prefix}:chat:{chatId}:held`
 * (list of alert JSON, the newest 50, expires 2 days after the last hold) and `{prefix}:schedules`
 * (set of chat ids with quiet hours, a reminder or held alerts). Owns its connection; commands fail
 * after 2 reconnect attempts instead of queueing forever. Updates are read-modify-write: two bot
 * processes changing the same chat in the same instant may lose one change (last write wins).
 */
export class RedisChatSettingsStore implements ChatSettingsStore {
  private readonly redis: Redis;
  private readonly names: RedisNames;
  private closing: Promise<void> | undefined;

  constructor(
    redisUrl: string,
    private readonly logger?: Logger,
    /** `prefix`: `REDIS_PREFIX`, default `pulse`. */
    options: { readonly prefix?: string } = {},
  ) {
    this.names = redisNames(options.prefix ?? DEFAULT_REDIS_PREFIX);
    this.redis = new Redis(redisUrl, {
      protocol: 2,
      maxRetriesPerRequest: 2,
      connectionName: 'pulse-settings',
    });
    this.redis.on('error', (err) => logger?.warn({ err }, 'chat settings store: redis error'));
  }

  async get(chatId: number): Promise<ChatSettings> {
    return this.read(chatId, await this.redis.get(this.names.chatSettingsKey(chatId)));
  }

  private read(chatId: number, text: string | null): ChatSettings {
    if (text === null) return DEFAULT_CHAT_SETTINGS;
    const settings = parseStoredSettings(text);
    if (settings !== null) return settings;
    this.logger?.warn({ chatId }, 'chat settings store: unreadable settings, using the defaults');
    return DEFAULT_CHAT_SETTINGS;
  }

  async update(chatId: number, patch: Partial<ChatSettings>): Promise<ChatSettings> {
    const next = mergeChatSettings(await this.get(chatId), patch);
    const tx = this.redis.multi().set(this.names.chatSettingsKey(chatId), toStoredJson(next));
    if (hasSchedule(next)) tx.sadd(this.names.schedulesKey, String(chatId));
    else tx.llen(this.names.chatHeldKey(chatId));
    const res = replies(await tx.exec());
    // Held alerts still need their summary: the chat stays in the sweep until they are taken.
    if (!hasSchedule(next) && res[1] === 0) await this.redis.srem(this.names.schedulesKey, String(chatId));
    return next;
  }

  async mute(chatId: number, symbol: string, untilMs: number): Promise<void> {
    const s = toMutedSymbol(symbol);
    if (!Number.isFinite(untilMs)) throw invalid('untilMs must be a time');
    const res = replies(
      await this.redis
        .multi()
        .hset(this.names.chatMutesKey(chatId), s, String(Math.round(untilMs)))
        .hvals(this.names.chatMutesKey(chatId))
        .exec(),
    );
    const lastMs = Math.max(...(res[1] as string[]).map(Number).filter(Number.isFinite));
    if (Number.isFinite(lastMs)) await this.redis.pexpireat(this.names.chatMutesKey(chatId), lastMs);
  }

  async mutedUntil(chatId: number, symbol: string, nowMs: number): Promise<number | null> {
    const s = canonicalSymbol(symbol);
    if (s === null) return null;
    const raw = await this.redis.hget(this.names.chatMutesKey(chatId), s);
    if (raw === null) return null;
    const untilMs = Number(raw);
    if (Number.isFinite(untilMs) && untilMs > nowMs) return untilMs;
    await this.redis.hdel(this.names.chatMutesKey(chatId), s);
    return null;
  }

  async hold(chatId: number, alert: AlertJson): Promise<void> {
    const key = this.names.chatHeldKey(chatId);
    replies(
      await this.redis
        .multi()
        .rpush(key, JSON.stringify(alert))
        .ltrim(key, -MAX_HELD_ALERTS, -1)
        .expire(key, HELD_TTL_SEC)
        .sadd(this.names.schedulesKey, String(chatId))
        .exec(),
    );
  }

  async takeHeld(chatId: number): Promise<AlertJson[]> {
    const settings = await this.get(chatId);
    const tx = this.redis
      .multi()
      .lrange(this.names.chatHeldKey(chatId), 0, -1)
      .del(this.names.chatHeldKey(chatId));
    if (!hasSchedule(settings)) tx.srem(this.names.schedulesKey, String(chatId));
    const [items] = replies(await tx.exec());
    return parseHeld(items as string[], () =>
      this.logger?.warn({ chatId }, 'chat settings store: unreadable held alert dropped'),
    );
  }

  async chatsWithSchedules(): Promise<number[]> {
    const ids = await this.redis.smembers(this.names.schedulesKey);
    return ids
      .map(Number)
      .filter(Number.isSafeInteger)
      .sort((a, b) => a - b);
  }

  /**
   * Scans `{prefix}:chat:*:settings` (SCAN, a batch of keys and one MGET at a time, so Redis is never
   * blocked) and keeps only the settings with a threshold: memory grows with those chats, not all.
   */
  async requestedLevels(): Promise<AlertLevels> {
    const withThreshold: ChatSettings[] = [];
    let cursor = '0';
    do {
      const [next, keys] = await this.redis.scan(
        cursor,
        'MATCH',
        this.names.patterns.chatSettings,
        'COUNT',
        500,
      );
      cursor = next;
      if (keys.length === 0) continue;
      for (const text of await this.redis.mget(...keys)) {
        const settings = text === null ? null : parseStoredSettings(text);
        if (settings && Object.values(settings.kinds).some((k) => k?.threshold !== undefined)) {
          withThreshold.push(settings);
        }
      }
    } while (cursor !== '0');
    return requestedLevelsOf(withThreshold);
  }

  async removeChat(chatId: number): Promise<void> {
    replies(
      await this.redis
        .multi()
        .del(
          this.names.chatSettingsKey(chatId),
          this.names.chatMutesKey(chatId),
          this.names.chatHeldKey(chatId),
        )
        .srem(this.names.schedulesKey, String(chatId))
        .exec(),
    );
  }

  /** Moves settings, mutes (with their expiry) and held alerts; the old chat's data wins over the new id's. */
  async migrateChat(oldChatId: number, newChatId: number): Promise<void> {
    if (oldChatId === newChatId) return;
    const [settings, mutes, mutesTtlMs, held, scheduled] = replies(
      await this.redis
        .multi()
        .get(this.names.chatSettingsKey(oldChatId))
        .hgetall(this.names.chatMutesKey(oldChatId))
        .pttl(this.names.chatMutesKey(oldChatId))
        .lrange(this.names.chatHeldKey(oldChatId), 0, -1)
        .sismember(this.names.schedulesKey, String(oldChatId))
        .exec(),
    ) as [string | null, Record<string, string>, number, string[], number];
    const tx = this.redis.multi();
    if (settings !== null) tx.set(this.names.chatSettingsKey(newChatId), settings);
    if (Object.keys(mutes).length > 0) {
      tx.hset(this.names.chatMutesKey(newChatId), mutes);
      if (mutesTtlMs > 0) tx.pexpire(this.names.chatMutesKey(newChatId), mutesTtlMs);
    }
    if (held.length > 0) {
      tx.rpush(this.names.chatHeldKey(newChatId), ...held);
      tx.ltrim(this.names.chatHeldKey(newChatId), -MAX_HELD_ALERTS, -1);
      tx.expire(this.names.chatHeldKey(newChatId), HELD_TTL_SEC);
    }
    if (scheduled === 1) tx.sadd(this.names.schedulesKey, String(newChatId));
    tx.del(
      this.names.chatSettingsKey(oldChatId),
      this.names.chatMutesKey(oldChatId),
      this.names.chatHeldKey(oldChatId),
    );
    tx.srem(this.names.schedulesKey, String(oldChatId));
    replies(await tx.exec());
  }

  /** Sends QUIT (pending replies still arrive); idempotent. */
  close(): Promise<void> {
    this.closing ??= this.redis.quit().then(
      () => undefined,
      () => this.redis.disconnect(),
    );
    return this.closing;
  }
}

/** The same behaviour in process memory, for runs without Redis. Mutes are pruned as they expire. */
export class MemoryChatSettingsStore implements ChatSettingsStore {
  private readonly settings = new Map<number, ChatSettings>();
  private readonly mutes = new Map<number, Map<string, number>>();
  private readonly held = new Map<number, AlertJson[]>();

  async get(chatId: number): Promise<ChatSettings> {
    return this.settings.get(chatId) ?? DEFAULT_CHAT_SETTINGS;
  }

  async update(chatId: number, patch: Partial<ChatSettings>): Promise<ChatSettings> {
    const next = mergeChatSettings(await this.get(chatId), patch);
    this.settings.set(chatId, next);
    return next;
  }

  async mute(chatId: number, symbol: string, untilMs: number): Promise<void> {
    const s = toMutedSymbol(symbol);
    if (!Number.isFinite(untilMs)) throw invalid('untilMs must be a time');
    const mine = this.mutes.get(chatId) ?? new Map<string, number>();
    mine.set(s, Math.round(untilMs));
    this.mutes.set(chatId, mine);
  }

  async mutedUntil(chatId: number, symbol: string, nowMs: number): Promise<number | null> {
    const s = canonicalSymbol(symbol);
    const mine = this.mutes.get(chatId);
    if (s === null || mine === undefined) return null;
    const untilMs = mine.get(s);
    if (untilMs === undefined) return null;
    if (untilMs > nowMs) return untilMs;
    mine.delete(s);
    if (mine.size === 0) this.mutes.delete(chatId);
    return null;
  }

  async hold(chatId: number, alert: AlertJson): Promise<void> {
    const list = this.held.get(chatId) ?? [];
    // A copy, as Redis would keep: later changes to the caller's object do not leak in.
    list.push(structuredClone(alert));
    if (list.length > MAX_HELD_ALERTS) list.splice(0, list.length - MAX_HELD_ALERTS);
    this.held.set(chatId, list);
  }

  async takeHeld(chatId: number): Promise<AlertJson[]> {
    const list = this.held.get(chatId) ?? [];
    this.held.delete(chatId);
    return list;
  }

  async chatsWithSchedules(): Promise<number[]> {
    const ids = new Set(this.held.keys());
    for (const [chatId, s] of this.settings) if (hasSchedule(s)) ids.add(chatId);
    return [...ids].sort((a, b) => a - b);
  }

  async requestedLevels(): Promise<AlertLevels> {
    return requestedLevelsOf(this.settings.values());
  }

  async removeChat(chatId: number): Promise<void> {
    this.settings.delete(chatId);
    this.mutes.delete(chatId);
    this.held.delete(chatId);
  }

  async migrateChat(oldChatId: number, newChatId: number): Promise<void> {
    if (oldChatId === newChatId) return;
    const settings = this.settings.get(oldChatId);
    if (settings !== undefined) this.settings.set(newChatId, settings);
    const mutes = this.mutes.get(oldChatId);
    if (mutes !== undefined) {
      const target = this.mutes.get(newChatId) ?? new Map<string, number>();
      for (const [s, untilMs] of mutes) target.set(s, untilMs);
      this.mutes.set(newChatId, target);
    }
    const held = this.held.get(oldChatId);
    if (held !== undefined) {
      const merged = [...(this.held.get(newChatId) ?? []), ...held].slice(-MAX_HELD_ALERTS);
      this.held.set(newChatId, merged);
    }
    await this.removeChat(oldChatId);
  }

  async close(): Promise<void> {}
}
