import { Redis } from 'ioredis';
import { pino } from 'pino';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startApp } from '../../src/app/app.js';
import { loadConfig } from '../../src/app/config.js';
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
