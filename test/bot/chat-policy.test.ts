import { describe, expect, it } from 'vitest';
import {
  alertPassesSettings,
  createChatPolicy,
  inQuietHours,
  THRESHOLD_FIGURES,
} from '../../src/bot/chat-policy.js';
import { MemoryChatSettingsStore } from '../../src/bus/chat-settings-store.js';
import { type ChatSettings, DEFAULT_CHAT_SETTINGS } from '../../src/bus/types.js';
import { ALERT_KINDS, type AlertJson, type AlertKind, type SnapshotJson } from '../../src/domain/types.js';

const DAY = Date.UTC(2025, 5, 10);
const at = (hour: number, minute = 0) => DAY + hour * 3_600_000 + minute * 60_000;

const snapshot: SnapshotJson = {
  v: 1,
  venue: 'okx',
  symbol: 'ETH',
  instrument: 'ETH-USDT-SWAP',
  ts: at(12),
  price: { mark: 3_000 },
  oi: { base: 1e6, usd: 3e9, delta15m: null, delta24h: null },
  funding: { rate: 0.0003, intervalHours: 8, hourly: null, aprPct: 32.85, nextFundingTime: at(16) },
  momentum: { priceChange15mPct: 1, priceChange24hPct: 3, oiAccel: 2.5, state: 'accelerating' },
};

function alertOf(kind: AlertKind, over: Partial<AlertJson> = {}): AlertJson {
  return {
    v: 1,
    id: `${kind}:okx:ETH:${at(12)}`,
    kind,
    venue: 'okx',
    symbol: 'ETH',
    ts: at(12),
    text: 'test',
    thresholdPct: 3,
    delta: { base: 40_000, usd: 1.2e8, pct: -4 },
    windowMs: 900_000,
    snapshot,
    ...over,
  };
}

const withKinds = (kinds: ChatSettings['kinds']): ChatSettings => ({ ...DEFAULT_CHAT_SETTINGS, kinds });

describe('inQuietHours', () => {
  it('covers [start, end) within one day', () => {
    const quiet = { startHour: 1, endHour: 5 };
    expect(inQuietHours(quiet, at(0, 59))).toBe(false);
    expect(inQuietHours(quiet, at(1))).toBe(true);
    expect(inQuietHours(quiet, at(4, 59))).toBe(true);
    expect(inQuietHours(quiet, at(5))).toBe(false);
  });

  it('wraps around midnight', () => {
    const quiet = { startHour: 22, endHour: 7 };
    for (const [h, m, want] of [
      [21, 59, false],
      [22, 0, true],
      [23, 30, true],
      [0, 0, true],
      [3, 0, true],
      [6, 59, true],
      [7, 0, false],
      [12, 0, false],
    ] as const) {
      expect(inQuietHours(quiet, at(h, m)), `${h}:${m}`).toBe(want);
      // The same hour on the next day (and before 1970, where % goes negative) answers the same.
      expect(inQuietHours(quiet, at(h, m) + 86_400_000)).toBe(want);
      expect(inQuietHours(quiet, at(h, m) - 60 * 365 * 86_400_000)).toBe(want);
    }
  });

  it('is never quiet without quiet hours or when start equals end', () => {
    for (let h = 0; h < 24; h++) {
      expect(inQuietHours(null, at(h))).toBe(false);
      expect(inQuietHours({ startHour: 9, endHour: 9 }, at(h))).toBe(false);
    }
  });
});

describe('alertPassesSettings', () => {
  it('passes everything with the defaults', () => {
    for (const kind of ALERT_KINDS)
      expect(alertPassesSettings(DEFAULT_CHAT_SETTINGS, alertOf(kind))).toBe(true);
  });

  it('drops a kind that is off, and only that kind', () => {
    const settings = withKinds({ funding_pressure: { enabled: false } });
    for (const kind of ALERT_KINDS) {
      expect(alertPassesSettings(settings, alertOf(kind)), kind).toBe(kind !== 'funding_pressure');
    }
  });

  it('compares OI kinds with |delta.pct|', () => {
    const settings = withKinds({ oi_change_15m: { enabled: true, threshold: 5 } });
    expect(
      alertPassesSettings(settings, alertOf('oi_change_15m', { delta: { base: 1, usd: 1, pct: -4.99 } })),
    ).toBe(false);
    expect(
      alertPassesSettings(settings, alertOf('oi_change_15m', { delta: { base: 1, usd: 1, pct: -5 } })),
    ).toBe(true);
    expect(
      alertPassesSettings(settings, alertOf('oi_change_15m', { delta: { base: 1, usd: 1, pct: 7 } })),
    ).toBe(true);
    // The threshold is per kind: the 24h rule is untouched.
    expect(
      alertPassesSettings(settings, alertOf('oi_change_24h', { delta: { base: 1, usd: 1, pct: 4 } })),
    ).toBe(true);
  });

  it('compares funding kinds with |APR|, from figures before the snapshot', () => {
    const settings = withKinds({ funding_pressure: { enabled: true, threshold: 50 } });
    expect(alertPassesSettings(settings, alertOf('funding_pressure'))).toBe(false); // snapshot 32.85%
    expect(alertPassesSettings(settings, alertOf('funding_pressure', { figures: { aprPct: -60 } }))).toBe(
      true,
    );
    expect(alertPassesSettings(settings, alertOf('funding_pressure', { figures: { aprPct: 49 } }))).toBe(
      false,
    );
  });

  it('compares momentum spikes with the OI acceleration', () => {
    const settings = withKinds({ momentum_spike: { enabled: true, threshold: 3 } });
    expect(alertPassesSettings(settings, alertOf('momentum_spike'))).toBe(false); // snapshot 2.5×
    expect(alertPassesSettings(settings, alertOf('momentum_spike', { figures: { oiAccel: 3.2 } }))).toBe(
      true,
    );
  });

  it('lets an alert through when it lacks the figure', () => {
    const settings = withKinds({ oi_change_15m: { enabled: true, threshold: 5 } });
    expect(alertPassesSettings(settings, alertOf('oi_change_15m', { delta: null }))).toBe(true);
  });

  it('names a figure for every kind that takes a threshold', () => {
    for (const kind of ALERT_KINDS) {
      const fig = THRESHOLD_FIGURES[kind];
      if (fig === null) continue;
      expect(
        fig.read(alertOf(kind, { figures: { aprPct: 12, oiAccel: 4, pctOfOi: 0.8 } })),
        kind,
      ).not.toBeNull();
    }
  });

  it('filters by venue; a cross-venue alert passes when it includes a wanted venue', () => {
    const settings: ChatSettings = { ...DEFAULT_CHAT_SETTINGS, venues: ['binance', 'bybit'] };
    expect(alertPassesSettings(settings, alertOf('oi_change_15m', { venue: 'okx' }))).toBe(false);
    expect(alertPassesSettings(settings, alertOf('oi_change_15m', { venue: 'bybit' }))).toBe(true);
    const aggregate = (venues: string[] | undefined) =>
      alertOf('control_flip', { venue: 'all', snapshot: { ...snapshot, venue: 'all', venues } });
    expect(alertPassesSettings(settings, aggregate(['okx', 'hyperliquid']))).toBe(false);
    expect(alertPassesSettings(settings, aggregate(['okx', 'binance']))).toBe(true);
    expect(alertPassesSettings(settings, aggregate(undefined))).toBe(true);
    expect(alertPassesSettings(DEFAULT_CHAT_SETTINGS, aggregate(['okx']))).toBe(true);
  });
});

describe('createChatPolicy', () => {
  const chatId = 77;

  it('sends, holds in quiet hours, skips what the settings refuse, and skips a muted symbol first', async () => {
    const store = new MemoryChatSettingsStore();
    const policy = createChatPolicy(store);
    const alert = alertOf('oi_change_15m');
    expect(await policy.decide(chatId, alert, at(12))).toBe('send');

    await store.update(chatId, { quietHours: { startHour: 23, endHour: 6 } });
    expect(await policy.decide(chatId, alert, at(2))).toBe('hold');
    expect(await policy.decide(chatId, alert, at(6))).toBe('send');

    // Refused by the settings: skipped even in quiet hours (never summarized).
    await store.update(chatId, { venues: ['binance'] });
    expect(await policy.decide(chatId, alert, at(2))).toBe('skip');
    expect(await policy.decide(chatId, alert, at(12))).toBe('skip');
    await store.update(chatId, { venues: null, kinds: { oi_change_15m: { enabled: true, threshold: 10 } } });
    expect(await policy.decide(chatId, alert, at(12))).toBe('skip');
    await store.update(chatId, { kinds: { oi_change_15m: { enabled: false } } });
    expect(await policy.decide(chatId, alert, at(12))).toBe('skip');
    await store.update(chatId, { kinds: { oi_change_15m: { enabled: true } } });
    expect(await policy.decide(chatId, alert, at(12))).toBe('send');

    // Muted: skipped, also in quiet hours, until the mute ends; other symbols are not affected.
    await store.mute(chatId, 'ETH', at(13));
    expect(await policy.decide(chatId, alert, at(12))).toBe('skip');
    expect(await policy.decide(chatId, alert, at(12, 59))).toBe('skip');
    expect(await policy.decide(chatId, { ...alert, symbol: 'BTC' }, at(12))).toBe('send');
    expect(await policy.decide(chatId, alert, at(13))).toBe('send');

    // Other chats are untouched by this chat's settings.
    expect(await policy.decide(chatId + 1, alert, at(2))).toBe('send');
  });
});

describe('one move, one message across venues', () => {
  it('skips the same kind for the same symbol from another venue within the quiet time, unless escalated', async () => {
    const policy = createChatPolicy(new MemoryChatSettingsStore(), { crossVenueQuietMs: 30 * 60_000 });
    const on = (venue: string, extra: Partial<AlertJson> = {}) =>
      alertOf('oi_change_15m', { venue, id: `oi_change_15m:${venue}:BTC:${Math.random()}`, ...extra });
    expect(await policy.decide(1, on('binance'), at(12))).toBe('send');
    expect(await policy.decide(1, on('bybit'), at(12, 1))).toBe('skip');
    expect(await policy.decide(1, on('all'), at(12, 2))).toBe('skip');
    // the same venue again is the rules' business (cooldown, hysteresis), not the policy's
    expect(await policy.decide(1, on('binance'), at(12, 3))).toBe('send');
    // an escalation always comes through, and another chat or kind is independent
    expect(await policy.decide(1, on('okx', { escalated: true }), at(12, 4))).toBe('send');
    expect(await policy.decide(2, on('bybit'), at(12, 5))).toBe('send');
    expect(await policy.decide(1, alertOf('momentum_spike', { venue: 'bybit' }), at(12, 5))).toBe('send');
    // after the quiet time another venue's alert is a new move
    expect(await policy.decide(1, on('bybit'), at(12, 40))).toBe('send');
  });

  it('can be turned off', async () => {
    const policy = createChatPolicy(new MemoryChatSettingsStore(), { crossVenueQuietMs: 0 });
    expect(await policy.decide(1, alertOf('oi_change_15m', { venue: 'binance' }), at(12))).toBe('send');
    expect(await policy.decide(1, alertOf('oi_change_15m', { venue: 'bybit' }), at(12, 1))).toBe('send');
  });
});

describe('one move, one message: only the same fact', () => {
  const policy = () => createChatPolicy(new MemoryChatSettingsStore(), { crossVenueQuietMs: 30 * 60_000 });
  const on = (kind: AlertKind, venue: string, extra: Partial<AlertJson> = {}) =>
    alertOf(kind, { venue, id: `${kind}:${venue}:ETH:${Math.random()}`, ...extra });
  const oi = (pct: number) => ({ delta: { base: pct * 1000, usd: pct * 1e6, pct } });

  it('an OI surge on one venue does not hide an OI drop on another; the same direction merges', async () => {
    const p = policy();
    expect(await p.decide(1, on('oi_change_15m', 'binance', oi(4)), at(12))).toBe('send');
    expect(await p.decide(1, on('oi_change_15m', 'bybit', oi(-4)), at(12, 5))).toBe('send');
    expect(await p.decide(1, on('oi_change_15m', 'okx', oi(5)), at(12, 6))).toBe('skip');
    expect(await p.decide(1, on('oi_change_15m', 'all', oi(-3.5)), at(12, 7))).toBe('skip');
  });

  it('the direction the engine set wins over the one derived from the figures', async () => {
    const p = policy();
    expect(await p.decide(1, on('oi_change_15m', 'binance', { ...oi(4), direction: 'up' }), at(12))).toBe(
      'send',
    );
    expect(await p.decide(1, on('oi_change_15m', 'bybit', { ...oi(4), direction: 'down' }), at(12, 1))).toBe(
      'send',
    );
  });

  it('longs pay on one venue and shorts pay on another are two facts', async () => {
    const p = policy();
    const pays = (payer: 'longs' | 'shorts', aprPct: number) => ({
      figures: { aprPct, payer },
      snapshot: { ...snapshot, funding: { ...snapshot.funding, aprPct, payer } },
    });
    expect(await p.decide(1, on('funding_pressure', 'binance', pays('longs', 120)), at(12))).toBe('send');
    expect(await p.decide(1, on('funding_pressure', 'hyperliquid', pays('shorts', -120)), at(12, 2))).toBe(
      'send',
    );
    expect(await p.decide(1, on('funding_pressure', 'bybit', pays('longs', 110)), at(12, 3))).toBe('skip');
  });

  it('interval changes and rates at a bound are per-venue facts, never merged', async () => {
    const p = policy();
    for (const kind of ['funding_interval_change', 'funding_at_bound'] as const) {
      expect(await p.decide(1, on(kind, 'binance'), at(12))).toBe('send');
      expect(await p.decide(1, on(kind, 'bybit'), at(12, 1))).toBe('send');
      expect(await p.decide(1, on(kind, 'okx'), at(12, 2))).toBe('send');
    }
  });

  it('an alert of unknown direction is never merged', async () => {
    const p = policy();
    expect(await p.decide(1, on('oi_change_15m', 'binance', { delta: null }), at(12))).toBe('send');
    expect(await p.decide(1, on('oi_change_15m', 'bybit', { delta: null }), at(12, 1))).toBe('send');
  });
});

describe('chat thresholds routed by forThreshold', () => {
  const settingsWith = (threshold?: number): ChatSettings =>
    withKinds(threshold === undefined ? {} : { oi_change_15m: { enabled: true, threshold } });
  const server = alertOf('oi_change_15m', { delta: { base: 1, usd: 1, pct: 4 } });
  const forLevel = (level: number, pct = 1.5) =>
    alertOf('oi_change_15m', {
      id: `oi_change_15m@${level}:okx:ETH:${at(12)}`,
      forThreshold: level,
      delta: { base: 1, usd: 1, pct },
    });

  it('a chat whose level is published gets only alerts for its level', () => {
    const levels = { oi_change_15m: [1, 5] };
    expect(alertPassesSettings(settingsWith(1), forLevel(1), levels)).toBe(true);
    expect(alertPassesSettings(settingsWith(1), server, levels)).toBe(false);
    expect(alertPassesSettings(settingsWith(1), forLevel(5, 6), levels)).toBe(false);
    expect(alertPassesSettings(settingsWith(5), forLevel(5, 6), levels)).toBe(true);
    // a stored threshold off the grid is evaluated at its grid level
    expect(alertPassesSettings(settingsWith(1.2), forLevel(1), levels)).toBe(true);
  });

  it('a chat without a threshold gets only the server alerts', () => {
    const levels = { oi_change_15m: [1] };
    expect(alertPassesSettings(DEFAULT_CHAT_SETTINGS, server, levels)).toBe(true);
    expect(alertPassesSettings(DEFAULT_CHAT_SETTINGS, forLevel(1), levels)).toBe(false);
  });

  it('a chat whose level was not published falls back to the server alerts filtered by its threshold', () => {
    const levels = { oi_change_15m: [5] };
    expect(alertPassesSettings(settingsWith(3.5), server, levels)).toBe(true);
    expect(alertPassesSettings(settingsWith(4.5), server, levels)).toBe(false);
    expect(alertPassesSettings(settingsWith(3.5), forLevel(5, 6), levels)).toBe(false);
  });

  it('a non-level kind keeps its threshold as a filter and never takes forThreshold alerts', () => {
    const settings = withKinds({ control_flip: { enabled: true, threshold: 2 } });
    const flip = (pct: number, extra: Partial<AlertJson> = {}) =>
      alertOf('control_flip', { delta: { base: 1, usd: 1, pct }, ...extra });
    expect(alertPassesSettings(settings, flip(3), { oi_change_15m: [2] })).toBe(true);
    expect(alertPassesSettings(settings, flip(1))).toBe(false);
    expect(alertPassesSettings(settings, flip(3, { forThreshold: 2 }))).toBe(false);
    expect(alertPassesSettings(DEFAULT_CHAT_SETTINGS, flip(3, { forThreshold: 2 }))).toBe(false);
  });

  it('the policy reads the published levels at every decision', async () => {
    const store = new MemoryChatSettingsStore();
    let levels = {};
    const policy = createChatPolicy(store, { levels: () => levels });
    await store.update(9, { kinds: { oi_change_15m: { enabled: true, threshold: 1 } } });
    await store.update(10, { kinds: { oi_change_15m: { enabled: true, threshold: 3 } } });
    // before the level is published, the 1% chat gets server alerts (above its threshold)
    expect(await policy.decide(9, server, at(12))).toBe('send');
    levels = { oi_change_15m: [1] };
    expect(await policy.decide(9, { ...server, id: 'b' }, at(12, 40))).toBe('skip');
    expect(await policy.decide(9, forLevel(1), at(12, 41))).toBe('send');
    expect(await policy.decide(10, forLevel(1), at(12, 41))).toBe('skip');
    // held in quiet hours by the same rules
    await store.update(9, { quietHours: { startHour: 22, endHour: 7 } });
    expect(await policy.decide(9, { ...forLevel(1), id: 'c' }, at(23, 30))).toBe('hold');
    expect(await policy.decide(9, { ...server, id: 'd' }, at(23, 31))).toBe('skip');
  });
});
