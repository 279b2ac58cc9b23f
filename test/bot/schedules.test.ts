import { afterEach, describe, expect, it } from 'vitest';
import {
  dueReminders,
  dueSummaries,
  formatQuietSummary,
  formatReminderLine,
  reminderKey,
  ScheduleRunner,
} from '../../src/bot/schedules.js';
import { MemoryChatSettingsStore } from '../../src/bus/chat-settings-store.js';
import { MemorySubscriptionStore } from '../../src/bus/subscription-store.js';
import { type ChatSettings, DEFAULT_CHAT_SETTINGS } from '../../src/bus/types.js';
import type { AlertJson, SnapshotJson } from '../../src/domain/types.js';

const DAY = Date.UTC(2025, 6, 1);
const at = (hour: number, minute = 0) => DAY + hour * 3_600_000 + minute * 60_000;
const SETTLE = at(16);

function snap(symbol: string, venue: string, over: Partial<SnapshotJson['funding']> = {}): SnapshotJson {
  return {
    v: 1,
    venue,
    symbol,
    instrument: `${symbol}USDT`,
    ts: at(15),
    price: { mark: 100 },
    oi: { base: 1e6, usd: 1e8, delta15m: null, delta24h: null },
    funding: {
      rate: 0.0001,
      intervalHours: 8,
      hourly: null,
      aprPct: 10.95,
      nextFundingTime: SETTLE,
      ...over,
    },
  };
}

function alertOf(i: number, symbol = 'SOL', pct = 6.06): AlertJson {
  return {
    v: 1,
    id: `oi_change_15m:bybit:${symbol}:${at(1) + i}`,
    kind: 'oi_change_15m',
    venue: 'bybit',
    symbol,
    ts: at(1, i % 60),
    text: `${symbol} OI`,
    thresholdPct: 3,
    delta: { base: 1, usd: 1, pct },
    windowMs: 900_000,
    snapshot: snap(symbol, 'bybit'),
  };
}

const quiet: ChatSettings = { ...DEFAULT_CHAT_SETTINGS, quietHours: { startHour: 22, endHour: 7 } };
const reminding = (min: number, over: Partial<ChatSettings> = {}): ChatSettings => ({
  ...DEFAULT_CHAT_SETTINGS,
  fundingReminderMin: min,
  ...over,
});

describe('dueSummaries', () => {
  it('waits for the end of quiet hours, then summarizes every held alert', () => {
    const held = [alertOf(1), alertOf(2, 'BTC', -3.5)];
    expect(dueSummaries([{ chatId: 1, settings: quiet, held }], at(3))).toEqual([]);
    const [due, ...rest] = dueSummaries([{ chatId: 1, settings: quiet, held }], at(7));
    expect(rest).toEqual([]);
    expect(due?.chatId).toBe(1);
    const lines = due?.html.split('\n') ?? [];
    expect(lines[0]).toContain('While you were in quiet hours: 2 alerts');
    expect(lines).toHaveLength(3);
    expect(lines[1]).toContain('<b>SOL</b>');
    expect(lines[1]).toContain('+6.06%');
    expect(lines[2]).toContain('<b>BTC</b>');
    expect(lines[2]).toContain('-3.50%');
    expect(lines[2]).toContain('OI change 15m');
    // Nothing held, nothing to say; quiet hours removed: due at once.
    expect(dueSummaries([{ chatId: 1, settings: quiet, held: [] }], at(8))).toEqual([]);
    expect(dueSummaries([{ chatId: 2, settings: DEFAULT_CHAT_SETTINGS, held }], at(3))).toHaveLength(1);
  });

  it('escapes values and cuts a long summary to fit, saying how many are left out', () => {
    const held = Array.from({ length: 400 }, (_, i) => ({ ...alertOf(i, `S${i}`), venue: '<i>&venue' }));
    const html = formatQuietSummary(held);
    expect(html.length).toBeLessThanOrEqual(4000);
    expect(html).not.toContain('<i>');
    expect(html).toContain('&lt;i&gt;&amp;venue');
    const lines = html.split('\n');
    const more = /^… and (\d+) more$/.exec(lines.at(-1) ?? '');
    expect(more).not.toBeNull();
    const shown = lines.length - 2;
    expect(shown).toBeGreaterThan(10);
    expect(shown + Number(more?.[1])).toBe(400);
    // A summary that fits is never cut.
    expect(formatQuietSummary(held.slice(0, 5))).not.toContain('more');
  });
});

describe('dueReminders', () => {
  const none = new Set<string>();

  it('reminds within the lead time, once per settlement', () => {
    const chats = [{ chatId: 5, settings: reminding(15), snapshots: [snap('BTC', 'bybit')] }];
    expect(dueReminders(chats, SETTLE - 16 * 60_000, none)).toEqual([]);
    const [due] = dueReminders(chats, SETTLE - 15 * 60_000, none);
    expect(due?.keys).toEqual([reminderKey(5, 'bybit', 'BTC', SETTLE)]);
    expect(due?.html).toBe('⏰ <b>BTC</b> funding settles in 15m on bybit: +0.0100% / 8h, longs pay shorts');
    expect(dueReminders(chats, SETTLE - 14 * 60_000, new Set(due?.keys))).toEqual([]);
    expect(dueReminders(chats, SETTLE, none)).toEqual([]);
    // The next settlement is a new one.
    const next = [
      { ...chats[0]!, snapshots: [snap('BTC', 'bybit', { nextFundingTime: SETTLE + 8 * 3_600_000 })] },
    ];
    expect(dueReminders(next, SETTLE + 8 * 3_600_000 - 60_000, new Set(due?.keys))).toHaveLength(1);
  });

  it('puts every due settlement of a chat in one message, on the venues it wants, not in quiet hours', () => {
    const snapshots = [
      snap('ETH', 'okx', { rate: -0.00025 }),
      snap('BTC', 'bybit'),
      snap('BTC', 'hyperliquid', { nextFundingTime: at(15, 50), intervalHours: 1 }),
      snap('SOL', 'binance', { nextFundingTime: at(20) }),
      snap('XRP', 'binance', { nextFundingTime: null }),
    ];
    const [due] = dueReminders([{ chatId: 9, settings: reminding(30), snapshots }], at(15, 40), none);
    expect(due?.html.split('\n')).toEqual([
      '⏰ <b>BTC</b> funding settles in 20m on bybit: +0.0100% / 8h, longs pay shorts',
      '⏰ <b>BTC</b> funding settles in 10m on hyperliquid: +0.0100% / 1h, longs pay shorts',
      '⏰ <b>ETH</b> funding settles in 20m on okx: -0.0250% / 8h, shorts pay longs',
    ]);
    const filtered = reminding(30, { venues: ['okx'] });
    expect(dueReminders([{ chatId: 9, settings: filtered, snapshots }], at(15, 40), none)[0]?.keys).toEqual([
      reminderKey(9, 'okx', 'ETH', SETTLE),
    ]);
    const sleeping = reminding(30, { quietHours: { startHour: 15, endHour: 16 } });
    expect(dueReminders([{ chatId: 9, settings: sleeping, snapshots }], at(15, 40), none)).toEqual([]);
    expect(
      dueReminders([{ chatId: 9, settings: DEFAULT_CHAT_SETTINGS, snapshots }], at(15, 40), none),
    ).toEqual([]);
  });

  it('rounds the time left up to whole minutes', () => {
    expect(formatReminderLine(snap('BTC', 'bybit'), SETTLE - 14 * 60_000 - 30_000)).toContain(
      'settles in 15m',
    );
  });
});

describe('ScheduleRunner', () => {
  const runners: ScheduleRunner[] = [];
  afterEach(async () => {
    await Promise.all(runners.splice(0).map((r) => r.close()));
  });

  function setup(snapshots: SnapshotJson[] = []) {
    const store = new MemoryChatSettingsStore();
    const subscriptions = new MemorySubscriptionStore();
    const sent: Array<{ chatId: number; html: string }> = [];
    let nowMs = at(23);
    const runner = new ScheduleRunner({
      store,
      subscriptions,
      latest: async (venue, symbol) =>
        snapshots.find((s) => s.venue === venue && s.symbol === symbol) ?? null,
      send: async (chatId, html) => {
        sent.push({ chatId, html });
      },
      now: () => nowMs,
    });
    runners.push(runner);
    return { store, subscriptions, sent, runner, setNow: (ms: number) => (nowMs = ms) };
  }

  it('sends the summary once quiet hours end, and only once', async () => {
    const { store, sent, runner, setNow } = setup();
    await store.update(1, { quietHours: { startHour: 22, endHour: 7 } });
    await store.hold(1, alertOf(1));
    await store.hold(1, alertOf(2, 'ETH'));
    expect(await runner.sweep()).toMatchObject({ summaries: 0 });
    setNow(at(6, 59) + 86_400_000);
    await runner.sweep();
    expect(sent).toEqual([]);
    setNow(at(7) + 86_400_000);
    expect(await runner.sweep()).toMatchObject({ chats: 1, summaries: 1, failures: 0 });
    expect(sent).toHaveLength(1);
    expect(sent[0]?.chatId).toBe(1);
    expect(sent[0]?.html).toContain('2 alerts');
    await runner.sweep();
    expect(sent).toHaveLength(1);
  });

  it('reminds of a subscribed symbol once per settlement, on each venue', async () => {
    const { store, subscriptions, sent, runner, setNow } = setup([
      snap('BTC', 'bybit'),
      snap('BTC', 'okx'),
      snap('ETH', 'bybit', { nextFundingTime: at(20) }),
    ]);
    await store.update(3, { fundingReminderMin: 15 });
    await subscriptions.add(3, 'BTC');
    await subscriptions.add(3, 'ETH');
    setNow(SETTLE - 20 * 60_000);
    await runner.sweep();
    expect(sent).toEqual([]);
    setNow(SETTLE - 14 * 60_000);
    expect(await runner.sweep()).toMatchObject({ reminders: 1 });
    expect(sent[0]?.html.split('\n')).toHaveLength(2);
    expect(sent[0]?.html).toContain('on okx');
    expect(sent[0]?.html).not.toContain('ETH');
    setNow(SETTLE - 13 * 60_000);
    await runner.sweep();
    setNow(SETTLE - 60_000);
    await runner.sweep();
    expect(sent).toHaveLength(1);
  });

  it('keeps sweeping other chats when sending to one fails', async () => {
    const store = new MemoryChatSettingsStore();
    const failing = new ScheduleRunner({
      store,
      subscriptions: new MemorySubscriptionStore(),
      latest: async () => null,
      send: async (chatId) => {
        if (chatId === 1) throw new Error('blocked');
      },
      now: () => at(12),
    });
    runners.push(failing);
    await store.hold(1, alertOf(1));
    await store.hold(2, alertOf(2));
    expect(await failing.sweep()).toMatchObject({ chats: 2, summaries: 1, failures: 1 });
    // the summary that could not be sent is held again for the next sweep, not lost
    expect((await store.takeHeld(1)).map((a) => a.id)).toEqual([alertOf(1).id]);
    expect(await store.takeHeld(2)).toEqual([]);
  });

  it('sweeps on its interval until closed, and close is idempotent', async () => {
    const store = new MemoryChatSettingsStore();
    let listed = 0;
    const counting = new Proxy(store, {
      get(target, prop, receiver) {
        if (prop === 'chatsWithSchedules') {
          return async () => {
            listed++;
            return target.chatsWithSchedules();
          };
        }
        const value = Reflect.get(target, prop, receiver);
        return typeof value === 'function' ? value.bind(target) : value;
      },
    });
    const runner = new ScheduleRunner({
      store: counting,
      subscriptions: new MemorySubscriptionStore(),
      latest: async () => null,
      send: async () => {},
      intervalMs: 10,
    });
    runners.push(runner);
    runner.start();
    runner.start();
    expect(runner.started).toBe(true);
    await expect.poll(() => listed, { timeout: 5_000 }).toBeGreaterThanOrEqual(3);
    await runner.close();
    await runner.close();
    expect(runner.started).toBe(false);
    const afterClose = listed;
    await new Promise((r) => setTimeout(r, 80));
    expect(listed).toBe(afterClose);
    runner.start();
    expect(runner.started).toBe(false);
  });
});
