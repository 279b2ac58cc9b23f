import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Redis } from 'ioredis';
import { pino } from 'pino';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { type App, startApp } from '../../src/app/app.js';
import { ConfigError, loadConfig } from '../../src/app/config.js';
import { AlertStreamConsumer, RedisDeliveryLedger } from '../../src/bus/alert-stream.js';
import { RedisChatSettingsStore } from '../../src/bus/chat-settings-store.js';
import { RedisBus } from '../../src/bus/redis-bus.js';
import { RedisSubscriptionStore } from '../../src/bus/subscription-store.js';
import type { AlertJson, SnapshotJson } from '../../src/domain/types.js';
import { startBybitSimulator } from '../../src/streams/sim/bybit-sim.js';
import { ensureBuilt, runProgram } from '../support/program.js';
import { generateRecording, writeRecording } from '../support/recording.js';
import { flushTestDb, testRedisUrl, uniqueSymbol } from '../support/redis.js';
import { startTelegramStandIn, type TelegramStandIn } from '../support/telegram-stand-in.js';

/**
 * REDIS_PREFIX: instances with different prefixes share one server, and one database index,
 * without seeing each other's snapshots, alerts, subscriptions or settings.
 */
const url = testRedisUrl(25);
const logger = pino({ level: 'silent' });

let redis: Redis;

beforeAll(async () => {
  await flushTestDb(url);
  redis = new Redis(url);
});

afterAll(async () => {
  redis.disconnect();
  await flushTestDb(url);
});

function snapshot(venue: string, symbol: string, oiBase: number): SnapshotJson {
  const ts = Date.now();
  return {
    v: 1,
    venue,
    symbol,
    instrument: `${symbol}USDT`,
    ts,
    price: { mark: 100 },
    oi: { base: oiBase, usd: oiBase * 100, delta15m: null, delta24h: null },
    funding: {
      rate: 0.0001,
      intervalHours: 8,
      hourly: 0.0000125,
      aprPct: 10.95,
      nextFundingTime: ts + 3_600_000,
    },
  } as SnapshotJson;
}

/** A fresh alert (the bot may refuse old ones), the same id in both instances on purpose. */
function alert(id: string, symbol: string): AlertJson {
  const snap = snapshot('bybit', symbol, 2600);
  return {
    v: 1,
    id,
    kind: 'oi_change_15m',
    venue: 'bybit',
    symbol,
    ts: snap.ts,
    text: `${symbol} alert ${id}`,
    thresholdPct: 3,
    windowMs: 900_000,
    delta: { base: 100, usd: 1e6, pct: 4 },
    snapshot: { ...snap, oi: { ...snap.oi, delta15m: { base: 100, usd: 1e6, pct: 4 } } },
  } as AlertJson;
}

/** Every key of the test database (SCAN, not KEYS). */
async function allKeys(): Promise<string[]> {
  const out: string[] = [];
  let cursor = '0';
  do {
    const [next, keys] = await redis.scan(cursor, 'COUNT', 500);
    cursor = next;
    out.push(...keys);
  } while (cursor !== '0');
  return out.sort();
}

describe('REDIS_PREFIX setting', () => {
  it('defaults to pulse and accepts 1-32 letters, digits, _ or -', () => {
    expect(loadConfig({}).redisPrefix).toBe('pulse');
    expect(loadConfig({ REDIS_PREFIX: ' staging_EU-2 ' }).redisPrefix).toBe('staging_EU-2');
    expect(loadConfig({ REDIS_PREFIX: 'x'.repeat(32) }).redisPrefix).toHaveLength(32);
  });

  it.each(['pulse:eu', 'p*', 'a b', 'x'.repeat(33), 'naïve'])('refuses %j, naming the variable', (value) => {
    let err: unknown;
    try {
      loadConfig({ REDIS_PREFIX: value });
    } catch (e) {
      err = e;
    }
    expect(err).toBeInstanceOf(ConfigError);
    expect((err as ConfigError).variable).toBe('REDIS_PREFIX');
    expect((err as ConfigError).message).toMatch(/^REDIS_PREFIX: /);
  });
});

describe('two instances on one Redis database, told apart by the prefix', () => {
  it('keep snapshots, alerts, rule state, feed status, symbols and levels apart', async () => {
    const alpha = new RedisBus({ url, logger, prefix: 'alpha' });
    const beta = new RedisBus({ url, logger, prefix: 'beta' });
    const sub = new Redis(url);
    try {
      await Promise.all([alpha.ready(5000), beta.ready(5000)]);
      const symbol = uniqueSymbol('P');
      // Channels ignore the database index: other test files publish too, so keep what is about ours.
      const channels: string[] = [];
      sub.on('pmessage', (_pattern: string, channel: string, message: string) => {
        if (message.includes(`"symbol":"${symbol}"`)) channels.push(channel);
      });
      await sub.psubscribe('*');

      await alpha.publishSnapshots([snapshot('bybit', symbol, 1000)]);
      await beta.publishSnapshots([snapshot('bybit', symbol, 2000)]);
      // The same alert id in both: one instance's id marker must not make the other's a duplicate.
      await alpha.publishAlert(alert('same-id', symbol), [
        { key: `bybit:${symbol}:oi_change_15m`, json: '"a"' },
      ]);
      await beta.publishAlert(alert('same-id', symbol), [
        { key: `bybit:${symbol}:oi_change_15m`, json: '"b"' },
      ]);
      expect(alpha.counters).toMatchObject({ alertsPublished: 1, alertsDuplicate: 0 });
      expect(beta.counters).toMatchObject({ alertsPublished: 1, alertsDuplicate: 0 });

      await vi.waitFor(() => expect(channels).toHaveLength(4));
      expect(channels.sort()).toEqual([
        'alpha:alert',
        `alpha:snapshot:bybit:${symbol}`,
        'beta:alert',
        `beta:snapshot:bybit:${symbol}`,
      ]);
      expect((await alpha.latest('bybit', symbol))?.oi.base).toBe(1000);
      expect((await beta.latest('bybit', symbol))?.oi.base).toBe(2000);
      expect(await redis.xlen('alpha:alerts')).toBe(1);
      expect(await redis.xlen('beta:alerts')).toBe(1);
      expect(await alpha.loadAlertState()).toEqual(['"a"']);
      expect(await beta.loadAlertState()).toEqual(['"b"']);

      await alpha.publishFeedStatus([
        {
          v: 1,
          venue: 'bybit',
          shard: 'all',
          ts: 1,
          ok: true,
          connections: 1,
          open: 1,
          lastDataTs: 1,
          staleAfterMs: 1,
          instruments: 1,
        },
      ]);
      expect(await alpha.feedStatus()).toHaveLength(1);
      expect(await beta.feedStatus()).toEqual([]);

      await alpha.setTrackedSymbols('bybit', ['BTC', 'ETH']);
      await beta.setTrackedSymbols('bybit', ['SOL']);
      expect(await alpha.trackedSymbols('bybit')).toEqual(['BTC', 'ETH']);
      expect(await beta.trackedSymbols('bybit')).toEqual(['SOL']);

      await alpha.publishAlertLevels({ oi_change_15m: [1.5] });
      expect(await alpha.alertLevels()).toEqual({ oi_change_15m: [1.5] });
      expect(await beta.alertLevels()).toEqual({});

      // Names outside this test's prefixes: none (no `pulse:` key, nothing unprefixed).
      expect((await allKeys()).filter((k) => !/^(alpha|beta):/.test(k))).toEqual([]);
    } finally {
      sub.disconnect();
      await alpha.close();
      await beta.close();
    }
  });

  it('keep subscriptions, chat settings, mutes, schedules and delivery ledgers apart', async () => {
    const subsA = new RedisSubscriptionStore(url, undefined, { prefix: 'alpha' });
    const subsB = new RedisSubscriptionStore(url, undefined, { prefix: 'beta' });
    const setA = new RedisChatSettingsStore(url, undefined, { prefix: 'alpha' });
    const setB = new RedisChatSettingsStore(url, undefined, { prefix: 'beta' });
    const ledgerA = new RedisDeliveryLedger(url, logger, 'alpha');
    const ledgerB = new RedisDeliveryLedger(url, logger, 'beta');
    try {
      await subsA.add(11, 'BTC');
      await subsA.add(12, 'ETH', 'okx');
      await subsB.add(21, 'BTC');
      expect(await subsA.chatsFor('BTC')).toEqual([11]);
      expect(await subsB.chatsFor('BTC')).toEqual([21]);
      expect(await subsB.venuesFor(12, 'ETH')).toEqual([]);
      // The counts are SCANs: each sees only its own prefix's keys.
      expect(await subsA.counts()).toEqual({ chats: 2, subscriptions: 2 });
      expect(await subsB.counts()).toEqual({ chats: 1, subscriptions: 1 });

      await setA.update(11, {
        kinds: { oi_change_15m: { enabled: true, threshold: 5 } },
        quietHours: { startHour: 22, endHour: 7 },
      });
      await setA.mute(11, 'BTC', Date.now() + 60_000);
      expect((await setA.get(11)).quietHours).toEqual({ startHour: 22, endHour: 7 });
      expect((await setB.get(11)).quietHours).toBeNull();
      expect(await setA.mutedUntil(11, 'BTC', Date.now())).not.toBeNull();
      expect(await setB.mutedUntil(11, 'BTC', Date.now())).toBeNull();
      expect(await setA.chatsWithSchedules()).toEqual([11]);
      expect(await setB.chatsWithSchedules()).toEqual([]);
      expect(await setA.requestedLevels()).toEqual({ oi_change_15m: [5] });
      expect(await setB.requestedLevels()).toEqual({});

      await ledgerA.recordDelivered('x1', 11);
      expect(await ledgerA.wasDelivered('x1', 11)).toBe(true);
      expect(await ledgerB.wasDelivered('x1', 11)).toBe(false);
    } finally {
      for (const c of [subsA, subsB, setA, setB, ledgerA, ledgerB]) await c.close();
    }
  });

  it('each consumer reads its own prefix stream only', async () => {
    const bus = new RedisBus({ url, logger, prefix: 'gamma' });
    const seen: string[] = [];
    const other: string[] = [];
    const consumer = (prefix: string, into: string[]) =>
      new AlertStreamConsumer({
        url,
        logger,
        prefix,
        consumer: `c-${prefix}`,
        blockMs: 100,
        handle: async (a) => {
          into.push(a.id);
          return true;
        },
      });
    const gamma = consumer('gamma', seen);
    const delta = consumer('delta', other);
    try {
      gamma.start();
      delta.start();
      await bus.ready(5000);
      await bus.publishAlert(alert('g1', 'BTC'));
      await vi.waitFor(() => expect(gamma.counters.acked).toBe(1), { timeout: 5000 });
      // The other group exists on its own stream, which holds nothing: nothing was read there.
      await vi.waitFor(async () => expect(await redis.xinfo('GROUPS', 'delta:alerts')).toHaveLength(1));
      expect(seen).toEqual(['g1']);
      expect(other).toEqual([]);
      expect(delta.counters.read).toBe(0);
    } finally {
      await gamma.close();
      await delta.close();
      await bus.close();
    }
  });
});

describe('a live processor with a prefix', () => {
  it('writes its snapshots, tracked symbols and checkpoint under the prefix only', async () => {
    const sim = await startBybitSimulator({ tickMs: 20 });
    try {
      const app = await startApp(
        loadConfig({
          REDIS_URL: url,
          REDIS_PREFIX: 'live1',
          ROLE: 'processor',
          VENUES: 'bybit',
          SYMBOLS: 'BTC',
          BACKFILL: 'false',
          BYBIT_WS_URL: sim.wsUrl,
          BYBIT_REST_URL: sim.restUrl,
        }),
        logger,
      );
      try {
        await vi.waitFor(async () => expect(await redis.exists('live1:latest:bybit:BTC')).toBe(1), {
          timeout: 10_000,
        });
      } finally {
        await app.close();
      }
    } finally {
      await sim.close();
    }
    const keys = (await allKeys()).filter((k) => k.startsWith('live1:'));
    expect(keys).toEqual(expect.arrayContaining(['live1:checkpoint:all', 'live1:symbols:bybit']));
    expect((await allKeys()).filter((k) => !/^(alpha|beta|gamma|delta|live1):/.test(k))).toEqual([]);
  });
});

describe('two bots with different prefixes on one Redis database', () => {
  const tokenA = '111111:ALPHA-token-abcdefghijklmnopqrstu';
  const tokenB = '222222:BETA-token-abcdefghijklmnopqrstuv';
  let telegramA: TelegramStandIn;
  let telegramB: TelegramStandIn;
  const apps: App[] = [];

  beforeAll(async () => {
    telegramA = await startTelegramStandIn(tokenA);
    telegramB = await startTelegramStandIn(tokenB);
  });

  afterAll(async () => {
    for (const app of apps) await app.close();
    await telegramA.close();
    await telegramB.close();
  });

  const bot = async (prefix: string, telegram: TelegramStandIn) => {
    const app = await startApp(
      loadConfig({
        ROLE: 'bot',
        REDIS_URL: url,
        REDIS_PREFIX: prefix,
        TELEGRAM_BOT_TOKEN: telegram.token,
        TELEGRAM_API_ROOT: telegram.apiRoot,
        BOT_CONSUMER: `bot-${prefix}`,
      }),
      logger,
    );
    apps.push(app);
    return app;
  };

  /** True once the bot group has read every entry of the stream and acknowledged them all. */
  const allHandled = async (stream: string) => {
    const [group] = (await redis.xinfo('GROUPS', stream)) as unknown[][];
    const field = (name: string) => group?.[group.indexOf(name) + 1];
    const last = await redis.xrevrange(stream, '+', '-', 'COUNT', 1);
    return field('pending') === 0 && field('last-delivered-id') === last[0]?.[0];
  };

  it("deliver only their own instance's alerts, to their own subscribers, under their own settings", async () => {
    await bot('botalpha', telegramA);
    await bot('botbeta', telegramB);
    // Chat 500 follows BTC in both instances; 501 only in alpha, 502 only in beta.
    for (const [telegram, chatId] of [
      [telegramA, 500],
      [telegramA, 501],
      [telegramB, 500],
      [telegramB, 502],
    ] as const) {
      const before = telegram.sent(chatId).length;
      telegram.sendText(chatId, '/subscribe BTC');
      await telegram.waitFor(() => telegram.sent(chatId).length > before, 10_000);
    }
    const subsA = new RedisSubscriptionStore(url, undefined, { prefix: 'botalpha' });
    const subsB = new RedisSubscriptionStore(url, undefined, { prefix: 'botbeta' });
    expect(await subsA.chatsFor('BTC')).toEqual([500, 501]);
    expect(await subsB.chatsFor('BTC')).toEqual([500, 502]);
    await subsA.close();
    await subsB.close();
    // Chat 500 muted BTC in alpha only.
    const settingsA = new RedisChatSettingsStore(url, undefined, { prefix: 'botalpha' });
    await settingsA.mute(500, 'BTC', Date.now() + 3_600_000);
    await settingsA.close();

    const sentBefore = { a: telegramA.sent().length, b: telegramB.sent().length };
    const alphaBus = new RedisBus({ url, logger, prefix: 'botalpha' });
    const betaBus = new RedisBus({ url, logger, prefix: 'botbeta' });
    try {
      // The same alert id in both instances: id markers and delivery ledgers are per prefix.
      await alphaBus.publishAlert(alert('shared-1', 'BTC'));
      await betaBus.publishAlert(alert('shared-1', 'BTC'));
      await vi.waitFor(
        async () => {
          expect(await allHandled('botalpha:alerts')).toBe(true);
          expect(await allHandled('botbeta:alerts')).toBe(true);
        },
        { timeout: 15_000, interval: 50 },
      );
    } finally {
      await alphaBus.close();
      await betaBus.close();
    }
    const chats = (t: TelegramStandIn, from: number) =>
      t
        .sent()
        .slice(from)
        .map((c) => Number(c.params.chat_id))
        .sort();
    expect(chats(telegramA, sentBefore.a)).toEqual([501]);
    expect(chats(telegramB, sentBefore.b)).toEqual([500, 502]);
    // Nothing went under the default prefix.
    expect((await allKeys()).filter((k) => k.startsWith('pulse:'))).toEqual([]);
  }, 40_000);
});

describe('the program with REDIS_PREFIX, run as a child process', () => {
  const run = (args: string[], env: Record<string, string>) =>
    runProgram(args, { LOG_LEVEL: 'warn', ...env });

  beforeAll(() => {
    ensureBuilt();
  });

  it('stops with exit code 2 on a bad REDIS_PREFIX, naming the variable', async () => {
    const res = await run([], { REDIS_PREFIX: 'pulse:eu' });
    expect(res.code).toBe(2);
    expect(res.stderr).toContain('REDIS_PREFIX');
  });

  it('two replays at once into one database write and publish only under their own prefix', async () => {
    await flushTestDb(url);
    // Symbols of its own: channels ignore the database index, and other test files publish too.
    const symbols = [uniqueSymbol('Q'), uniqueSymbol('R')];
    const rec = generateRecording({
      symbols,
      startTs: Date.UTC(2026, 5, 1),
      hours: 25,
      stepMs: 20_000,
    });
    const path = join(mkdtempSync(join(tmpdir(), 'pulse-prefix-')), 'rec.ndjson');
    await writeRecording(path, rec.lines);
    const sub = new Redis(url);
    const channels = new Set<string>();
    sub.on('pmessage', (_pattern: string, channel: string, message: string) => {
      if (symbols.some((s) => message.includes(`"symbol":"${s}"`))) channels.add(channel);
    });
    await sub.psubscribe('*');
    try {
      const [a, b] = await Promise.all([
        run(['--replay', path, '--speed', 'max'], { REDIS_URL: url, REDIS_PREFIX: 'replay-a' }),
        run(['--replay', path, '--speed', 'max'], { REDIS_URL: url, REDIS_PREFIX: 'replay-b' }),
      ]);
      expect(a.stderr).toBe('');
      expect(a.code).toBe(0);
      expect(b.stderr).toBe('');
      expect(b.code).toBe(0);
    } finally {
      sub.disconnect();
    }
    const keys = await allKeys();
    expect(keys.filter((k) => !/^replay-[ab]:/.test(k))).toEqual([]);
    for (const prefix of ['replay-a', 'replay-b']) {
      const snap = JSON.parse(
        (await redis.get(`${prefix}:latest:bybit:${symbols[1]}`)) ?? 'null',
      ) as SnapshotJson | null;
      expect(snap?.ts).toBe(rec.endTs);
      // Each replay wrote its own alerts: the other's id markers did not make them duplicates.
      expect(await redis.xlen(`${prefix}:alerts`)).toBeGreaterThan(0);
      expect([...channels].some((c) => c.startsWith(`${prefix}:snapshot:bybit:`))).toBe(true);
      expect(channels.has(`${prefix}:alert`)).toBe(true);
    }
    expect(await redis.xlen('replay-a:alerts')).toBe(await redis.xlen('replay-b:alerts'));
    expect([...channels].filter((c) => !/^replay-[ab]:/.test(c))).toEqual([]);
  }, 60_000);
});
