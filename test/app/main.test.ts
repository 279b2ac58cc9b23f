import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Redis } from 'ioredis';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import type { SnapshotJson } from '../../src/domain/types.js';
import { ensureBuilt, type RunOptions, runProgram } from '../support/program.js';
import { generateRecording, writeRecording } from '../support/recording.js';
import { flushTestDb, testRedisUrl } from '../support/redis.js';

/** The built program, run as a child process the way `npm start` runs it. */
const url = testRedisUrl(5);

function run(
  args: string[],
  env: Record<string, string>,
  timeoutMs = 20_000,
  whileRunning?: RunOptions['whileRunning'],
) {
  return runProgram(args, env, { timeoutMs, whileRunning });
}

beforeAll(async () => {
  ensureBuilt();
  await flushTestDb(url);
});

afterAll(async () => {
  await flushTestDb(url);
});

describe('the program', () => {
  it('stops start-up on a bad setting, naming the variable, with exit code 2', async () => {
    const res = await run([], { OI_ALERT_PCT_15M: 'lots' });
    expect(res.code).toBe(2);
    expect(res.stderr).toContain('OI_ALERT_PCT_15M');
    const flag = await run(['--speed', 'fast'], {});
    expect(flag.code).toBe(2);
    expect(flag.stderr).toContain('--speed');
  });

  it('--replay FILE --speed max publishes the final snapshots and exits 0; bad lines are skipped', async () => {
    const rec = generateRecording({
      symbols: ['BTC', 'ETH'],
      startTs: Date.UTC(2026, 5, 1),
      hours: 25,
      stepMs: 20_000,
    });
    const path = join(mkdtempSync(join(tmpdir(), 'pulse-main-')), 'rec.ndjson');
    await writeRecording(path, [
      ...rec.lines.slice(0, 100),
      'this is not a recording line',
      ...rec.lines.slice(100),
    ]);
    const res = await run(['--replay', path, '--speed', 'max'], { REDIS_URL: url });
    expect(res.stderr).toBe('');
    expect(res.code).toBe(0);
    const finished = res.stdout
      .split('\n')
      .filter(Boolean)
      .map((l) => JSON.parse(l))
      .find((l) => l.msg === 'replay finished');
    expect(finished).toMatchObject({ badLines: 1, parseErrors: 1 });
    const redis = new Redis(url);
    const snap = JSON.parse((await redis.get('pulse:latest:bybit:ETH'))!) as SnapshotJson;
    redis.disconnect();
    expect(snap.ts).toBe(rec.endTs);
    expect(snap.oi.delta24h!.pct).toBeCloseTo(rec.expected.ETH!.delta24h.pct, 9);
  });
});

describe('the program, running live against the simulator', () => {
  it('--demo --record FILE records frames in the documented format, stops on SIGTERM with 0, and replays', async () => {
    const path = join(mkdtempSync(join(tmpdir(), 'pulse-rec-')), 'live.ndjson');
    const res = await run(
      ['--demo', '--record', path],
      { REDIS_URL: url, SYMBOLS: 'BTC,ETH' },
      20_000,
      async (child, out) => {
        await vi.waitFor(() => expect(out(), 'connection').toContain('"connected"'), {
          timeout: 10_000,
          interval: 50,
        });
        await new Promise((r) => setTimeout(r, 1500));
        child.kill('SIGTERM');
      },
    );
    expect(res.code).toBe(0);
    const lines = readFileSync(path, 'utf8').trim().split('\n');
    expect(lines.length).toBeGreaterThan(5);
    const records = lines.map((l) => JSON.parse(l));
    for (const rec of records) {
      expect(typeof rec.t).toBe('number');
      expect(typeof rec.frame).toBe('string');
      // REST bodies (Binance open interest) say where they came from; WebSocket frames do not
      const keys = Object.keys(rec).sort();
      expect(keys).toEqual(rec.source ? ['frame', 'source', 't', 'venue'] : ['frame', 't', 'venue']);
    }
    expect(new Set(records.map((r) => r.venue))).toEqual(new Set(['binance', 'bybit', 'okx', 'hyperliquid']));
    expect(
      records.some((r) => r.venue === 'binance' && r.source?.startsWith('/fapi/v1/openInterest?symbol=')),
    ).toBe(true);
    expect(records.some((r) => r.venue === 'bybit' && JSON.parse(r.frame).type === 'snapshot')).toBe(true);
    const replay = await run(['--replay', path, '--speed', 'max'], { REDIS_URL: url });
    expect(replay.code).toBe(0);
  });

  it("--demo runs Hyperliquid on the simulators' accelerated clock: the aggregate counts it fresh", async () => {
    const redis = new Redis(url);
    const latest = async (venue: string) => {
      const raw = await redis.get(`pulse:latest:${venue}:BTC`);
      return raw ? (JSON.parse(raw) as SnapshotJson) : null;
    };
    let startTs = 0;
    const res = await run(['--demo'], { REDIS_URL: url, SYMBOLS: 'BTC' }, 30_000, async (child, out) => {
      await vi.waitFor(() => expect(out(), 'connection').toContain('"connected"'), {
        timeout: 10_000,
        interval: 50,
      });
      startTs = Date.now();
      // Stale after 180 s of event time, 3 s of wall time at 60x: on the receive clock Hyperliquid
      // would fall that far behind the venues that stamp their frames within 4 s.
      await vi.waitFor(
        async () => {
          const all = await latest('all');
          expect(all?.ts).toBeGreaterThan(startTs + 6 * 60_000);
          expect(all?.venues).toContain('hyperliquid');
        },
        { timeout: 20_000, interval: 200 },
      );
      child.kill('SIGTERM');
    });
    const [all, hl, bybit] = await Promise.all([latest('all'), latest('hyperliquid'), latest('bybit')]);
    redis.disconnect();
    expect(res.code).toBe(0);
    expect(all?.freshness?.staleVenues).toEqual([]);
    expect(all?.venues).toEqual(['binance', 'bybit', 'hyperliquid', 'okx']);
    expect(Math.abs(hl!.ts - bybit!.ts)).toBeLessThan(60_000);
    // funding is settled hourly on the same clock
    expect(hl!.funding.nextFundingTime! - hl!.ts).toBeGreaterThan(0);
    expect(hl!.funding.nextFundingTime! - hl!.ts).toBeLessThanOrEqual(3_600_000);
  }, 40_000);

  it('keeps running and retrying when REDIS_URL is set but unreachable', async () => {
    const res = await run(
      ['--demo'],
      { REDIS_URL: 'redis://127.0.0.1:1', SYMBOLS: 'BTC' },
      20_000,
      async (child, out) => {
        await vi.waitFor(
          () => {
            expect(out(), 'retry log').toContain('Redis unreachable');
            expect(out(), 'connection').toContain('"connected"');
          },
          { timeout: 10_000, interval: 50 },
        );
        await new Promise((r) => setTimeout(r, 1000));
        expect(child.exitCode).toBeNull();
        child.kill('SIGTERM');
      },
    );
    expect(res.code).toBe(0);
  });
});

describe('the program, failing clearly', () => {
  it('stops start-up naming --record when the file cannot be written', async () => {
    const res = await run(['--demo', '--record', '/nonexistent-dir/x.ndjson'], {
      REDIS_URL: url,
      SYMBOLS: 'BTC',
    });
    expect(res.code).toBe(2);
    expect(res.stderr).toContain('--record');
  });

  it('--replay exits non-zero when Redis cannot be reached, instead of publishing nothing', async () => {
    const path = join(mkdtempSync(join(tmpdir(), 'pulse-noredis-')), 'r.ndjson');
    await writeRecording(path, ['{"t":1,"venue":"bybit","frame":"{}"}']);
    const res = await run(['--replay', path], { REDIS_URL: 'redis://127.0.0.1:1' }, 30_000);
    expect(res.code).toBe(1);
    expect(res.stdout).toContain('not reachable');
  }, 30_000);
});
