import { spawn } from 'node:child_process';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Redis } from 'ioredis';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { AlertJson } from '../../src/domain/types.js';
import { ensureBuilt, MAIN } from '../support/program.js';
import { generateRecording, writeRecording } from '../support/recording.js';
import { testRedisUrl, uniqueSymbol } from '../support/redis.js';

/** The built program, run as a child process the way `npm start` runs it. */
// Shared with test/bus/redis-bus-idempotency.test.ts: neither flushes it; this file's symbols are
// its own, and it removes what it wrote.
const url = testRedisUrl(19);
const symbols = [uniqueSymbol('RPA'), uniqueSymbol('RPB'), uniqueSymbol('RPC')];
let redis: Redis;

function replay(path: string): Promise<{ code: number | null; stderr: string }> {
  return new Promise((resolve) => {
    const child = spawn(process.execPath, [MAIN, '--replay', path, '--speed', 'max'], {
      env: { PATH: process.env.PATH ?? '', LOG_LEVEL: 'warn', REDIS_URL: url },
      stdio: ['ignore', 'ignore', 'pipe'],
    });
    let stderr = '';
    child.stderr.on('data', (d) => {
      stderr += d;
    });
    const timer = setTimeout(() => child.kill('SIGKILL'), 60_000);
    child.on('close', (code) => {
      clearTimeout(timer);
      resolve({ code, stderr });
    });
  });
}

async function myAlerts(): Promise<[string, AlertJson][]> {
  const entries = await redis.xrange('pulse:alerts', '-', '+');
  return entries
    .map(([entryId, f]): [string, AlertJson] => [entryId, JSON.parse(f[f.indexOf('json') + 1]!) as AlertJson])
    .filter(([, a]) => symbols.includes(a.symbol));
}

beforeAll(() => {
  ensureBuilt();
  redis = new Redis(url);
});

afterAll(async () => {
  const mine = await myAlerts();
  if (mine.length > 0) {
    await redis.xdel('pulse:alerts', ...mine.map(([entryId]) => entryId));
    await redis.del(...mine.map(([, a]) => `pulse:alert-id:${a.id}`));
  }
  await redis.del(...symbols.flatMap((s) => [`pulse:latest:bybit:${s}`, `pulse:latest:all:${s}`]));
  redis.disconnect();
});

describe('replaying the same recording twice into the same Redis', () => {
  it('leaves each alert id once in pulse:alerts', async () => {
    const rec = generateRecording({ symbols, startTs: Date.UTC(2026, 6, 1), hours: 25, stepMs: 20_000 });
    const path = join(mkdtempSync(join(tmpdir(), 'pulse-idem-')), 'rec.ndjson');
    await writeRecording(path, rec.lines);

    const first = await replay(path);
    expect(first.stderr).toBe('');
    expect(first.code).toBe(0);
    const once = (await myAlerts()).map(([, a]) => a.id);
    // the first symbol moves +4% in 15m at the end: the recording fires alerts
    expect(once.length).toBeGreaterThan(0);
    expect(new Set(once).size).toBe(once.length);

    const second = await replay(path);
    expect(second.stderr).toBe('');
    expect(second.code).toBe(0);
    expect((await myAlerts()).map(([, a]) => a.id)).toEqual(once);
  });
});
