import { describe, expect, it } from 'vitest';
import { loadConfig } from '../../src/app/config.js';
import {
  closestSetting,
  describeUnknown,
  KNOWN_SETTINGS,
  unknownSettings,
} from '../../src/app/unknown-env.js';

/** Every variable name `loadConfig` looks up, whether set or not. */
function namesRead(env: Record<string, string>, argv: string[] = []): Set<string> {
  const read = new Set<string>();
  const spy = new Proxy(env, {
    get(target, name) {
      if (typeof name === 'string') read.add(name);
      return target[name as string];
    },
  });
  loadConfig(spy, argv);
  return read;
}

describe('unknown perp-pulse-looking variables', () => {
  it('KNOWN_SETTINGS holds every variable loadConfig reads, in every mode', () => {
    const read = new Set([
      ...namesRead({}),
      ...namesRead({
        TELEGRAM_BOT_TOKEN: '123456:abcdefghijklmnopqrstuvwxyz',
        BOT_MODE: 'webhook',
        WEBHOOK_URL: 'https://example.com/hook',
        WEBHOOK_SECRET: 's3cret',
        HTTP_PORT: '8080',
        ROLE: 'bot',
        REDIS_URL: 'redis://127.0.0.1:6379',
      }),
      ...namesRead({}, ['--replay', 'f', '--speed', 'max']),
    ]);
    expect(read.size).toBeGreaterThan(20);
    expect([...read].filter((n) => !KNOWN_SETTINGS.includes(n))).toEqual([]);
  });

  it('reports nothing for a clean environment, our own settings, or what Docker and Redis set', () => {
    expect(unknownSettings({ PATH: '/usr/bin', HOME: '/root', NODE_OPTIONS: '--x' })).toEqual([]);
    expect(unknownSettings(Object.fromEntries(KNOWN_SETTINGS.map((n) => [n, '1'])))).toEqual([]);
    const foreign = {
      REDIS_PASSWORD: 'x',
      REDIS_VERSION: '7.2.4',
      REDIS_DOWNLOAD_URL: 'http://download.redis.io/x.tar.gz',
      REDIS_DOWNLOAD_SHA: 'abc',
      REDIS_HOST: 'redis',
      REDIS_PORT: 'tcp://10.0.0.3:6379',
      REDIS_SERVICE_HOST: '10.0.0.3',
      REDIS_SERVICE_PORT: '6379',
      REDIS_PORT_6379_TCP: 'tcp://10.0.0.3:6379',
      REDIS_PORT_6379_TCP_ADDR: '10.0.0.3',
      BOT_SERVICE_HOST: '10.0.0.4',
      BOT_PORT: 'tcp://10.0.0.4:8080',
      REDIS_NAME: '/app/redis',
      REDIS_ENV_REDIS_VERSION: '7',
      HTTP_PROXY: 'http://proxy:3128',
      http_proxy: 'http://proxy:3128',
      PULSE_TAG: '1.4.0',
      BINANCE_API_KEY: 'k',
      BINANCE_API_SECRET: 's',
      OKX_PASSPHRASE: 'p',
    };
    expect(unknownSettings(foreign)).toEqual([]);
  });

  it('lists look-alikes with the setting each most likely meant, never their values', () => {
    const unknown = unknownSettings({
      ALERT_KIND: 'all',
      redis_url: 'redis://x',
      TELEGRAM_TOKEN: '123:secret-value',
      TELEGRAM_BOT_TOKEN_FILE: '/run/secrets/token',
      TELEGRAM_CHAT_ID: '42',
      PATH: '/usr/bin',
    });
    expect(unknown).toEqual([
      { name: 'ALERT_KIND', didYouMean: 'ALERT_KINDS' },
      { name: 'TELEGRAM_BOT_TOKEN_FILE', didYouMean: 'TELEGRAM_BOT_TOKEN' },
      { name: 'TELEGRAM_CHAT_ID', didYouMean: null },
      { name: 'TELEGRAM_TOKEN', didYouMean: 'TELEGRAM_BOT_TOKEN' },
      { name: 'redis_url', didYouMean: 'REDIS_URL' },
    ]);
    const line = describeUnknown(unknown);
    expect(line).toContain('ALERT_KIND (did you mean ALERT_KINDS?)');
    expect(line).not.toContain('secret-value');
    expect(closestSetting('OI_ALERT_PCT_15')).toBe('OI_ALERT_PCT_15M');
    expect(closestSetting('SHARDS')).toBe('SHARD');
  });

  it('keeps the line short when many are set', () => {
    const many = unknownSettings(
      Object.fromEntries(Array.from({ length: 30 }, (_, i) => [`ALERT_X${i}`, '1'])),
    );
    expect(describeUnknown(many)).toMatch(/ and 10 more$/);
  });
});
