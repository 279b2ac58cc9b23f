import { once } from 'node:events';
import { type AddressInfo, createServer, type Socket } from 'node:net';
import { pino } from 'pino';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createTelegramBot, type TelegramBot } from '../../src/bot/bot.js';
import { MemorySubscriptionStore, RedisSubscriptionStore } from '../../src/bus/subscription-store.js';
import type { AlertJson, SnapshotJson } from '../../src/domain/types.js';
import { flushTestDb, testRedisUrl } from '../support/redis.js';
import { startTelegramStandIn, type TelegramStandIn } from '../support/telegram-stand-in.js';
import { tracker } from '../support/track.js';

const track = tracker();

const url = testRedisUrl(4);
const NOW = Date.UTC(2025, 0, 15, 12, 0, 0);
const TRACKED = ['BTC', 'ETH', 'SOL', 'XRP'];

const btc: SnapshotJson = {
  v: 1,
  venue: 'bybit',
  symbol: 'BTC',
  instrument: 'BTCUSDT',
  ts: NOW - 5_000,
  price: { mark: 85_200 },
  oi: {
    base: 52_000,
    usd: 4.4304e9,
    delta15m: { base: 2_500, usd: 213e6, pct: 5 },
    delta24h: null,
  },
  funding: { rate: 0.0001, intervalHours: 8, hourly: null, aprPct: 10.95, nextFundingTime: NOW + 11_520_000 },
};
const eth: SnapshotJson = {
  ...btc,
  symbol: 'ETH',
  instrument: 'ETHUSDT',
  funding: { rate: -0.00005, intervalHours: 8, hourly: null, aprPct: -5.48, nextFundingTime: NOW + 600_000 },
};
const snapshots = new Map([
  ['bybit:BTC', btc],
  ['bybit:ETH', eth],
]);

/** Our own read interface over a fixture, the same shape the Redis bus offers. */
const bus = {
  latest: async (venue: string, symbol: string) => snapshots.get(`${venue}:${symbol}`) ?? null,
  trackedSymbols: async () => [...TRACKED],
  latestMany: async () => [],
  feedStatus: async () => [],
};

const alertFor = (id: string, symbol: string): AlertJson => ({
  v: 1,
  id,
  kind: 'oi_change_15m',
  venue: 'bybit',
  symbol,
  ts: NOW,
  text: `${symbol} OI +5.00% in 15m`,
  thresholdPct: 3,
  delta: { base: 2_500, usd: 213e6, pct: 5 },
  windowMs: 900_000,
  snapshot: { ...btc, symbol },
});

let tg: TelegramStandIn;
let store: RedisSubscriptionStore;
let telegram: TelegramBot;
let baseline: Record<string, number>;

function openResources(): Record<string, number> {
  const counts: Record<string, number> = {};
  for (const r of process.getActiveResourcesInfo()) counts[r] = (counts[r] ?? 0) + 1;
  return counts;
}

beforeAll(async () => {
  await flushTestDb(url);
  baseline = openResources();
  tg = await startTelegramStandIn();
  store = new RedisSubscriptionStore(url);
  telegram = createTelegramBot({
    token: tg.token,
    apiRoot: tg.apiRoot,
    bus,
    subscriptions: store,
    venues: ['bybit'],
    logger: pino({ level: 'silent' }),
    botInfo: tg.botInfo,
    now: () => NOW,
    delivery: { pacing: { minIntervalPerChatMs: 100, minIntervalGlobalMs: 0 } },
  });
  await telegram.start();
});

afterAll(async () => {
  await telegram?.close();
  await store?.close();
  await tg?.close();
  await flushTestDb(url);
});

/** Sends `text` from `chatId` and resolves with the bot's next message to that chat. */
async function ask(chatId: number, text: string): Promise<{ text: string; parseMode: unknown }> {
  const reply = await tg.ask(chatId, text);
  return { text: String(reply.params.text), parseMode: reply.params.parse_mode };
}

describe('telegram bot against the Bot API stand-in', () => {
  it('points plain text in a private chat to the commands, and answers a button it does not know', async () => {
    const reply = await ask(107, 'sol');
    expect(reply.text).toContain('/market SOL');
    const answered = tg.calls('answerCallbackQuery').length;
    const id = tg.pressButton(107, 1, 'mute:SOL:2h');
    const call = await tg.waitFor(() =>
      tg
        .calls('answerCallbackQuery')
        .slice(answered)
        .find((c) => c.params.callback_query_id === id),
    );
    expect(call.params.text).toMatch(/no longer active/);
  });

  it('lets only group admins change what a group receives: /subscribe, /unsubscribe and the mute buttons', async () => {
    const group = -555;
    tg.setAdmins(group, [7]);
    const askAs = async (from: number, text: string) => {
      const before = tg.sent(group).length;
      tg.sendText(group, text, from);
      return String((await tg.waitFor(() => tg.sent(group)[before])).params.text);
    };
    expect(await askAs(1000, '/subscribe BTC')).toMatch(/Only group admins/);
    expect(await askAs(1000, '/unsubscribe all')).toMatch(/Only group admins/);
    expect(await askAs(7, '/subscribe BTC')).toMatch(/Subscribed/);
    const answered = tg.calls('answerCallbackQuery').length;
    const id = tg.pressButton(group, 1, 'mute:BTC:1h', 1000);
    const call = await tg.waitFor(() =>
      tg
        .calls('answerCallbackQuery')
        .slice(answered)
        .find((c) => c.params.callback_query_id === id),
    );
    expect(call.params.text).toMatch(/Only group admins/);
    expect(await askAs(7, '/unsubscribe BTC')).toMatch(/Unsubscribed|No longer/i);
  });

  it('answers /start and /help', async () => {
    expect((await ask(101, '/start')).text).toMatch(/^Hi! .*\/subscribe/s);
    const help = await ask(101, '/help');
    expect(help.text).toContain('/oi · Open interest');
    expect(help.parseMode).toBe('HTML');
  });

  it('/subscribe btcusdt subscribes to BTC and /list shows it', async () => {
    expect((await ask(101, '/subscribe btcusdt')).text).toMatch(/^Subscribed to <b>BTC<\/b>\./);
    expect(await store.listForChat(101)).toEqual(['BTC']);
    expect((await ask(101, '/subscribe BTC')).text).toBe('Already subscribed to <b>BTC</b>.');
    expect((await ask(101, '/list')).text).toBe('Subscribed (1):\nBTC');
  });

  it('/oi BTC answers with the OI line in HTML mode', async () => {
    const reply = await ask(101, '/oi BTC');
    expect(reply.parseMode).toBe('HTML');
    expect(reply.text).toContain('🟢 +2,500 BTC (+$213.0M) · +5.00% in 15m');
    expect(reply.text).toContain('⏳ 24h: warming up (needs 24h of history)');
  });

  it('/funding eth-usdt-swap answers with the funding line', async () => {
    const reply = await ask(101, '/funding eth-usdt-swap');
    expect(reply.text).toContain('Funding -0.0050% / 8h · -5.48% APR · shorts pay longs · reset in 10m');
  });

  it('helps with unknown symbols, missing arguments and unknown commands', async () => {
    expect((await ask(101, '/oi XYZ')).text).toBe(
      'XYZ is not tracked. Tracked: BTC, ETH, SOL, XRP.\nDid you mean <b>XRP</b>?',
    );
    expect((await ask(101, '/oi btx')).text).toContain('Did you mean <b>BTC</b>?');
    expect((await ask(101, '/oi SOL')).text).toBe(
      'SOL is tracked but has no data yet. Try again in a minute.',
    );
    expect((await ask(101, '/oi')).text).toMatch(
      /^Usage: <code>\/oi SYMBOL<\/code>.*\nExample: <code>\/oi BTC<\/code>$/,
    );
    expect((await ask(101, '/subscribe')).text).toMatch(/^Usage: <code>\/subscribe SYMBOL<\/code>/);
    expect((await ask(101, '/subscribe DOGE')).text).toContain('DOGE is not tracked.');
    expect((await ask(101, '/frobnicate')).text).toBe('Unknown command. /help lists what I can do.');
  });

  it('/unsubscribe removes the subscription', async () => {
    await ask(105, '/subscribe ETH');
    expect((await ask(105, '/unsubscribe eth')).text).toBe('Unsubscribed from <b>ETH</b>.');
    expect(await store.listForChat(105)).toEqual([]);
  });

  it('delivers an alert to every subscribed chat and not to others', async () => {
    await store.add(201, 'BTC');
    await store.add(-202, 'BTC');
    await store.add(203, 'ETH');
    await telegram.deliverAlert(alertFor('bybit:BTC:1', 'BTC'));
    await tg.waitFor(() => tg.sent(201).length === 1 && tg.sent(-202).length === 1);
    const [msg] = tg.sent(201);
    expect(msg?.params.parse_mode).toBe('HTML');
    expect(String(msg?.params.text)).toMatch(/^<b>🚨 BTC OI surge · bybit<\/b>\n🟢 \+2,500 BTC/);
    await new Promise((r) => setTimeout(r, 200));
    expect(tg.sent(203)).toHaveLength(0);
  });

  it('honours a 429 retry_after of 1 s and delivers exactly once', async () => {
    await store.add(301, 'SOL');
    tg.failNext('sendMessage', {
      status: 429,
      body: {
        ok: false,
        error_code: 429,
        description: 'Too Many Requests: retry after 1',
        parameters: { retry_after: 1 },
      },
    });
    await telegram.deliverAlert(alertFor('bybit:SOL:1', 'SOL'));
    const delivered = await tg.waitFor(() => tg.sent(301)[0], 5000);
    const rejected = tg
      .calls('sendMessage')
      .find((c) => c.status === 429 && Number(c.params.chat_id) === 301);
    expect(delivered.atMs - rejected!.atMs).toBeGreaterThanOrEqual(1000);
    await new Promise((r) => setTimeout(r, 300));
    expect(tg.sent(301)).toHaveLength(1);
  });

  it('removes the subscriptions of a chat that blocked the bot', async () => {
    await store.add(401, 'XRP');
    await store.add(401, 'BTC');
    tg.failNext('sendMessage', {
      status: 403,
      body: { ok: false, error_code: 403, description: 'Forbidden: bot was blocked by the user' },
    });
    await telegram.deliverAlert(alertFor('bybit:XRP:1', 'XRP'));
    await tg.waitFor(() => tg.calls('sendMessage').some((c) => c.status === 403));
    await expect.poll(() => store.listForChat(401)).toEqual([]);
    expect(await store.chatsFor('BTC')).not.toContain(401);
  });

  it('close() stops polling and leaves nothing open', async () => {
    await Promise.all([telegram.close(), telegram.close()]);
    const polls = tg.calls('getUpdates').length;
    await new Promise((r) => setTimeout(r, 300));
    expect(tg.calls('getUpdates')).toHaveLength(polls);
    expect(tg.pendingPolls()).toBe(0);
    await store.close();
    await tg.close();
    await new Promise((r) => setTimeout(r, 50));
    const now = openResources();
    for (const kind of ['TCPSocketWrap', 'TCPServerWrap', 'Timeout']) {
      expect(now[kind] ?? 0, kind).toBeLessThanOrEqual(baseline[kind] ?? 0);
    }
  });
});

describe('telegram bot failures', () => {
  it('replies when a handler fails, and logs one clear line on 409 Conflict without crashing', async () => {
    const lines: { level: number; msg: string }[] = [];
    const logger = pino({ level: 'info' }, { write: (line: string) => lines.push(JSON.parse(line)) });
    const stand = track(await startTelegramStandIn());
    const failing = track(
      createTelegramBot({
        token: stand.token,
        apiRoot: stand.apiRoot,
        bus: {
          latest: async () => {
            throw new Error('redis is down');
          },
          trackedSymbols: async () => [],
          latestMany: async () => [],
          feedStatus: async () => [],
        },
        subscriptions: new MemorySubscriptionStore(),
        venues: ['bybit'],
        logger,
        botInfo: stand.botInfo,
      }),
    );
    await failing.start();
    stand.sendText(7, '/oi BTC');
    const reply = await stand.waitFor(() => stand.sent(7)[0]);
    expect(reply.params.text).toBe('Something went wrong on our side. Please try again in a minute.');

    stand.failNext('getUpdates', {
      status: 409,
      body: { ok: false, error_code: 409, description: 'Conflict: terminated by other getUpdates request' },
    });
    stand.sendText(7, '/help'); // answers the held poll, so the next getUpdates meets the 409
    await stand.waitFor(() => lines.find((l) => l.msg.includes('409 Conflict')));
    expect(lines.filter((l) => l.msg.includes('409'))).toHaveLength(1);
    expect(failing.bot.isRunning()).toBe(false);
  });
});

describe('telegram bot close while the Bot API does not answer', () => {
  it('close() returns promptly and start() never rejects', async () => {
    const sockets = new Set<Socket>();
    const silent = createServer((s) => sockets.add(s)); // accepts, never answers
    silent.listen(0, '127.0.0.1');
    await once(silent, 'listening');
    const { port } = silent.address() as AddressInfo;
    const stuck = createTelegramBot({
      token: '1:SILENT',
      apiRoot: `http://127.0.0.1:${port}`,
      bus,
      subscriptions: new MemorySubscriptionStore(),
      venues: ['bybit'],
      logger: pino({ level: 'silent' }),
    });
    const started = stuck.start();
    await new Promise((r) => setTimeout(r, 100));
    const t0 = performance.now();
    await stuck.close();
    await expect(started).resolves.toBeUndefined();
    expect(performance.now() - t0).toBeLessThan(2000);
    for (const s of sockets) s.destroy();
    await new Promise((r) => silent.close(r));
  });
});
