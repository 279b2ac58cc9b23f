import type { Update } from 'grammy/types';
import { pino } from 'pino';
import { Registry } from 'prom-client';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type HttpServer, startHttp } from '../../src/app/http.js';
import { versionInfo } from '../../src/app/version.js';
import { ALLOWED_UPDATES, createTelegramBot, type TelegramBot } from '../../src/bot/bot.js';
import { MemoryBus } from '../../src/bus/memory-bus.js';
import { MemorySubscriptionStore } from '../../src/bus/subscription-store.js';
import { startTelegramStandIn, type TelegramStandIn } from '../support/telegram-stand-in.js';

const SECRET = 'hook_Secret-1234567890abcdef';
const WEBHOOK_URL = 'https://bot.example.test:8443/telegram/updates';
const bus = {
  latest: async () => null,
  trackedSymbols: async () => ['BTC'],
  latestMany: async () => [],
  feedStatus: async () => [],
};

let tg: TelegramStandIn;
let telegram: TelegramBot;
let http: HttpServer;
let base: string;
const lines: { level: number; msg: string }[] = [];
const raw: string[] = [];
let nextUpdateId = 9000;

function commandUpdate(chatId: number, text: string, updateId = nextUpdateId++): Update {
  return {
    update_id: updateId,
    message: {
      message_id: updateId,
      date: Math.floor(Date.now() / 1000),
      chat: { id: chatId, type: 'private', first_name: 'Tester' },
      from: { id: chatId, is_bot: false, first_name: 'Tester' },
      text,
      entities: [{ type: 'bot_command', offset: 0, length: text.split(' ')[0]!.length }],
    },
  };
}

function post(body: unknown, secret?: string, path = '/telegram/updates'): Promise<Response> {
  return fetch(`${base}${path}`, {
    method: 'POST',
    headers: {
      'content-type': 'application/json',
      ...(secret === undefined ? {} : { 'x-telegram-bot-api-secret-token': secret }),
    },
    body: typeof body === 'string' ? body : JSON.stringify(body),
  });
}

beforeAll(async () => {
  tg = await startTelegramStandIn();
  const logger = pino(
    { level: 'trace' },
    {
      write: (line: string) => {
        raw.push(line);
        lines.push(JSON.parse(line));
      },
    },
  );
  telegram = createTelegramBot({
    token: tg.token,
    apiRoot: tg.apiRoot,
    bus,
    subscriptions: new MemorySubscriptionStore(),
    venues: ['bybit'],
    logger,
    botInfo: tg.botInfo,
    webhook: { url: WEBHOOK_URL, secret: SECRET },
  });
  const route = telegram.webhook;
  if (route === null) throw new Error('webhook mode must expose a route');
  http = await startHttp(
    0,
    {
      bus: new MemoryBus(),
      venues: () => [],
      staleAfterMs: 30_000,
      metrics: new Registry(),
      version: versionInfo('bot'),
    },
    { routes: { [route.path]: route.handle } },
  );
  base = `http://127.0.0.1:${http.port}`;
  await telegram.start();
});

afterAll(async () => {
  await telegram?.close();
  await http?.close();
  await tg?.close();
});

describe('webhook transport over real HTTP', () => {
  it('sets the webhook with its URL, secret and the update kinds, and does not poll', () => {
    expect(tg.webhook()).toEqual({ url: WEBHOOK_URL, secretToken: SECRET });
    const [call] = tg.calls('setWebhook');
    expect(call?.params.allowed_updates).toEqual([...ALLOWED_UPDATES]);
    expect(telegram.webhook?.path).toBe('/telegram/updates');
    expect(telegram.transport()).toEqual({ mode: 'webhook', state: 'webhook' });
    expect(tg.calls('getUpdates')).toHaveLength(0);
    expect(tg.calls('deleteWebhook')).toHaveLength(0);
  });

  it('answers a command posted with the right secret', async () => {
    const res = await post(commandUpdate(501, '/help'), SECRET);
    expect(res.status).toBe(200);
    const reply = await tg.waitFor(() => tg.sent(501)[0]);
    expect(String(reply.params.text)).toContain('/subscribe');
  });

  it('rejects a wrong or missing secret with 401, processes nothing, and logs one line without the secret', async () => {
    const warnsBefore = lines.filter((l) => l.msg.includes('webhook request rejected')).length;
    const wrong = await post(commandUpdate(502, '/help'), `${SECRET}x`);
    expect(wrong.status).toBe(401);
    const missing = await post(commandUpdate(503, '/help'));
    expect(missing.status).toBe(401);
    const sameLength = await post(commandUpdate(504, '/help'), SECRET.replace('h', 'H'));
    expect(sameLength.status).toBe(401);
    // A later good update is answered, so the rejected ones had their chance and were dropped.
    expect((await post(commandUpdate(505, '/help'), SECRET)).status).toBe(200);
    await tg.waitFor(() => tg.sent(505)[0]);
    expect(tg.sent(502)).toHaveLength(0);
    expect(tg.sent(503)).toHaveLength(0);
    expect(tg.sent(504)).toHaveLength(0);
    // Throttled: the first rejection is logged, the next ones within a minute are only counted.
    const warns = lines.filter((l) => l.msg.includes('webhook request rejected'));
    expect(warns.length - warnsBefore).toBe(1);
    expect(raw.join('\n')).not.toContain(SECRET);
  });

  it('processes an update Telegram re-sends only once', async () => {
    const update = commandUpdate(506, '/list');
    expect((await post(update, SECRET)).status).toBe(200);
    expect((await post(update, SECRET)).status).toBe(200);
    await tg.waitFor(() => tg.sent(506)[0]);
    // The first answer came after the update was handled; the re-send was answered without handling.
    expect(tg.sent(506)).toHaveLength(1);
  });

  it('answers 400 to a body that is not an update, 405 to other methods, and keeps the health endpoints', async () => {
    expect((await post('{not json', SECRET)).status).toBe(400);
    expect((await post({ message: {} }, SECRET)).status).toBe(400);
    expect((await fetch(`${base}/telegram/updates`)).status).toBe(405);
    expect((await fetch(`${base}/healthz`)).status).toBe(200);
    expect((await post(commandUpdate(507, '/help'), SECRET, '/telegram/other')).status).toBe(404);
    expect(tg.sent(507)).toHaveLength(0);
  });

  it('refuses a route on a health endpoint path', async () => {
    const sources = {
      bus: new MemoryBus(),
      venues: () => [],
      staleAfterMs: 30_000,
      metrics: new Registry(),
      version: versionInfo('bot'),
    };
    await expect(startHttp(0, sources, { routes: { '/healthz': () => {} } })).rejects.toThrow(/health/);
  });
});

describe('webhook transport after close', () => {
  it('answers 503 so Telegram keeps the update for the next start, and leaves the webhook set', async () => {
    await telegram.close();
    const res = await post(commandUpdate(508, '/help'), SECRET);
    expect(res.status).toBe(503);
    expect(tg.sent(508)).toHaveLength(0);
    expect(tg.webhook().url).toBe(WEBHOOK_URL);
    expect(telegram.transport().state).toBe('closed');
  });
});
