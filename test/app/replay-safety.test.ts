import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Redis } from 'ioredis';
import { pino } from 'pino';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { startApp } from '../../src/app/app.js';
import { loadConfig } from '../../src/app/config.js';
import { RedisBus } from '../../src/bus/redis-bus.js';
import { RedisSubscriptionStore } from '../../src/bus/subscription-store.js';
import type { AlertJson } from '../../src/domain/types.js';
import { ensureBuilt, type Run, runProgram } from '../support/program.js';
import { generateRecording, writeRecording } from '../support/recording.js';
import { flushTestDb, testRedisUrl } from '../support/redis.js';
import { startTelegramStandIn, type TelegramStandIn } from '../support/telegram-stand-in.js';

/** The built program as a child process: replays never reach subscribers, and its CLI is clean. */
const url = testRedisUrl(24);
const token = '123456:REPLAY-safety-token-abcdefghij';
const MIN = 60_000;
let redis: Redis;
let recordingPath: string;

/** The program with `args`; `whileRunning`, once done, stops it with SIGTERM. */
function run(
  args: string[],
  env: Record<string, string>,
  opts: { timeoutMs?: number; whileRunning?: (output: () => string) => Promise<void> } = {},
): Promise<Run> {
  const { whileRunning } = opts;
  return runProgram(args, env, {
    timeoutMs: opts.timeoutMs,
    whileRunning: whileRunning
      ? async (child, output) => {
          await whileRunning(output);
          child.kill('SIGTERM');
        }
      : undefined,
  });
}

const streamAlerts = async (): Promise<AlertJson[]> =>
  (await redis.xrange('pulse:alerts', '-', '+')).map(
    ([, f]) => JSON.parse(f[f.indexOf('json') + 1]!) as AlertJson,
  );

beforeAll(async () => {
  ensureBuilt();
  await flushTestDb(url);
  redis = new Redis(url);
  const rec = generateRecording({
    symbols: ['BTC', 'ETH'],
    startTs: Date.UTC(2026, 5, 1),
    hours: 25,
    stepMs: 20_000,
  });
  recordingPath = join(mkdtempSync(join(tmpdir(), 'pulse-replay-safety-')), 'rec.ndjson');
  await writeRecording(recordingPath, rec.lines);
});

afterAll(async () => {
  await flushTestDb(url);
  redis.disconnect();
});

describe('a replay into a Redis a bot reads', () => {
  it('is refused in one line with exit 2 and writes nothing; --force replays, marking every alert', async () => {
    await flushTestDb(url);
    await redis.xgroup('CREATE', 'pulse:alerts', 'perp-pulse-bot', '$', 'MKSTREAM');
    const env = { REDIS_URL: url, OI_ALERT_PCT_15M: '1' };

    const refused = await run(['--replay', recordingPath, '--speed', 'max'], env);
    expect(refused.code).toBe(2);
    const line = refused.stderr.trim();
    expect(line.split('\n')).toHaveLength(1);
    expect(line).toMatch(/^perp-pulse: refusing to replay into redis:\/\/.*perp-pulse-bot.*--force$/);
    expect(await redis.xlen('pulse:alerts')).toBe(0);
    expect(await redis.keys('pulse:latest:*')).toEqual([]);

    const forced = await run(['--replay', recordingPath, '--speed', 'max', '--force'], env);
    expect(forced.code, forced.stderr).toBe(0);
    expect(forced.stdout).toContain('--force: replaying into a Redis a bot reads');
    const alerts = await streamAlerts();
    expect(alerts.length).toBeGreaterThan(0);
    expect(alerts.every((a) => a.replay === true)).toBe(true);
  }, 60_000);

  it('goes ahead without --force where no bot reads, still marking its alerts', async () => {
    await flushTestDb(url);
    const res = await run(['--replay', recordingPath, '--speed', 'max'], {
      REDIS_URL: url,
      OI_ALERT_PCT_15M: '1',
    });
    expect(res.code, res.stderr).toBe(0);
    const alerts = await streamAlerts();
    expect(alerts.length).toBeGreaterThan(0);
    expect(alerts.every((a) => a.replay === true)).toBe(true);
  }, 60_000);
});

describe('ROLE=bot with alerts older than ALERT_MAX_AGE_MIN', () => {
  let telegram: TelegramStandIn;
  beforeAll(async () => {
    telegram = await startTelegramStandIn(token);
  });
  afterAll(async () => {
    await telegram.close();
  });

  const alert = (id: string, ts: number): AlertJson =>
    ({
      v: 1,
      id,
      kind: 'oi_change_15m',
      venue: 'bybit',
      symbol: 'BTC',
      ts,
      text: `BTC alert ${id}`,
      thresholdPct: 3,
      windowMs: 900_000,
      delta: { base: 100, usd: 1e6, pct: 4 },
      ...(id.startsWith('old') ? { replay: true } : {}),
      snapshot: {
        v: 1,
        venue: 'bybit',
        symbol: 'BTC',
        instrument: 'BTCUSDT',
        ts,
        price: { mark: 10_000 },
        oi: { base: 2600, usd: 2.6e7, delta15m: { base: 100, usd: 1e6, pct: 4 }, delta24h: null },
        funding: { rate: 0.0001, intervalHours: 8, hourly: 0.0000125, aprPct: 10.95, nextFundingTime: null },
      },
    }) as AlertJson;

  it('sends them to no chat, acknowledges and counts them, and still sends a fresh one', async () => {
    await flushTestDb(url);
    const logger = pino({ level: 'silent' });
    const store = new RedisSubscriptionStore(url);
    await store.add(2001, 'BTC');
    await store.close();
    const publisher = new RedisBus({ url, logger });
    await publisher.ready(5000);
    // Written before the bot starts, as a replay or an outage would leave them.
    await publisher.publishAlert(alert('old-1', Date.now() - 20 * MIN));
    await publisher.publishAlert(alert('old-2', Date.now() - 16 * MIN));
    await publisher.publishAlert(alert('fresh', Date.now() - 1 * MIN));
    await publisher.close();

    let metrics = '';
    const res = await run(
      [],
      {
        ROLE: 'bot',
        REDIS_URL: url,
        TELEGRAM_BOT_TOKEN: token,
        TELEGRAM_API_ROOT: telegram.apiRoot,
        BOT_CONSUMER: 'bot-age-test',
        ALERT_MAX_AGE_MIN: '15',
        HTTP_PORT: '0',
      },
      {
        whileRunning: async (output) => {
          await telegram.waitFor(() => telegram.sent(2001).length >= 1, 15_000);
          await vi.waitFor(
            async () => {
              const pending = (await redis.xpending('pulse:alerts', 'perp-pulse-bot')) as [number];
              expect(pending[0]).toBe(0);
            },
            { timeout: 10_000, interval: 50 },
          );
          const port = /"port":(\d+)[^\n]*HTTP health endpoints listening/.exec(output())?.[1];
          metrics = await (await fetch(`http://127.0.0.1:${port}/metrics`)).text();
        },
      },
    );
    expect(res.code, res.stderr).toBe(0);
    const sent = telegram.sent(2001);
    expect(sent).toHaveLength(1);
    // one alert alone, not the three merged into one message
    expect(String(sent[0]!.params.text)).not.toMatch(/\d alerts/);
    expect(metrics).toMatch(/^perp_pulse_alerts_expired_total 2$/m);
    expect(metrics).toMatch(/^perp_pulse_alerts_delivered_total 1$/m);
    const lines = res.stdout.split('\n').filter((l) => l.includes('older than ALERT_MAX_AGE_MIN'));
    // throttled: the first one logged at once, the rest summed into the line written at close
    expect(lines.length).toBeGreaterThanOrEqual(1);
    expect(lines.length).toBeLessThanOrEqual(2);
    expect(lines.map((l) => (JSON.parse(l) as { expired: number }).expired).reduce((a, b) => a + b)).toBe(2);
  }, 60_000);
});

describe('--demo with a bot', () => {
  it("delivers the demo's alerts: they are aged on the demo's accelerated clock", async () => {
    await flushTestDb(url);
    const telegram = await startTelegramStandIn(token);
    const store = new RedisSubscriptionStore(url);
    await store.add(3001, 'SOL');
    const config = loadConfig(
      { REDIS_URL: url, TELEGRAM_BOT_TOKEN: token, TELEGRAM_API_ROOT: telegram.apiRoot, VENUES: 'bybit' },
      ['--demo'],
    );
    const app = await startApp(config, pino({ level: 'silent' }));
    try {
      // the scripted SOL surge crosses 3% in 15m about 21 s after the start
      await telegram.waitFor(() => telegram.sent(3001).length >= 1, 45_000);
      expect(app.venues).toHaveLength(1);
    } finally {
      await app.close();
      await store.close();
      await telegram.close();
    }
    expect(String(telegram.sent(3001)[0]!.params.text)).toContain('SOL');
  }, 60_000);
});

describe('the command line', () => {
  it('--report: stdout is the report alone, the logs go to stderr', async () => {
    const res = await run(['--replay', recordingPath, '--speed', 'max', '--report'], { REDIS_URL: url });
    expect(res.code, res.stderr).toBe(0);
    const lines = res.stdout.trimEnd().split('\n');
    expect(lines[0]).toMatch(/^Alerts this recording would have produced/);
    expect(lines[1]).toMatch(/^rule\s+alerts\s+fires when$/);
    expect(lines.at(-1)).toMatch(/^total\s+\d+$/);
    expect(res.stdout).not.toContain('{');
    expect(res.stderr).toContain('"msg":"replay finished"');
  }, 60_000);

  it('--speed or --force without --replay is a usage error (exit 2) naming the flag, before anything starts', async () => {
    const speed = await run(['--speed', 'max'], {});
    expect(speed.code).toBe(2);
    expect(speed.stderr.trim()).toBe('perp-pulse: bad setting --speed: only works with --replay FILE');
    expect(speed.stdout).toBe('');
    const force = await run(['--demo', '--force'], {});
    expect(force.code).toBe(2);
    expect(force.stderr).toContain('--force');
  });

  it('warns once about variables that look like settings but are not, and says nothing for a clean environment', async () => {
    const args = ['--replay', recordingPath, '--speed', 'max', '--report'];
    const warning = 'not perp-pulse settings';
    const clean = await run(args, { REDIS_URL: url, REDIS_PASSWORD: 'x', PULSE_TAG: '1.2.0' });
    expect(clean.code).toBe(0);
    expect(clean.stderr).not.toContain(warning);

    const typos = await run(args, {
      REDIS_URL: url,
      ALERT_KIND: 'oi_change_15m',
      TELEGRAM_TOKEN: '123456:do-not-print-me',
      OI_ALERT_PCT: '2',
    });
    expect(typos.code).toBe(0);
    const lines = typos.stderr.split('\n').filter((l) => l.includes(warning));
    expect(lines).toHaveLength(1);
    expect(lines[0]).toContain('ALERT_KIND (did you mean ALERT_KINDS?)');
    expect(lines[0]).toContain('TELEGRAM_TOKEN (did you mean TELEGRAM_BOT_TOKEN?)');
    expect(lines[0]).toContain('OI_ALERT_PCT');
    expect(typos.stderr).not.toContain('do-not-print-me');
  }, 60_000);
});
