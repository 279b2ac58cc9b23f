import { Redis } from 'ioredis';
import { pino } from 'pino';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { type App, startApp } from '../../src/app/app.js';
import { loadConfig } from '../../src/app/config.js';
import { ALERT_LEVELS_KEY, ALERT_STREAM } from '../../src/bus/keys.js';
import { parseAlertLevels } from '../../src/domain/alert-levels.js';
import type { AlertJson } from '../../src/domain/types.js';
import type { BybitSimulator } from '../../src/streams/sim/bybit-sim.js';
import { flushTestDb, testRedisUrl } from '../support/redis.js';
import { startScriptedBybit } from '../support/scripted-bybit.js';
import { startTelegramStandIn, type TelegramStandIn } from '../support/telegram-stand-in.js';

/**
 * A chat's own threshold below the server's, end to end: two chats set theirs with /settings in
 * Telegram (the Bot API stand-in), the bot publishes them, the processor evaluates them, and the
 * alert travels through the real `pulse:alerts` stream to the one chat whose threshold it crossed.
 */
const url = testRedisUrl(21);
const token = '123456:TEST-token-abcdefghijklmnopqrstu';
const LOW_CHAT = 3101;
const SERVER_CHAT = 3102;
let sim: BybitSimulator;
let telegram: TelegramStandIn;
let app: App;

beforeAll(async () => {
  await flushTestDb(url);
  // SOL's OI rises 1.5% from 60 min of event time (6 s), after both chats have set their thresholds.
  sim = await startScriptedBybit([{ symbol: 'SOL', atMin: 60, oiChangePct: 1.5, priceChangePct: 0.3 }]);
  telegram = await startTelegramStandIn(token);
  app = await startApp(
    loadConfig({
      REDIS_URL: url,
      VENUES: 'bybit',
      SYMBOLS: 'SOL',
      BYBIT_WS_URL: sim.wsUrl,
      BYBIT_REST_URL: sim.restUrl,
      TELEGRAM_BOT_TOKEN: token,
      TELEGRAM_API_ROOT: telegram.apiRoot,
      PUBLISH_INTERVAL_MS: '100',
      BACKFILL: 'off',
    }),
    pino({ level: 'silent' }),
  );
});

afterAll(async () => {
  await app?.close();
  await telegram?.close();
  await sim?.close();
  await flushTestDb(url);
});

const text = (c: { params: Record<string, unknown> }) => String(c.params.text ?? '');

describe('a chat threshold below the server’s', () => {
  it('delivers a 1.5% OI move to the 1% chat and not to the chat at the server’s 3%', async () => {
    telegram.sendText(LOW_CHAT, '/subscribe SOL');
    telegram.sendText(SERVER_CHAT, '/subscribe SOL');
    await telegram.waitFor(
      () => telegram.sent(LOW_CHAT).length >= 1 && telegram.sent(SERVER_CHAT).length >= 1,
      5000,
    );
    telegram.sendText(LOW_CHAT, '/settings threshold oi_change_15m 1');
    telegram.sendText(SERVER_CHAT, '/settings threshold oi_change_15m 3');
    await telegram.waitFor(
      () => telegram.sent(LOW_CHAT).length >= 2 && telegram.sent(SERVER_CHAT).length >= 2,
      5000,
    );
    expect(text(telegram.sent(LOW_CHAT)[1]!)).toContain('1%');

    const redis = new Redis(url);
    try {
      // The bot published both chats' levels for the processor.
      await vi.waitFor(
        async () => {
          const levels = parseAlertLevels(await redis.get(ALERT_LEVELS_KEY));
          if (JSON.stringify(levels.oi_change_15m) !== '[1,3]') throw new Error(JSON.stringify(levels));
        },
        { timeout: 5000, interval: 50 },
      );
      const before = telegram.sent(SERVER_CHAT).length;
      const alertMessage = await telegram.waitFor(
        () =>
          telegram
            .sent(LOW_CHAT)
            .slice(2)
            .find((c) => text(c).includes('SOL') && text(c).includes('15m')),
        20_000,
      );
      expect(text(alertMessage)).toMatch(/\+\d\.\d\d% in 15m/);

      // The alert went through the stream, evaluated at the chat's level, never at the server's.
      const entries = (await redis.xrange(ALERT_STREAM, '-', '+')).map(
        ([, f]) => JSON.parse(f[f.indexOf('json') + 1]!) as AlertJson,
      );
      const oi = entries.filter((a) => a.kind === 'oi_change_15m' && a.symbol === 'SOL');
      // (An escalation at twice the first move may follow; it is evaluated at the chat's level too.)
      expect(oi.length).toBeGreaterThanOrEqual(1);
      expect(oi.every((a) => a.forThreshold === 1)).toBe(true);
      expect(oi[0]!.escalated).toBe(false);
      expect(Math.abs(oi[0]!.delta!.pct)).toBeGreaterThanOrEqual(1);
      expect(Math.abs(oi[0]!.delta!.pct)).toBeLessThan(3);

      // Every stream entry has been settled for every chat (acknowledged by the bot's group), so
      // the 3% chat's silence is a decision, not a delay.
      await vi.waitFor(
        async () => {
          const pending = (await redis.xpending(ALERT_STREAM, 'perp-pulse-bot')) as [number, ...unknown[]];
          if (pending[0] !== 0) throw new Error(`${pending[0]} entries pending`);
        },
        { timeout: 5000, interval: 50 },
      );
      expect(
        telegram
          .sent(SERVER_CHAT)
          .slice(before)
          .filter((c) => text(c).includes('SOL')),
      ).toStrictEqual([]);
    } finally {
      redis.disconnect();
    }
  });
});
