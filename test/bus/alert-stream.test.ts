import { Redis } from 'ioredis';
import { pino } from 'pino';
import { afterAll, afterEach, beforeEach, describe, expect, it } from 'vitest';
import { AlertStreamConsumer, RedisDeliveryLedger } from '../../src/bus/alert-stream.js';
import type { AlertJson } from '../../src/domain/types.js';
import { flushTestDb, testRedisUrl } from '../support/redis.js';

const url = testRedisUrl(10);
const logger = pino({ level: 'silent' });
let redis: Redis;
const open: { close(): Promise<void> }[] = [];

const alert = (id: string) =>
  ({ v: 1, id, kind: 'oi_change_15m', venue: 'bybit', symbol: 'BTC', ts: 1 }) as AlertJson;
const add = (a: AlertJson) => redis.xadd('pulse:alerts', '*', 'json', JSON.stringify(a));

async function until(check: () => boolean | Promise<boolean>, timeoutMs = 5000, what = 'condition') {
  const deadline = Date.now() + timeoutMs;
  while (!(await check())) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 20));
  }
}

function consumer(name: string, handle: (a: AlertJson) => Promise<boolean>, claimIdleMs = 60_000) {
  const c = new AlertStreamConsumer({ url, logger, consumer: name, handle, blockMs: 100, claimIdleMs });
  open.push(c);
  c.start();
  return c;
}

const pending = async () => ((await redis.xpending('pulse:alerts', 'perp-pulse-bot')) as [number])[0];

beforeEach(async () => {
  await flushTestDb(url);
  redis = new Redis(url);
});

afterEach(async () => {
  for (const c of open.splice(0)) await c.close();
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
    await until(() => seen.length === 2, 5000, 'two alerts');
    expect(seen).toEqual(['a1', 'a2']);
    await until(async () => (await pending()) === 0, 2000, 'acks');
    expect(c.counters).toMatchObject({ read: 2, acked: 2 });
  });

  it('does not acknowledge an interrupted alert: the restarted consumer handles it again', async () => {
    await add(alert('a1'));
    const first = consumer('bot-1', async () => false);
    await until(() => first.counters.read === 1, 5000, 'first read');
    await first.close();
    expect(await pending()).toBe(1);
    const seen: string[] = [];
    consumer('bot-1', async (a) => {
      seen.push(a.id);
      return true;
    });
    await until(() => seen.length === 1, 5000, 'redelivery after restart');
    expect(seen).toEqual(['a1']);
    await until(async () => (await pending()) === 0, 2000, 'ack after restart');
  });

  it('takes over what a crashed consumer read but never acknowledged', async () => {
    await add(alert('a1'));
    const stuck = consumer('bot-crashed', () => new Promise<boolean>(() => {}));
    await until(() => stuck.counters.read === 1, 5000, 'read by the stuck consumer');
    const seen: string[] = [];
    consumer(
      'bot-2',
      async (a) => {
        seen.push(a.id);
        return true;
      },
      200,
    );
    await until(() => seen.includes('a1'), 5000, 'claimed by the second consumer');
  });

  it('skips and acknowledges an entry without valid json', async () => {
    await redis.xadd('pulse:alerts', '*', 'json', '{not json');
    await add(alert('a2'));
    const seen: string[] = [];
    const c = consumer('bot-1', async (a) => {
      seen.push(a.id);
      return true;
    });
    await until(() => seen.length === 1, 5000, 'the valid alert');
    expect(c.counters.malformed).toBe(1);
  });
});

describe('delivery ledger', () => {
  it('remembers per alert and chat what was delivered, with an expiry', async () => {
    const ledger = new RedisDeliveryLedger(url, logger);
    open.push(ledger);
    expect(await ledger.wasDelivered('a1', 42)).toBe(false);
    await ledger.recordDelivered('a1', 42);
    expect(await ledger.wasDelivered('a1', 42)).toBe(true);
    expect(await ledger.wasDelivered('a1', 43)).toBe(false);
    expect(await redis.ttl('pulse:delivered:a1')).toBeGreaterThan(24 * 3600);
  });
});
