/**
 * Per-chat thresholds and cross-venue de-dup through the whole bot: real Redis (the chats'
 * settings, `pulse:alert-levels`, the subscriptions) and the Bot API stand-in. The processor's
 * side is played by the alerts handed to the bot: a server alert, and alerts evaluated at chat
 * levels (`forThreshold`), as the processor writes them.
 */
import { pino } from 'pino';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { createTelegramBot, type TelegramBot } from '../../src/bot/bot.js';
import { RedisChatSettingsStore } from '../../src/bus/chat-settings-store.js';
import { RedisBus } from '../../src/bus/redis-bus.js';
import { RedisSubscriptionStore } from '../../src/bus/subscription-store.js';
import type { AlertJson, AlertKind, SnapshotJson } from '../../src/domain/types.js';
import { flushTestDb, testRedisUrl } from '../support/redis.js';
import { startTelegramStandIn, type TelegramStandIn } from '../support/telegram-stand-in.js';

const url = testRedisUrl(18);
const NOW = Date.UTC(2026, 10, 29, 12, 0, 0);
const logger = pino({ level: 'silent' });

const snapshot: SnapshotJson = {
  v: 1,
  venue: 'bybit',
  symbol: 'SOL',
  instrument: 'SOLUSDT',
  ts: NOW,
  price: { mark: 150 },
  oi: { base: 1e6, usd: 1.5e8, delta15m: null, delta24h: null },
  funding: { rate: 0.0001, intervalHours: 8, hourly: null, aprPct: 10.95, nextFundingTime: NOW + 3_600_000 },
};

function alert(kind: AlertKind, venue: string, over: Partial<AlertJson> = {}): AlertJson {
  const level = over.forThreshold === undefined ? '' : `@${over.forThreshold}`;
  return {
    v: 1,
    id: `${kind}${level}:${venue}:${over.symbol ?? 'SOL'}:${NOW}:${Math.random().toString(36).slice(2)}`,
    kind,
    venue,
    symbol: 'SOL',
    ts: NOW,
    text: 'test',
    thresholdPct: 3,
    delta: { base: 10_000, usd: 1.5e6, pct: 1 },
    windowMs: 900_000,
    snapshot: { ...snapshot, venue },
    severity: 'warning',
    ...over,
  };
}
const oiMove = (pct: number) => ({ delta: { base: pct * 10_000, usd: pct * 1.5e6, pct } });

let tg: TelegramStandIn;
let bus: RedisBus;
let settings: RedisChatSettingsStore;
let subs: RedisSubscriptionStore;
let telegram: TelegramBot;

beforeAll(async () => {
  await flushTestDb(url);
  tg = await startTelegramStandIn();
  bus = new RedisBus({ url, logger });
  await bus.ready(5_000);
  settings = new RedisChatSettingsStore(url);
  subs = new RedisSubscriptionStore(url);
  telegram = createTelegramBot({
    token: tg.token,
    apiRoot: tg.apiRoot,
    bus,
    subscriptions: subs,
    settings,
    venues: ['binance', 'bybit', 'okx', 'hyperliquid'],
    logger,
    botInfo: tg.botInfo,
    now: () => NOW,
    levelsIntervalMs: 200,
    // No coalescing: each alert is its own message, so the test reads who got what.
    delivery: { queue: { coalesceMs: 0 }, pacing: { minIntervalPerChatMs: 20, minIntervalGlobalMs: 0 } },
  });
  await telegram.start();
});

afterAll(async () => {
  await telegram?.close();
  await settings?.close();
  await subs?.close();
  await bus?.close();
  await tg?.close();
  await flushTestDb(url);
});

const say = async (chatId: number, text: string) => String((await tg.ask(chatId, text)).params.text);

/** Hands the alert to the bot and waits until every chat's copy settled. */
async function deliver(a: AlertJson): Promise<readonly string[]> {
  const handle = await telegram.deliverAlert(a);
  return handle.settled;
}

const texts = (chatId: number) => tg.sent(chatId).map((c) => String(c.params.text));

describe('per-chat thresholds over Redis and the Bot API stand-in', () => {
  it('a 1% chat gets a 1.5% move that a 3% chat does not; a chat without a threshold gets the server alerts', async () => {
    const [one, three, plain] = [701, 702, 703];
    for (const chat of [one, three, plain]) await subs.add(chat, 'SOL');
    expect(await say(one, '/settings threshold oi_change_15m 1')).toContain(
      'It takes effect within about 30 s, when the processor picks it up.',
    );
    await say(three, '/settings threshold oi_change_15m 3');
    // Published for the processor right after the change.
    await vi.waitFor(async () => expect(await bus.alertLevels()).toEqual({ oi_change_15m: [1, 3] }));

    const sentBefore = (chat: number) => tg.sent(chat).length;
    const before = [one, three, plain].map(sentBefore);
    await deliver(alert('oi_change_15m', 'bybit', { ...oiMove(1.5), forThreshold: 1 }));
    await deliver(alert('oi_change_15m', 'bybit', { ...oiMove(3.5), forThreshold: 3 }));
    await deliver(alert('oi_change_15m', 'bybit', oiMove(3.5)));
    const got = (chat: number, i: number) => texts(chat).slice(before[i]);
    expect(got(one, 0)).toHaveLength(1);
    expect(got(one, 0)[0]).toContain('+1.50% in 15m');
    expect(got(three, 1)).toHaveLength(1);
    expect(got(three, 1)[0]).toContain('+3.50% in 15m');
    expect(got(plain, 2)).toHaveLength(1);
    expect(got(plain, 2)[0]).toContain('+3.50% in 15m');
  });

  it('publishes again after a threshold goes back to the default, and picks up other processes each interval', async () => {
    await say(701, '/settings threshold oi_change_15m default');
    await vi.waitFor(async () => expect(await bus.alertLevels()).toEqual({ oi_change_15m: [3] }));
    // Another bot process changed a chat: the periodic publication (200 ms here) carries it.
    const other = new RedisChatSettingsStore(url);
    await other.update(799, { kinds: { funding_pressure: { enabled: true, threshold: 80 } } });
    await other.close();
    await vi.waitFor(async () =>
      expect(await bus.alertLevels()).toEqual({ oi_change_15m: [3], funding_pressure: [80] }),
    );
  });
});

describe('one move, one message, only for the same fact', () => {
  it('a surge on binance and a drop on bybit both arrive; the same direction from another venue merges', async () => {
    const chat = 711;
    await subs.add(chat, 'DOGE');
    const doge = { symbol: 'DOGE', snapshot: { ...snapshot, symbol: 'DOGE' } };
    expect(await deliver(alert('oi_change_15m', 'binance', { ...doge, ...oiMove(4) }))).toEqual(['sent']);
    expect(await deliver(alert('oi_change_15m', 'bybit', { ...doge, ...oiMove(-4) }))).toEqual(['sent']);
    expect(await deliver(alert('oi_change_15m', 'okx', { ...doge, ...oiMove(5) }))).toEqual(['skipped']);
    const all = texts(chat).join('\n');
    expect(all).toContain('DOGE OI surge · binance');
    expect(all).toContain('DOGE OI drop · bybit');
    expect(all).not.toContain('okx');
  });

  it("longs pay on binance and shorts pay on hyperliquid both arrive; two venues' interval changes both arrive", async () => {
    const chat = 712;
    await subs.add(chat, 'XRP');
    const xrp = { symbol: 'XRP', snapshot: { ...snapshot, symbol: 'XRP' } };
    const pays = (payer: 'longs' | 'shorts', aprPct: number) => ({
      ...xrp,
      direction: payer === 'longs' ? ('up' as const) : ('down' as const),
      figures: { aprPct, pressure: 'high' },
    });
    expect(await deliver(alert('funding_pressure', 'binance', pays('longs', 120)))).toEqual(['sent']);
    expect(await deliver(alert('funding_pressure', 'hyperliquid', pays('shorts', -120)))).toEqual(['sent']);
    const interval = { ...xrp, direction: null, figures: { intervalHoursBefore: 8, intervalHoursAfter: 4 } };
    expect(await deliver(alert('funding_interval_change', 'binance', interval))).toEqual(['sent']);
    expect(await deliver(alert('funding_interval_change', 'bybit', interval))).toEqual(['sent']);
    const all = texts(chat).join('\n');
    expect(all).toContain('XRP funding pressure high · binance');
    expect(all).toContain('XRP funding pressure high · hyperliquid');
    expect(all).toContain('XRP funding interval changed · binance');
    expect(all).toContain('XRP funding interval changed · bybit');
    // the same fact from another venue is still one message
    expect(await deliver(alert('funding_pressure', 'bybit', pays('longs', 110)))).toEqual(['skipped']);
  });
});
