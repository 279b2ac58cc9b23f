import { Redis } from 'ioredis';
import { pino } from 'pino';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { type App, startApp } from '../../src/app/app.js';
import { loadConfig } from '../../src/app/config.js';
import { DEMO_TIME_SCALE } from '../../src/app/demo.js';
import { ALERT_KINDS, type AlertJson, type AlertKind } from '../../src/domain/types.js';
import { flushTestDb, testRedisUrl } from '../support/redis.js';

/**
 * `--demo` as a newcomer runs it, on a clock ten times faster than the demo's: every alert rule
 * fires within the demo's first five minutes of wall time (checked in event time, which both
 * clocks share), and no venue, all of them fed, reads stale in a snapshot or an aggregate.
 */
const url = testRedisUrl(26);
const TEST_TIME_SCALE = 300;
/** Five minutes of the demo's wall time, in event time. */
const FIVE_DEMO_MINUTES_MS = 5 * 60_000 * DEMO_TIME_SCALE;
const SYMBOLS = ['BTC', 'ETH', 'SOL', 'XRP', 'DOGE'];
let app: App | undefined;
let redis: Redis;

beforeAll(async () => {
  await flushTestDb(url);
  redis = new Redis(url);
});

afterAll(async () => {
  await app?.close();
  redis?.disconnect();
  await flushTestDb(url);
});

async function streamAlerts(): Promise<AlertJson[]> {
  const entries = await redis.xrange('pulse:alerts', '-', '+');
  return entries.map(([, f]) => JSON.parse(f[f.indexOf('json') + 1]!) as AlertJson);
}

describe('--demo', () => {
  it('fires every alert rule within its first five minutes, and no fed venue reads stale', async () => {
    const config = loadConfig({ REDIS_URL: url, PUBLISH_INTERVAL_MS: '100' }, ['--demo']);
    const startTs = Date.now();
    app = await startApp(config, pino({ level: 'silent' }), { timeScale: TEST_TIME_SCALE });
    const running = app;
    const staleReads: string[] = [];
    let reads = 0;
    const sample = async () => {
      for (const venue of [...config.venues, 'all']) {
        for (const symbol of SYMBOLS) {
          const s = await running.bus.latest(venue, symbol);
          if (!s) continue;
          reads++;
          const f = s.freshness;
          if (f?.stale || (f?.staleVenues.length ?? 0) > 0)
            staleReads.push(
              `${venue}:${symbol} at +${Math.round((s.ts - startTs) / 60_000)} min ${JSON.stringify(f)}`,
            );
        }
      }
    };
    let sampling = Promise.resolve();
    const sampler = setInterval(() => {
      sampling = sampling.then(sample);
    }, 250);
    const firstByKind = new Map<AlertKind, AlertJson>();
    try {
      await vi.waitFor(
        async () => {
          for (const a of await streamAlerts()) if (!firstByKind.has(a.kind)) firstByKind.set(a.kind, a);
          expect(ALERT_KINDS.filter((k) => !firstByKind.has(k))).toEqual([]);
        },
        { timeout: 50_000, interval: 500 },
      );
    } finally {
      clearInterval(sampler);
      await sampling;
    }
    for (const [kind, a] of firstByKind) {
      expect(
        a.ts - startTs,
        `${kind} first fired at +${Math.round((a.ts - startTs) / 60_000)} min`,
      ).toBeLessThan(FIVE_DEMO_MINUTES_MS);
    }
    expect(reads).toBeGreaterThan(100);
    expect(staleReads.slice(0, 10)).toEqual([]);
  }, 90_000);
});
