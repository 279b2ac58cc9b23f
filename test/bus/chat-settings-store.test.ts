import { Redis } from 'ioredis';
import { type Logger, pino } from 'pino';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import {
  ChatSettingsError,
  MAX_HELD_ALERTS,
  MemoryChatSettingsStore,
  RedisChatSettingsStore,
  requestedLevelsOf,
  resetPatch,
} from '../../src/bus/chat-settings-store.js';
import { type ChatSettings, type ChatSettingsStore, DEFAULT_CHAT_SETTINGS } from '../../src/bus/types.js';
import { MAX_LEVELS_PER_KIND } from '../../src/domain/alert-levels.js';
import type { AlertJson, SnapshotJson } from '../../src/domain/types.js';
import { flushTestDb, testRedisUrl } from '../support/redis.js';

const url = testRedisUrl(14);
const open: ChatSettingsStore[] = [];
let raw: Redis;

beforeAll(async () => {
  await flushTestDb(url);
  raw = new Redis(url, { protocol: 2 });
});
afterAll(async () => {
  raw.disconnect();
  await flushTestDb(url);
});
afterEach(async () => {
  await Promise.all(open.splice(0).map((s) => s.close()));
});

const NOW = Date.UTC(2025, 2, 1, 12, 0, 0);

const snapshot: SnapshotJson = {
  v: 1,
  venue: 'bybit',
  symbol: 'BTC',
  instrument: 'BTCUSDT',
  ts: NOW,
  price: { mark: 85_000 },
  oi: { base: 50_000, usd: 4.25e9, delta15m: null, delta24h: null },
  funding: { rate: 0.0001, intervalHours: 8, hourly: null, aprPct: 10.95, nextFundingTime: NOW + 3_600_000 },
};

const alert = (i: number): AlertJson => ({
  v: 1,
  id: `oi_change_15m:bybit:BTC:${NOW + i}`,
  kind: 'oi_change_15m',
  venue: 'bybit',
  symbol: 'BTC',
  ts: NOW + i,
  text: `alert ${i}`,
  thresholdPct: 3,
  delta: { base: 100 + i, usd: 1e6, pct: 3 + i / 100 },
  windowMs: 900_000,
  snapshot,
});

function captureLogger(): { logger: Logger; lines: Array<Record<string, unknown>> } {
  const lines: Array<Record<string, unknown>> = [];
  const logger: Logger = pino({ level: 'warn' }, { write: (line: string) => lines.push(JSON.parse(line)) });
  return { logger, lines };
}

const kinds = {
  redis: (logger?: Logger) => new RedisChatSettingsStore(url, logger),
  memory: () => new MemoryChatSettingsStore(),
};

describe.each(Object.entries(kinds))('%s chat settings store', (kind, make) => {
  let nextChat = kind === 'redis' ? 10_000 : 20_000;
  const chat = () => nextChat++;
  const store = () => {
    const s = make();
    open.push(s);
    return s;
  };

  it('starts at the defaults and round-trips every field', async () => {
    const s = store();
    const id = chat();
    expect(await s.get(id)).toEqual(DEFAULT_CHAT_SETTINGS);
    const wanted: ChatSettings = {
      kinds: { oi_change_15m: { enabled: true, threshold: 5 }, funding_pressure: { enabled: false } },
      venues: ['binance', 'okx'],
      quietHours: { startHour: 22, endHour: 7 },
      fundingReminderMin: 15,
    };
    expect(await s.update(id, wanted)).toEqual(wanted);
    expect(await s.get(id)).toEqual(wanted);
    if (kind === 'redis') {
      const other = store();
      expect(await other.get(id)).toEqual(wanted);
      const stored = JSON.parse((await raw.get(`pulse:chat:${id}:settings`)) ?? '{}');
      expect(stored.v).toBe(1);
    }
  });

  it('merges kinds per kind, replaces other fields, and resets to the defaults', async () => {
    const s = store();
    const id = chat();
    await s.update(id, { kinds: { oi_change_15m: { enabled: true, threshold: 4 } }, venues: ['bybit'] });
    const after = await s.update(id, { kinds: { momentum_spike: { enabled: false } } });
    expect(after.kinds).toEqual({
      oi_change_15m: { enabled: true, threshold: 4 },
      momentum_spike: { enabled: false },
    });
    expect(after.venues).toEqual(['bybit']);
    // An entry that says "on, default threshold" is the default itself: it is not kept.
    const back = await s.update(id, { kinds: { momentum_spike: { enabled: true } } });
    expect(back.kinds).toEqual({ oi_change_15m: { enabled: true, threshold: 4 } });
    expect(await s.update(id, resetPatch())).toEqual(DEFAULT_CHAT_SETTINGS);
    expect(await s.get(id)).toEqual(DEFAULT_CHAT_SETTINGS);
  });

  it('rejects values out of range and keeps the stored settings', async () => {
    const s = store();
    const id = chat();
    await s.update(id, { fundingReminderMin: 30 });
    const bad: Array<Partial<ChatSettings>> = [
      { quietHours: { startHour: 24, endHour: 3 } },
      { quietHours: { startHour: -1, endHour: 3 } },
      { quietHours: { startHour: 1.5, endHour: 3 } },
      { quietHours: { startHour: 5, endHour: 5 } },
      { kinds: { oi_change_15m: { enabled: true, threshold: 0 } } },
      { kinds: { oi_change_15m: { enabled: true, threshold: -2 } } },
      { kinds: { oi_change_15m: { enabled: true, threshold: Number.NaN } } },
      { kinds: { no_such_kind: { enabled: false } } as unknown as ChatSettings['kinds'] },
      { venues: ['ftx'] },
      { venues: [] },
      { fundingReminderMin: 0 },
      { fundingReminderMin: 241 },
      { fundingReminderMin: 2.5 },
    ];
    for (const patch of bad) {
      await expect(s.update(id, patch), JSON.stringify(patch)).rejects.toBeInstanceOf(ChatSettingsError);
    }
    expect(await s.get(id)).toEqual({ ...DEFAULT_CHAT_SETTINGS, fundingReminderMin: 30 });
    // The bounds themselves are fine.
    await s.update(id, { fundingReminderMin: 240, quietHours: { startHour: 0, endHour: 23 } });
    expect((await s.update(id, { fundingReminderMin: 1 })).fundingReminderMin).toBe(1);
  });

  it('lists chats with quiet hours or a reminder for the sweep', async () => {
    const s = store();
    const [quiet, reminder, plain] = [chat(), chat(), chat()];
    await s.update(quiet, { quietHours: { startHour: 1, endHour: 5 } });
    await s.update(reminder, { fundingReminderMin: 10 });
    await s.update(plain, { venues: ['okx'] });
    let listed = await s.chatsWithSchedules();
    expect(listed).toContain(quiet);
    expect(listed).toContain(reminder);
    expect(listed).not.toContain(plain);
    await s.update(quiet, { quietHours: null });
    listed = await s.chatsWithSchedules();
    expect(listed).not.toContain(quiet);
    expect(listed).toContain(reminder);
  });

  it('mutes a symbol until a time, by canonical symbol', async () => {
    const s = store();
    const id = chat();
    const untilMs = Date.now() + 3_600_000;
    await s.mute(id, 'btcusdt', untilMs);
    expect(await s.mutedUntil(id, 'BTC', untilMs - 1)).toBe(untilMs);
    expect(await s.mutedUntil(id, 'btc-usdt-swap', untilMs - 1)).toBe(untilMs);
    expect(await s.mutedUntil(id, 'ETH', untilMs - 1)).toBeNull();
    expect(await s.mutedUntil(chat(), 'BTC', untilMs - 1)).toBeNull();
    expect(await s.mutedUntil(id, 'BTC', untilMs)).toBeNull();
    // Expired: forgotten, even when asked about an earlier time afterwards.
    expect(await s.mutedUntil(id, 'BTC', untilMs - 1)).toBeNull();
    await expect(s.mute(id, '!!', untilMs)).rejects.toBeInstanceOf(ChatSettingsError);
    if (kind === 'redis') {
      const later = Date.now() + 7_200_000;
      await s.mute(id, 'ETH', later);
      await s.mute(id, 'SOL', later - 3_600_000);
      const expireAtMs = Number(await raw.pexpiretime(`pulse:chat:${id}:mutes`));
      expect(expireAtMs).toBe(later);
    }
  });

  it('holds at most the newest 50 alerts and hands them over once, oldest first', async () => {
    const s = store();
    const id = chat();
    const total = MAX_HELD_ALERTS + 12;
    for (let i = 0; i < total; i++) await s.hold(id, alert(i));
    expect(await s.chatsWithSchedules()).toContain(id);
    const held = await s.takeHeld(id);
    expect(held.map((a) => a.text)).toEqual(
      Array.from({ length: MAX_HELD_ALERTS }, (_, k) => `alert ${total - MAX_HELD_ALERTS + k}`),
    );
    expect(held[0]).toEqual(alert(total - MAX_HELD_ALERTS));
    expect(await s.takeHeld(id)).toEqual([]);
    // Held alerts kept the chat in the sweep; with no schedule of its own it leaves it once they are taken.
    expect(await s.chatsWithSchedules()).not.toContain(id);
  });

  it('keeps a chat with held alerts in the sweep after its quiet hours are removed', async () => {
    const s = store();
    const id = chat();
    await s.update(id, { quietHours: { startHour: 22, endHour: 6 } });
    await s.hold(id, alert(1));
    await s.update(id, { quietHours: null });
    expect(await s.chatsWithSchedules()).toContain(id);
    expect(await s.takeHeld(id)).toHaveLength(1);
    expect(await s.chatsWithSchedules()).not.toContain(id);
  });

  it('moves settings, mutes and held alerts to a migrated chat', async () => {
    const s = store();
    const [from, to] = [chat(), chat()];
    const untilMs = Date.now() + 60_000;
    await s.update(from, { quietHours: { startHour: 20, endHour: 8 }, venues: ['okx'] });
    await s.mute(from, 'SOL', untilMs);
    await s.hold(from, alert(1));
    await s.hold(from, alert(2));
    await s.migrateChat(from, to);
    expect(await s.get(to)).toEqual({
      ...DEFAULT_CHAT_SETTINGS,
      quietHours: { startHour: 20, endHour: 8 },
      venues: ['okx'],
    });
    expect(await s.mutedUntil(to, 'SOL', untilMs - 1)).toBe(untilMs);
    expect((await s.takeHeld(to)).map((a) => a.id)).toEqual([alert(1).id, alert(2).id]);
    const listed = await s.chatsWithSchedules();
    expect(listed).toContain(to);
    expect(listed).not.toContain(from);
    expect(await s.get(from)).toEqual(DEFAULT_CHAT_SETTINGS);
    expect(await s.mutedUntil(from, 'SOL', untilMs - 1)).toBeNull();
    expect(await s.takeHeld(from)).toEqual([]);
    if (kind === 'redis') expect(await raw.pttl(`pulse:chat:${to}:mutes`)).toBeGreaterThan(0);
  });

  it('removes everything of a chat', async () => {
    const s = store();
    const id = chat();
    const untilMs = Date.now() + 60_000;
    await s.update(id, { fundingReminderMin: 5, kinds: { control_flip: { enabled: false } } });
    await s.mute(id, 'BTC', untilMs);
    await s.hold(id, alert(1));
    await s.removeChat(id);
    expect(await s.get(id)).toEqual(DEFAULT_CHAT_SETTINGS);
    expect(await s.mutedUntil(id, 'BTC', untilMs - 1)).toBeNull();
    expect(await s.takeHeld(id)).toEqual([]);
    expect(await s.chatsWithSchedules()).not.toContain(id);
    if (kind === 'redis') {
      expect(
        await raw.exists(`pulse:chat:${id}:settings`, `pulse:chat:${id}:mutes`, `pulse:chat:${id}:held`),
      ).toBe(0);
    }
  });

  it('counts the chat levels: snapped to the grid, never below the floor, enabled thresholds only', async () => {
    // Levels are computed over every chat in the store: start from an empty database.
    if (kind === 'redis') await raw.flushdb();
    const s = store();
    const set = (chatId: number, kinds: ChatSettings['kinds']) => s.update(chatId, { kinds });
    expect(await s.requestedLevels()).toEqual({});
    await set(chat(), { oi_change_15m: { enabled: true, threshold: 1 } });
    await set(chat(), { oi_change_15m: { enabled: true, threshold: 1.2 } }); // snaps to 1
    await set(chat(), { oi_change_15m: { enabled: true, threshold: 0.2 } }); // below the floor: 1
    await set(chat(), {
      oi_change_15m: { enabled: true, threshold: 5 },
      funding_pressure: { enabled: true, threshold: 80 },
    });
    await set(chat(), { oi_change_24h: { enabled: false, threshold: 10 } }); // off: not evaluated
    await set(chat(), { control_flip: { enabled: true, threshold: 2 } }); // not a level kind
    await s.update(chat(), { quietHours: { startHour: 1, endHour: 5 } });
    expect(await s.requestedLevels()).toEqual({ oi_change_15m: [1, 5], funding_pressure: [80] });
  });

  it('close is idempotent', async () => {
    const s = make();
    await s.close();
    await s.close();
  });
});

describe('redis chat settings store, unreadable data', () => {
  it('answers the defaults with a warning for corrupt, foreign or invalid JSON, and can overwrite it', async () => {
    const { logger, lines } = captureLogger();
    const s = new RedisChatSettingsStore(url, logger);
    open.push(s);
    const docs = [
      '{not json',
      '{"v":2,"kinds":{}}',
      '[1,2]',
      '{"v":1,"venues":["ftx"]}',
      '{"v":1,"quietHours":{"startHour":99,"endHour":1}}',
    ];
    let id = 30_000;
    for (const doc of docs) {
      id++;
      await raw.set(`pulse:chat:${id}:settings`, doc);
      expect(await s.get(id), doc).toEqual(DEFAULT_CHAT_SETTINGS);
      expect(
        lines.filter((l) => l.chatId === id && l.level === 40),
        doc,
      ).toHaveLength(1);
    }
    expect(await s.update(id, { fundingReminderMin: 20 })).toEqual({
      ...DEFAULT_CHAT_SETTINGS,
      fundingReminderMin: 20,
    });
    expect(await s.get(id)).toEqual({ ...DEFAULT_CHAT_SETTINGS, fundingReminderMin: 20 });
  });

  it('skips an unreadable held alert and keeps the rest', async () => {
    const { logger, lines } = captureLogger();
    const s = new RedisChatSettingsStore(url, logger);
    open.push(s);
    const id = 31_000;
    await s.hold(id, alert(1));
    await raw.rpush(`pulse:chat:${id}:held`, '{broken');
    await s.hold(id, alert(2));
    expect((await s.takeHeld(id)).map((a) => a.id)).toEqual([alert(1).id, alert(2).id]);
    expect(lines.some((l) => l.chatId === id)).toBe(true);
  });
});

describe('requestedLevelsOf', () => {
  const at = (threshold: number): ChatSettings => ({
    ...DEFAULT_CHAT_SETTINGS,
    kinds: { oi_change_15m: { enabled: true, threshold } },
  });

  it('keeps the most requested levels per kind, the lower level on a tie, ascending', () => {
    // 33 levels asked once each (1, 1.5, … 17) and 20 asked by three chats: 34 levels for 32 places.
    const once = Array.from({ length: 33 }, (_, i) => at(1 + i * 0.5));
    const levels = requestedLevelsOf([...once, at(20), at(20), at(20)]).oi_change_15m ?? [];
    expect(MAX_LEVELS_PER_KIND).toBe(32);
    expect(levels).toHaveLength(MAX_LEVELS_PER_KIND);
    expect(levels).toContain(20);
    expect(levels).not.toContain(16.5);
    expect(levels).not.toContain(17);
    expect(levels).toEqual([...levels].sort((a, b) => a - b));
  });
});
