import { Bot } from 'grammy';
import type { InlineKeyboardButton } from 'grammy/types';
import { pino } from 'pino';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  NOT_ADMIN_TEXT,
  parseSettingsCommand,
  settingsFeature,
  TOGGLE_PREFIX,
} from '../../src/bot/features/settings.js';
import { createAdminCheck } from '../../src/bot/kit/admin-check.js';
import { MemoryChatSettingsStore } from '../../src/bus/chat-settings-store.js';
import { MemorySubscriptionStore } from '../../src/bus/subscription-store.js';
import { DEFAULT_CHAT_SETTINGS } from '../../src/bus/types.js';
import { ALERT_KINDS } from '../../src/domain/types.js';
import { startTelegramStandIn, type TelegramStandIn } from '../support/telegram-stand-in.js';

let tg: TelegramStandIn;
let bot: Bot;
let polling: Promise<void>;
const settings = new MemoryChatSettingsStore();
const errors: unknown[] = [];

const PRIVATE = 501;
const GROUP = -4001;
const SUPERGROUP = -1_001_234_567_890;

beforeAll(async () => {
  tg = await startTelegramStandIn();
  bot = new Bot(tg.token, { botInfo: tg.botInfo, client: { apiRoot: tg.apiRoot } });
  bot.use(
    settingsFeature({
      bus: { latest: async () => null, trackedSymbols: async () => [] },
      subscriptions: new MemorySubscriptionStore(),
      venues: ['binance', 'bybit', 'okx', 'hyperliquid'],
      logger: pino({ level: 'silent' }),
      now: () => Date.now(),
      mayChange: createAdminCheck({ now: () => Date.now(), logger: pino({ level: 'silent' }) }),
      settings,
    }),
  );
  bot.catch((err) => {
    errors.push(err);
  });
  polling = bot.start({ timeout: 1 });
});

afterAll(async () => {
  await bot.stop();
  await polling;
  await tg.close();
  await settings.close();
  expect(errors).toEqual([]);
});

/** Sends a text and waits for the bot's reply to that chat. */
async function say(chatId: number, text: string, fromId?: number): Promise<string> {
  const reply = await tg.ask(chatId, text, fromId);
  expect(reply.params.parse_mode).toBe('HTML');
  return String(reply.params.text);
}

function buttons(markup: unknown): InlineKeyboardButton.CallbackButton[] {
  const rows = (markup as { inline_keyboard: InlineKeyboardButton.CallbackButton[][] }).inline_keyboard;
  return rows.flat();
}

describe('/settings', () => {
  it('shows the settings with one toggle per alert kind, each callback within 64 bytes', async () => {
    const text = await say(PRIVATE, '/settings');
    expect(text).toContain('Alert settings');
    expect(text).toContain('Quiet hours: off');
    const reply = tg.sent(PRIVATE).at(-1)!;
    const keys = buttons(reply.params.reply_markup);
    expect(keys.map((b) => b.callback_data)).toEqual(ALERT_KINDS.map((k) => `${TOGGLE_PREFIX}${k}`));
    for (const b of keys) expect(Buffer.byteLength(b.callback_data)).toBeLessThanOrEqual(64);
  });

  it('changes every setting by its text form', async () => {
    const chat = PRIVATE + 1;
    const get = () => settings.get(chat);

    expect(await say(chat, '/settings threshold oi_change_15m 5')).toContain('from 5%');
    expect((await get()).kinds.oi_change_15m).toEqual({ enabled: true, threshold: 5 });

    await say(chat, '/settings off funding_pressure');
    expect((await get()).kinds.funding_pressure).toEqual({ enabled: false });
    await say(chat, '/settings threshold momentum_spike 2.5');
    await say(chat, '/settings off momentum_spike');
    expect((await get()).kinds.momentum_spike).toEqual({ enabled: false, threshold: 2.5 });
    await say(chat, '/settings on momentum_spike');
    expect((await get()).kinds.momentum_spike).toEqual({ enabled: true, threshold: 2.5 });
    await say(chat, '/settings on funding_pressure');
    expect((await get()).kinds.funding_pressure).toBeUndefined();

    await say(chat, '/settings venues binance,okx');
    expect((await get()).venues).toEqual(['binance', 'okx']);
    await say(chat, '/settings venues all');
    expect((await get()).venues).toBeNull();

    expect(await say(chat, '/settings quiet 22-7')).toContain('22:00–07:00 UTC');
    expect((await get()).quietHours).toEqual({ startHour: 22, endHour: 7 });
    await say(chat, '/settings quiet off');
    expect((await get()).quietHours).toBeNull();

    await say(chat, '/settings reminder 15');
    expect((await get()).fundingReminderMin).toBe(15);
    await say(chat, '/settings reminder off');
    expect((await get()).fundingReminderMin).toBeNull();

    await say(chat, '/settings venues bybit');
    await say(chat, '/settings quiet 1-5');
    expect(await get()).not.toEqual(DEFAULT_CHAT_SETTINGS);
    await say(chat, '/settings reset');
    expect(await get()).toEqual(DEFAULT_CHAT_SETTINGS);

    // The view reflects what was stored.
    await say(chat, '/settings threshold oi_change_24h 12');
    await say(chat, '/settings off control_flip');
    const view = await say(chat, '/settings');
    expect(view).toMatch(/OI change 24h · from 12%/);
    expect(view).toMatch(/🔕 Control flip · off/);
  });

  it('clamps a threshold below the floor and says so; snaps to the grid and says so', async () => {
    const chat = PRIVATE + 30;
    const get = () => settings.get(chat);
    const low = await say(chat, '/settings threshold oi_change_15m 0.5');
    expect(low).toContain(
      '1% is the lowest threshold for OI change 15m: below it a move is noise; set to 1%.',
    );
    expect((await get()).kinds.oi_change_15m).toEqual({ enabled: true, threshold: 1 });
    const odd = await say(chat, '/settings threshold oi_change_15m 1.3');
    expect(odd).toContain('Thresholds for OI change 15m go in steps of 0.5%; set to 1.5%.');
    expect((await get()).kinds.oi_change_15m).toEqual({ enabled: true, threshold: 1.5 });
    expect(await say(chat, '/settings threshold funding_pressure 3')).toContain(
      '10% APR is the lowest threshold for Funding pressure: below it a move is noise; set to 10% APR.',
    );
    expect(await say(chat, '/settings threshold momentum_spike 500')).toContain(
      '50× is the highest threshold for Momentum spike; set to 50×.',
    );
    // On the grid: no note, just the confirmation, lower or higher than the server's.
    const exact = await say(chat, '/settings threshold oi_change_24h 4');
    expect(exact).toContain(
      "OI change 24h: alerts from 4% (|OI change| in percent), lower or higher than the server's.",
    );
    expect(exact).not.toMatch(/lowest|steps of/);
    // Without published levels (this feature alone), the bot does not promise a lower threshold works.
    expect(exact).toContain("Here it only filters the server's alerts");
    // A kind the processor does not evaluate per chat keeps the filter, and says so.
    expect(await say(chat, '/settings threshold control_flip 0.5')).toContain(
      "This filters the server's alerts: a threshold below the server's own adds none.",
    );
    expect((await get()).kinds.control_flip).toEqual({ enabled: true, threshold: 0.5 });
    expect(await say(chat, '/settings')).toContain(
      'Lowest thresholds: OI change 15m 1% · OI change 24h 3% · Funding pressure 10% APR · Momentum spike 1.5×',
    );
  });

  it('answers bad input with the right form and changes nothing', async () => {
    const chat = PRIVATE + 2;
    const cases: Array<[string, string]> = [
      ['/settings quiet 25-3', '/settings quiet 22-7'],
      ['/settings quiet 4-4', '/settings quiet 22-7'],
      ['/settings threshold oi_change_15m -1', '/settings threshold oi_change_15m 5'],
      ['/settings threshold nope 5', 'Unknown alert kind'],
      ['/settings threshold funding_interval_change 2', '/settings off funding_pressure'],
      ['/settings off', 'Which alert kind?'],
      ['/settings venues ftx', '/settings venues binance,okx'],
      ['/settings reminder 500', '1–240'],
      ['/settings reminder soon', '/settings reminder 15'],
      ['/settings frobnicate', '/settings reset'],
    ];
    for (const [input, expected] of cases) expect(await say(chat, input), input).toContain(expected);
    expect(await settings.get(chat)).toEqual(DEFAULT_CHAT_SETTINGS);
    // What the user typed comes back escaped.
    expect(await say(chat, '/settings <b>&x')).toContain('<code>&lt;b&gt;&amp;x</code>');
  });

  it('edits the message in place when a toggle is pressed, and answers the press', async () => {
    const chat = PRIVATE + 3;
    const messageId = 9_001;
    const queryId = tg.pressButton(chat, messageId, `${TOGGLE_PREFIX}funding_pressure`);
    const edit = await tg.waitFor(() =>
      tg.calls('editMessageText').find((c) => Number(c.params.chat_id) === chat),
    );
    expect(edit.params.message_id).toBe(messageId);
    expect(String(edit.params.text)).toContain('🔕 Funding pressure · off');
    const toggle = buttons(edit.params.reply_markup).find((b) =>
      b.callback_data.endsWith('funding_pressure'),
    );
    expect(toggle?.text).toContain('🔕');
    expect((await settings.get(chat)).kinds.funding_pressure).toEqual({ enabled: false });
    await tg.waitFor(() =>
      tg.calls('answerCallbackQuery').find((c) => c.params.callback_query_id === queryId),
    );

    // Pressed again: back on.
    const again = tg.pressButton(chat, messageId, `${TOGGLE_PREFIX}funding_pressure`);
    await tg.waitFor(() => tg.calls('answerCallbackQuery').find((c) => c.params.callback_query_id === again));
    expect((await settings.get(chat)).kinds.funding_pressure).toBeUndefined();

    // A stale or foreign button is answered too, without an edit.
    const edits = tg.calls('editMessageText').length;
    const stale = tg.pressButton(chat, messageId, 'set:t:no_such_kind');
    const answer = await tg.waitFor(() =>
      tg.calls('answerCallbackQuery').find((c) => c.params.callback_query_id === stale),
    );
    expect(String(answer.params.text)).toContain('/settings');
    expect(tg.calls('editMessageText')).toHaveLength(edits);
  });

  it('lets only group admins change settings; anyone may look', async () => {
    const member = 1_000;
    const admin = 1_001;
    tg.setAdmins(GROUP, [admin]);
    expect(await say(GROUP, '/settings off control_flip', member)).toContain(NOT_ADMIN_TEXT);
    expect(await settings.get(GROUP)).toEqual(DEFAULT_CHAT_SETTINGS);
    expect(await say(GROUP, '/settings', member)).toContain('Alert settings');

    const refused = tg.pressButton(GROUP, 77, `${TOGGLE_PREFIX}control_flip`, member);
    const answer = await tg.waitFor(() =>
      tg.calls('answerCallbackQuery').find((c) => c.params.callback_query_id === refused),
    );
    expect(answer.params.text).toBe(NOT_ADMIN_TEXT);
    expect(tg.calls('editMessageText').some((c) => Number(c.params.chat_id) === GROUP)).toBe(false);
    expect(await settings.get(GROUP)).toEqual(DEFAULT_CHAT_SETTINGS);

    const checks = tg.calls('getChatMember').length;
    expect(await say(GROUP, '/settings off control_flip', admin)).toContain('Control flip alerts off');
    expect((await settings.get(GROUP)).kinds.control_flip).toEqual({ enabled: false });
    // The admin answer is cached: a second change asks Telegram no more.
    await say(GROUP, '/settings reminder 30', admin);
    expect((await settings.get(GROUP)).fundingReminderMin).toBe(30);
    expect(tg.calls('getChatMember')).toHaveLength(checks + 1);
  });

  it('treats an anonymous admin (posting as the group) as an admin', async () => {
    const before = tg.sent(SUPERGROUP).length;
    tg.pushUpdate({
      message: {
        message_id: 5_000,
        date: Math.floor(Date.now() / 1000),
        chat: { id: SUPERGROUP, type: 'supergroup', title: 'Test group' },
        from: { id: 1_087_968_824, is_bot: true, first_name: 'Group', username: 'GroupAnonymousBot' },
        sender_chat: { id: SUPERGROUP, type: 'supergroup', title: 'Test group' },
        text: '/settings quiet 23-6',
        entities: [{ type: 'bot_command', offset: 0, length: 9 }],
      },
    });
    await tg.waitFor(() => tg.sent(SUPERGROUP)[before]);
    expect((await settings.get(SUPERGROUP)).quietHours).toEqual({ startHour: 23, endHour: 6 });
  });

  it('moves the settings when a group becomes a supergroup', async () => {
    const oldId = -4_100;
    const newId = -1_009_999_999_999;
    await settings.update(oldId, { fundingReminderMin: 45 });
    tg.pushUpdate({
      message: {
        message_id: 5_001,
        date: Math.floor(Date.now() / 1000),
        chat: { id: oldId, type: 'group', title: 'Test group' },
        from: { id: 1_000, is_bot: false, first_name: 'Tester' },
        migrate_to_chat_id: newId,
      },
    });
    await expect
      .poll(async () => (await settings.get(newId)).fundingReminderMin, { timeout: 5_000 })
      .toBe(45);
    expect(await settings.get(oldId)).toEqual(DEFAULT_CHAT_SETTINGS);
  });
});

describe('parseSettingsCommand', () => {
  it('accepts friendly spellings', () => {
    expect(parseSettingsCommand('threshold OI-CHANGE-15M 4%')).toEqual({
      type: 'threshold',
      kind: 'oi_change_15m',
      threshold: 4,
    });
    expect(parseSettingsCommand('threshold oi_change_15m default')).toMatchObject({ threshold: null });
    expect(parseSettingsCommand('venues okx, Binance okx')).toEqual({
      type: 'venues',
      venues: ['okx', 'binance'],
    });
    expect(parseSettingsCommand('quiet 22:00-07:00')).toEqual({
      type: 'quiet',
      quiet: { startHour: 22, endHour: 7 },
    });
    expect(parseSettingsCommand('reminder 30m')).toEqual({ type: 'reminder', minutes: 30 });
    expect(parseSettingsCommand('  ')).toEqual({ type: 'show' });
  });
});
