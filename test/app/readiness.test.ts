import { type ChildProcess, spawn } from 'node:child_process';
import net from 'node:net';
import { pino } from 'pino';
import { afterAll, afterEach, beforeAll, describe, expect, it, vi } from 'vitest';
import { firstPublishCheck, readiness } from '../../src/app/readiness.js';
import type { VenueRuntime } from '../../src/app/venue-runtime.js';
import { createTelegramBot, type TelegramBot } from '../../src/bot/bot.js';
import { TelegramLiveness, type TelegramReadiness } from '../../src/bot/telegram-liveness.js';
import { MemorySubscriptionStore } from '../../src/bus/subscription-store.js';
import { type BybitSimulator, startBybitSimulator } from '../../src/streams/sim/bybit-sim.js';
import { ensureBuilt, MAIN } from '../support/program.js';
import { flushTestDb, testRedisUrl } from '../support/redis.js';
import { startTelegramStandIn, type TelegramStandIn } from '../support/telegram-stand-in.js';

const url = testRedisUrl(23);
const TOKEN = '123456:READY-token-for-readiness-tests';

function freePort(): Promise<number> {
  return new Promise((resolve) => {
    const s = net.createServer().listen(0, '127.0.0.1', () => {
      const p = (s.address() as net.AddressInfo).port;
      s.close(() => resolve(p));
    });
  });
}

interface ReadyBody {
  ok: boolean;
  reasons: string[];
  checks: {
    redis: { ok: boolean };
    venues: Record<string, { ok: boolean }>;
    telegram?: TelegramReadiness;
    publish?: { ok: boolean; snapshotsPublished: number; reason?: string };
  };
}

async function readyz(port: number): Promise<{ status: number; body: ReadyBody }> {
  const res = await fetch(`http://127.0.0.1:${port}/readyz`);
  return { status: res.status, body: (await res.json()) as ReadyBody };
}

/** The built program as a child process; stderr kept for the failure message. */
function startProgram(env: Record<string, string>): { child: ChildProcess; stderr: () => string } {
  const child = spawn(process.execPath, [MAIN], {
    env: { PATH: process.env.PATH ?? '', LOG_LEVEL: 'warn', REDIS_URL: url, ...env },
    stdio: ['ignore', 'ignore', 'pipe'],
  });
  let stderr = '';
  child.stderr?.on('data', (d) => {
    stderr += d;
  });
  return { child, stderr: () => stderr };
}

async function stop(child: ChildProcess | undefined): Promise<void> {
  if (!child || child.exitCode !== null || child.signalCode !== null) return;
  const exited = new Promise((resolve) => child.once('exit', resolve));
  child.kill('SIGTERM');
  await exited;
}

const fakeVenue = (venue: string, lastDataAt: number | null, isOpen = true) =>
  ({ venue, connections: () => [{ isOpen, lastDataAt }] }) as unknown as VenueRuntime;

describe('readiness, from the state of each part', () => {
  it('is not ready before the first publish even when Redis and every venue are fine, and says so', () => {
    const now = 1_000_000;
    const inputs = {
      redis: { kind: 'redis' as const, connected: true },
      venues: [fakeVenue('bybit', now - 100)],
      staleAfterMs: 30_000,
    };
    const before = readiness({ ...inputs, checks: { publish: () => firstPublishCheck(0) } }, now);
    expect(before.ok).toBe(false);
    expect(before.reasons).toEqual(['publish: no snapshot published yet']);
    expect(before.checks.venues.bybit?.ok).toBe(true);
    const after = readiness({ ...inputs, checks: { publish: () => firstPublishCheck(3) } }, now);
    expect(after).toMatchObject({ ok: true, reasons: [], checks: { publish: { snapshotsPublished: 3 } } });
  });

  it('names every failing check with its reason', () => {
    const now = 1_000_000;
    const r = readiness(
      {
        redis: { kind: 'redis', connected: false },
        venues: [fakeVenue('bybit', now - 5000), fakeVenue('okx', null, false)],
        staleAfterMs: 1000,
        checks: { telegram: () => ({ ok: false, reason: 'the Bot API has not answered yet' }) },
      },
      now,
    );
    expect(r.ok).toBe(false);
    expect(r.reasons).toEqual([
      'redis: Redis is not connected',
      'venues.bybit: no market data for 5000 ms (bound 1000 ms)',
      'venues.okx: 1 of 1 connections not open',
      'telegram: the Bot API has not answered yet',
    ]);
  });
});

describe('Telegram liveness', () => {
  it('counts answers a working Bot API gives, within its bound only', () => {
    let now = 0;
    const l = new TelegramLiveness(() => now, 120_000);
    expect(l.readiness('polling', 'polling')).toMatchObject({ ok: false, lastAnswerAgeMs: null });
    l.failed(new Error('request to http://x/bot123:SECRET/getMe failed'), 'getMe');
    expect(l.readiness('polling', 'polling').lastError).toBe(
      'getMe: request to http://x/bot<redacted>/getMe failed',
    );
    // A wrong token (401) or a wrong API root (404) is not Telegram answering this bot.
    l.answered({ ok: false, error_code: 404, description: 'Not Found' }, 'getMe');
    l.answered({ ok: false, error_code: 401, description: 'Unauthorized' }, 'getMe');
    expect(l.ageMs()).toBeNull();
    // A chat that blocked the bot is an answer from a working Bot API.
    l.answered({ ok: false, error_code: 403, description: 'Forbidden: bot was blocked by the user' }, 'send');
    expect(l.readiness('polling', 'polling')).toMatchObject({ ok: true, lastAnswerAgeMs: 0 });
    now = 120_000;
    expect(l.readiness('polling', 'polling').ok).toBe(true);
    now = 120_001;
    expect(l.readiness('polling', 'polling')).toMatchObject({
      ok: false,
      reason: 'the Bot API has not answered for 120 s (bound 120 s)',
    });
    l.updateArrived();
    expect(l.readiness('webhook', 'webhook').ok).toBe(true);
    expect(l.readiness('polling', 'conflict')).toMatchObject({
      ok: false,
      reason: expect.stringContaining('409'),
    });
  });

  it('in webhook mode, is not ready while Telegram fails to deliver to the webhook, nor once it is not ours', () => {
    let now = 1_000_000_000;
    const l = new TelegramLiveness(() => now, 120_000);
    const hook = 'https://bot.example.test/secret-path';
    l.answered({ ok: true }, 'getWebhookInfo');
    const failing = {
      url: hook,
      last_error_date: now / 1000 - 30,
      last_error_message: 'Wrong response from the webhook: 404 Not Found',
    };
    expect(l.webhookInfo(failing, hook)).toMatch(/404 Not Found/);
    // Logged once: the same problem again is not new.
    expect(l.webhookInfo(failing, hook)).toBeUndefined();
    expect(l.readiness('webhook', 'webhook')).toMatchObject({
      ok: false,
      reason:
        'Telegram could not deliver to the webhook 30 s ago: Wrong response from the webhook: 404 Not Found',
    });
    // An update that arrives proves delivery works again.
    l.updateArrived();
    expect(l.readiness('webhook', 'webhook').ok).toBe(true);
    // An old delivery error is history.
    now += 200_000;
    l.answered({ ok: true }, 'getWebhookInfo');
    l.webhookInfo(failing, hook);
    expect(l.readiness('webhook', 'webhook').ok).toBe(true);
    l.webhookInfo({ url: 'https://other.example.test/elsewhere' }, hook);
    const replaced = l.readiness('webhook', 'webhook');
    expect(replaced.reason).toMatch(/\(https:\/\/other\.example\.test\) is not WEBHOOK_URL/);
    // The path may hold a secret: only the origin is shown.
    expect(replaced.reason).not.toContain('elsewhere');
  });
});

describe('a webhook bot with no traffic', () => {
  let tg: TelegramStandIn | undefined;
  let telegram: TelegramBot | undefined;
  afterEach(async () => {
    await telegram?.close();
    await tg?.close();
  });

  it('probes the Bot API to stay ready, and turns unready when it stops answering', async () => {
    tg = await startTelegramStandIn(TOKEN);
    const bus = {
      latest: async () => null,
      trackedSymbols: async () => [],
      latestMany: async () => [],
      feedStatus: async () => [],
    };
    telegram = createTelegramBot({
      token: tg.token,
      apiRoot: tg.apiRoot,
      bus,
      subscriptions: new MemorySubscriptionStore(),
      venues: ['bybit'],
      logger: pino({ level: 'silent' }),
      webhook: { url: 'https://bot.example.test/hook', secret: 'readiness_secret' },
      livenessProbeMs: 100,
      answeredWithinMs: 1000,
    });
    await telegram.start();
    expect(telegram.readiness()).toMatchObject({ ok: true, mode: 'webhook', state: 'webhook' });
    await vi.waitFor(() => expect(tg!.calls('getWebhookInfo').length).toBeGreaterThanOrEqual(2), {
      timeout: 10_000,
    });
    expect(telegram.readiness().ok).toBe(true);
    // Another deployment polling with the same token deletes the webhook: no update reaches us.
    await fetch(`${tg.apiRoot}/bot${tg.token}/deleteWebhook`, { method: 'POST' });
    await vi.waitFor(() => expect(telegram!.readiness().ok).toBe(false), { timeout: 10_000 });
    expect(telegram.readiness().reason).toMatch(/^no webhook is set at Telegram/);
    await fetch(`${tg.apiRoot}/bot${tg.token}/setWebhook`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ url: 'https://bot.example.test/hook', secret_token: 'readiness_secret' }),
    });
    await vi.waitFor(() => expect(telegram!.readiness().ok).toBe(true), { timeout: 10_000 });
    await tg.close();
    await vi.waitFor(() => expect(telegram!.readiness().ok).toBe(false), { timeout: 10_000 });
    expect(telegram.readiness()).toMatchObject({
      state: 'webhook',
      reason: expect.stringMatching(/has not answered for/),
      lastError: expect.stringMatching(/^getWebhookInfo: /),
    });
  });
});

describe('/readyz of the running program, per role', () => {
  let program: ReturnType<typeof startProgram> | undefined;
  let tg: TelegramStandIn | undefined;
  let sim: BybitSimulator | undefined;

  beforeAll(async () => {
    ensureBuilt();
    await flushTestDb(url);
  });
  afterEach(async () => {
    await stop(program?.child);
    program = undefined;
    await tg?.close();
    tg = undefined;
    await sim?.close();
    sim = undefined;
  });
  afterAll(async () => {
    await flushTestDb(url);
  });

  it('ROLE=bot: 503 while the Bot API is unreachable, saying why; 200 once it answers', async () => {
    const apiPort = await freePort();
    const httpPort = await freePort();
    program = startProgram({
      ROLE: 'bot',
      TELEGRAM_BOT_TOKEN: TOKEN,
      TELEGRAM_API_ROOT: `http://127.0.0.1:${apiPort}`,
      HTTP_PORT: String(httpPort),
    });
    const down = await vi.waitFor(
      async () => {
        const r = await readyz(httpPort);
        // Redis answers: the only thing missing is Telegram.
        expect(r.body.checks.redis.ok).toBe(true);
        expect(r.body.checks.telegram?.lastError).toBeDefined();
        return r;
      },
      { timeout: 15_000, interval: 200 },
    );
    expect(down.status).toBe(503);
    expect(down.body.ok).toBe(false);
    expect(down.body.checks.telegram).toMatchObject({ ok: false, mode: 'polling', lastAnswerAgeMs: null });
    expect(down.body.reasons).toEqual([expect.stringMatching(/^telegram: /)]);
    // The token never reaches the body (its error messages hold the request URL).
    expect(JSON.stringify(down.body)).not.toContain(TOKEN.split(':')[1]);

    tg = await startTelegramStandIn(TOKEN, apiPort);
    const up = await vi.waitFor(
      async () => {
        const r = await readyz(httpPort);
        expect(r.status, JSON.stringify(r.body)).toBe(200);
        return r;
      },
      { timeout: 30_000, interval: 200 },
    );
    expect(up.body).toMatchObject({
      ok: true,
      reasons: [],
      checks: { redis: { ok: true }, telegram: { ok: true, state: 'polling' } },
    });
    expect(up.body.checks.publish).toBeUndefined();
    expect(tg.calls('getUpdates').length).toBeGreaterThan(0);
  }, 60_000);

  it('ROLE=processor: 503 before the first publish, saying why; 200 once snapshots reached Redis', async () => {
    sim = await startBybitSimulator({ tickMs: 50 });
    // The venue accepts the connection but sends nothing yet: nothing can be published.
    sim.setSilent(true);
    const httpPort = await freePort();
    program = startProgram({
      ROLE: 'processor',
      VENUES: 'bybit',
      SYMBOLS: 'BTC',
      BYBIT_WS_URL: sim.wsUrl,
      BYBIT_REST_URL: sim.restUrl,
      HTTP_PORT: String(httpPort),
      BACKFILL: 'false',
    });
    const before = await vi.waitFor(() => readyz(httpPort), { timeout: 15_000, interval: 200 });
    expect(before.status).toBe(503);
    expect(before.body.checks.publish).toEqual({
      ok: false,
      snapshotsPublished: 0,
      reason: 'no snapshot published yet',
    });
    expect(before.body.reasons).toContain('publish: no snapshot published yet');
    expect(before.body.checks.telegram).toBeUndefined();

    sim.setSilent(false);
    const after = await vi.waitFor(
      async () => {
        const r = await readyz(httpPort);
        expect(r.status, `${JSON.stringify(r.body)}\n${program?.stderr()}`).toBe(200);
        return r;
      },
      { timeout: 30_000, interval: 200 },
    );
    expect(after.body.checks.publish?.ok).toBe(true);
    expect(after.body.checks.publish?.snapshotsPublished).toBeGreaterThan(0);
    expect(after.body.checks.venues.bybit?.ok).toBe(true);
  }, 60_000);
});
