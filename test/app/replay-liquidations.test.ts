import { mkdtempSync } from 'node:fs';
import { writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Redis } from 'ioredis';
import { pino } from 'pino';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startApp } from '../../src/app/app.js';
import { loadConfig } from '../../src/app/config.js';
import type { AlertJson, LiquidationWindowJson, SnapshotJson } from '../../src/domain/types.js';
import { generateLiquidationRecording, LIQ_VENUES, type SideSums } from '../support/liq-recording.js';
import { flushTestDb, testRedisUrl } from '../support/redis.js';

/**
 * A 25-hour recording with a long flush and a short squeeze goes through the real parsers and the
 * pipeline (`--replay`): the final snapshots' liquidation sums, forced share and long/short
 * statistics are the recording's own numbers, and `liquidation_cascade` fires once per cascade and
 * side, never for the bursts under a threshold.
 */
const url = testRedisUrl(33);
const logger = pino({ level: 'silent' });
const symbols = ['BTC', 'ETH', 'SOL', 'ARB'];
const rec = generateLiquidationRecording({
  symbols,
  startTs: Date.UTC(2026, 9, 1),
  hours: 25,
  stepMs: 60_000,
});
const path = join(mkdtempSync(join(tmpdir(), 'pulse-replay-liq-')), 'day.ndjson');
let redis: Redis;
let alerts: AlertJson[] = [];

const snapshot = async (venue: string, symbol: string): Promise<SnapshotJson> => {
  const raw = await redis.get(`pulse:latest:${venue}:${symbol}`);
  expect(raw, `no snapshot for ${venue} ${symbol}`).not.toBeNull();
  return JSON.parse(raw!) as SnapshotJson;
};

/**
 * Within a part in 10^7: the windows keep closed buckets as float32 (6e-8 relative each), while
 * any wrong order, side or unit is off by a whole order's size or more.
 */
const near = (got: number, want: number, label: string) =>
  expect(Math.abs(got - want), `${label}: ${got} vs ${want}`).toBeLessThanOrEqual(
    1e-7 * Math.abs(want) + 1e-9,
  );

const expectSums = (got: LiquidationWindowJson, want: SideSums, label: string) => {
  expect(got.count, `${label} count`).toBe(want.count);
  near(got.longUsd, want.longUsd, `${label} longUsd`);
  near(got.shortUsd, want.shortUsd, `${label} shortUsd`);
  near(got.longBase, want.longBase, `${label} longBase`);
  near(got.shortBase, want.shortBase, `${label} shortBase`);
  expect(got.partial, `${label} partial`).toBe(false);
};

beforeAll(async () => {
  await writeFile(path, `${rec.lines.join('\n')}\n`);
  await flushTestDb(url);
  redis = new Redis(url);
  const app = await startApp(
    loadConfig({ REDIS_URL: url, STALE_AFTER_MS: '90000' }, ['--replay', path, '--speed', 'max']),
    logger,
  );
  await app.done;
  await app.close();
  const entries = await redis.xrange('pulse:alerts', '-', '+');
  alerts = entries
    .map(([, fields]) => JSON.parse(fields[fields.indexOf('json') + 1]!) as AlertJson)
    .filter((a) => a.kind === 'liquidation_cascade');
}, 240_000);

afterAll(async () => {
  await flushTestDb(url);
  redis.disconnect();
});

describe('replay of a 25-hour recording with liquidations and long/short statistics', () => {
  it.each(LIQ_VENUES)('%s: liquidation sums and long/short match the frames', async (venue) => {
    for (const symbol of symbols) {
      const label = `${venue} ${symbol}`;
      const want = rec.liq[venue][symbol]!;
      const snap = await snapshot(venue, symbol);
      expect(snap.liquidations, `${label} liquidations`).toBeTruthy();
      const liq = snap.liquidations!;
      expect(liq.coverage, label).toBe(venue === 'bybit' ? 'complete' : 'sampled');
      expectSums(liq['15m'], want['15m'], `${label} 15m`);
      expectSums(liq['24h'], want['24h'], `${label} 24h`);

      // Forced share: the base liquidated over the size of the OI decrease, only when OI fell.
      const oi = rec.expected[venue][symbol]!;
      for (const [key, window] of [
        ['delta15m', '15m'],
        ['delta24h', '24h'],
      ] as const) {
        // OI fell beyond the control dead band (0.5% in 15m, 2% in 24h): below it, no share.
        const fell = oi[key].base < 0 && -oi[key].pct >= (window === '15m' ? 0.5 : 2);
        const sums = want[window];
        const share = liq[window].oiShare;
        if (!fell) expect(share, `${label} ${window} oiShare`).toBeNull();
        else
          near(
            share ?? Number.NaN,
            (sums.longBase + sums.shortBase) / -oi[key].base,
            `${label} ${window} oiShare`,
          );
      }

      expect(snap.longShort, `${label} longShort`).toBeTruthy();
      expect(snap.longShort!.ts, `${label} longShort.ts`).toBe(want.longShort.ts);
      expect(snap.longShort!.accountsLongPct, `${label} accountsLongPct`).toBeCloseTo(
        want.longShort.accountsLongPct,
        9,
      );
      if (want.longShort.topTradersLongPct === null)
        expect(snap.longShort!.topTradersLongPct, label).toBeNull();
      else expect(snap.longShort!.topTradersLongPct, label).toBeCloseTo(want.longShort.topTradersLongPct, 9);
    }
  });

  it('the recording holds what it claims: OI falls where a forced share is expected', () => {
    // Bybit BTC: 15m OI down during the squeeze; Bybit ETH and OKX BTC: 24h OI down.
    expect(rec.expected.bybit.BTC!.delta15m.base).toBeLessThan(0);
    expect(rec.expected.bybit.ETH!.delta24h.base).toBeLessThan(0);
    expect(rec.expected.okx.BTC!.delta24h.base).toBeLessThan(0);
    expect(rec.liq.bybit.BTC!['15m'].shortUsd).toBeGreaterThan(1_000_000);
    expect(rec.liq.bybit.ETH!['15m'].longUsd).toBeLessThan(100_000);
    expect(rec.liq.bybit.ETH!['24h'].longUsd).toBeGreaterThan(1_000_000);
  });

  it('Hyperliquid: no liquidation figures, with the reason, never zeros', async () => {
    for (const symbol of symbols) {
      const snap = await snapshot('hyperliquid', symbol);
      expect(snap.liquidations).toBeNull();
      expect(snap.unavailable?.liquidations).toMatch(/no market-wide liquidation feed/);
      expect(snap.longShort).toBeNull();
      expect(snap.unavailable?.longShort).toBeTruthy();
    }
  });

  it('the aggregate sums the venues with a feed and lists the one it lacks', async () => {
    for (const symbol of symbols) {
      const snap = await snapshot('all', symbol);
      const liq = snap.liquidations!;
      expect(liq.coverage).toBe('sampled');
      expect(liq.missingVenues).toEqual(['hyperliquid']);
      for (const window of ['15m', '24h'] as const) {
        const sum = (k: keyof SideSums) => LIQ_VENUES.reduce((n, v) => n + rec.liq[v][symbol]![window][k], 0);
        expect(liq[window].count, `${symbol} ${window}`).toBe(sum('count'));
        near(liq[window].longUsd, sum('longUsd'), `${symbol} ${window} longUsd`);
        near(liq[window].shortUsd, sum('shortUsd'), `${symbol} ${window} shortUsd`);
      }
    }
  });

  it('liquidation_cascade fires once per cascade and side, and not for sub-threshold bursts', () => {
    const fired = alerts
      .filter((a) => a.forThreshold === undefined)
      .map((a) => `${a.venue}:${a.symbol}:${a.figures?.side}:${a.direction}`)
      .sort();
    expect(fired, JSON.stringify(alerts.map((a) => [a.id, a.figures]))).toEqual(
      [
        ...LIQ_VENUES.map((v) => `${v}:BTC:shorts:up`),
        'all:BTC:shorts:up',
        ...LIQ_VENUES.map((v) => `${v}:ETH:longs:down`),
        'all:ETH:longs:down',
      ].sort(),
    );
    for (const a of alerts) {
      expect(a.figures?.pctOfOi, a.id).toBeGreaterThanOrEqual(0.5);
      expect(Math.max(Number(a.figures?.longUsd), Number(a.figures?.shortUsd)), a.id).toBeGreaterThanOrEqual(
        1_000_000,
      );
    }
  });
});
