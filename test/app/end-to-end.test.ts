import { Redis } from 'ioredis';
import { pino } from 'pino';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type App, startApp } from '../../src/app/app.js';
import { loadConfig } from '../../src/app/config.js';
import type { BybitSimulator } from '../../src/streams/sim/bybit-sim.js';
import { flushTestDb, testRedisUrl } from '../support/redis.js';
import { startScriptedBybit } from '../support/scripted-bybit.js';
import { startTelegramStandIn, type TelegramStandIn } from '../support/telegram-stand-in.js';

/**
 * The walking skeleton end to end: simulated Bybit feed → analytics → Redis → an alert in a
 * Telegram chat (the local Bot API stand-in), with a subscription made through the bot.
 */
const url = testRedisUrl(6);
const token = '123456:TEST-token-abcdefghijklmnopqrstu';
let sim: BybitSimulator;
let telegram: TelegramStandIn;
let app: App;

beforeAll(async () => {
  await flushTestDb(url);
  // SOL's OI rises 4.5% at 16 min of event time: one alert (an escalation would need twice the
  // first), so no second one merges into its message.
  sim = await startScriptedBybit([{ symbol: 'SOL', atMin: 16, oiChangePct: 4.5, priceChangePct: 1 }]);
  telegram = await startTelegramStandIn(token);
  const config = loadConfig({
    REDIS_URL: url,
    VENUES: 'bybit',
    SYMBOLS: 'BTC,SOL',
    BYBIT_WS_URL: sim.wsUrl,
    BYBIT_REST_URL: sim.restUrl,
    TELEGRAM_BOT_TOKEN: token,
    TELEGRAM_API_ROOT: telegram.apiRoot,
    PUBLISH_INTERVAL_MS: '100',
  });
  app = await startApp(config, pino({ level: 'silent' }));
});

afterAll(async () => {
  await app?.close();
  await telegram?.close();
  await sim?.close();
  await flushTestDb(url);
});

describe('end to end', () => {
  it('answers /oi from Redis and pushes the OI alert to the subscribed chat only', async () => {
    const redis = new Redis(url);
    try {
      // wait for the first snapshot to reach Redis
      const deadline = Date.now() + 10_000;
      while (!(await redis.get('pulse:latest:bybit:SOL'))) {
        if (Date.now() > deadline) throw new Error('no snapshot in Redis');
        await new Promise((r) => setTimeout(r, 50));
      }
      expect(await redis.smembers('pulse:symbols:bybit')).toEqual(expect.arrayContaining(['BTC', 'SOL']));
    } finally {
      redis.disconnect();
    }
    telegram.sendText(1001, '/subscribe solusdt');
    telegram.sendText(1002, '/subscribe BTC');
    await telegram.waitFor(() => telegram.sent(1001).length >= 1 && telegram.sent(1002).length >= 1, 5000);
    telegram.sendText(1001, '/oi sol');
    const oiReply = await telegram.waitFor(() => telegram.sent(1001)[1], 5000);
    expect(oiReply.params.parse_mode).toBe('HTML');
    expect(String(oiReply.params.text)).toContain('SOL');

    const alert = await telegram.waitFor(
      () =>
        telegram
          .sent(1001)
          .find(
            (c) => String(c.params.text).includes('15m') && c !== oiReply && /🟢/.test(String(c.params.text)),
          ),
      15_000,
    );
    expect(alert.params.parse_mode).toBe('HTML');
    expect(String(alert.params.text)).toMatch(
      /🟢 \+[\d,]+ SOL \(\+\$[\d.]+[KMB]\) · \+\d+\.\d\d% in 15m\n↳ OI value [+-]\$[\d.]+[KMB]/,
    );
    // the BTC chat never gets the SOL alert
    expect(telegram.sent(1002).some((c) => String(c.params.text).includes('SOL'))).toBe(false);
    expect(app.pipeline.counters.alertsFired).toBeGreaterThanOrEqual(1);
    if (process.env.SHOW_MESSAGES) for (const c of telegram.sent()) console.log(c.params.text);
  });
});
