import { Bot, Composer, type Context } from 'grammy';
import { pino } from 'pino';
import { beforeEach, describe, expect, it } from 'vitest';
import { type AdminCheck, createAdminCheck } from '../../src/bot/kit/admin-check.js';
import { startTelegramStandIn, type TelegramStandIn } from '../support/telegram-stand-in.js';
import { tracker } from '../support/track.js';

const track = tracker();
const GROUP = -5001;
const ADMIN = 2_001;
const MEMBER = 2_002;
const TTL_MS = 60_000;

let tg: TelegramStandIn;
let nowMs: number;

/** Two features sharing one check, as bot.ts wires them: `/a` and `/b` each answer yes or no. */
function featureAsking(command: string, mayChange: AdminCheck): Composer<Context> {
  const feature = new Composer<Context>();
  feature.command(command, async (ctx) => ctx.reply((await mayChange(ctx)) ? 'yes' : 'no'));
  return feature;
}

async function startBot(opts: { maxEntries?: number } = {}): Promise<void> {
  const mayChange = createAdminCheck({
    now: () => nowMs,
    logger: pino({ level: 'silent' }),
    ttlMs: TTL_MS,
    ...opts,
  });
  const bot = new Bot(tg.token, { botInfo: tg.botInfo, client: { apiRoot: tg.apiRoot } });
  bot.use(featureAsking('a', mayChange), featureAsking('b', mayChange));
  void bot.start({ timeout: 1 });
  track({ close: () => bot.stop() });
  await tg.waitFor(() => bot.isRunning() && tg.pendingPolls() > 0);
}

/** Sends `text` from `fromId` in `chatId` and resolves with the bot's answer there. */
const ask = async (chatId: number, text: string, fromId?: number) =>
  String((await tg.ask(chatId, text, fromId)).params.text);

const memberChecks = () => tg.calls('getChatMember').length;

beforeEach(async () => {
  nowMs = Date.UTC(2025, 0, 15, 12, 0, 0);
  tg = track(await startTelegramStandIn());
  tg.setAdmins(GROUP, [ADMIN]);
});

describe('the shared admin check', () => {
  it('says yes in a private chat without asking Telegram', async () => {
    await startBot();
    expect(await ask(601, '/a')).toBe('yes');
    expect(memberChecks()).toBe(0);
  });

  it('in a group, says yes to an admin and no to a member, asking once per user whichever feature asked', async () => {
    await startBot();
    expect(await ask(GROUP, '/a', ADMIN)).toBe('yes');
    expect(await ask(GROUP, '/b', ADMIN)).toBe('yes');
    expect(await ask(GROUP, '/b', MEMBER)).toBe('no');
    expect(await ask(GROUP, '/a', MEMBER)).toBe('no');
    expect(memberChecks()).toBe(2);
  });

  it('trusts an answer for the TTL on its clock, then asks again and sees a demotion', async () => {
    await startBot();
    expect(await ask(GROUP, '/a', ADMIN)).toBe('yes');
    tg.setAdmins(GROUP, []);
    nowMs += TTL_MS - 1;
    expect(await ask(GROUP, '/b', ADMIN)).toBe('yes');
    expect(memberChecks()).toBe(1);
    nowMs += 2;
    expect(await ask(GROUP, '/b', ADMIN)).toBe('no');
    expect(memberChecks()).toBe(2);
  });

  it('says no when the check fails, and does not remember the failure', async () => {
    await startBot();
    tg.failNext('getChatMember', {
      status: 500,
      body: { ok: false, error_code: 500, description: 'Internal Server Error' },
    });
    expect(await ask(GROUP, '/a', ADMIN)).toBe('no');
    expect(await ask(GROUP, '/a', ADMIN)).toBe('yes');
    expect(memberChecks()).toBe(2);
  });

  it('keeps at most maxEntries answers, forgetting the least recently used', async () => {
    await startBot({ maxEntries: 2 });
    const users = [3_001, 3_002, 3_003];
    tg.setAdmins(GROUP, users);
    for (const user of users) expect(await ask(GROUP, '/a', user)).toBe('yes');
    expect(memberChecks()).toBe(3);
    await ask(GROUP, '/a', users[2]); // still remembered
    expect(memberChecks()).toBe(3);
    await ask(GROUP, '/a', users[0]); // forgotten when the third arrived
    expect(memberChecks()).toBe(4);
  });
});
