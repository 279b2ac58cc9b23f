import { type ChildProcess, spawn } from 'node:child_process';
import net from 'node:net';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { type BybitSimulator, startBybitSimulator } from '../../src/streams/sim/bybit-sim.js';
import { ensureBuilt, MAIN } from '../support/program.js';
import { flushTestDb, testRedisUrl } from '../support/redis.js';

/** The built program as a child process, against a Bybit simulator the test controls. */
const url = testRedisUrl(9);
let sim: BybitSimulator;
let child: ChildProcess;
let port: number;
let exited: Promise<number | null>;

function freePort(): Promise<number> {
  return new Promise((resolve) => {
    const s = net.createServer().listen(0, '127.0.0.1', () => {
      const p = (s.address() as net.AddressInfo).port;
      s.close(() => resolve(p));
    });
  });
}

async function get(path: string): Promise<{ status: number; text: string }> {
  const res = await fetch(`http://127.0.0.1:${port}${path}`);
  return { status: res.status, text: await res.text() };
}

beforeAll(async () => {
  ensureBuilt();
  await flushTestDb(url);
  sim = await startBybitSimulator({ tickMs: 50 });
  port = await freePort();
  child = spawn(process.execPath, [MAIN], {
    env: {
      PATH: process.env.PATH ?? '',
      REDIS_URL: url,
      VENUES: 'bybit',
      SYMBOLS: 'BTC,ETH',
      BYBIT_WS_URL: sim.wsUrl,
      BYBIT_REST_URL: sim.restUrl,
      HTTP_PORT: String(port),
      STALE_AFTER_MS: '1000',
      GIT_COMMIT: 'abc1234',
      LOG_LEVEL: 'warn',
    },
    stdio: ['ignore', 'ignore', 'pipe'],
  });
  exited = new Promise((resolve) => child.on('exit', (code) => resolve(code)));
});

afterAll(async () => {
  if (child.exitCode === null) child.kill('SIGKILL');
  await sim.close();
  await flushTestDb(url);
});

describe('operations endpoints of the running program', () => {
  it('reports ready only while the venue delivers data, and recovers', async () => {
    await vi.waitFor(async () => expect((await get('/readyz')).status, 'ready').toBe(200), {
      timeout: 10_000,
      interval: 100,
    });
    const ready = JSON.parse((await get('/readyz')).text);
    expect(ready).toMatchObject({
      ok: true,
      checks: { redis: { ok: true }, venues: { bybit: { ok: true } } },
    });
    sim.setSilent(true);
    await vi.waitFor(async () => expect((await get('/readyz')).status, 'not ready while silent').toBe(503), {
      timeout: 10_000,
      interval: 100,
    });
    const notReady = JSON.parse((await get('/readyz')).text);
    expect(notReady.checks.venues.bybit.ok).toBe(false);
    expect((await get('/healthz')).status).toBe(200);
    sim.setSilent(false);
    await vi.waitFor(async () => expect((await get('/readyz')).status, 'ready again').toBe(200), {
      timeout: 10_000,
      interval: 100,
    });
  }, 40_000);

  it('serves Prometheus text with the feed, pipeline and process metrics', async () => {
    const { status, text } = await get('/metrics');
    expect(status).toBe(200);
    const samples = new Map<string, number>();
    for (const line of text.split('\n')) {
      if (line === '' || line.startsWith('#')) {
        expect(line === '' || /^# (HELP|TYPE) [a-zA-Z_:][a-zA-Z0-9_:]* .+$/.test(line), line).toBe(true);
        continue;
      }
      const m = /^([a-zA-Z_:][a-zA-Z0-9_:]*)(\{[^}]*\})? (-?[0-9.e+-]+|NaN|\+Inf|-Inf)$/.exec(line);
      expect(m, line).not.toBeNull();
      samples.set(`${m![1]}${m![2] ?? ''}`, Number(m![3]));
    }
    expect(samples.get('perp_pulse_feed_frames_total{venue="bybit"}')).toBeGreaterThan(0);
    expect(samples.has('perp_pulse_feed_stale_timeouts_total{venue="bybit"}')).toBe(true);
    expect(samples.get('perp_pulse_feed_data_age_seconds{venue="bybit"}')).toBeLessThan(1);
    expect(samples.get('perp_pulse_snapshots_published_total')).toBeGreaterThan(0);
    expect(samples.get('perp_pulse_instruments')).toBe(2);
    // Bybit's account-ratio poller starts with the venue: its requests and failures are exported.
    expect(samples.get('perp_pulse_long_short_requests_total{venue="bybit"}')).toBeGreaterThan(0);
    expect(samples.get('perp_pulse_long_short_failures_total{venue="bybit"}')).toBe(0);
    expect(samples.has('perp_pulse_process_resident_memory_bytes')).toBe(true);
    expect([...samples.keys()].some((k) => k.startsWith('perp_pulse_nodejs_eventloop_lag'))).toBe(true);
    expect([...samples.keys()].some((k) => k.startsWith('perp_pulse_publish_latency_seconds_bucket'))).toBe(
      true,
    );
  });

  it('says which version runs, and stops on SIGTERM with code 0', async () => {
    const version = JSON.parse((await get('/version')).text);
    expect(version).toMatchObject({ commit: 'abc1234', role: 'all' });
    expect(version.version).toMatch(/^\d+\.\d+\.\d+/);
    const t0 = Date.now();
    child.kill('SIGTERM');
    expect(await exited).toBe(0);
    expect(Date.now() - t0).toBeLessThan(10_000);
  }, 15_000);
});
