import { Redis } from 'ioredis';
import { pino } from 'pino';
import { afterAll, describe, expect, it, vi } from 'vitest';
import { MemoryBus } from '../../src/bus/memory-bus.js';
import { RedisBus } from '../../src/bus/redis-bus.js';
import { createStores, sharedRedis } from '../../src/bus/stores.js';
import type { AlertJson } from '../../src/domain/types.js';
import { testRedisUrl } from '../support/redis.js';
import { tracker } from '../support/track.js';

const url = testRedisUrl(29);
const logger = pino({ level: 'silent' });
const track = tracker();

const alert = (id: string) =>
  ({ v: 1, id, kind: 'oi_change_15m', venue: 'bybit', symbol: 'BTC', ts: 1 }) as AlertJson;

/** A plain connection to this file's database, disconnected after the test. */
function rawRedis(): Redis {
  const redis = new Redis(url);
  track({ close: () => redis.disconnect() });
  return redis;
}

/** TCP sockets this process holds: other test files on the same server cannot disturb the count. */
const tcpSockets = () => process.getActiveResourcesInfo().filter((kind) => kind === 'TCPSocketWrap').length;

// The database is shared with test/app/lifecycle.test.ts: each test keeps to a prefix of its own.
const PREFIXES = ['storetest', 'streamtest', 'closetest'];

afterAll(async () => {
  const redis = new Redis(url);
  for (const prefix of PREFIXES) {
    const keys = await redis.keys(`${prefix}:*`);
    if (keys.length > 0) await redis.del(...keys);
  }
  redis.disconnect();
});

describe('createStores on the in-process bus', () => {
  it('keeps the bot state in memory, with no ledger and no alert stream', async () => {
    const bus = track(new MemoryBus());
    expect(sharedRedis(bus)).toBeNull();
    const stores = track(createStores(bus, logger));
    expect(await stores.subscriptions.add(42, 'BTC')).toBe(true);
    expect(await stores.subscriptions.chatsFor('BTC')).toEqual([42]);
    await stores.chatSettings.update(42, { fundingReminderMin: 10 });
    expect((await stores.chatSettings.get(42)).fundingReminderMin).toBe(10);
    expect(stores.deliveryLedger).toBeUndefined();
    expect(stores.alertConsumer({ handle: async () => true })).toBeNull();
  });
});

describe('createStores on a Redis bus', () => {
  it('keeps the bot state in the Redis of the bus, under its prefix', async () => {
    const bus = track(new RedisBus({ url, logger, prefix: 'storetest' }));
    expect(sharedRedis(bus)).toEqual({ url, prefix: 'storetest' });
    const stores = track(createStores(bus, logger));
    const redis = rawRedis();
    await stores.subscriptions.add(42, 'ETH');
    await stores.chatSettings.update(42, { fundingReminderMin: 15 });
    await stores.deliveryLedger!.recordDelivered('a1', 42);
    expect(await redis.smembers('storetest:subs:ETH')).toEqual(['42']);
    expect(JSON.parse((await redis.get('storetest:chat:42:settings'))!)).toMatchObject({
      fundingReminderMin: 15,
    });
    expect(await redis.smembers('storetest:delivered:a1')).toEqual(['42']);
    expect(await redis.keys('pulse:*')).toEqual([]);
  });

  it("reads the bus's alerts through the stream's consumer group", async () => {
    const bus = track(new RedisBus({ url, logger, prefix: 'streamtest' }));
    const stores = track(createStores(bus, logger));
    const seen: string[] = [];
    const consumer = stores.alertConsumer({
      consumer: 'bot-stores-test',
      handle: async (a) => {
        seen.push(a.id);
        return true;
      },
    });
    expect(consumer).not.toBeNull();
    track(consumer!).start();
    await bus.ready(5000);
    await bus.publishAlert(alert('s1'));
    await vi.waitFor(() => expect(seen).toEqual(['s1']), { timeout: 5000, interval: 20 });
  });

  it('closes every connection it opened', async () => {
    const bus = track(new RedisBus({ url, logger, prefix: 'closetest' }));
    await bus.ready(5000);
    const before = tcpSockets();
    const stores = createStores(bus, logger);
    await stores.subscriptions.add(1, 'SOL');
    await stores.chatSettings.get(1);
    await stores.deliveryLedger!.wasDelivered('x', 1);
    // One connection each: subscriptions, chat settings, ledger.
    expect(tcpSockets()).toBe(before + 3);
    await stores.close();
    await vi.waitFor(() => expect(tcpSockets()).toBe(before), { timeout: 5000, interval: 50 });
  });
});
