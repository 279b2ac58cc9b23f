import { Redis } from 'ioredis';
import { pino } from 'pino';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startApp } from '../../src/app/app.js';
import { loadConfig } from '../../src/app/config.js';
import { Pipeline } from '../../src/app/pipeline.js';
import { RedisBus } from '../../src/bus/redis-bus.js';
import type { AlertJson, MarketEvent, SnapshotJson } from '../../src/domain/types.js';
import { startBinanceSimulator } from '../../src/streams/sim/binance-sim.js';
import { type BybitSimulator, startBybitSimulator } from '../../src/streams/sim/bybit-sim.js';
import { flushTestDb, testRedisUrl } from '../support/redis.js';

const url = testRedisUrl(12);
let sim: BybitSimulator;

beforeAll(async () => {
  await flushTestDb(url);
  sim = await startBybitSimulator({ tickMs: 20 });
});

afterAll(async () => {
  await sim.close();
  await flushTestDb(url);
});

describe('analytics checkpoint across a processor restart', () => {
  it('saves every instrument at shutdown and resumes them at the next start', async () => {
    const config = loadConfig({
      REDIS_URL: url,
      VENUES: 'bybit',
      SYMBOLS: 'BTC,ETH',
      BYBIT_WS_URL: sim.wsUrl,
      BYBIT_REST_URL: sim.restUrl,
    });
    const first = await startApp(config, pino({ level: 'silent' }));
    const deadline = Date.now() + 10_000;
    while (first.pipeline.instrumentCount() < 2) {
      if (Date.now() > deadline) throw new Error('no data');
      await new Promise((r) => setTimeout(r, 50));
    }
    await first.close();
    const redis = new Redis(url);
    const saved = await redis.hgetall('pulse:checkpoint:all');
    redis.disconnect();
    expect(Object.keys(saved).sort()).toEqual(['bybit:BTCUSDT', 'bybit:ETHUSDT']);
    expect(JSON.parse(saved['bybit:BTCUSDT']!)).toMatchObject({ v: 1, symbol: 'BTC', instrument: 'BTCUSDT' });

    const second = await startApp(config, pino({ level: 'silent' }));
    // resumed before the first frame of the new connection could arrive
    expect(second.pipeline.instrumentCount()).toBe(2);
    await second.close();
  });
});

describe('alert rules across a processor restart', () => {
  it('a restarted pipeline that replays the same data publishes no alert twice, and still fires on a new move', async () => {
    const logger = pino({ level: 'silent' });
    const redis = new Redis(url);
    await redis.del('pulse:alerts', 'pulse:alert-state');
    const t0 = Date.UTC(2026, 0, 1);
    const ev = (ts: number, oiBase: number): MarketEvent => ({
      type: 'market',
      venue: 'bybit',
      symbol: 'RST',
      instrument: 'RSTUSDT',
      eventTs: ts,
      receiveTs: ts,
      oiBase,
      markPrice: 10,
    });
    // 20 minutes flat, then +5% within 10 minutes: one oi_change_15m alert
    const day = [...Array.from({ length: 21 }, (_, m) => ev(t0 + m * 60_000, 1000))];
    for (let m = 1; m <= 10; m++) day.push(ev(t0 + (20 + m) * 60_000, 1000 + 5 * m));
    const runOnce = async (events: readonly MarketEvent[]) => {
      const bus = new RedisBus({ url, logger });
      await bus.ready(5000);
      const pipeline = new Pipeline({
        bus,
        rules: { oiChange15mPct: 3, cooldownMs: 30 * 60_000 },
        publishIntervalMs: 50,
        logger,
      });
      pipeline.restoreAlertState(await bus.loadAlertState());
      for (const e of events) pipeline.handle(e);
      await pipeline.close();
      await bus.close();
    };
    const alertIds = async () =>
      (await redis.xrange('pulse:alerts', '-', '+'))
        .map(([, f]) => JSON.parse(f[1]!) as { id: string; kind: string })
        .filter((a) => a.kind === 'oi_change_15m')
        .map((a) => a.id);

    await runOnce(day);
    const first = await alertIds();
    expect(first).toHaveLength(1);
    expect(await redis.hlen('pulse:alert-state')).toBeGreaterThan(0);

    await runOnce(day); // a restart that replays the same data
    expect(await alertIds()).toEqual(first);

    // the move fades (re-arm), then a new one after the cooldown: fires again
    const later: MarketEvent[] = [];
    for (let m = 31; m <= 80; m++) later.push(ev(t0 + m * 60_000, 1050));
    for (let m = 1; m <= 10; m++) later.push(ev(t0 + (80 + m) * 60_000, 1050 + 6 * m));
    await runOnce(later);
    const after = await alertIds();
    expect(after).toHaveLength(2);
    expect(after[0]).toBe(first[0]);
    redis.disconnect();
  });
});

describe('warm start from the venue REST history', () => {
  it('fills the 24h window at start from the Binance history endpoint, flagged backfilled', async () => {
    const binance = await startBinanceSimulator({ tickMs: 50 });
    try {
      const config = loadConfig({
        REDIS_URL: url,
        VENUES: 'binance',
        SYMBOLS: 'BTC',
        BINANCE_WS_URL: binance.wsUrl,
        BINANCE_REST_URL: binance.restUrl,
        PUBLISH_INTERVAL_MS: '100',
      });
      const redis = new Redis(url);
      await redis.del('pulse:checkpoint:all', 'pulse:latest:binance:BTC');
      const app = await startApp(config, pino({ level: 'silent' }));
      const deadline = Date.now() + 15_000;
      let snap: { oi: { delta24h: { backfilled?: boolean } | null } } | null = null;
      while (Date.now() < deadline) {
        const raw = await redis.get('pulse:latest:binance:BTC');
        snap = raw ? JSON.parse(raw) : null;
        if (snap?.oi.delta24h) break;
        await new Promise((r) => setTimeout(r, 100));
      }
      await app.close();
      redis.disconnect();
      // a 24h delta seconds after start: only possible from history, and it says so
      expect(snap?.oi.delta24h).not.toBeNull();
      expect(snap?.oi.delta24h?.backfilled).toBe(true);
      expect(binance.restRequestLog().some((r) => r.path.includes('openInterestHist'))).toBe(true);
    } finally {
      await binance.close();
    }
  });
});

// The downtime of a restart is a hole like any disconnect, weighed by what it hides.
const SEC = 1_000;
const MIN = 60_000;
const HOUR = 60 * MIN;
const T0 = Date.UTC(2026, 6, 1);
const symbol = 'RSGAP';
const instrument = `${symbol}USDT`;
const checkpointKey = `pulse:checkpoint:test-${symbol}`;

const gapEv = (ts: number, oiBase: number): MarketEvent => ({
  type: 'market',
  venue: 'bybit',
  symbol,
  instrument,
  eventTs: ts,
  receiveTs: ts,
  oiBase,
  markPrice: 100,
  fundingRate: 0.0001,
  fundingIntervalHours: 8,
});

async function runPipelineOnce(events: readonly MarketEvent[], restore: boolean) {
  const logger = pino({ level: 'silent' });
  const bus = new RedisBus({ url, logger });
  await bus.ready(5000);
  const alerts: AlertJson[] = [];
  const pipeline = new Pipeline({
    bus,
    rules: { oiChange15mPct: 3, cooldownMs: 30 * MIN },
    publishIntervalMs: 20,
    persistAlertState: false,
    logger,
    onAlert: (a) => alerts.push(a),
  });
  if (restore) expect(pipeline.restore(await bus.loadCheckpoint(checkpointKey))).toBe(1);
  for (const e of events) pipeline.handle(e);
  await pipeline.flush();
  await bus.saveCheckpoint(checkpointKey, pipeline.checkpoint());
  await pipeline.close();
  await bus.close();
  return alerts;
}

describe('a restart does not blind the 24h rules', () => {
  it('fires oi_change_24h after 20 s of downtime, on a delta that says so and is trusted', async () => {
    // a flat day and an hour, checkpointed at shutdown
    const before: MarketEvent[] = [];
    for (let ts = T0; ts <= T0 + 25 * HOUR; ts += 30 * SEC) before.push(gapEv(ts, 1000));
    expect(await runPipelineOnce(before, false)).toEqual([]);

    // back 20 s later; OI climbs 12% over the next 30 minutes
    const resumeTs = T0 + 25 * HOUR + 20 * SEC;
    const after: MarketEvent[] = [];
    for (let ts = resumeTs; ts <= resumeTs + 30 * MIN; ts += 30 * SEC)
      after.push(gapEv(ts, 1000 + (120 * (ts - resumeTs)) / (30 * MIN)));
    const alerts = await runPipelineOnce(after, true);

    const fired = alerts.find((a) => a.kind === 'oi_change_24h');
    expect(fired, JSON.stringify(alerts.map((a) => a.kind))).toBeDefined();
    expect(fired!.delta).toMatchObject({ gap: false, gapMs: 20 * SEC });
    expect(fired!.delta!.pct).toBeGreaterThanOrEqual(10);
    const redis = new Redis(url);
    const latest = JSON.parse((await redis.get(`pulse:latest:bybit:${symbol}`))!) as SnapshotJson;
    redis.disconnect();
    expect(latest.oi.delta24h).toMatchObject({ gap: false, gapMs: 20 * SEC });
    expect(latest.oi.delta24h!.pct).toBeCloseTo(12, 6);
  });
});
