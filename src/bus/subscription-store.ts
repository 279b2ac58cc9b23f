import { Redis } from 'ioredis';
import type { Logger } from 'pino';
import { canonicalSymbol } from '../domain/symbols.js';
import type { SubscriptionStore } from './types.js';

/** How many symbols one chat may follow; keeps `/list` and the fan-out of one chat small. */
export const DEFAULT_MAX_SYMBOLS_PER_CHAT = 100;

export type SubscriptionErrorCode = 'E_SUB_LIMIT' | 'E_SUB_SYMBOL';

/** Thrown by `add` when the chat already follows the maximum, or the symbol cannot be one. */
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

function limitError(max: number): SubscriptionError {
  return new SubscriptionError('E_SUB_LIMIT', `a chat can follow at most ${max} symbols`);
}

export interface SubscriptionStoreOptions {
  /** Default 100. `add` throws `SubscriptionError` with code `E_SUB_LIMIT` beyond it. */
  readonly maxSymbolsPerChat?: number;
}

const symbolKey = (symbol: string) => `pulse:subs:${symbol}`;
const chatKey = (chatId: number) => `pulse:chat:${chatId}:subs`;

/**
 * Subscriptions in Redis: `pulse:subs:{SYMBOL}` (set of chat ids) and
 * `pulse:chat:{chatId}:subs` (set of symbols), both sides written in one MULTI.
 * Owns its connection; commands fail after 2 reconnect attempts instead of queueing forever.
 */
export class RedisSubscriptionStore implements SubscriptionStore {
  private readonly redis: Redis;
  private readonly maxSymbols: number;
  private closing: Promise<void> | undefined;

  constructor(redisUrl: string, logger?: Logger, options: SubscriptionStoreOptions = {}) {
    this.maxSymbols = options.maxSymbolsPerChat ?? DEFAULT_MAX_SYMBOLS_PER_CHAT;
    this.redis = new Redis(redisUrl, { protocol: 2, maxRetriesPerRequest: 2, connectionName: 'pulse-subs' });
    // Without a listener ioredis prints every failed reconnect as an unhandled error event.
    this.redis.on('error', (err) => logger?.warn({ err }, 'subscription store: redis error'));
  }

  async add(chatId: number, symbol: string): Promise<boolean> {
    const s = toSymbol(symbol);
    const [isMember, count] = await Promise.all([
      this.redis.sismember(chatKey(chatId), s),
      this.redis.scard(chatKey(chatId)),
    ]);
    if (isMember === 1) return false;
    // Check-then-write: two concurrent adds may overshoot the limit by one, which is harmless.
    if (count >= this.maxSymbols) throw limitError(this.maxSymbols);
    const res = await this.redis.multi().sadd(chatKey(chatId), s).sadd(symbolKey(s), String(chatId)).exec();
    return firstReply(res) === 1;
  }

  async remove(chatId: number, symbol: string): Promise<boolean> {
    const s = canonicalSymbol(symbol);
    if (s === null) return false;
    const res = await this.redis.multi().srem(chatKey(chatId), s).srem(symbolKey(s), String(chatId)).exec();
    return firstReply(res) === 1;
  }

  async removeChat(chatId: number): Promise<void> {
    const symbols = await this.redis.smembers(chatKey(chatId));
    const tx = this.redis.multi();
    for (const s of symbols) tx.srem(symbolKey(s), String(chatId));
    tx.del(chatKey(chatId));
    await execOrThrow(tx.exec());
  }

  async migrateChat(oldChatId: number, newChatId: number): Promise<void> {
    if (oldChatId === newChatId) return;
    const symbols = await this.redis.smembers(chatKey(oldChatId));
    if (symbols.length === 0) return;
    const tx = this.redis.multi();
    for (const s of symbols) {
      tx.srem(symbolKey(s), String(oldChatId));
      tx.sadd(symbolKey(s), String(newChatId));
    }
    tx.sadd(chatKey(newChatId), ...symbols);
    tx.del(chatKey(oldChatId));
    await execOrThrow(tx.exec());
  }

  async listForChat(chatId: number): Promise<string[]> {
    return (await this.redis.smembers(chatKey(chatId))).sort();
  }

  async chatsFor(symbol: string): Promise<number[]> {
    const s = canonicalSymbol(symbol);
    if (s === null) return [];
    const ids = await this.redis.smembers(symbolKey(s));
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
  private readonly maxSymbols: number;

  constructor(options: SubscriptionStoreOptions = {}) {
    this.maxSymbols = options.maxSymbolsPerChat ?? DEFAULT_MAX_SYMBOLS_PER_CHAT;
  }

  async add(chatId: number, symbol: string): Promise<boolean> {
    const s = toSymbol(symbol);
    const mine = this.byChat.get(chatId) ?? new Set<string>();
    if (mine.has(s)) return false;
    if (mine.size >= this.maxSymbols) throw limitError(this.maxSymbols);
    mine.add(s);
    this.byChat.set(chatId, mine);
    const chats = this.bySymbol.get(s) ?? new Set<number>();
    chats.add(chatId);
    this.bySymbol.set(s, chats);
    return true;
  }

  async remove(chatId: number, symbol: string): Promise<boolean> {
    const s = canonicalSymbol(symbol);
    if (s === null) return false;
    const mine = this.byChat.get(chatId);
    if (!mine?.delete(s)) return false;
    if (mine.size === 0) this.byChat.delete(chatId);
    const chats = this.bySymbol.get(s);
    chats?.delete(chatId);
    if (chats?.size === 0) this.bySymbol.delete(s);
    return true;
  }

  async removeChat(chatId: number): Promise<void> {
    for (const s of this.byChat.get(chatId) ?? []) await this.remove(chatId, s);
    this.byChat.delete(chatId);
  }

  async migrateChat(oldChatId: number, newChatId: number): Promise<void> {
    if (oldChatId === newChatId) return;
    const symbols = [...(this.byChat.get(oldChatId) ?? [])];
    await this.removeChat(oldChatId);
    const mine = this.byChat.get(newChatId) ?? new Set<string>();
    for (const s of symbols) {
      mine.add(s);
      const chats = this.bySymbol.get(s) ?? new Set<number>();
      chats.add(newChatId);
      this.bySymbol.set(s, chats);
    }
    if (mine.size > 0) this.byChat.set(newChatId, mine);
  }

  async listForChat(chatId: number): Promise<string[]> {
    return [...(this.byChat.get(chatId) ?? [])].sort();
  }

  async chatsFor(symbol: string): Promise<number[]> {
    const s = canonicalSymbol(symbol);
    if (s === null) return [];
    return [...(this.bySymbol.get(s) ?? [])].sort((a, b) => a - b);
  }

  async close(): Promise<void> {}
}
