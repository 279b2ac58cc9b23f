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

const alert = (id: string, symbol = 'BTC'): AlertJson =>
  ({
    v: 1,
    id,
    kind: 'oi_change_15m',
    venue: 'bybit',
    symbol,
    // Fresh: the bot sends no alert older than ALERT_MAX_AGE_MIN.
    ts: Date.now(),
    text: `${symbol} alert ${id}`,
    thresholdPct: 3,
    windowMs: 900_000,
    delta: { base: 100, usd: 1e6, pct: 4 },
    snapshot: {
      v: 1,
      venue: 'bybit',
      symbol,
      instrument: `${symbol}USDT`,
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

/** The largest number of `atMs` values within any span shorter than `windowMs`. */
function maxInWindow(atMs: readonly number[], windowMs: number): number {
  const sorted = [...atMs].sort((a, b) => a - b);
  let best = 0;
  for (let i = 0, j = 0; j < sorted.length; j++) {
    while (sorted[j]! - sorted[i]! >= windowMs) i++;
    best = Math.max(best, j - i + 1);
  }
  return best;
}

describe('bot restart in the middle of a burst', () => {
  it('delivers every alert of a burst to every chat exactly once across the restart', async () => {
    const symbols = ['ETH', 'SOL', 'XRP', 'DOGE'];
    const chats = [
      ...Array.from({ length: 40 }, (_, i) => 2001 + i),
      ...Array.from({ length: 10 }, (_, i) => -3001 - i),
    ];
    for (const chatId of chats) for (const s of symbols) await store.add(chatId, s);
    const mine = new Set(chats);
    const ours = () => telegram.sent().filter((c) => mine.has(Number(c.params.chat_id)));
    const total = chats.length * symbols.length;
    /** Per chat and symbol, how many delivered messages mention the symbol (one alert or a merged burst). */
    const mentions = () => {
      const counts = new Map<string, number>();
      for (const c of ours()) {
        const text = String(c.params.text).replace(/<[^<>]+>/g, '');
        for (const s of symbols) {
          if (!new RegExp(`\\b${s}\\b`).test(text)) continue;
          const key = `${c.params.chat_id}:${s}`;
          counts.set(key, (counts.get(key) ?? 0) + 1);
        }
      }
      return counts;
    };

    let app: App = await bot();
    for (const s of symbols) await publisher.publishAlert(alert(`burst-${s}`, s));
    await telegram.waitFor(() => ours().length >= 40, 20_000);
    await app.close();
    const beforeRestart = mentions();
    // the restart really fell in the middle: some chats still missed some alerts
    expect([...beforeRestart.values()].reduce((a, b) => a + b, 0)).toBeLessThan(total);

    app = await bot();
    await telegram.waitFor(() => mentions().size === total, 30_000);
    await new Promise((r) => setTimeout(r, 1500)); // time for a duplicate to show up, were there one
    await app.close();

    const counts = mentions();
    for (const chatId of chats) for (const s of symbols) expect(counts.get(`${chatId}:${s}`)).toBe(1);
    // the stand-in never saw more than about 30 messages per second (35 ms apart at the source)
    expect(
      maxInWindow(
        telegram.calls('sendMessage').map((c) => c.atMs),
        1000,
      ),
    ).toBeLessThanOrEqual(30);
    const r = new Redis(url);
    const pending = (await r.xpending('pulse:alerts', 'perp-pulse-bot')) as [number];
    r.disconnect();
    expect(pending[0]).toBe(0);
  }, 90_000);
});
