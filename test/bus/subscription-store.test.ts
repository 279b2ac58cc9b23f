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
});
