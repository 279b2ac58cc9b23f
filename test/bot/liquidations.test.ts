/**
 * `/liq`, the `/market` liquidation and long/short lines, and `/settings` for the new kind, through
 * the whole bot (`createTelegramBot`) against the Bot API stand-in, reading snapshots a real
 * `RedisBus` published (db 31) and keeping chat settings in Redis (db 32).
 */
import { pino } from 'pino';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createTelegramBot, type TelegramBot } from '../../src/bot/bot.js';
import { RedisChatSettingsStore } from '../../src/bus/chat-settings-store.js';
import { RedisBus } from '../../src/bus/redis-bus.js';
import { MemorySubscriptionStore } from '../../src/bus/subscription-store.js';
import {
  type LiquidationWindowJson,
  NO_LIQUIDATION_FEED,
  NO_LONG_SHORT_STATS,
  type SnapshotJson,
} from '../../src/domain/types.js';
import { flushTestDb, testRedisUrl } from '../support/redis.js';
import { startTelegramStandIn, type TelegramStandIn } from '../support/telegram-stand-in.js';

const busUrl = testRedisUrl(31);
const settingsUrl = testRedisUrl(32);
const NOW = Date.UTC(2026, 11, 3, 12, 0, 0);
const VENUES = ['binance', 'bybit', 'okx', 'hyperliquid'];
/** Symbols of this file only: pub/sub and the tracked lists are shared across databases. */
const SYM = 'LQTEST';

const win = (o: Partial<LiquidationWindowJson>): LiquidationWindowJson => ({
  longUsd: 0,
  shortUsd: 0,
  longBase: 0,
  shortBase: 0,
  count: 0,
  oiShare: null,
  partial: false,
  ...o,
});

function snap(venue: string, extra: Partial<SnapshotJson>): SnapshotJson {
  return {
    v: 1,
    venue,
    symbol: SYM,
    instrument: venue === 'all' ? SYM : `${SYM}USDT`,
    ts: NOW - 4_000,
    price: { mark: 50 },
    oi: {
      base: 20_000_000,
      usd: 1e9,
      delta15m: { base: -400_000, usd: -20e6, pct: -1.96, positionUsd: -20e6, priceEffectUsd: 0 },
      delta24h: { base: 500_000, usd: 25e6, pct: 2.5, positionUsd: 25e6, priceEffectUsd: 0 },
    },
    funding: { rate: 0.0001, intervalHours: 8, hourly: 0.0000125, aprPct: 10.95, nextFundingTime: null },
    control: { '15m': 'short_covering', '24h': 'longs_opening' },
    ...extra,
  };
}

/** Bybit: complete feed, both sides in 15m; shorts covered by force are 62% of the OI fall. */
const bybit = snap('bybit', {
  liquidations: {
    '15m': win({
      longUsd: 1.5e6,
      shortUsd: 12.4e6,
      longBase: 30_000,
      shortBase: 248_000,
      count: 41,
      oiShare: 0.62,
    }),
    '24h': win({ longUsd: 30e6, shortUsd: 18e6, longBase: 600_000, shortBase: 360_000, count: 910 }),
    coverage: 'complete',
  },
  longShort: { accountsLongPct: 74.2, topTradersLongPct: null, ts: NOW - 300_000 },
});
/** Binance: a sampled feed, its 15m counted from after the window's start. */
const binance = snap('binance', {
  liquidations: {
    '15m': win({
      longUsd: 0.4e6,
      shortUsd: 3e6,
      longBase: 8_000,
      shortBase: 60_000,
      count: 9,
      partial: true,
    }),
    '24h': win({ longUsd: 9e6, shortUsd: 7e6, longBase: 180_000, shortBase: 140_000, count: 150 }),
    coverage: 'sampled',
  },
  longShort: { accountsLongPct: 68, topTradersLongPct: 55.5, ts: NOW - 300_000 },
});
const hyperliquid = snap('hyperliquid', {
  liquidations: null,
  longShort: null,
  unavailable: { liquidations: NO_LIQUIDATION_FEED, longShort: NO_LONG_SHORT_STATS },
});
const all = snap('all', {
  venues: ['binance', 'bybit', 'hyperliquid'],
  liquidations: {
    '15m': win({
      longUsd: 1.9e6,
      shortUsd: 15.4e6,
      longBase: 38_000,
      shortBase: 308_000,
      count: 50,
      oiShare: 1.3,
    }),
    '24h': win({ longUsd: 39e6, shortUsd: 25e6, longBase: 780_000, shortBase: 500_000, count: 1060 }),
    coverage: 'sampled',
    missingVenues: ['hyperliquid'],
  },
  longShort: { accountsLongPct: 71.9, topTradersLongPct: 55.5, ts: NOW - 300_000 },
});

let tg: TelegramStandIn;
let bus: RedisBus;
let settings: RedisChatSettingsStore;
let telegram: TelegramBot;

beforeAll(async () => {
  await flushTestDb(busUrl);
  await flushTestDb(settingsUrl);
  const logger = pino({ level: 'silent' });
  bus = new RedisBus({ url: busUrl, logger });
  await bus.ready(5_000);
  expect(await bus.publishSnapshots([bybit, binance, hyperliquid, all])).toBe(4);
  await bus.setTrackedSymbols('bybit', [SYM, 'LQBTC', 'LQETH']);
  settings = new RedisChatSettingsStore(settingsUrl, logger);
  tg = await startTelegramStandIn();
  telegram = createTelegramBot({
    token: tg.token,
    apiRoot: tg.apiRoot,
    bus,
    subscriptions: new MemorySubscriptionStore(),
    settings,
    venues: VENUES,
    logger,
    botInfo: tg.botInfo,
    now: () => NOW,
  });
  await telegram.start();
});

afterAll(async () => {
  await telegram?.close();
  await settings?.close();
  await bus?.close();
  await tg?.close();
  await flushTestDb(busUrl);
  await flushTestDb(settingsUrl);
});

async function ask(chatId: number, text: string): Promise<string> {
  const reply = await tg.ask(chatId, text);
  expect(reply.params.parse_mode).toBe('HTML');
  return String(reply.params.text);
}

describe('/liq', () => {
  it('shows the aggregate, then each venue: both sides over 15m and 24h with base, count, coverage and forced share', async () => {
    const text = await ask(801, `/liq ${SYM.toLowerCase()}`);
    const blocks = text.split('\n\n');
    expect(blocks[0]).toBe(`<b>💥 ${SYM} liquidations</b>`);
    expect(blocks[1]).toBe(
      [
        '<b>all venues</b> · Bybit complete, Binance sampled: at least · Hyperliquid: no public liquidation feed',
        `15m: longs at least $1.90M (38,000 ${SYM}) · shorts at least $15.4M (308,000 ${SYM}) · 50 liquidations · ≥100% of the OI fall forced`,
        `24h: longs at least $39.0M (780,000 ${SYM}) · shorts at least $25.0M (500,000 ${SYM}) · 1,060 liquidations`,
      ].join('\n'),
    );
    expect(blocks[2]).toBe(
      [
        '<b>Binance</b> · sampled: at least',
        `15m: longs at least $400.0K (8,000 ${SYM}) · shorts at least $3.00M (60,000 ${SYM}) · 9 liquidations · partial: counting began inside the window`,
        `24h: longs at least $9.00M (180,000 ${SYM}) · shorts at least $7.00M (140,000 ${SYM}) · 150 liquidations`,
      ].join('\n'),
    );
    expect(blocks[3]).toBe(
      [
        '<b>Bybit</b> · complete',
        `15m: longs $1.50M (30,000 ${SYM}) · shorts $12.4M (248,000 ${SYM}) · 41 liquidations · 62% of the OI fall forced`,
        `24h: longs $30.0M (600,000 ${SYM}) · shorts $18.0M (360,000 ${SYM}) · 910 liquidations`,
      ].join('\n'),
    );
    expect(blocks[4]).toBe('<b>Hyperliquid</b>: no public liquidation feed');
    expect(blocks[5]).toBe(
      [
        '<b>Long/short</b>',
        'all venues: 72% of accounts long · top traders 56% long',
        'Binance: 68% of accounts long · top traders 56% long',
        'Bybit: 74% of accounts long',
      ].join('\n'),
    );
    // Hyperliquid is never shown as zero
    expect(text).not.toMatch(/Hyperliquid[^\n]*\$0/);
  });

  it('answers a missing, an invalid and an untracked symbol the way every query does', async () => {
    expect(await ask(802, '/liq')).toMatch(/^Usage: <code>\/liq SYMBOL<\/code> for liquidations/);
    expect(await ask(802, '/liq <b>')).toContain('is not a symbol');
    const untracked = await ask(802, '/liq LQBTX');
    expect(untracked).toContain('LQBTX is not tracked.');
    expect(untracked).toContain('Did you mean <b>LQBTC</b>?');
    expect(await ask(802, '/liq LQETH')).toBe('LQETH is tracked but has no data yet. Try again in a minute.');
  });

  it('is in /help', async () => {
    expect(await ask(803, '/help')).toContain('/liq · Liquidations of longs and shorts over 15m and 24h');
  });
});

describe('/market', () => {
  it('gains the long/short line, the liquidation lines with their feeds, and the forced share of short covering', async () => {
    const text = await ask(811, `/market ${SYM}`);
    const lines = text.split('\n');
    expect(lines).toContain(
      'Control 15m: Short covering (price ↑, OI ↓) · ≥100% forced (short liquidations at least $15.4M, long at least $1.90M)',
    );
    expect(lines).toContain('Control 24h: Longs opening (price ↑, OI ↑)');
    expect(lines).toContain('Long/short: 72% of accounts long · top traders 56% long');
    expect(lines).toContain(
      'Liquidations 15m: longs at least $1.90M · shorts at least $15.4M · ≥100% of the OI fall forced',
    );
    expect(lines).toContain('Liquidations 24h: longs at least $39.0M · shorts at least $25.0M');
    expect(lines).toContain(
      '<i>Liquidation feeds: Bybit complete, Binance sampled · Hyperliquid: no public liquidation feed</i>',
    );
  });

  it('says Hyperliquid has no public liquidation feed, and shows no long/short line there', async () => {
    const text = await ask(812, `/market ${SYM} hyperliquid`);
    expect(text).toContain('\nLiquidations: no public liquidation feed\n');
    expect(text).not.toContain('Long/short');
    expect(text).not.toContain('forced');
  });

  it('a complete feed reads without "at least"', async () => {
    const text = await ask(813, `/market ${SYM} bybit 15m`);
    expect(text).toContain(
      'Control 15m: Short covering (price ↑, OI ↓) · 62% forced (short liquidations $12.4M, long $1.50M)',
    );
    expect(text).toContain('Liquidations 15m: longs $1.50M · shorts $12.4M · 62% of the OI fall forced');
    expect(text).toContain('Long/short: 74% of accounts long');
  });
});

describe('/settings', () => {
  it('lists the new kind and turns it off and on; it has no chat threshold (it fires once per cascade, at the server level)', async () => {
    const chat = 821;
    const shown = await ask(chat, '/settings');
    expect(shown).toContain('Liquidation cascade');
    const keyboard = tg.sent(chat).at(-1)?.params.reply_markup as {
      inline_keyboard: { text: string; callback_data: string }[][];
    };
    expect(keyboard.inline_keyboard.flat().map((b) => b.callback_data)).toContain(
      'set:t:liquidation_cascade',
    );
    expect(await ask(chat, '/settings off liquidation_cascade')).toContain('Liquidation cascade alerts off.');
    expect((await settings.get(chat)).kinds.liquidation_cascade).toEqual({ enabled: false });
    expect(await ask(chat, '/settings on liquidation_cascade')).toContain('Liquidation cascade alerts on.');
    expect((await settings.get(chat)).kinds.liquidation_cascade).toBeUndefined();
    const set = await ask(chat, '/settings threshold liquidation_cascade 1.5');
    expect(set).toContain('liquidation_cascade has no threshold, only on or off.');
    expect((await settings.get(chat)).kinds.liquidation_cascade).toBeUndefined();
  });
});
