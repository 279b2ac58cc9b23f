import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Redis } from 'ioredis';
import { pino } from 'pino';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startApp } from '../../src/app/app.js';
import { loadConfig } from '../../src/app/config.js';
import type { AlertJson, RawFrame } from '../../src/domain/types.js';
import { writeRecording } from '../support/recording.js';
import { flushTestDb, testRedisUrl } from '../support/redis.js';
import { scenarioLines } from '../support/scenario.js';

const url = testRedisUrl(16);
const logger = pino({ level: 'silent' });
const SEC = 1_000;
const MIN = 60_000;
const T0 = Date.UTC(2026, 4, 1);
const dir = mkdtempSync(join(tmpdir(), 'pulse-replay-silence-'));
let redis: Redis;

// Flat for 40 minutes, then OI +6% at once: a 15m alert, if the 40 minutes were all seen.
const full = scenarioLines({
  symbols: {
    SIL: (ts) => ({
      oiBase: ts < T0 + 40 * MIN ? 1000 : 1060,
      markPrice: 100,
      fundingRate: 0.0001,
      fundingIntervalHours: 8,
    }),
  },
  startTs: T0,
  endTs: T0 + 70 * MIN,
  stepMs: 10 * SEC,
});
// The same recording with the venue silent from minute 30 to 40, and no gap line: the jump
// happened somewhere in 10 unseen minutes, so no one can say it happened "in 15 minutes".
const holed = full.filter((l) => {
  const t = (JSON.parse(l) as RawFrame).t;
  return t <= T0 + 30 * MIN + 3 || t >= T0 + 40 * MIN;
});

async function replay(lines: readonly string[], env: Record<string, string> = {}): Promise<AlertJson[]> {
  await flushTestDb(url);
  const path = join(dir, `r-${Math.random().toString(36).slice(2)}.ndjson`);
  await writeRecording(path, lines);
  const app = await startApp(
    loadConfig({ REDIS_URL: url, VENUES: 'bybit', ...env }, ['--replay', path, '--speed', 'max']),
    logger,
  );
  await app.done;
  await app.close();
  const entries = await redis.xrange('pulse:alerts', '-', '+');
  return entries.map(([, f]) => JSON.parse(f[f.indexOf('json') + 1]!) as AlertJson);
}

beforeAll(() => {
  redis = new Redis(url);
});

afterAll(async () => {
  await flushTestDb(url);
  redis.disconnect();
});

describe('a replay sees silence as live does', () => {
  it('fires nothing across a 10-minute hole without a gap line', async () => {
    expect(holed.length).toBeLessThan(full.length - 55);
    const alerts = await replay(holed);
    expect(alerts).toEqual([]);
  });

  it('fires with the hole filled, and with silence shorter than STALE_AFTER_MS', async () => {
    const filled = await replay(full);
    expect(filled.map((a) => a.kind)).toContain('oi_change_15m');
    // the same holed recording, replayed as if silence of up to an hour were normal
    const tolerant = await replay(holed, { STALE_AFTER_MS: String(3_600_000) });
    expect(tolerant.map((a) => a.kind)).toContain('oi_change_15m');
  });
});
