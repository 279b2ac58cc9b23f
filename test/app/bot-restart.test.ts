import { Redis } from 'ioredis';
import { pino } from 'pino';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type App, startApp } from '../../src/app/app.js';
import { loadConfig } from '../../src/app/config.js';
import { RedisBus } from '../../src/bus/redis-bus.js';
import { RedisSubscriptionStore } from '../../src/bus/subscription-store.js';
import type { AlertJson } from '../../src/domain/types.js';
import { flushTestDb, testRedisUrl } from '../support/redis.js';
import { startTelegramStandIn, type TelegramStandIn } from '../support/telegram-stand-in.js';

/** ROLE=bot as its own process would run it: alerts from the pulse:alerts stream, restarted mid-delivery. */
const url = testRedisUrl(11);
const token = '123456:TEST-token-abcdefghijklmnopqrstu';
const logger = pino({ level: 'silent' });
let telegram: TelegramStandIn;
let publisher: RedisBus;
let store: RedisSubscriptionStore;

const alert = (id: string): AlertJson =>
  ({
    v: 1,
    id,
    kind: 'oi_change_15m',
    venue: 'bybit',
    symbol: 'BTC',
    ts: 1_795_000_000_000,
    text: `BTC alert ${id}`,
    thresholdPct: 3,
    windowMs: 900_000,
    delta: { base: 100, usd: 1e6, pct: 4 },
    snapshot: {
      v: 1,
      venue: 'bybit',
      symbol: 'BTC',
      instrument: 'BTCUSDT',
      ts: 1_795_000_000_000,
      price: { mark: 10_000 },
      oi: { base: 2600, usd: 2.6e7, delta15m: { base: 100, usd: 1e6, pct: 4 }, delta24h: null },
      funding: {
        rate: 0.0001,
        intervalHours: 8,
        hourly: 0.0000125,
        aprPct: 10.95,
        nextFundingTime: 1_795_003_600_000,
      },
    },
  }) as AlertJson;

const bot = () =>
  startApp(
    loadConfig({
      ROLE: 'bot',
      REDIS_URL: url,
      TELEGRAM_BOT_TOKEN: token,
      TELEGRAM_API_ROOT: telegram.apiRoot,
      BOT_CONSUMER: 'bot-test',
    }),
    logger,
  );

beforeAll(async () => {
  await flushTestDb(url);
  telegram = await startTelegramStandIn(token);
  publisher = new RedisBus({ url, logger });
  await publisher.ready(5000);
  store = new RedisSubscriptionStore(url);
});

afterAll(async () => {
  await publisher.close();
  await store.close();
  await telegram.close();
  await flushTestDb(url);
});

describe('bot restart', () => {
  it('loses no alert and sends none twice when restarted in the middle of a delivery', async () => {
    await store.add(1001, 'BTC');
    let app: App = await bot();
    await publisher.publishAlert(alert('a1'));
    await telegram.waitFor(() => telegram.sent(1001).length === 1, 10_000);

    await store.add(1002, 'BTC');
    // one of the two sends of a2 is told to wait 30 s; the bot is restarted meanwhile
    telegram.failNext('sendMessage', {
      status: 429,
      body: {
        ok: false,
        error_code: 429,
        description: 'Too Many Requests: retry after 30',
        parameters: { retry_after: 30 },
      },
    });
    await publisher.publishAlert(alert('a2'));
    await telegram.waitFor(() => telegram.calls('sendMessage').length === 3, 10_000);
    await telegram.waitFor(() => telegram.sent().length === 2, 10_000);
    await app.close();

    app = await bot();
    await telegram.waitFor(() => telegram.sent().length === 3, 10_000);
    await new Promise((r) => setTimeout(r, 500));
    await app.close();

    const delivered = telegram.sent().map((c) => `${c.params.chat_id}`);
    // a1 to 1001; a2 to both chats, each exactly once in all
    expect(delivered.filter((c) => c === '1001')).toHaveLength(2);
    expect(delivered.filter((c) => c === '1002')).toHaveLength(1);
    const r = new Redis(url);
    const pending = (await r.xpending('pulse:alerts', 'perp-pulse-bot')) as [number];
    r.disconnect();
    expect(pending[0]).toBe(0);
  }, 40_000);
});
