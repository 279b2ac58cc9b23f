import { type Logger, pino } from 'pino';
import { describe, expect, it } from 'vitest';
import { ALLOWED_UPDATES, createTelegramBot, type TelegramBotOptions } from '../../src/bot/bot.js';
import { COMMANDS, closestCommand } from '../../src/bot/features/basic.js';
import { MemorySubscriptionStore } from '../../src/bus/subscription-store.js';
import { startTelegramStandIn, type TelegramStandIn } from '../support/telegram-stand-in.js';
import { tracker } from '../support/track.js';

interface Line {
  level: number;
  msg: string;
}

function capture(level = 'trace') {
  const lines: Line[] = [];
  const raw: string[] = [];
  const logger = pino(
    { level },
    {
      write: (line: string) => {
        raw.push(line);
        lines.push(JSON.parse(line));
      },
    },
  );
  return { logger, lines, raw };
}

const track = tracker();

const bus = {
  latest: async () => null,
  trackedSymbols: async () => ['BTC'],
  latestMany: async () => [],
  feedStatus: async () => [],
};

function botOn(tg: TelegramStandIn, logger: Logger, extra: Partial<TelegramBotOptions> = {}) {
  return createTelegramBot({
    token: tg.token,
    apiRoot: tg.apiRoot,
    bus,
    subscriptions: new MemorySubscriptionStore(),
    venues: ['bybit'],
    logger,
    botInfo: tg.botInfo,
    ...extra,
  });
}

const ask = async (tg: TelegramStandIn, chatId: number, text: string) =>
  String((await tg.ask(chatId, text)).params.text);

// Every command the product promises, each in the menu with a one-line description.
const PROMISED = [
  'start',
  'help',
  'subscribe',
  'unsubscribe',
  'list',
  'oi',
  'funding',
  'market',
  'top',
  'liq',
  'settings',
  'status',
];

describe('command menu', () => {
  it('setMyCommands carries every command with a one-line description, and /help lists them', async () => {
    const tg = track(await startTelegramStandIn());
    const telegram = track(botOn(tg, pino({ level: 'silent' })));
    await telegram.start();
    const [call] = tg.calls('setMyCommands');
    const menu = call?.params.commands as { command: string; description: string }[];
    expect(menu.map((c) => c.command).sort()).toEqual([...PROMISED].sort());
    for (const entry of menu) {
      expect(Object.keys(entry).sort()).toEqual(['command', 'description']);
      expect(entry.command).toMatch(/^[a-z0-9_]{1,32}$/);
      expect(entry.description.length).toBeGreaterThan(0);
      expect(entry.description.length).toBeLessThanOrEqual(256);
      expect(entry.description).not.toContain('\n');
    }
    expect(call?.params.scope).toBeUndefined();
    const help = await ask(tg, 301, '/help');
    for (const c of COMMANDS.filter((x) => x.command !== 'start')) {
      expect(help).toContain(`/${c.command} · ${c.description}`);
    }
  });

  it('suggests the closest command for a typo, and nothing for gibberish', async () => {
    expect(closestCommand('subscibe')).toBe('subscribe');
    expect(closestCommand('fundng')).toBe('funding');
    expect(closestCommand('frobnicate')).toBeNull();
    const tg = track(await startTelegramStandIn());
    const telegram = track(botOn(tg, pino({ level: 'silent' })));
    await telegram.start();
    expect(await ask(tg, 302, '/lst')).toBe(
      'Unknown command. Did you mean /list? /help lists what I can do.',
    );
    expect(await ask(tg, 302, '/frobnicate')).toBe('Unknown command. /help lists what I can do.');
  });
});

describe('long polling start-up', () => {
  it('logs one clear line when a webhook is set, then takes over and polls', async () => {
    const tg = track(await startTelegramStandIn());
    const { logger, lines, raw } = capture();
    await fetch(`${tg.apiRoot}/bot${tg.token}/setWebhook`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ url: 'https://other.example.test/path-with-a-secret', secret_token: 'x' }),
    });
    const telegram = track(botOn(tg, logger));
    await telegram.start();
    expect(await ask(tg, 303, '/help')).toContain('/oi');
    const webhookLines = lines.filter((l) => l.msg.includes('webhook') && l.level >= 40);
    expect(webhookLines).toHaveLength(1);
    expect(webhookLines[0]?.msg).toContain('BOT_MODE=webhook');
    expect(raw.join('\n')).not.toContain('path-with-a-secret');
    expect(tg.webhook().url).toBe('');
    const [poll] = tg.calls('getUpdates');
    expect(poll?.params.allowed_updates).toEqual([...ALLOWED_UPDATES]);
    expect(telegram.transport()).toEqual({ mode: 'polling', state: 'polling' });
  });

  it('says nothing about webhooks when none is set', async () => {
    const tg = track(await startTelegramStandIn());
    const { logger, lines } = capture();
    const telegram = track(botOn(tg, logger));
    await telegram.start();
    await ask(tg, 304, '/help');
    expect(tg.calls('getWebhookInfo')).toHaveLength(1);
    expect(lines.filter((l) => l.msg.includes('webhook') && l.level >= 40)).toHaveLength(0);
  });
});

const CONFLICT = {
  status: 409,
  body: {
    ok: false,
    error_code: 409,
    description:
      'Conflict: terminated by other getUpdates request; make sure that only one bot instance is running',
  },
};

describe('409 Conflict while polling', () => {
  it('logs one error line, stays up, and polls again until the other poller is gone', async () => {
    const tg = track(await startTelegramStandIn());
    const { logger, lines } = capture();
    tg.failNext('getUpdates', CONFLICT);
    tg.failNext('getUpdates', CONFLICT);
    tg.failNext('getUpdates', CONFLICT);
    const telegram = track(botOn(tg, logger, { retryMs: 20 }));
    await telegram.start();
    expect(await ask(tg, 305, '/help')).toContain('/oi');
    const conflicts = tg.calls('getUpdates').filter((c) => c.status === 409);
    expect(conflicts).toHaveLength(3);
    const errors = lines.filter((l) => l.level >= 50);
    expect(errors).toHaveLength(1);
    expect(errors[0]?.msg).toContain('409 Conflict');
    expect(errors[0]?.msg).toMatch(/one bot per token/);
    expect(lines.filter((l) => l.msg.includes('polling resumed'))).toHaveLength(1);
    expect(telegram.transport().state).toBe('polling');
    // A second conflict later is a new episode: reported again, once.
    tg.failNext('getUpdates', CONFLICT);
    await ask(tg, 305, '/help'); // answers the held poll, so the next getUpdates meets the 409
    await tg.waitFor(() => lines.filter((l) => l.level >= 50).length === 2);
    expect(await ask(tg, 305, '/list')).toContain('subscriptions');
  });

  it('close() during the wait before polling again leaves no timer behind', async () => {
    const tg = track(await startTelegramStandIn());
    const { logger, lines } = capture();
    tg.failNext('getUpdates', CONFLICT);
    const telegram = track(botOn(tg, logger)); // default wait: a minute
    const timers = () => process.getActiveResourcesInfo().filter((r) => r === 'Timeout').length;
    await telegram.start();
    await tg.waitFor(() => lines.find((l) => l.msg.includes('409 Conflict')));
    expect(telegram.transport().state).toBe('conflict');
    expect(telegram.bot.isRunning()).toBe(false);
    const during = timers();
    await telegram.close();
    expect(timers()).toBeLessThan(during);
    expect(tg.calls('getUpdates')).toHaveLength(1);
  });

  it('401 Unauthorized is logged once and not retried', async () => {
    const tg = track(await startTelegramStandIn());
    const { logger, lines } = capture();
    tg.failNext('getUpdates', {
      status: 401,
      body: { ok: false, error_code: 401, description: 'Unauthorized' },
    });
    const telegram = track(botOn(tg, logger, { retryMs: 5 }));
    await telegram.start();
    await tg.waitFor(() => telegram.transport().state === 'unauthorized');
    await new Promise((r) => setTimeout(r, 100)); // many retry periods
    expect(tg.calls('getUpdates')).toHaveLength(1);
    expect(lines.filter((l) => l.level >= 50)).toHaveLength(1);
    expect(lines.find((l) => l.level >= 50)?.msg).toContain('TELEGRAM_BOT_TOKEN');
  });
});

describe('secrets stay out of the logs', () => {
  const TOKEN = '987654321:AAHsecretPartOfTheToken_abcdefXYZ';
  const SECRET = 'webhookSecret_ABCDEFGHIJ-0123456789';

  it('neither the token nor the webhook secret appears while requests fail', async () => {
    const tg = track(await startTelegramStandIn(TOKEN));
    const { logger, raw, lines } = capture();
    tg.failNext('setMyCommands', { dropConnection: true });
    tg.failNext('setWebhook', {
      status: 400,
      body: { ok: false, error_code: 400, description: 'Bad Request: bad webhook: Failed to resolve host' },
    });
    tg.failNext('setWebhook', { dropConnection: true });
    const telegram = track(
      createTelegramBot({
        token: TOKEN,
        apiRoot: tg.apiRoot,
        bus,
        subscriptions: new MemorySubscriptionStore(),
        venues: ['bybit'],
        logger,
        webhook: { url: 'https://bot.example.test/hook', secret: SECRET },
        retryMs: 10,
      }),
    );
    const wrongToken = track(
      createTelegramBot({
        token: `${TOKEN}0`,
        apiRoot: tg.apiRoot,
        bus,
        subscriptions: new MemorySubscriptionStore(),
        venues: ['bybit'],
        logger,
      }),
    );
    await telegram.start();
    await tg.waitFor(() => telegram.transport().state === 'webhook');
    await wrongToken.start();
    await tg.waitFor(() => wrongToken.transport().state === 'unauthorized');
    expect(tg.calls('setWebhook').map((c) => c.status)).toEqual([400, 0, 200]);
    // The failures were logged (so the test looked at real error output) ...
    expect(lines.some((l) => l.msg.includes('setWebhook failed'))).toBe(true);
    expect(lines.some((l) => l.msg.includes('command menu'))).toBe(true);
    // ... and no line carries the token, its secret half or the webhook secret.
    const all = raw.join('\n');
    expect(all).not.toContain(TOKEN);
    expect(all).not.toContain(TOKEN.split(':')[1]);
    expect(all).not.toContain(SECRET);
  });
});
