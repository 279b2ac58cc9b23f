import { Redis } from 'ioredis';
import { pino } from 'pino';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { type App, startApp } from '../../src/app/app.js';
import { loadConfig } from '../../src/app/config.js';
import { ALERT_LEVELS_KEY, ALERT_STREAM } from '../../src/bus/keys.js';
import { stringifyAlertLevels } from '../../src/domain/alert-levels.js';
import type { AlertJson } from '../../src/domain/types.js';
import type { BybitSimulator } from '../../src/streams/sim/bybit-sim.js';
import { flushTestDb, testRedisUrl } from '../support/redis.js';
import { startScriptedBybit } from '../support/scripted-bybit.js';

/**
 * A live processor reads the chat thresholds the bot published (`pulse:alert-levels`) before its
 * rules run, and writes alerts at those levels to the real Redis stream: a 1.5% OI move reaches
 * the stream for a chat level of 1% while the server's 3% rule stays quiet.
 */
const url = testRedisUrl(15);
let sim: BybitSimulator;
let app: App;

beforeAll(async () => {
  await flushTestDb(url);
  const redis = new Redis(url);
  await redis.set(ALERT_LEVELS_KEY, stringifyAlertLevels({ oi_change_15m: [1] }));
  redis.disconnect();
  // SOL's OI rises 1.5% at 16 min of event time
  sim = await startScriptedBybit([{ symbol: 'SOL', atMin: 16, oiChangePct: 1.5, priceChangePct: 0.3 }]);
  const config = loadConfig({
    REDIS_URL: url,
    ROLE: 'processor',
    VENUES: 'bybit',
    SYMBOLS: 'SOL',
    BYBIT_WS_URL: sim.wsUrl,
    BYBIT_REST_URL: sim.restUrl,
    PUBLISH_INTERVAL_MS: '100',
    BACKFILL: 'false',
  });
  app = await startApp(config, pino({ level: 'silent' }));
});

afterAll(async () => {
  await app?.close();
  await sim?.close();
  await flushTestDb(url);
});

describe('chat alert levels in a live processor', () => {
  it('fires a 1.5% move at the chat level of 1% into pulse:alerts, not at the server threshold', async () => {
    const redis = new Redis(url);
    try {
      const read = async () =>
        (await redis.xrange(ALERT_STREAM, '-', '+')).map(
          ([, fields]) => JSON.parse(fields[fields.indexOf('json') + 1]!) as AlertJson,
        );
      const alerts = await vi.waitFor(
        async () => {
          const all = (await read()).filter((a) => a.kind === 'oi_change_15m' && a.symbol === 'SOL');
          if (all.length === 0) throw new Error('no OI alert in pulse:alerts yet');
          return all;
        },
        { timeout: 15_000, interval: 100 },
      );
      expect(alerts.map((a) => [a.forThreshold, a.thresholdPct, a.direction])).toStrictEqual([[1, 1, 'up']]);
      expect(alerts[0]!.id).toMatch(/^oi_change_15m@1:bybit:SOL:\d+$/);
      expect(alerts[0]!.delta!.pct).toBeGreaterThanOrEqual(1);
      expect(alerts[0]!.delta!.pct).toBeLessThan(3);
    } finally {
      redis.disconnect();
    }
  });
});
