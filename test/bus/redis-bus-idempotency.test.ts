import net from 'node:net';
import { Redis } from 'ioredis';
import { pino } from 'pino';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { RedisBus } from '../../src/bus/redis-bus.js';
import type { AlertJson } from '../../src/domain/types.js';
import { testRedisUrl, uniqueSymbol } from '../support/redis.js';

// Shared with test/app/replay-idempotency.test.ts: neither flushes it, each reads and removes only
// its own ids, so both can run at once.
const url = testRedisUrl(20);
const logger = pino({ level: 'silent' });
let redis: Redis;
let sub: Redis;
const onChannel: AlertJson[] = [];
const written = new Set<string>();
const stateKeys: string[] = [];

beforeAll(async () => {
  redis = new Redis(url);
  sub = new Redis(url);
  await sub.subscribe('pulse:alert');
  sub.on('message', (_c, message) => onChannel.push(JSON.parse(message) as AlertJson));
});

afterAll(async () => {
  const mine = (await streamAlerts()).filter(([, a]) => written.has(a.id));
  if (mine.length > 0) await redis.xdel('pulse:alerts', ...mine.map(([entryId]) => entryId));
  for (const id of written) await redis.del(`pulse:alert-id:${id}`);
  for (const key of stateKeys) await redis.hdel('pulse:alert-state', key);
  redis.disconnect();
  sub.disconnect();
});

function alertFor(symbol: string, ts: number): AlertJson {
  const id = `oi_change_15m:bybit:${symbol}:${ts}`;
  written.add(id);
  return { v: 1, id, kind: 'oi_change_15m', venue: 'bybit', symbol, ts, text: `${symbol} +4%` } as AlertJson;
}

async function streamAlerts(): Promise<[string, AlertJson][]> {
  const entries = await redis.xrange('pulse:alerts', '-', '+');
  return entries.map(([entryId, f]) => [entryId, JSON.parse(f[f.indexOf('json') + 1]!) as AlertJson]);
}

async function idsInStream(symbol: string): Promise<string[]> {
  return (await streamAlerts()).filter(([, a]) => a.symbol === symbol).map(([, a]) => a.id);
}

/**
 * Pub/sub keeps order on one connection: once a sentinel published after the alerts under test has
 * arrived, any second copy of them would have arrived before it.
 */
async function channelIds(bus: RedisBus, symbol: string): Promise<string[]> {
  const sentinel = alertFor(symbol, 9_999_999_999_999);
  await bus.publishAlert(sentinel);
  await vi.waitFor(() => expect(onChannel.some((a) => a.id === sentinel.id)).toBe(true), { timeout: 5000 });
  return onChannel.filter((a) => a.symbol === symbol && a.id !== sentinel.id).map((a) => a.id);
}

describe('each alert id enters pulse:alerts at most once', () => {
  it('the same alert published twice: one stream entry, one pub/sub message, one duplicate counted', async () => {
    const symbol = uniqueSymbol('IDEM');
    const bus = new RedisBus({ url, logger });
    await bus.ready(5000);
    const alert = alertFor(symbol, 1_000);
    stateKeys.push(`bybit:${symbol}:oi_change_15m`);
    await bus.publishAlert(alert, [{ key: `bybit:${symbol}:oi_change_15m`, json: '{"v":1,"n":1}' }]);
    await bus.publishAlert(alert, [{ key: `bybit:${symbol}:oi_change_15m`, json: '{"v":1,"n":2}' }]);
    expect(await idsInStream(symbol)).toEqual([alert.id]);
    expect(await channelIds(bus, symbol)).toEqual([alert.id]);
    expect(bus.counters).toMatchObject({ alertsPublished: 2, alertsDuplicate: 1 }); // the sentinel is the 2nd
    // rule state is written either way: the later call's value is stored
    expect(await redis.hget('pulse:alert-state', `bybit:${symbol}:oi_change_15m`)).toBe('{"v":1,"n":2}');
    // the marker names the stream entry and expires (3 days)
    const entryId = (await streamAlerts()).find(([, a]) => a.id === alert.id)?.[0];
    expect(entryId).toBeDefined();
    expect(await redis.get(`pulse:alert-id:${alert.id}`)).toBe(entryId);
    const ttlSec = await redis.ttl(`pulse:alert-id:${alert.id}`);
    expect(ttlSec).toBeGreaterThan(3 * 24 * 3600 - 60);
    expect(ttlSec).toBeLessThanOrEqual(3 * 24 * 3600);
    await bus.close();
  });

  it('two processors racing the same ids write each id once', async () => {
    const symbol = uniqueSymbol('RACE');
    const [a, b] = [new RedisBus({ url, logger }), new RedisBus({ url, logger })];
    await Promise.all([a.ready(5000), b.ready(5000)]);
    const alerts = Array.from({ length: 50 }, (_, i) => alertFor(symbol, 1_000 + i));
    await Promise.all([
      ...alerts.map((x) => a.publishAlert(x)),
      ...alerts.map((x) => b.publishAlert(x)),
      ...[...alerts].reverse().map((x) => b.publishAlert(x)),
    ]);
    const ids = await idsInStream(symbol);
    expect(ids.sort()).toEqual(alerts.map((x) => x.id).sort());
    expect(a.counters.alertsPublished + b.counters.alertsPublished).toBe(50);
    expect(a.counters.alertsDuplicate + b.counters.alertsDuplicate).toBe(100);
    expect((await channelIds(a, symbol)).sort()).toEqual(alerts.map((x) => x.id).sort());
    await Promise.all([a.close(), b.close()]);
  });

  it('still checks ids after Redis forgets the script (EVALSHA falls back to EVAL)', async () => {
    const symbol = uniqueSymbol('NOSCR');
    const bus = new RedisBus({ url, logger });
    await bus.ready(5000);
    const first = alertFor(symbol, 1_000);
    await bus.publishAlert(first);
    await redis.script('FLUSH');
    await bus.publishAlert(first);
    await redis.script('FLUSH');
    const second = alertFor(symbol, 2_000);
    await bus.publishAlert(second);
    expect(await idsInStream(symbol)).toEqual([first.id, second.id]);
    expect(bus.counters).toMatchObject({ alertsPublished: 2, alertsDuplicate: 1 });
    await bus.close();
  });

  it('a retry after the reply was lost does not write the alert twice', async () => {
    const symbol = uniqueSymbol('LOST');
    const target = new URL(url);
    // A proxy that forwards the alert write to Redis, then cuts the connection instead of
    // passing Redis's answer back: the write landed, the writer never heard so.
    let dropNextReply = true;
    const sockets = new Set<net.Socket>();
    const proxy = net.createServer((client) => {
      const server = net.connect(Number(target.port || 6379), target.hostname);
      sockets.add(client).add(server);
      let armed = false;
      client.on('data', (d) => {
        if (dropNextReply && d.includes('pulse:alert-id:')) {
          dropNextReply = false;
          armed = true;
        }
        server.write(d);
      });
      server.on('data', (d) => {
        if (armed) {
          client.destroy();
          server.destroy();
        } else client.write(d);
      });
      for (const s of [client, server]) s.on('error', () => {}).on('close', () => client.destroy());
    });
    await new Promise<void>((resolve) => proxy.listen(0, '127.0.0.1', resolve));
    const port = (proxy.address() as net.AddressInfo).port;
    const bus = new RedisBus({ url: `redis://127.0.0.1:${port}${target.pathname}`, logger });
    try {
      await bus.ready(5000);
      const alert = alertFor(symbol, 1_000);
      await bus.publishAlert(alert).catch(() => {});
      expect(dropNextReply).toBe(false);
      // held and written again once the connection is back: Redis already had it
      await vi.waitFor(() => expect(bus.pendingAlerts).toBe(0), { timeout: 10_000 });
      expect(await idsInStream(symbol)).toEqual([alert.id]);
      expect(bus.counters).toMatchObject({ alertsPublished: 0, alertsDuplicate: 1 });
      expect(await channelIds(bus, symbol)).toEqual([alert.id]);
    } finally {
      await bus.close();
      for (const s of sockets) s.destroy();
      proxy.close();
    }
  });
});
