import { Redis } from 'ioredis';
import { pino } from 'pino';
import { afterAll, afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { AlertStreamConsumer, RedisDeliveryLedger } from '../../src/bus/alert-stream.js';
import type { AlertJson } from '../../src/domain/types.js';
import { flushTestDb, testRedisUrl } from '../support/redis.js';
import { tracker } from '../support/track.js';

const url = testRedisUrl(10);
const logger = pino({ level: 'silent' });
let redis: Redis;
const track = tracker();

const alert = (id: string) =>
  ({ v: 1, id, kind: 'oi_change_15m', venue: 'bybit', symbol: 'BTC', ts: 1 }) as AlertJson;
const add = (a: AlertJson) => redis.xadd('pulse:alerts', '*', 'json', JSON.stringify(a));

function consumer(name: string, handle: (a: AlertJson) => Promise<boolean>, claimIdleMs = 60_000) {
  const c = new AlertStreamConsumer({ url, logger, consumer: name, handle, blockMs: 100, claimIdleMs });
  track(c);
  c.start();
  return c;
}

const pending = async () => ((await redis.xpending('pulse:alerts', 'perp-pulse-bot')) as [number])[0];

beforeEach(async () => {
  await flushTestDb(url);
  redis = new Redis(url);
});

afterEach(async () => {
  redis.disconnect();
});

afterAll(async () => {
  await flushTestDb(url);
});

describe('alert stream consumer', () => {
  it('takes alerts written before it first started, and acknowledges each once handled', async () => {
    await add(alert('a1'));
    const seen: string[] = [];
    const c = consumer('bot-1', async (a) => {
      seen.push(a.id);
      return true;
    });
    await add(alert('a2'));
    await vi.waitFor(() => expect(seen, 'two alerts').toHaveLength(2), {
      timeout: 5000,
      interval: 20,
    });
    expect(seen).toEqual(['a1', 'a2']);
    await vi.waitFor(async () => expect(await pending(), 'acks').toBe(0), {
      timeout: 2000,
      interval: 20,
    });
    expect(c.counters).toMatchObject({ read: 2, acked: 2 });
  });

  it('does not acknowledge an interrupted alert: the restarted consumer handles it again', async () => {
    await add(alert('a1'));
    const first = consumer('bot-1', async () => false);
    await vi.waitFor(() => expect(first.counters.read, 'first read').toBe(1), {
      timeout: 5000,
      interval: 20,
    });
    await first.close();
    expect(await pending()).toBe(1);
    const seen: string[] = [];
    consumer('bot-1', async (a) => {
      seen.push(a.id);
      return true;
    });
    await vi.waitFor(() => expect(seen, 'redelivery after restart').toHaveLength(1), {
      timeout: 5000,
      interval: 20,
    });
    expect(seen).toEqual(['a1']);
    await vi.waitFor(async () => expect(await pending(), 'ack after restart').toBe(0), {
      timeout: 2000,
      interval: 20,
    });
  });

  it('takes over what a crashed consumer read but never acknowledged', async () => {
    await add(alert('a1'));
    const stuck = consumer('bot-crashed', () => new Promise<boolean>(() => {}));
    await vi.waitFor(() => expect(stuck.counters.read, 'read by the stuck consumer').toBe(1), {
      timeout: 5000,
      interval: 20,
    });
    const seen: string[] = [];
    consumer(
      'bot-2',
      async (a) => {
        seen.push(a.id);
        return true;
      },
      200,
    );
    await vi.waitFor(() => expect(seen, 'claimed by the second consumer').toContain('a1'), {
      timeout: 5000,
      interval: 20,
    });
  });

  it('skips and acknowledges an entry without valid json', async () => {
    await redis.xadd('pulse:alerts', '*', 'json', '{not json');
    await add(alert('a2'));
    const seen: string[] = [];
    const c = consumer('bot-1', async (a) => {
      seen.push(a.id);
      return true;
    });
    await vi.waitFor(() => expect(seen, 'the valid alert').toHaveLength(1), {
      timeout: 5000,
      interval: 20,
    });
    expect(c.counters.malformed).toBe(1);
  });
});

describe('delivery ledger', () => {
  it('remembers per alert and chat what was delivered, with an expiry', async () => {
    const ledger = new RedisDeliveryLedger(url, logger);
    track(ledger);
    expect(await ledger.wasDelivered('a1', 42)).toBe(false);
    await ledger.recordDelivered('a1', 42);
    expect(await ledger.wasDelivered('a1', 42)).toBe(true);
    expect(await ledger.wasDelivered('a1', 43)).toBe(false);
    expect(await redis.ttl('pulse:delivered:a1')).toBeGreaterThan(24 * 3600);
  });
});
