import { spawn } from 'node:child_process';
import net from 'node:net';
import { Redis } from 'ioredis';
import { pino } from 'pino';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { applyMarketEvent, createInstrumentState, toSnapshot } from '../../src/analytics/instrument.js';
import { Pipeline } from '../../src/app/pipeline.js';
import { RedisBus } from '../../src/bus/redis-bus.js';
import type { AlertJson, MarketEvent, SnapshotJson } from '../../src/domain/types.js';
import { flushTestDb, testRedisUrl, uniqueSymbol } from '../support/redis.js';

const url = testRedisUrl(1);
const logger = pino({ level: 'silent' });
let redis: Redis;
let sub: Redis;

beforeAll(async () => {
  await flushTestDb(url);
  redis = new Redis(url);
  sub = new Redis(url);
});

afterAll(async () => {
  await flushTestDb(url);
  redis.disconnect();
  sub.disconnect();
});

function event(symbol: string, eventTs: number, oiBase: number, markPrice = 100): MarketEvent {
  return {
    type: 'market',
    venue: 'bybit',
    symbol,
    instrument: `${symbol}USDT`,
    eventTs,
    receiveTs: eventTs,
    markPrice,
    oiBase,
    fundingRate: 0.0001,
    fundingIntervalHours: 8,
    nextFundingTs: eventTs + 3_600_000,
  };
}

describe('Redis contract as a subscriber sees it', () => {
  it('publishes throttled snapshots on pulse:snapshot:{venue}:{SYMBOL} and sets pulse:latest', async () => {
    const symbol = uniqueSymbol();
    const received: { channel: string; json: SnapshotJson; at: number }[] = [];
    await sub.subscribe(`pulse:snapshot:bybit:${symbol}`);
    sub.on('message', (channel, message) =>
      received.push({ channel, json: JSON.parse(message), at: Date.now() }),
    );
    const bus = new RedisBus({ url, logger });
    await vi.waitFor(() => expect(bus.isReady).toBe(true), { timeout: 5000, interval: 20 });
    const pipeline = new Pipeline({
      bus,
      rules: { oiChange15mPct: 3, cooldownMs: 1_800_000 },
      publishIntervalMs: 100,
      logger,
    });
    pipeline.start();
    const t0 = Date.UTC(2026, 0, 1);
    const startedAt = Date.now();
    // 50 events in quick succession: the subscriber must get far fewer than 50 snapshots
    for (let i = 0; i < 50; i++) {
      pipeline.handle(event(symbol, t0 + i * 1000, 1000 + i));
      await new Promise((r) => setTimeout(r, 10));
    }
    await pipeline.close();
    await bus.close();
    await vi.waitFor(() => expect(received.length > 0 && received.at(-1)!.json.oi.base === 1049).toBe(true), {
      timeout: 5000,
      interval: 20,
    });
    const elapsedMs = Date.now() - startedAt;
    // at most one snapshot per 100 ms interval, whatever the event rate (50 events here)
    expect(received.length).toBeLessThanOrEqual(Math.floor(elapsedMs / 100) + 2);
    expect(received.length).toBeLessThan(50);
    const latest = JSON.parse((await redis.get(`pulse:latest:bybit:${symbol}`))!) as SnapshotJson;
    expect(latest).toMatchObject({
      v: 1,
      venue: 'bybit',
      symbol,
      instrument: `${symbol}USDT`,
      ts: t0 + 49_000,
      price: { mark: 100 },
      oi: { base: 1049, usd: 104_900, delta15m: null, delta24h: null },
      funding: {
        rate: 0.0001,
        intervalHours: 8,
        hourly: 0.0000125,
        nextFundingTime: t0 + 49_000 + 3_600_000,
      },
    });
    expect(latest.funding.aprPct).toBeCloseTo(10.95, 10);
    await sub.unsubscribe();
    sub.removeAllListeners('message');
  });

  it('sends an alert on pulse:alert and into the pulse:alerts stream (field json)', async () => {
    const symbol = uniqueSymbol();
    const onChannel: AlertJson[] = [];
    await sub.subscribe('pulse:alert');
    sub.on('message', (_c, message) => {
      const a = JSON.parse(message) as AlertJson;
      if (a.symbol === symbol) onChannel.push(a);
    });
    const bus = new RedisBus({ url, logger });
    await vi.waitFor(() => expect(bus.isReady).toBe(true), { timeout: 5000, interval: 20 });
    const fired: AlertJson[] = [];
    const pipeline = new Pipeline({
      bus,
      rules: { oiChange15mPct: 3, cooldownMs: 1_800_000 },
      publishIntervalMs: 1000,
      logger,
      onAlert: (a) => fired.push(a),
    });
    const t0 = Date.UTC(2026, 0, 1);
    // 16 minutes flat, then +4% within a minute: one alert, then cooldown holds the rest
    for (let s = 0; s <= 16 * 60; s += 10) pipeline.handle(event(symbol, t0 + s * 1000, 10_000));
    for (let s = 1; s <= 6; s++)
      pipeline.handle(event(symbol, t0 + (16 * 60 + s * 10) * 1000, 10_000 + s * 80));
    await pipeline.close();
    await bus.close();
    expect(fired).toHaveLength(1);
    await vi.waitFor(() => expect(onChannel).toHaveLength(1), { timeout: 5000, interval: 20 });
    const stream = await redis.xrange('pulse:alerts', '-', '+');
    const mine = stream
      .map(([, f]) => JSON.parse(f[f.indexOf('json') + 1]!) as AlertJson)
      .filter((a) => a.symbol === symbol);
    expect(mine).toHaveLength(1);
    expect(mine[0]).toEqual(onChannel[0]);
    expect(mine[0]).toMatchObject({ v: 1, kind: 'oi_change_15m', venue: 'bybit', symbol, id: fired[0]!.id });
    expect(mine[0]!.delta!.pct).toBeCloseTo(3.2, 10);
    expect(mine[0]!.text).toContain(symbol);
    await sub.unsubscribe();
  });
});

describe('reads for a bot that runs apart from the processor', () => {
  it('reads many latest snapshots in one MGET, null where absent or unreadable', async () => {
    const [a, b] = [uniqueSymbol(), uniqueSymbol()];
    const bus = new RedisBus({ url, logger });
    await vi.waitFor(() => expect(bus.isReady).toBe(true), { timeout: 5000, interval: 20 });
    const state = createInstrumentState('okx', a, `${a}-USDT-SWAP`);
    applyMarketEvent(state, {
      ...event(a, Date.UTC(2026, 0, 1), 500),
      venue: 'okx',
      instrument: `${a}-USDT-SWAP`,
    });
    expect(await bus.publishSnapshots([toSnapshot(state)])).toBe(1);
    await redis.set(`pulse:latest:okx:${b}`, '{not json');
    const got = await bus.latestMany('okx', [a, b, 'NOPE']);
    expect(got.map((s) => s?.oi.base ?? null)).toEqual([500, null, null]);
    expect(await bus.latestMany('okx', [])).toEqual([]);
    await bus.close();
  });

  it('keeps one pulse:status field per venue and shard, skipping corrupt ones', async () => {
    const bus = new RedisBus({ url, logger });
    await vi.waitFor(() => expect(bus.isReady).toBe(true), { timeout: 5000, interval: 20 });
    const health = (venue: string, shard: string, ok: boolean) => ({
      v: 1 as const,
      venue,
      shard,
      ts: 1,
      ok,
      connections: 1,
      open: ok ? 1 : 0,
      lastDataTs: null,
      staleAfterMs: 5000,
      instruments: 2,
    });
    await bus.publishFeedStatus([health('okx', 'all', true), health('bybit', '0/2', false)]);
    await bus.publishFeedStatus([health('okx', 'all', false)]);
    await redis.hset('pulse:status', 'junk', '{');
    const statuses = await bus.feedStatus();
    expect(statuses.map((s) => [s.venue, s.shard, s.ok])).toEqual([
      ['bybit', '0/2', false],
      ['okx', 'all', false],
    ]);
    await redis.del('pulse:status');
    await bus.close();
  });
});

describe('Redis URLs', () => {
  it('authenticates with the password in the URL and selects its database', async () => {
    const port = await new Promise<number>((resolve) => {
      const s = net.createServer().listen(0, '127.0.0.1', () => {
        const p = (s.address() as net.AddressInfo).port;
        s.close(() => resolve(p));
      });
    });
    const server = spawn(
      'redis-server',
      [
        '--port',
        String(port),
        '--bind',
        '127.0.0.1',
        '--save',
        '',
        '--appendonly',
        'no',
        '--requirepass',
        's3cr3t',
      ],
      { stdio: 'ignore' },
    );
    server.on('error', () => {});
    const bus = new RedisBus({ url: `redis://:s3cr3t@127.0.0.1:${port}/3`, logger });
    try {
      await bus.ready(5000);
      await bus.setTrackedSymbols('bybit', ['BTC']);
      const direct = new Redis(`redis://:s3cr3t@127.0.0.1:${port}/3`);
      expect(await direct.smembers('pulse:symbols:bybit')).toEqual(['BTC']);
      direct.disconnect();
      const wrong = new RedisBus({ url: `redis://:nope@127.0.0.1:${port}/3`, logger });
      await expect(wrong.ready(1000)).rejects.toThrow(/not reachable/);
      await wrong.close();
    } finally {
      await bus.close();
      server.kill('SIGTERM');
    }
  });
});

describe('Redis faults', () => {
  it('drops snapshots but holds alerts while Redis is down, and writes them when it comes back', async () => {
    const port = await new Promise<number>((resolve) => {
      const s = net.createServer().listen(0, '127.0.0.1', () => {
        const p = (s.address() as net.AddressInfo).port;
        s.close(() => resolve(p));
      });
    });
    const downUrl = `redis://127.0.0.1:${port}`;
    const bus = new RedisBus({ url: downUrl, logger });
    const state = createInstrumentState('bybit', 'DOWN', 'DOWNUSDT');
    applyMarketEvent(state, event('DOWN', 1, 5));
    const snapshot = toSnapshot(state);
    await bus.publishSnapshots([snapshot]);
    expect(bus.counters.snapshotsDropped).toBe(1);
    const alert = {
      v: 1,
      id: 'test-alert-1',
      kind: 'oi_change_15m',
      venue: 'bybit',
      symbol: 'DOWN',
      ts: 1,
    } as AlertJson;
    await bus.publishAlert(alert);
    expect(bus.pendingAlerts).toBe(1);
    const server = spawn(
      'redis-server',
      ['--port', String(port), '--bind', '127.0.0.1', '--save', '', '--appendonly', 'no'],
      {
        stdio: 'ignore',
      },
    );
    let spawnError: Error | undefined;
    server.once('error', (err) => {
      spawnError = err;
    });
    try {
      await vi.waitFor(() => expect(bus.pendingAlerts === 0 || spawnError !== undefined).toBe(true), {
        timeout: 10_000,
        interval: 20,
      });
      if (spawnError)
        throw new Error(`this test starts its own redis-server and could not: ${spawnError.message}`);
      const direct = new Redis(downUrl);
      const entries = await direct.xrange('pulse:alerts', '-', '+');
      direct.disconnect();
      expect(entries.map(([, f]) => JSON.parse(f[1]!).id)).toEqual(['test-alert-1']);
      expect(bus.counters.alertsPublished).toBe(1);
    } finally {
      await bus.close();
      server.kill('SIGTERM');
    }
  });
});
