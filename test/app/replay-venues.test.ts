import { mkdtempSync } from 'node:fs';
import { writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Redis } from 'ioredis';
import { pino } from 'pino';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startApp } from '../../src/app/app.js';
import { loadConfig } from '../../src/app/config.js';
import type { SnapshotJson, VenueId } from '../../src/domain/types.js';
import { flushTestDb, testRedisUrl } from '../support/redis.js';
import { generateVenueRecording } from '../support/venue-recording.js';

const url = testRedisUrl(8);
const logger = pino({ level: 'silent' });
const symbols = ['BTC', 'ETH', 'SOL'];
const venues: readonly VenueId[] = ['binance', 'bybit', 'okx', 'hyperliquid'];
const rec = generateVenueRecording({ symbols, startTs: Date.UTC(2026, 8, 1), hours: 25, stepMs: 60_000 });
const path = join(mkdtempSync(join(tmpdir(), 'pulse-replay-venues-')), 'day.ndjson');
let redis: Redis;

beforeAll(async () => {
  await writeFile(path, `${rec.lines.join('\n')}\n`);
  await flushTestDb(url);
  redis = new Redis(url);
  // One replay for every case below: VENUES defaults to all four. A frame a minute per venue would
  // be silence to the default 30 s stale bound (a replay flags it as live would): allow the step.
  const app = await startApp(
    loadConfig({ REDIS_URL: url, STALE_AFTER_MS: '90000' }, ['--replay', path, '--speed', 'max']),
    logger,
  );
  await app.done;
  await app.close();
});

afterAll(async () => {
  await flushTestDb(url);
  redis.disconnect();
});

describe('replay of a 25-hour recording of all four venues', () => {
  it.each(venues)(
    '%s: final snapshots hold the OI, funding and mark price worked out from the frames',
    async (venue) => {
      for (const symbol of symbols) {
        const label = `${venue} ${symbol}`;
        const want = rec.expected[venue][symbol]!;
        const raw = await redis.get(`pulse:latest:${venue}:${symbol}`);
        expect(raw, `${label}: no snapshot at pulse:latest:${venue}:${symbol}`).not.toBeNull();
        const snap = JSON.parse(raw!) as SnapshotJson;
        expect(snap, label).toMatchObject({ v: 1, venue, symbol, instrument: want.instrument, ts: want.ts });

        // Parsed straight from decimal strings: exact.
        expect(snap.oi.base, `${label} oi.base`).toBe(want.oiBase);
        expect(snap.price.mark, `${label} price.mark`).toBe(want.markPrice);
        expect(snap.funding.rate, `${label} funding.rate`).toBe(want.fundingRate);
        expect(snap.funding.intervalHours, `${label} funding.intervalHours`).toBe(want.fundingIntervalHours);
        expect(snap.funding.nextFundingTime, `${label} funding.nextFundingTime`).toBe(want.nextFundingTs);

        // Arithmetic on those values.
        expect(snap.oi.usd, `${label} oi.usd`).toBeCloseTo(want.oiUsd, 4);
        expect(snap.funding.hourly, `${label} funding.hourly`).toBeCloseTo(want.hourly, 15);
        expect(snap.funding.aprPct, `${label} funding.aprPct`).toBeCloseTo(want.aprPct, 9);
        for (const key of ['delta15m', 'delta24h'] as const) {
          const got = snap.oi[key];
          expect(got, `${label} ${key}`).not.toBeNull();
          expect(got!.base, `${label} ${key}.base`).toBeCloseTo(want[key].base, 6);
          expect(got!.usd, `${label} ${key}.usd`).toBeCloseTo(want[key].usd, 4);
          expect(got!.pct, `${label} ${key}.pct`).toBeCloseTo(want[key].pct, 9);
          expect(got!.gap ?? false, `${label} ${key}.gap`).toBe(false);
        }
      }
    },
  );

  it('the recording exercises what it claims: per-venue intervals, a negative rate, moving OI', () => {
    const intervals = venues.map((v) => symbols.map((s) => rec.expected[v][s]!.fundingIntervalHours));
    expect(intervals).toEqual([
      [8, 4, 8],
      [8, 8, 4],
      [4, 8, 8],
      [1, 1, 1],
    ]);
    expect(venues.some((v) => symbols.some((s) => rec.expected[v][s]!.fundingRate < 0))).toBe(true);
    for (const v of venues) {
      for (const s of symbols) {
        const want = rec.expected[v][s]!;
        expect(want.delta15m.base, `${v} ${s}`).not.toBe(0);
        expect(want.delta24h.base, `${v} ${s}`).not.toBe(0);
      }
    }
  });
});
