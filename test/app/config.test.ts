import { describe, expect, it } from 'vitest';
import { ConfigError, loadConfig } from '../../src/app/config.js';

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
      bybitWsUrl: 'wss://stream.bybit.com/v5/public/linear',
      bybitRestUrl: 'https://api.bybit.com',
      telegramBotToken: null,
      telegramApiRoot: 'https://api.telegram.org',
      oiAlertPct15m: 3,
      alertCooldownMs: 30 * 60_000,
      publishIntervalMs: 1000,
      httpPort: null,
      logLevel: 'info',
      mode: { kind: 'live' },
    });
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
    ['SYMBOLS', 'BTC,<b>'],
    ['SYMBOLS', ' , '],
    ['LOG_LEVEL', 'loud'],
    ['TELEGRAM_BOT_TOKEN', 'not-a-token'],
  ])('stops on a bad %s naming it', (name, value) => {
    const err = errorOf({ [name]: value });
    expect(err.variable).toBe(name);
    expect(err.message.startsWith(`${name}:`)).toBe(true);
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
});
