import { pino } from 'pino';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createTelegramBot, type TelegramBot } from '../../src/bot/bot.js';
import { createCommandRateLimiter } from '../../src/bot/rate-limit.js';
import { MemorySubscriptionStore } from '../../src/bus/subscription-store.js';
import type { AlertJson, SnapshotJson } from '../../src/domain/types.js';
import { startTelegramStandIn, type TelegramStandIn } from '../support/telegram-stand-in.js';

const ADMIN = 900;
const ADMIN_GROUP = -900;
const RATE_PER_MIN = 3;
const NOW = Date.UTC(2025, 0, 15, 12, 0, 0);

const snapshot: SnapshotJson = {
  v: 1,
  venue: 'bybit',
  symbol: 'BTC',
  instrument: 'BTCUSDT',
  ts: NOW,
  price: { mark: 85_000 },
  oi: { base: 52_000, usd: 4.4e9, delta15m: { base: 2_500, usd: 2.1e8, pct: 5 }, delta24h: null },
  funding: { rate: 0.0001, intervalHours: 8, hourly: null, aprPct: 10.95, nextFundingTime: NOW + 3_600_000 },
};
const alert: AlertJson = {
  v: 1,
  id: 'admin-test-alert-1',
  kind: 'oi_change_15m',
  venue: 'bybit',
  symbol: 'BTC',
  ts: NOW,
  text: 'BTC OI +5.00% in 15m',
  thresholdPct: 3,
  delta: { base: 2_500, usd: 2.1e8, pct: 5 },
  windowMs: 900_000,
  snapshot,
};

let tg: TelegramStandIn;
let store: MemorySubscriptionStore;
let telegram: TelegramBot;
let clockMs = NOW;

beforeAll(async () => {
  tg = await startTelegramStandIn();
  store = new MemorySubscriptionStore();
  telegram = createTelegramBot({
    token: tg.token,
    apiRoot: tg.apiRoot,
    bus: {
      latest: async () => snapshot,
      trackedSymbols: async () => ['BTC', 'ETH'],
      latestMany: async () => [],
      feedStatus: async () => [],
    },
    subscriptions: store,
    venues: ['bybit'],
    logger: pino({ level: 'silent' }),
    botInfo: tg.botInfo,
    now: () => clockMs,
    adminChatIds: [ADMIN, ADMIN_GROUP],
    // What bot.ts wires from the subscription store; here counted from the same store.
    stats: async () => {
      const chats = [101, 102, 103];
      const lists = await Promise.all(chats.map((c) => store.listForChat(c)));
      return {
        chats: lists.filter((l) => l.length > 0).length,
        subscriptions: lists.reduce((n, l) => n + l.length, 0),
      };
    },
    commandRatePerMin: RATE_PER_MIN,
    delivery: { pacing: { minIntervalPerChatMs: 0, minIntervalGlobalMs: 0 } },
  });
  await telegram.start();
});

afterAll(async () => {
  await telegram?.close();
  await store?.close();
  await tg?.close();
});

const ask = async (chatId: number, text: string) => String((await tg.ask(chatId, text)).params.text);

describe('/stats', () => {
  it('shows chats, subscriptions, alerts sent and failures to an admin chat', async () => {
    await store.add(101, 'BTC');
    await store.add(101, 'ETH');
    await store.add(102, 'BTC');
    const handle = await telegram.deliverAlert(alert);
    expect(await handle.settled).toEqual(['sent', 'sent']);
    const sent = telegram.deliveryStats().sent;
    const text = await ask(ADMIN, '/stats');
    expect(text).toContain('Chats: 2');
    expect(text).toContain('Subscriptions: 3');
    expect(text).toContain(`Alerts sent: ${sent}`);
    expect(sent).toBe(2);
    expect(text).toContain('Failures: 0');
  });

  it('works in an admin group, addressed to this bot', async () => {
    expect(await ask(ADMIN_GROUP, `/stats@${tg.botInfo.username}`)).toContain('Subscriptions: 3');
  });

  it('gives any other chat the unknown-command reply, not the numbers', async () => {
    const text = await ask(101, '/stats');
    expect(text.startsWith('Unknown command.')).toBe(true);
    expect(text).not.toContain('Subscriptions');
  });

  it('shows /stats in the admin chats’ menus only', () => {
    const calls = tg.calls('setMyCommands');
    const commandsOf = (c: (typeof calls)[number]) =>
      (c.params.commands as { command: string }[]).map((x) => x.command);
    const general = calls.find((c) => c.params.scope === undefined);
    expect(general && commandsOf(general)).not.toContain('stats');
    const scoped = calls.filter((c) => c.params.scope !== undefined);
    expect(scoped.map((c) => (c.params.scope as { chat_id: number }).chat_id).sort()).toEqual(
      [ADMIN, ADMIN_GROUP].sort(),
    );
    for (const c of scoped) expect(commandsOf(c)).toEqual([...commandsOf(general!), 'stats']);
  });
});

describe('per-chat command rate limit', () => {
  it('answers the limit, then one "Slow down", then nothing until the bucket refills', async () => {
    const chat = 777;
    const marker = 778;
    for (let i = 0; i < RATE_PER_MIN; i++) expect(await ask(chat, '/help')).toContain('/oi');
    expect(await ask(chat, '/list')).toMatch(
      /^Slow down: at most 3 commands a minute per chat\. Try again in \d+ s\.$/,
    );
    tg.sendText(chat, '/help');
    tg.sendText(chat, '/oi BTC');
    // Updates are handled in order: once the marker chat is answered, the two above were handled too.
    await ask(marker, '/help');
    expect(tg.sent(chat)).toHaveLength(RATE_PER_MIN + 1);
    // Another chat has its own bucket.
    expect(await ask(marker, '/help')).toContain('/oi');

    clockMs += 60_000 / RATE_PER_MIN; // one token back
    expect(await ask(chat, '/help')).toContain('/oi');
    expect(await ask(chat, '/help')).toMatch(/^Slow down/);
  });

  it('counts button presses, answering the first refused one with the notice', async () => {
    const chat = 779;
    for (let i = 0; i < RATE_PER_MIN; i++) await ask(chat, '/help');
    const id = tg.pressButton(chat, 1, 'noop');
    const answered = await tg.waitFor(() =>
      tg.calls('answerCallbackQuery').find((c) => c.params.callback_query_id === id),
    );
    expect(String(answered.params.text)).toMatch(/^Slow down/);
    const second = tg.pressButton(chat, 1, 'noop');
    const silent = await tg.waitFor(() =>
      tg.calls('answerCallbackQuery').find((c) => c.params.callback_query_id === second),
    );
    expect(silent.params.text).toBeUndefined();
    await ask(780, '/help');
    expect(tg.sent(chat)).toHaveLength(RATE_PER_MIN);
  });

  it('lets plain text through uncounted', async () => {
    const chat = 781;
    for (let i = 0; i < 5; i++) tg.sendText(chat, 'just chatting');
    expect(await ask(chat, '/help')).toContain('/oi');
  });
});

describe('command rate limiter', () => {
  it('refills continuously at perMin per minute, up to perMin', () => {
    let t = 0;
    const limiter = createCommandRateLimiter({ perMin: 6, now: () => t });
    for (let i = 0; i < 6; i++) expect(limiter.take(1).verdict).toBe('ok');
    expect(limiter.take(1)).toEqual({ verdict: 'warn', waitMs: 10_000 });
    t = 4_000;
    expect(limiter.take(1)).toEqual({ verdict: 'silent', waitMs: 6_000 });
    t = 10_000;
    expect(limiter.take(1).verdict).toBe('ok');
    expect(limiter.take(1).verdict).toBe('warn');
    t = 10_000 + 3_600_000; // an hour idle: full bucket, not more
    for (let i = 0; i < 6; i++) expect(limiter.take(1).verdict).toBe('ok');
    expect(limiter.take(1).verdict).toBe('warn');
  });

  it('remembers at most maxChats chats, forgetting the least recently seen', () => {
    const limiter = createCommandRateLimiter({ perMin: 1, maxChats: 2, now: () => 0 });
    expect(limiter.take(1).verdict).toBe('ok');
    expect(limiter.take(2).verdict).toBe('ok');
    expect(limiter.take(1).verdict).toBe('warn'); // 1 is now the most recent
    expect(limiter.take(3).verdict).toBe('ok'); // evicts 2
    expect(limiter.size()).toBe(2);
    expect(limiter.take(1).verdict).toBe('silent'); // still remembered
    expect(limiter.take(2).verdict).toBe('ok'); // forgotten: a fresh bucket
    for (let chat = 10; chat < 1000; chat++) limiter.take(chat);
    expect(limiter.size()).toBe(2);
  });
});
