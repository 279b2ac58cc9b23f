import { type ChildProcess, spawn } from 'node:child_process';
import net from 'node:net';
import { Redis } from 'ioredis';
import { afterAll, describe, expect, it, vi } from 'vitest';
import type { BybitSimulator } from '../../src/streams/sim/bybit-sim.js';
import { ensureBuilt, MAIN } from '../support/program.js';
import { startScriptedBybit } from '../support/scripted-bybit.js';

/**
 * The built processor against a Redis server of its own that is killed and restarted while
 * alerts fire: no alert may be lost. Then SIGTERM: exit 0 with every alert in the stream.
 */
const procs: ChildProcess[] = [];
let sim: BybitSimulator | undefined;

function freePort(): Promise<number> {
  return new Promise((resolve) => {
    const s = net.createServer().listen(0, '127.0.0.1', () => {
      const p = (s.address() as net.AddressInfo).port;
      s.close(() => resolve(p));
    });
  });
}

function startRedis(port: number): ChildProcess {
  const p = spawn(
    'redis-server',
    ['--port', String(port), '--bind', '127.0.0.1', '--save', '', '--appendonly', 'no'],
    {
      stdio: 'ignore',
    },
  );
  p.on('error', () => {});
  procs.push(p);
  return p;
}

afterAll(async () => {
  for (const p of procs) if (p.exitCode === null) p.kill('SIGKILL');
  await sim?.close();
});

describe('Redis restarted under a running processor', () => {
  it('loses no alert, and SIGTERM then exits 0', async () => {
    ensureBuilt();
    const port = await freePort();
    const url = `redis://127.0.0.1:${port}`;
    let redis = startRedis(port);
    // Three OI surges fire while Redis is down. They start 5 s of wall time in, so a program slow
    // to start on a busy machine still sees 15 minutes of event time before them.
    sim = await startScriptedBybit(
      ['BTC', 'ETH', 'SOL'].map((symbol, i) => ({
        symbol,
        atMin: 50 + i * 2,
        durationMin: 1,
        oiChangePct: 8,
        priceChangePct: 1,
      })),
    );
    let stdout = '';
    const app = spawn(process.execPath, [MAIN], {
      env: {
        PATH: process.env.PATH ?? '',
        REDIS_URL: url,
        VENUES: 'bybit',
        SYMBOLS: 'BTC,ETH,SOL',
        BYBIT_WS_URL: sim.wsUrl,
        BYBIT_REST_URL: sim.restUrl,
        LOG_LEVEL: 'info',
      },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    procs.push(app);
    app.stdout!.on('data', (d) => {
      stdout += d;
    });
    const exited = new Promise<number | null>((resolve) => app.on('exit', resolve));
    await vi.waitFor(() => expect(stdout, 'feed connected').toContain('"connected"'), {
      timeout: 10_000,
      interval: 50,
    });
    // Redis goes away before the surges (at 5.0 s, 5.2 s, 5.4 s of wall time) and is back after them
    redis.kill('SIGKILL');
    await vi.waitFor(
      () =>
        expect(
          (stdout.match(/"msg":"ALERT /g) ?? []).length,
          'three alerts fired while Redis was down',
        ).toBeGreaterThanOrEqual(3),
      { timeout: 15_000, interval: 50 },
    );
    // the alerts really fired while Redis was unreachable
    expect(stdout.indexOf('Redis unreachable')).toBeGreaterThan(-1);
    expect(stdout.indexOf('Redis unreachable')).toBeLessThan(stdout.indexOf('"msg":"ALERT '));
    redis = startRedis(port);
    const reader = new Redis(url, { retryStrategy: () => 100 });
    reader.on('error', () => {});
    try {
      await vi.waitFor(
        async () =>
          expect(
            await reader.xlen('pulse:alerts'),
            'held alerts written after the restart',
          ).toBeGreaterThanOrEqual(3),
        { timeout: 15_000, interval: 50 },
      );
      // The surges go on after Redis is back, so alerts may still be firing: every alert the
      // program logged must reach the stream, once.
      const streamIds = async () =>
        (await reader.xrange('pulse:alerts', '-', '+')).map(([, f]) => JSON.parse(f[1]!).id as string);
      await vi.waitFor(
        async () => {
          const fired = [...stdout.matchAll(/"alertId":"([^"]+)"/g)].map((m) => m[1]);
          expect(new Set(await streamIds()), 'every fired alert in the stream').toEqual(new Set(fired));
        },
        { timeout: 15_000, interval: 100 },
      );
      const ids = await streamIds();
      expect(ids.length).toBe(new Set(ids).size);
      const t0 = Date.now();
      app.kill('SIGTERM');
      expect(await exited).toBe(0);
      expect(Date.now() - t0).toBeLessThan(10_000);
    } finally {
      reader.disconnect();
    }
  }, 60_000);
});
