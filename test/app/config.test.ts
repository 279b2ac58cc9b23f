import { describe, expect, it } from 'vitest';
import { ConfigError, loadConfig } from '../../src/app/config.js';
import { alertReport, ruleOptions } from '../../src/app/rule-config.js';

function errorOf(env: Record<string, string>, argv: string[] = []): ConfigError {
  try {
    loadConfig(env, argv);
  } catch (err) {
    if (err instanceof ConfigError) return err;
    throw err;
  }
  throw new Error('expected a ConfigError');
}

describe('config', () => {
  it('has the documented defaults', () => {
    const c = loadConfig({});
    expect(c).toMatchObject({
      redisUrl: null,
      symbols: null,
      topN: 20,
      venues: ['binance', 'bybit', 'okx', 'hyperliquid'],
      universeRefreshMs: 60 * 60_000,
      telegramBotToken: null,
      telegramApiRoot: 'https://api.telegram.org',
      oiAlertPct15m: 3,
      alertCooldownMs: 30 * 60_000,
      publishIntervalMs: 1000,
      httpPort: null,
      logLevel: 'info',
      mode: { kind: 'live' },
      role: 'all',
      botConsumer: null,
      shard: null,
      botMode: 'polling',
      webhook: null,
      adminChatIds: [],
      commandRatePerMin: 20,
    });
  });

  const TOKEN = '123456:ABCDEFGHIJKLMNOPQRSTUVWXYZ';
  const WEBHOOK = {
    TELEGRAM_BOT_TOKEN: TOKEN,
    BOT_MODE: 'webhook',
    WEBHOOK_URL: 'https://bot.example.com:8443/tg/hook',
    WEBHOOK_SECRET: 'abc_DEF-123',
    HTTP_PORT: '8080',
  };

  it('reads the webhook settings in webhook mode', () => {
    const c = loadConfig(WEBHOOK);
    expect(c.botMode).toBe('webhook');
    expect(c.webhook).toEqual({
      url: 'https://bot.example.com:8443/tg/hook',
      path: '/tg/hook',
      secret: 'abc_DEF-123',
    });
    expect(loadConfig({ ...WEBHOOK, WEBHOOK_URL: 'https://bot.example.com' }).webhook?.path).toBe('/');
    expect(loadConfig({ ...WEBHOOK, WEBHOOK_SECRET: 'x'.repeat(256) }).webhook?.secret).toHaveLength(256);
    // Polling ignores webhook settings.
    expect(loadConfig({ ...WEBHOOK, BOT_MODE: 'Polling', WEBHOOK_URL: 'nonsense' }).webhook).toBeNull();
  });

  it('reads ADMIN_CHAT_IDS and COMMAND_RATE_PER_MIN', () => {
    const c = loadConfig({ ADMIN_CHAT_IDS: '42, -1001234567890,42,', COMMAND_RATE_PER_MIN: '5' });
    expect(c.adminChatIds).toEqual([42, -1001234567890]);
    expect(c.commandRatePerMin).toBe(5);
  });

  it.each([
    ['BOT_MODE', { BOT_MODE: 'push' }],
    ['BOT_MODE', { ...WEBHOOK, TELEGRAM_BOT_TOKEN: '' }],
    ['WEBHOOK_URL', { ...WEBHOOK, WEBHOOK_URL: '' }],
    ['WEBHOOK_URL', { ...WEBHOOK, WEBHOOK_URL: 'not a url' }],
    ['WEBHOOK_URL', { ...WEBHOOK, WEBHOOK_URL: 'http://bot.example.com/hook' }],
    ['WEBHOOK_URL', { ...WEBHOOK, WEBHOOK_URL: 'https://bot.example.com:8080/hook' }],
    ['WEBHOOK_URL', { ...WEBHOOK, WEBHOOK_URL: 'https://bot.example.com/hook?x=1' }],
    ['WEBHOOK_URL', { ...WEBHOOK, WEBHOOK_URL: 'https://bot.example.com/healthz' }],
    ['WEBHOOK_SECRET', { ...WEBHOOK, WEBHOOK_SECRET: '' }],
    ['WEBHOOK_SECRET', { ...WEBHOOK, WEBHOOK_SECRET: 'has space' }],
    ['WEBHOOK_SECRET', { ...WEBHOOK, WEBHOOK_SECRET: 'x'.repeat(257) }],
    ['HTTP_PORT', { ...WEBHOOK, HTTP_PORT: '' }],
    ['ADMIN_CHAT_IDS', { ADMIN_CHAT_IDS: '42,abc' }],
    ['ADMIN_CHAT_IDS', { ADMIN_CHAT_IDS: '4.2' }],
    ['ADMIN_CHAT_IDS', { ADMIN_CHAT_IDS: '99999999999999999999' }],
    ['COMMAND_RATE_PER_MIN', { COMMAND_RATE_PER_MIN: '0' }],
    ['COMMAND_RATE_PER_MIN', { COMMAND_RATE_PER_MIN: '2.5' }],
    ['COMMAND_RATE_PER_MIN', { COMMAND_RATE_PER_MIN: 'many' }],
  ])('stops on a bad %s in %j naming it', (name, env) => {
    const err = errorOf(env as Record<string, string>);
    expect(err.variable).toBe(name);
    expect(err.message.startsWith(`${name}:`)).toBe(true);
  });

  it('never echoes the webhook secret or URL in its errors', () => {
    const url = 'http://bot.example.com/path-SECRETISH';
    expect(errorOf({ ...WEBHOOK, WEBHOOK_URL: url }).message).not.toContain('SECRETISH');
    expect(errorOf({ ...WEBHOOK, WEBHOOK_SECRET: 'bad secret!' }).message).not.toContain('bad secret');
  });

  it('has the real endpoints of every venue by default, each overridable', () => {
    const c = loadConfig({
      OKX_WS_URL: 'ws://127.0.0.1:9/ws/v5/public',
      BINANCE_REST_URL: 'http://127.0.0.1:9/',
    });
    expect(c.endpoints).toEqual({
      binance: { wsUrl: 'wss://fstream.binance.com/market/stream', restUrl: 'http://127.0.0.1:9' },
      bybit: { wsUrl: 'wss://stream.bybit.com/v5/public/linear', restUrl: 'https://api.bybit.com' },
      okx: { wsUrl: 'ws://127.0.0.1:9/ws/v5/public', restUrl: 'https://www.okx.com' },
      hyperliquid: { wsUrl: 'wss://api.hyperliquid.xyz/ws', restUrl: 'https://api.hyperliquid.xyz' },
    });
  });

  it('reads VENUES case-insensitively, in order, de-duplicated', () => {
    expect(loadConfig({ VENUES: 'OKX, bybit,okx' }).venues).toEqual(['okx', 'bybit']);
  });

  it('reads SHARD=i/n', () => {
    expect(loadConfig({ SHARD: '1/3' }).shard).toEqual({ index: 1, count: 3 });
  });

  it('accepts TOP_N=all for every listed perpetual', () => {
    expect(loadConfig({ TOP_N: 'all' }).topN).toBe(Number.POSITIVE_INFINITY);
    expect(loadConfig({ TOP_N: '800' }).topN).toBe(800);
  });

  it('reads symbols in any spelling, de-duplicated', () => {
    expect(loadConfig({ SYMBOLS: 'btc, ETHUSDT,sol-usdt-swap,BTC' }).symbols).toEqual(['BTC', 'ETH', 'SOL']);
  });

  it.each([
    ['OI_ALERT_PCT_15M', 'abc'],
    ['OI_ALERT_PCT_15M', '-1'],
    ['ALERT_COOLDOWN_MIN', 'x'],
    ['PUBLISH_INTERVAL_MS', '0.5'],
    ['TOP_N', '0'],
    ['HTTP_PORT', '70000'],
    ['REDIS_URL', 'localhost:6379'],
    ['BYBIT_WS_URL', 'https://stream.bybit.com'],
    ['HYPERLIQUID_REST_URL', 'wss://api.hyperliquid.xyz'],
    ['VENUES', 'bybit,ftx'],
    ['VENUES', ','],
    ['UNIVERSE_REFRESH_MIN', '0'],
    ['ROLE', 'worker'],
    ['ROLE', 'bot'],
    ['BOT_CONSUMER', 'has space'],
    ['SHARD', '2/2'],
    ['SHARD', 'half'],
    ['SHARD', '0/0'],
    ['SYMBOLS', 'BTC,<b>'],
    ['SYMBOLS', ' , '],
    ['LOG_LEVEL', 'loud'],
    ['TELEGRAM_BOT_TOKEN', 'not-a-token'],
    ['OI_ALERT_PCT_24H', '0'],
    ['MOMENTUM_ALERT_ACCEL', '1'],
    ['ALERT_KINDS', 'oi_change_15m,price_moon'],
    ['FUNDING_PRESSURE_APR_PCT', '50,20,100'],
    ['FUNDING_PRESSURE_APR_PCT', '20,50'],
    ['INPUT_STALE_AFTER_MS', '10'],
    ['BACKFILL', 'maybe'],
    ['ALERT_MAX_AGE_MIN', '0'],
    ['ALERT_MAX_AGE_MIN', '0.5'],
    ['ALERT_MAX_AGE_MIN', '1441'],
    ['ALERT_MAX_AGE_MIN', 'soon'],
    ['LIQ_ALERT_PCT_OI', '0'],
    ['LIQ_ALERT_PCT_OI', '-0.5'],
    ['LIQ_ALERT_PCT_OI', '101'],
    ['LIQ_ALERT_PCT_OI', 'half'],
    ['LIQ_ALERT_MIN_USD', '-1'],
    ['LIQ_ALERT_MIN_USD', '1M'],
  ])('stops on a bad %s naming it', (name, value) => {
    const err = errorOf({ [name]: value });
    expect(err.variable).toBe(name);
    expect(err.message.startsWith(`${name}:`)).toBe(true);
  });

  it('reads the market-intelligence and alert-rule settings', () => {
    const d = loadConfig({});
    expect(d.oiAlertPct24h).toBe(10);
    expect(d.momentumAlertAccel).toBe(3);
    expect(d.alertKinds).toHaveLength(8);
    expect(d.fundingPressureAprPct).toEqual({ elevated: 20, high: 50, extreme: 100 });
    expect(d.inputStaleAfterMs).toBe(180_000);
    expect(d.backfill).toBe(true);
    const c = loadConfig({
      OI_ALERT_PCT_24H: '8',
      MOMENTUM_ALERT_ACCEL: '4',
      ALERT_KINDS: 'OI_CHANGE_15M, funding_pressure',
      FUNDING_PRESSURE_APR_PCT: '15,40,90',
      INPUT_STALE_AFTER_MS: '60000',
      BACKFILL: 'off',
    });
    expect(c).toMatchObject({
      oiAlertPct24h: 8,
      momentumAlertAccel: 4,
      alertKinds: ['oi_change_15m', 'funding_pressure'],
      fundingPressureAprPct: { elevated: 15, high: 40, extreme: 90 },
      inputStaleAfterMs: 60_000,
      backfill: false,
    });
    expect(errorOf({}, ['--report']).variable).toBe('--report');
    expect(loadConfig({}, ['--replay', 'f', '--report']).mode).toEqual({
      kind: 'replay',
      path: 'f',
      speed: 1,
      report: true,
    });
  });

  it('parses the run modes', () => {
    expect(loadConfig({}, ['--record', 'a.ndjson']).mode).toEqual({ kind: 'live', recordPath: 'a.ndjson' });
    expect(loadConfig({}, ['--replay', 'a.ndjson', '--speed', 'max']).mode).toEqual({
      kind: 'replay',
      path: 'a.ndjson',
      speed: 'max',
    });
    expect(loadConfig({}, ['--replay', 'a.ndjson', '--speed', '10']).mode).toMatchObject({ speed: 10 });
    expect(loadConfig({}, ['--demo']).mode).toEqual({ kind: 'demo' });
    expect(errorOf({}, ['--speed', '0']).variable).toBe('--speed');
    expect(errorOf({}, ['--replay']).variable).toBe('--replay');
    expect(errorOf({}, ['--bogus']).variable).toBe('--bogus');
    expect(errorOf({}, ['--replay', 'a', '--demo']).variable).toBe('--replay');
  });

  it('refuses --speed and --force without --replay instead of starting live', () => {
    expect(errorOf({}, ['--speed', 'max']).variable).toBe('--speed');
    expect(errorOf({}, ['--demo', '--speed', '10']).variable).toBe('--speed');
    expect(errorOf({}, ['--force']).variable).toBe('--force');
    expect(errorOf({}, ['--speed', 'max']).message).toBe('--speed: only works with --replay FILE');
    expect(loadConfig({}, ['--speed', 'max', '--replay', 'a', '--force']).mode).toEqual({
      kind: 'replay',
      path: 'a',
      speed: 'max',
      force: true,
    });
  });

  it('reads ALERT_MAX_AGE_MIN: 15 minutes by default, 1 to 1440', () => {
    expect(loadConfig({}).alertMaxAgeMs).toBe(15 * 60_000);
    expect(loadConfig({ ALERT_MAX_AGE_MIN: '1' }).alertMaxAgeMs).toBe(60_000);
    expect(loadConfig({ ALERT_MAX_AGE_MIN: '1440' }).alertMaxAgeMs).toBe(1440 * 60_000);
  });

  it('reads LIQ_ALERT_PCT_OI and LIQ_ALERT_MIN_USD: 0.5% of OI and $1M by default, into the rules', () => {
    const d = loadConfig({});
    expect([d.liqAlertPctOi, d.liqAlertMinUsd]).toEqual([0.5, 1_000_000]);
    expect(ruleOptions(d)).toMatchObject({ liqAlertPctOi: 0.5, liqAlertMinUsd: 1_000_000 });
    const c = loadConfig({ LIQ_ALERT_PCT_OI: '1.25', LIQ_ALERT_MIN_USD: '0' });
    expect([c.liqAlertPctOi, c.liqAlertMinUsd]).toEqual([1.25, 0]);
    expect(ruleOptions(c)).toMatchObject({ liqAlertPctOi: 1.25, liqAlertMinUsd: 0 });
    expect(loadConfig({ LIQ_ALERT_PCT_OI: '100' }).liqAlertPctOi).toBe(100);
    expect(ruleOptions(loadConfig({ ALERT_KINDS: 'oi_change_15m' })).enabled?.liquidation_cascade).toBe(
      false,
    );
    expect(alertReport({ liquidation_cascade: 3 }, c)).toMatch(
      /^liquidation_cascade\s+3 {2}one side liquidated in 15m >= 1\.25% of OI \(LIQ_ALERT_PCT_OI\) and >= \$0 \(LIQ_ALERT_MIN_USD\)$/m,
    );
  });
});
