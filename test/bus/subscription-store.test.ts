import { Redis } from 'ioredis';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import {
  MemorySubscriptionStore,
  RedisSubscriptionStore,
  SubscriptionError,
} from '../../src/bus/subscription-store.js';
import type { SubscriptionStore } from '../../src/bus/types.js';
import { flushTestDb, testRedisUrl } from '../support/redis.js';

const url = testRedisUrl(3);
const open: SubscriptionStore[] = [];

beforeAll(() => flushTestDb(url));
afterAll(() => flushTestDb(url));
afterEach(async () => {
  await Promise.all(open.splice(0).map((s) => s.close()));
});

const kinds = {
  redis: (maxSymbolsPerChat?: number) => new RedisSubscriptionStore(url, undefined, { maxSymbolsPerChat }),
  memory: (maxSymbolsPerChat?: number) => new MemorySubscriptionStore({ maxSymbolsPerChat }),
};

describe.each(Object.entries(kinds))('%s subscription store', (kind, make) => {
  let nextChat = kind === 'redis' ? 1000 : 2000;
  const chat = () => nextChat++;
  const store = (max?: number) => {
    const s = make(max);
    open.push(s);
    return s;
  };

  it('counts chats and subscriptions for /stats', async () => {
    const s = store();
    const before = await s.counts!();
    const [a, b] = [chat(), chat()];
    await s.add(a, 'BTC');
    await s.add(a, 'ETH');
    await s.add(b, 'BTC');
    expect(await s.counts!()).toEqual({ chats: before.chats + 2, subscriptions: before.subscriptions + 3 });
    await s.removeChat(a);
    expect(await s.counts!()).toEqual({ chats: before.chats + 1, subscriptions: before.subscriptions + 1 });
    await s.removeChat(b);
  });

  it('adds, lists, finds chats for a symbol and removes', async () => {
    const s = store();
    const [a, b] = [chat(), chat()];
    expect(await s.add(a, 'BTC')).toBe(true);
    expect(await s.add(a, 'btcusdt')).toBe(false);
    expect(await s.add(a, 'eth-usdt-swap')).toBe(true);
    expect(await s.add(b, 'BTC')).toBe(true);
    expect(await s.listForChat(a)).toEqual(['BTC', 'ETH']);
    expect(await s.chatsFor('BTC')).toEqual(expect.arrayContaining([a, b]));
    expect(await s.remove(a, 'BTC')).toBe(true);
    expect(await s.remove(a, 'BTC')).toBe(false);
    expect(await s.chatsFor('BTC')).not.toContain(a);
    expect(await s.chatsFor('BTC')).toContain(b);
    expect(await s.listForChat(a)).toEqual(['ETH']);
  });

  it('removeChat takes the chat off every symbol', async () => {
    const s = store();
    const [a, b] = [chat(), chat()];
    await s.add(a, 'SOL');
    await s.add(a, 'DOGE');
    await s.add(b, 'SOL');
    await s.removeChat(a);
    expect(await s.listForChat(a)).toEqual([]);
    expect(await s.chatsFor('SOL')).toContain(b);
    expect(await s.chatsFor('SOL')).not.toContain(a);
    expect(await s.chatsFor('DOGE')).not.toContain(a);
  });

  it('migrateChat moves every symbol to the new id', async () => {
    const s = store();
    const [oldId, newId] = [chat(), -1_000_000_000_000 - chat()];
    await s.add(oldId, 'XRP');
    await s.add(oldId, 'ADA');
    await s.migrateChat(oldId, newId);
    expect(await s.listForChat(oldId)).toEqual([]);
    expect(await s.listForChat(newId)).toEqual(['ADA', 'XRP']);
    expect(await s.chatsFor('XRP')).toContain(newId);
    expect(await s.chatsFor('XRP')).not.toContain(oldId);
  });

  it('rejects more symbols than the per-chat bound with code E_SUB_LIMIT', async () => {
    const s = store(2);
    const a = chat();
    await s.add(a, 'AAA');
    await s.add(a, 'BBB');
    expect(await s.add(a, 'AAA')).toBe(false);
    const err = await s.add(a, 'CCC').catch((e: unknown) => e);
    expect(err).toBeInstanceOf(SubscriptionError);
    expect((err as SubscriptionError).code).toBe('E_SUB_LIMIT');
    expect(await s.listForChat(a)).toEqual(['AAA', 'BBB']);
  });

  it('rejects input that cannot be a symbol with code E_SUB_SYMBOL', async () => {
    const err = await store()
      .add(chat(), '!!!')
      .catch((e: unknown) => e);
    expect((err as SubscriptionError).code).toBe('E_SUB_SYMBOL');
  });

  it('keeps a venue choice per symbol: none means every venue, venues accumulate, every venue widens', async () => {
    const s = store();
    const a = chat();
    expect(await s.venuesFor(a, 'BTC')).toEqual([]);
    expect(await s.add(a, 'BTC', 'Bybit')).toBe(true);
    expect(await s.venuesFor(a, 'btcusdt')).toEqual(['bybit']);
    expect(await s.add(a, 'BTC', 'bybit')).toBe(false);
    expect(await s.add(a, 'BTC', 'all')).toBe(true);
    expect(await s.add(a, 'BTC', 'binance')).toBe(true);
    expect(await s.venuesFor(a, 'BTC')).toEqual(['all', 'binance', 'bybit']);
    expect(await s.add(a, 'ETH')).toBe(true);
    expect(await s.venuesFor(a, 'ETH')).toBeNull();
    // Every venue already covers one venue; asking for every venue widens a list.
    expect(await s.add(a, 'ETH', 'okx')).toBe(false);
    expect(await s.venuesFor(a, 'ETH')).toBeNull();
    expect(await s.add(a, 'BTC')).toBe(true);
    expect(await s.venuesFor(a, 'BTC')).toBeNull();
    expect(await s.add(a, 'BTC')).toBe(false);
    // The symbol sets stay exactly as before: one entry per symbol, whatever the venues.
    expect(await s.listForChat(a)).toEqual(['BTC', 'ETH']);
    expect(await s.chatsFor('BTC')).toContain(a);
  });

  it('forgets the venue choice on remove, so a new subscription starts from every venue', async () => {
    const s = store();
    const a = chat();
    await s.add(a, 'SOL', 'okx');
    expect(await s.remove(a, 'SOL')).toBe(true);
    expect(await s.venuesFor(a, 'SOL')).toEqual([]);
    await s.add(a, 'SOL');
    expect(await s.venuesFor(a, 'SOL')).toBeNull();
  });

  it('adding a venue to a followed symbol does not count against the per-chat bound', async () => {
    const s = store(1);
    const a = chat();
    await s.add(a, 'AAA', 'bybit');
    expect(await s.add(a, 'AAA', 'okx')).toBe(true);
    const err = await s.add(a, 'BBB', 'okx').catch((e: unknown) => e);
    expect((err as SubscriptionError).code).toBe('E_SUB_LIMIT');
  });

  it('rejects a venue that cannot be one with code E_SUB_VENUE and stores nothing', async () => {
    const s = store();
    const a = chat();
    const err = await s.add(a, 'BTC', 'by,bit').catch((e: unknown) => e);
    expect((err as SubscriptionError).code).toBe('E_SUB_VENUE');
    expect(await s.listForChat(a)).toEqual([]);
  });

  it('removeChat (unsubscribe all) drops every symbol and venue choice of the chat only', async () => {
    const s = store();
    const [a, b] = [chat(), chat()];
    await s.add(a, 'SOL', 'bybit');
    await s.add(a, 'DOGE');
    await s.add(b, 'SOL', 'okx');
    await s.removeChat(a);
    expect(await s.listForChat(a)).toEqual([]);
    expect(await s.venuesFor(a, 'SOL')).toEqual([]);
    expect(await s.chatsFor('SOL')).not.toContain(a);
    expect(await s.venuesFor(b, 'SOL')).toEqual(['okx']);
    await s.add(a, 'SOL');
    expect(await s.venuesFor(a, 'SOL')).toBeNull();
  });

  it('migrateChat carries the venue choices and merges with what the new id already follows', async () => {
    const s = store();
    const [oldId, newId] = [chat(), -1_000_000_000_000 - chat()];
    await s.add(oldId, 'XRP', 'bybit');
    await s.add(oldId, 'ADA');
    await s.add(oldId, 'AVAX', 'okx');
    await s.add(oldId, 'DOT', 'okx');
    await s.add(newId, 'AVAX', 'binance');
    await s.add(newId, 'DOT');
    await s.migrateChat(oldId, newId);
    expect(await s.listForChat(oldId)).toEqual([]);
    expect(await s.venuesFor(oldId, 'XRP')).toEqual([]);
    expect(await s.listForChat(newId)).toEqual(['ADA', 'AVAX', 'DOT', 'XRP']);
    expect(await s.venuesFor(newId, 'XRP')).toEqual(['bybit']);
    expect(await s.venuesFor(newId, 'ADA')).toBeNull();
    expect(await s.venuesFor(newId, 'AVAX')).toEqual(['binance', 'okx']);
    expect(await s.venuesFor(newId, 'DOT')).toBeNull();
    expect(await s.chatsFor('XRP')).toContain(newId);
    expect(await s.chatsFor('XRP')).not.toContain(oldId);
  });
});

describe('RedisSubscriptionStore', () => {
  it('survives a restart: a new instance reads what the old one wrote', async () => {
    const first = new RedisSubscriptionStore(url);
    await first.add(5001, 'LINK');
    await first.add(5002, 'LINK');
    await first.close();
    await first.close();
    const second = new RedisSubscriptionStore(url);
    open.push(second);
    expect(await second.chatsFor('LINK')).toEqual([5001, 5002]);
    expect(await second.listForChat(5001)).toEqual(['LINK']);
  });

  it('keeps the documented keys: sets as before, venue choices in pulse:chat:{chatId}:subvenues', async () => {
    const s = new RedisSubscriptionStore(url);
    open.push(s);
    await s.add(5101, 'BTC', 'okx');
    await s.add(5101, 'BTC', 'bybit');
    await s.add(5101, 'ETH');
    const raw = new Redis(url);
    try {
      expect((await raw.smembers('pulse:chat:5101:subs')).sort()).toEqual(['BTC', 'ETH']);
      expect(await raw.smembers('pulse:subs:BTC')).toContain('5101');
      expect(await raw.hgetall('pulse:chat:5101:subvenues')).toEqual({ BTC: 'bybit,okx' });
      await s.removeChat(5101);
      expect(await raw.exists('pulse:chat:5101:subs', 'pulse:chat:5101:subvenues')).toBe(0);
    } finally {
      raw.disconnect();
    }
  });
});
