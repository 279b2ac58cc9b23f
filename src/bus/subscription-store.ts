import { Redis } from 'ioredis';
import type { Logger } from 'pino';
import { canonicalSymbol } from '../domain/symbols.js';
import { DEFAULT_REDIS_PREFIX, type RedisNames, redisNames } from './keys.js';
import type { SubscriptionStore } from './types.js';

/** How many symbols one chat may follow; keeps `/list` and the fan-out of one chat small. */
export const DEFAULT_MAX_SYMBOLS_PER_CHAT = 100;

export type SubscriptionErrorCode = 'E_SUB_LIMIT' | 'E_SUB_SYMBOL' | 'E_SUB_VENUE';

/** Thrown by `add` when the chat already follows the maximum, or the symbol or venue cannot be one. */
export class SubscriptionError extends Error {
  constructor(
    readonly code: SubscriptionErrorCode,
    message: string,
  ) {
    super(message);
    this.name = 'SubscriptionError';
  }
}

function toSymbol(input: string): string {
  const symbol = canonicalSymbol(input);
  if (symbol === null) throw new SubscriptionError('E_SUB_SYMBOL', `not a symbol: ${JSON.stringify(input)}`);
  return symbol;
}

/** Venue ids are lower case (`bybit`; `all` is the cross-venue aggregate); no commas, since they are stored joined. */
function toVenue(input: string): string {
  const venue = input.trim().toLowerCase();
  if (!/^[a-z0-9_-]{1,24}$/.test(venue)) {
    throw new SubscriptionError('E_SUB_VENUE', `not a venue: ${JSON.stringify(input.slice(0, 40))}`);
  }
  return venue;
}

/** `"bybit,okx"` → `['bybit', 'okx']`; a missing or empty field means every venue (null). */
function parseVenues(stored: string | null | undefined): string[] | null {
  if (stored === null || stored === undefined) return null;
  const venues = stored.split(',').filter((v) => v.length > 0);
  return venues.length === 0 ? null : venues;
}

/**
 * What a chat gets for a symbol after also asking for `venue` (undefined: every venue).
 * Every venue (null) already covers any single venue; asking for every venue widens a list.
 */
function mergeVenues(current: readonly string[] | null, venue: string | undefined): string[] | null {
  if (current === null || venue === undefined) return null;
  return current.includes(venue) ? [...current] : [...current, venue].sort();
}

/** The union of two chats' venue choices for one symbol (null = every venue wins). */
function unionVenues(a: readonly string[] | null, b: readonly string[] | null): string[] | null {
  if (a === null || b === null) return null;
  return [...new Set([...a, ...b])].sort();
}

const sameVenues = (a: readonly string[] | null, b: readonly string[] | null): boolean =>
  a === null || b === null ? a === b : a.join(',') === b.join(',');

function limitError(max: number): SubscriptionError {
  return new SubscriptionError('E_SUB_LIMIT', `a chat can follow at most ${max} symbols`);
}

export interface SubscriptionStoreOptions {
  /** Default 100. `add` throws `SubscriptionError` with code `E_SUB_LIMIT` beyond it. */
  readonly maxSymbolsPerChat?: number;
  /** `REDIS_PREFIX` (Redis store only): keys are `{prefix}:subs:…`, `{prefix}:chat:…`; default `pulse`. */
  readonly prefix?: string;
}

/**
 * Subscriptions in Redis: `{prefix}:subs:{SYMBOL}` (set of chat ids), `{prefix}:chat:{chatId}:subs`
 * (set of symbols) and `{prefix}:chat:{chatId}:subvenues` (hash SYMBOL → comma-separated venues, only
 * for symbols limited to some venues), all written in one MULTI.
 * Owns its connection; commands fail after 2 reconnect attempts instead of queueing forever.
 */
export class RedisSubscriptionStore implements SubscriptionStore {
  private readonly redis: Redis;
  private readonly names: RedisNames;
  private readonly maxSymbols: number;
  private closing: Promise<void> | undefined;

  constructor(redisUrl: string, logger?: Logger, options: SubscriptionStoreOptions = {}) {
    this.maxSymbols = options.maxSymbolsPerChat ?? DEFAULT_MAX_SYMBOLS_PER_CHAT;
    this.names = redisNames(options.prefix ?? DEFAULT_REDIS_PREFIX);
    this.redis = new Redis(redisUrl, { protocol: 2, maxRetriesPerRequest: 2, connectionName: 'pulse-subs' });
    // Without a listener ioredis prints every failed reconnect as an unhandled error event.
    this.redis.on('error', (err) => logger?.warn({ err }, 'subscription store: redis error'));
  }

  async add(chatId: number, symbol: string, venue?: string): Promise<boolean> {
    const s = toSymbol(symbol);
    const v = venue === undefined ? undefined : toVenue(venue);
    const [isMember, count, stored] = await Promise.all([
      this.redis.sismember(this.names.chatSubsKey(chatId), s),
      this.redis.scard(this.names.chatSubsKey(chatId)),
      this.redis.hget(this.names.chatSubVenuesKey(chatId), s),
    ]);
    if (isMember === 1) {
      const current = parseVenues(stored);
      const next = mergeVenues(current, v);
      if (sameVenues(current, next)) return false;
      if (next === null) await this.redis.hdel(this.names.chatSubVenuesKey(chatId), s);
      else await this.redis.hset(this.names.chatSubVenuesKey(chatId), s, next.join(','));
      return true;
    }
    // Check-then-write: two concurrent adds may overshoot the limit by one, which is harmless.
    if (count >= this.maxSymbols) throw limitError(this.maxSymbols);
    const tx = this.redis
      .multi()
      .sadd(this.names.chatSubsKey(chatId), s)
      .sadd(this.names.subsKey(s), String(chatId));
    if (v === undefined) tx.hdel(this.names.chatSubVenuesKey(chatId), s);
    else tx.hset(this.names.chatSubVenuesKey(chatId), s, v);
    return firstReply(await tx.exec()) === 1;
  }

  async remove(chatId: number, symbol: string): Promise<boolean> {
    const s = canonicalSymbol(symbol);
    if (s === null) return false;
    const res = await this.redis
      .multi()
      .srem(this.names.chatSubsKey(chatId), s)
      .srem(this.names.subsKey(s), String(chatId))
      .hdel(this.names.chatSubVenuesKey(chatId), s)
      .exec();
    return firstReply(res) === 1;
  }

  async removeChat(chatId: number): Promise<void> {
    const symbols = await this.redis.smembers(this.names.chatSubsKey(chatId));
    const tx = this.redis.multi();
    for (const s of symbols) tx.srem(this.names.subsKey(s), String(chatId));
    tx.del(this.names.chatSubsKey(chatId), this.names.chatSubVenuesKey(chatId));
    await execOrThrow(tx.exec());
  }

  /** Merges into the new id: where both chats follow a symbol, the union of their venues. */
  async migrateChat(oldChatId: number, newChatId: number): Promise<void> {
    if (oldChatId === newChatId) return;
    const [symbols, oldVenues, newSymbols, newVenues] = await Promise.all([
      this.redis.smembers(this.names.chatSubsKey(oldChatId)),
      this.redis.hgetall(this.names.chatSubVenuesKey(oldChatId)),
      this.redis.smembers(this.names.chatSubsKey(newChatId)),
      this.redis.hgetall(this.names.chatSubVenuesKey(newChatId)),
    ]);
    if (symbols.length === 0) return;
    const already = new Set(newSymbols);
    const tx = this.redis.multi();
    for (const s of symbols) {
      tx.srem(this.names.subsKey(s), String(oldChatId));
      tx.sadd(this.names.subsKey(s), String(newChatId));
      const mine = parseVenues(oldVenues[s]);
      const merged = already.has(s) ? unionVenues(mine, parseVenues(newVenues[s])) : mine;
      if (merged === null) tx.hdel(this.names.chatSubVenuesKey(newChatId), s);
      else tx.hset(this.names.chatSubVenuesKey(newChatId), s, merged.join(','));
    }
    tx.sadd(this.names.chatSubsKey(newChatId), ...symbols);
    tx.del(this.names.chatSubsKey(oldChatId), this.names.chatSubVenuesKey(oldChatId));
    await execOrThrow(tx.exec());
  }

  async venuesFor(chatId: number, symbol: string): Promise<string[] | null> {
    const s = canonicalSymbol(symbol);
    if (s === null) return [];
    const [isMember, stored] = await Promise.all([
      this.redis.sismember(this.names.chatSubsKey(chatId), s),
      this.redis.hget(this.names.chatSubVenuesKey(chatId), s),
    ]);
    return isMember === 1 ? parseVenues(stored) : [];
  }

  async listForChat(chatId: number): Promise<string[]> {
    return (await this.redis.smembers(this.names.chatSubsKey(chatId))).sort();
  }

  /** Chats with a subscription and subscriptions in all, for `/stats` (a SCAN: operator use only). */
  async counts(): Promise<{ chats: number; subscriptions: number }> {
    let chats = 0;
    let subscriptions = 0;
    let cursor = '0';
    do {
      const [next, keys] = await this.redis.scan(cursor, 'MATCH', this.names.patterns.subs, 'COUNT', 500);
      cursor = next;
      for (const key of keys) subscriptions += await this.redis.scard(key);
    } while (cursor !== '0');
    cursor = '0';
    do {
      const [next, keys] = await this.redis.scan(cursor, 'MATCH', this.names.patterns.chatSubs, 'COUNT', 500);
      cursor = next;
      chats += keys.length;
    } while (cursor !== '0');
    return { chats, subscriptions };
  }

  async chatsFor(symbol: string): Promise<number[]> {
    const s = canonicalSymbol(symbol);
    if (s === null) return [];
    const ids = await this.redis.smembers(this.names.subsKey(s));
    return ids
      .map(Number)
      .filter(Number.isSafeInteger)
      .sort((a, b) => a - b);
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

type ExecResult = [error: Error | null, result: unknown][] | null;

function firstReply(res: ExecResult): unknown {
  if (res === null) throw new Error('subscription store: transaction aborted');
  const [err, value] = res[0] ?? [null, null];
  if (err) throw err;
  return value;
}

async function execOrThrow(pending: Promise<ExecResult>): Promise<void> {
  const res = await pending;
  if (res === null) throw new Error('subscription store: transaction aborted');
  for (const [err] of res) if (err) throw err;
}

/** The same semantics in process memory, for runs without Redis and for unit tests. */
export class MemorySubscriptionStore implements SubscriptionStore {
  private readonly bySymbol = new Map<string, Set<number>>();
  private readonly byChat = new Map<number, Set<string>>();
  /** Per chat, the symbols limited to some venues; a symbol absent here means every venue. */
  private readonly venuesByChat = new Map<number, Map<string, string[]>>();
  private readonly maxSymbols: number;

  constructor(options: SubscriptionStoreOptions = {}) {
    this.maxSymbols = options.maxSymbolsPerChat ?? DEFAULT_MAX_SYMBOLS_PER_CHAT;
  }

  async add(chatId: number, symbol: string, venue?: string): Promise<boolean> {
    const s = toSymbol(symbol);
    const v = venue === undefined ? undefined : toVenue(venue);
    const mine = this.byChat.get(chatId) ?? new Set<string>();
    if (mine.has(s)) {
      const current = this.venuesByChat.get(chatId)?.get(s) ?? null;
      const next = mergeVenues(current, v);
      if (sameVenues(current, next)) return false;
      this.setVenues(chatId, s, next);
      return true;
    }
    if (mine.size >= this.maxSymbols) throw limitError(this.maxSymbols);
    mine.add(s);
    this.byChat.set(chatId, mine);
    const chats = this.bySymbol.get(s) ?? new Set<number>();
    chats.add(chatId);
    this.bySymbol.set(s, chats);
    this.setVenues(chatId, s, v === undefined ? null : [v]);
    return true;
  }

  async remove(chatId: number, symbol: string): Promise<boolean> {
    const s = canonicalSymbol(symbol);
    if (s === null) return false;
    const mine = this.byChat.get(chatId);
    if (!mine?.delete(s)) return false;
    if (mine.size === 0) this.byChat.delete(chatId);
    this.setVenues(chatId, s, null);
    const chats = this.bySymbol.get(s);
    chats?.delete(chatId);
    if (chats?.size === 0) this.bySymbol.delete(s);
    return true;
  }

  async removeChat(chatId: number): Promise<void> {
    for (const s of this.byChat.get(chatId) ?? []) await this.remove(chatId, s);
    this.byChat.delete(chatId);
    this.venuesByChat.delete(chatId);
  }

  /** Merges into the new id: where both chats follow a symbol, the union of their venues. */
  async migrateChat(oldChatId: number, newChatId: number): Promise<void> {
    if (oldChatId === newChatId) return;
    const symbols = [...(this.byChat.get(oldChatId) ?? [])];
    const oldVenues = new Map(this.venuesByChat.get(oldChatId) ?? []);
    await this.removeChat(oldChatId);
    const mine = this.byChat.get(newChatId) ?? new Set<string>();
    for (const s of symbols) {
      const venues = oldVenues.get(s) ?? null;
      this.setVenues(
        newChatId,
        s,
        mine.has(s) ? unionVenues(venues, this.venuesByChat.get(newChatId)?.get(s) ?? null) : venues,
      );
      mine.add(s);
      const chats = this.bySymbol.get(s) ?? new Set<number>();
      chats.add(newChatId);
      this.bySymbol.set(s, chats);
    }
    if (mine.size > 0) this.byChat.set(newChatId, mine);
  }

  async venuesFor(chatId: number, symbol: string): Promise<string[] | null> {
    const s = canonicalSymbol(symbol);
    if (s === null || !this.byChat.get(chatId)?.has(s)) return [];
    const venues = this.venuesByChat.get(chatId)?.get(s);
    return venues === undefined ? null : [...venues];
  }

  async listForChat(chatId: number): Promise<string[]> {
    return [...(this.byChat.get(chatId) ?? [])].sort();
  }

  async counts(): Promise<{ chats: number; subscriptions: number }> {
    let subscriptions = 0;
    for (const symbols of this.byChat.values()) subscriptions += symbols.size;
    return { chats: [...this.byChat.values()].filter((s) => s.size > 0).length, subscriptions };
  }

  async chatsFor(symbol: string): Promise<number[]> {
    const s = canonicalSymbol(symbol);
    if (s === null) return [];
    return [...(this.bySymbol.get(s) ?? [])].sort((a, b) => a - b);
  }

  async close(): Promise<void> {}

  private setVenues(chatId: number, symbol: string, venues: readonly string[] | null): void {
    const perSymbol = this.venuesByChat.get(chatId) ?? new Map<string, string[]>();
    if (venues === null) perSymbol.delete(symbol);
    else perSymbol.set(symbol, [...venues]);
    if (perSymbol.size === 0) this.venuesByChat.delete(chatId);
    else this.venuesByChat.set(chatId, perSymbol);
  }
}
