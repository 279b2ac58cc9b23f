import { Redis } from 'ioredis';
import { pino } from 'pino';
import { afterAll, describe, expect, it, vi } from 'vitest';
import { startApp } from '../../src/app/app.js';
import { loadConfig } from '../../src/app/config.js';
import { startBybitSimulator } from '../../src/streams/sim/bybit-sim.js';
import { testRedisUrl } from '../support/redis.js';
import { startTelegramStandIn } from '../support/telegram-stand-in.js';
import { tracker } from '../support/track.js';

/**
 * The composition root's one close(): whatever the processor side, the bot side and the HTTP
 * server opened is closed, however often close() is called. Measured on this process's own
 * handles, so other test files sharing the server cannot disturb it.
 */
const url = testRedisUrl(29);
const PREFIX = 'lifecycle';
const token = '123456:TEST-token-abcdefghijklmnopqrstu';
const track = tracker();

/** Ref'd sockets, servers and timers of this process, by kind. */
function handles(): Record<string, number> {
  const out: Record<string, number> = {};
  for (const kind of process.getActiveResourcesInfo()) out[kind] = (out[kind] ?? 0) + 1;
  return out;
}

/** The kinds of which more handles are open now than in `before`, with both counts. */
function beyond(before: Record<string, number>): Record<string, string> {
  const now = handles();
  return Object.fromEntries(
    Object.entries(now)
      .filter(([kind, n]) => n > (before[kind] ?? 0))
      .map(([kind, n]) => [kind, `${before[kind] ?? 0} -> ${n}`]),
  );
}

/**
 * The handles opened since `before` and still open, once there are none or after `timeoutMs`.
 * Not vi.waitFor: its own timeout and interval would be counted among the handles it waits on.
 */
async function leftOpen(before: Record<string, number>, timeoutMs: number) {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    await new Promise((resolve) => setTimeout(resolve, 100));
    const left = beyond(before);
    if (Object.keys(left).length === 0 || Date.now() > deadline) return left;
  }
}

afterAll(async () => {
  const redis = new Redis(url);
  const keys = await redis.keys(`${PREFIX}:*`);
  if (keys.length > 0) await redis.del(...keys);
  redis.disconnect();
});

describe('startApp close()', () => {
  it('closes every socket, server and timer the app opened, in one go, however often called', async () => {
    const before = handles();
    const sim = track(await startBybitSimulator({ tickMs: 20 }));
    const telegram = track(await startTelegramStandIn(token));
    const config = loadConfig({
      REDIS_URL: url,
      REDIS_PREFIX: PREFIX,
      VENUES: 'bybit',
      SYMBOLS: 'BTC',
      BYBIT_WS_URL: sim.wsUrl,
      BYBIT_REST_URL: sim.restUrl,
      TELEGRAM_BOT_TOKEN: token,
      TELEGRAM_API_ROOT: telegram.apiRoot,
      HTTP_PORT: '0',
      BACKFILL: 'off',
      PUBLISH_INTERVAL_MS: '100',
    });
    const app = await startApp(config, pino({ level: 'silent' }));
    await vi.waitFor(() => expect(app.pipeline.counters.snapshotsPublished).toBeGreaterThan(0), {
      timeout: 10_000,
      interval: 50,
    });
    expect(app.venues).toHaveLength(1);
    // Redis connections (bus, stores, ledger, alert stream), the venue socket, the HTTP server, timers.
    expect(handles().TCPSocketWrap ?? 0).toBeGreaterThan((before.TCPSocketWrap ?? 0) + 5);
    expect(handles().TCPServerWrap ?? 0).toBe((before.TCPServerWrap ?? 0) + 3);
    await Promise.all([app.close(), app.close()]);
    await app.close();
    // The venue and the Bot API stand in this process too: closed, nothing may be left.
    await sim.close();
    await telegram.close();
    expect(await leftOpen(before, 8000)).toEqual({});
    // The last checkpoint was written on the way down, under the instance's prefix.
    const redis = new Redis(url);
    track({ close: () => redis.disconnect() });
    expect(await redis.hlen(`${PREFIX}:checkpoint:all`)).toBeGreaterThan(0);
  }, 30_000);
});
