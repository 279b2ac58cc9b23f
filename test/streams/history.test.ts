/**
 * REST open-interest history (warm start): the venues' documented bodies, each fetcher against its
 * simulator's real HTTP server on loopback, and `runBackfill` (budget, failures, abort).
 */
import { pino } from 'pino';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { choosePeriod, type OiHistoryHooks } from '../../src/streams/core/history.js';
import {
  BACKFILL_REQUESTS_PER_SEC,
  OiHistoryError,
  type OiHistoryPoint,
  oiHistoryFetcher,
  runBackfill,
} from '../../src/streams/history.js';
import { type BinanceSimulator, startBinanceSimulator } from '../../src/streams/sim/binance-sim.js';
import { binancePoint } from '../../src/streams/sim/binance-sim-rest.js';
import {
  type BybitSimulator,
  bybitTickerData,
  startBybitSimulator,
} from '../../src/streams/sim/bybit-sim.js';
import type { ScriptedEvent } from '../../src/streams/sim/market.js';
import { type OkxSimulator, startOkxSimulator } from '../../src/streams/sim/okx-sim.js';
import { okxPoint } from '../../src/streams/sim/okx-sim-rest.js';
import {
  BINANCE_OI_HISTORY_PERIODS,
  parseBinanceOiHistory,
} from '../../src/streams/venues/binance-history.js';
import { parseBybitMarkKlines, parseBybitOiPage } from '../../src/streams/venues/bybit-history.js';
import { parseOkxOiHistory } from '../../src/streams/venues/okx-history.js';

const MIN_MS = 60_000;
const HOUR_MS = 60 * MIN_MS;
const DAY_MS = 24 * HOUR_MS;
const START_TS = Date.UTC(2026, 8, 1, 12, 0, 0);
const FROM_TS = START_TS - DAY_MS;
/** SOL's OI rose 8% over ten minutes six hours before the simulators start. */
const SURGE: ScriptedEvent = {
  symbol: 'SOL',
  atTs: START_TS - 6 * HOUR_MS,
  durationMs: 10 * MIN_MS,
  oiChangePct: 8,
  priceChangePct: 2,
};
const SIM_OPTS = { startTs: START_TS, tickMs: 60_000, events: [SURGE] };

const silent = pino({ level: 'silent' });

/** Collects what a fetcher reports as skipped. */
function skipHooks(): OiHistoryHooks & { skipped: string[] } {
  const skipped: string[] = [];
  return { skipped, onSkipped: (d) => skipped.push(d) };
}

/** The most requests any one-second window holds. */
function maxPerSecond(wallMs: readonly number[]): number {
  const t = [...wallMs].sort((a, b) => a - b);
  let most = 0;
  for (let i = 0; i < t.length; i++) {
    let n = 0;
    for (let j = i; j < t.length && t[j]! - t[i]! < 1_000; j++) n++;
    most = Math.max(most, n);
  }
  return most;
}

/** Shape every fetch must have: oldest first, inside the range, one per period. */
function expectSeries(points: readonly OiHistoryPoint[], periodMs: number) {
  expect(points.length).toBe(DAY_MS / periodMs + 1);
  expect(points[0]!.ts).toBe(FROM_TS);
  expect(points.at(-1)!.ts).toBe(START_TS);
  for (let i = 1; i < points.length; i++) expect(points[i]!.ts - points[i - 1]!.ts).toBe(periodMs);
}

/** OI after the surge over OI before it: the simulators' own history carries the scripted move. */
function surgeRatio(points: readonly OiHistoryPoint[]): number {
  const at = (ts: number) => points.find((p) => p.ts === ts)!.oiBase;
  return at(SURGE.atTs + HOUR_MS) / at(SURGE.atTs - HOUR_MS);
}

describe('parsing the documented responses', () => {
  it('binance openInterestHist: string or integer timestamp, mark = value / OI', () => {
    // Open-Interest-Statistics doc example (comments stripped), with CMCCirculatingSupply.
    const doc = [
      {
        symbol: 'BTCUSDT',
        sumOpenInterest: '20403.63700000',
        sumOpenInterestValue: '150570784.07809979',
        CMCCirculatingSupply: '165880.538',
        timestamp: '1583127900000',
      },
      {
        symbol: 'BTCUSDT',
        sumOpenInterest: '20401.36700000',
        sumOpenInterestValue: '149940752.14464448',
        CMCCirculatingSupply: '165900.14853',
        timestamp: '1583128200000',
      },
    ];
    expect(parseBinanceOiHistory(doc)).toEqual([
      { ts: 1583127900000, oiBase: 20403.637, markPrice: Number('150570784.07809979') / 20403.637 },
      { ts: 1583128200000, oiBase: 20401.367, markPrice: Number('149940752.14464448') / 20401.367 },
    ]);
    // hexdocs binance_futures `open_interest_hist` example: an integer timestamp.
    const hex = JSON.parse(
      '[{"sumOpenInterest":"34085.00000000","sumOpenInterestValue":"1927265695.27131325","symbol":"BTCUSDT","timestamp":1616438700000}]',
    );
    expect(parseBinanceOiHistory(hex)).toEqual([
      { ts: 1616438700000, oiBase: 34085, markPrice: Number('1927265695.27131325') / 34085 },
    ]);
  });

  it('binance: an error body or a non-array throws; bad rows are skipped and reported, zero OI has no mark', () => {
    const venue = () => parseBinanceOiHistory({ code: -1121, msg: 'Invalid symbol.' });
    expect(venue).toThrow(OiHistoryError);
    expect(venue).toThrow(expect.objectContaining({ code: 'E_HISTORY_VENUE' }));
    expect(() => parseBinanceOiHistory({ rows: [] })).toThrow(
      expect.objectContaining({ code: 'E_HISTORY_BODY' }),
    );
    const hooks = skipHooks();
    const points = parseBinanceOiHistory(
      [
        { sumOpenInterest: 'x', sumOpenInterestValue: '1', timestamp: 1 },
        { sumOpenInterest: '2', timestamp: '' },
        7,
        { sumOpenInterest: '0', sumOpenInterestValue: '0', timestamp: 5 },
        { sumOpenInterest: '4', sumOpenInterestValue: '', timestamp: 6 },
      ],
      hooks,
    );
    expect(points).toEqual([
      { ts: 5, oiBase: 0, markPrice: null },
      { ts: 6, oiBase: 4, markPrice: null },
    ]);
    expect(hooks.skipped).toHaveLength(3);
  });

  it('bybit open-interest: single side from singleOpenInterest, else half of openInterest', () => {
    // https://bybit-exchange.github.io/docs/v5/market/open-interest: the 2026 documented row, with singleOpenInterest.
    const row2026 = {
      openInterest: '63910691.00000000',
      singleOpenInterest: '31955346',
      timestamp: '1780963200000',
    };
    const page = parseBybitOiPage({
      retCode: 0,
      retMsg: 'OK',
      result: { symbol: 'BTCUSD', category: 'inverse', list: [row2026], nextPageCursor: 'next1' },
      retExtInfo: {},
      time: 1780994051392,
    });
    expect(page).toEqual({
      points: [{ ts: 1780963200000, oiBase: 31955346, markPrice: null }],
      nextCursor: 'next1',
    });
    // bybit-exchange/docs open-interest.mdx response example, before singleOpenInterest existed.
    const older = JSON.parse(`{
      "retCode": 0, "retMsg": "OK",
      "result": {
        "symbol": "BTCUSD", "category": "inverse",
        "list": [
          { "openInterest": "461134384.00000000", "timestamp": "1669571400000" },
          { "openInterest": "461134292.00000000", "timestamp": "1669571100000" }
        ],
        "nextPageCursor": ""
      },
      "retExtInfo": {}, "time": 1672053548579
    }`);
    expect(parseBybitOiPage(older)).toEqual({
      points: [
        { ts: 1669571400000, oiBase: 461134384 / 2, markPrice: null },
        { ts: 1669571100000, oiBase: 461134292 / 2, markPrice: null },
      ],
      nextCursor: '',
    });
  });

  it('bybit mark-price-kline: start → [open, close]; retCode ≠ 0 throws; bad rows skipped', () => {
    // bybit-exchange/docs mark-kline.mdx response example.
    const doc = JSON.parse(`{
      "retCode": 0, "retMsg": "OK",
      "result": { "symbol": "BTCUSDT", "category": "linear",
        "list": [["1670608800000", "17164.16", "17164.16", "17121.5", "17131.64"]] },
      "retExtInfo": {}, "time": 1672026361839
    }`);
    expect([...parseBybitMarkKlines(doc)]).toEqual([[1670608800000, [17164.16, 17131.64]]]);
    expect(() =>
      parseBybitMarkKlines({ retCode: 10001, retMsg: 'Not supported symbols', result: {} }),
    ).toThrow(expect.objectContaining({ code: 'E_HISTORY_VENUE' }));
    expect(() => parseBybitOiPage({ retCode: 0, result: { list: 'x' } })).toThrow(
      expect.objectContaining({ code: 'E_HISTORY_BODY' }),
    );
    const hooks = skipHooks();
    const bad = {
      retCode: 0,
      result: { list: [['1', 'x', '1', '1', '1'], 'row', ['2', '0', '0', '0', '0']] },
    };
    expect(parseBybitMarkKlines(bad, hooks).size).toBe(0);
    expect(hooks.skipped).toHaveLength(3);
  });

  it('okx open-interest-history: rows [ts, oi, oiCcy, oiUsd] stamped at the bar end, mark = oiUsd / oiCcy', () => {
    // OKX docs "Get contract open interest history" response example (comments stripped).
    const doc = {
      code: '0',
      msg: '',
      data: [
        ['1701417600000', '731377.57500501', '111', '8888888'],
        ['1701417500000', '731377.57500501', '111', '8888888'],
      ],
    };
    expect(parseOkxOiHistory(doc, 5 * MIN_MS)).toEqual([
      { ts: 1701417600000 + 5 * MIN_MS, oiBase: 111, markPrice: 8888888 / 111 },
      { ts: 1701417500000 + 5 * MIN_MS, oiBase: 111, markPrice: 8888888 / 111 },
    ]);
    expect(() =>
      parseOkxOiHistory({ code: '51001', msg: "Instrument ID doesn't exist.", data: [] }, 1),
    ).toThrow(expect.objectContaining({ code: 'E_HISTORY_VENUE' }));
    expect(() => parseOkxOiHistory({ code: '0', data: {} }, 1)).toThrow(
      expect.objectContaining({ code: 'E_HISTORY_BODY' }),
    );
    const hooks = skipHooks();
    const rows = { code: '0', data: [['1', '5', '2'], ['x', '1', '1', '1'], ['2', '1', ''], 'row'] };
    expect(parseOkxOiHistory(rows, 10, hooks)).toEqual([{ ts: 11, oiBase: 2, markPrice: null }]);
    expect(hooks.skipped).toHaveLength(3);
  });

  it('chooses the finest period whose points fit the venue limit', () => {
    expect(choosePeriod(DAY_MS, BINANCE_OI_HISTORY_PERIODS, 500).name).toBe('5m');
    expect(choosePeriod(3 * DAY_MS, BINANCE_OI_HISTORY_PERIODS, 500).name).toBe('15m');
    expect(choosePeriod(400 * DAY_MS, BINANCE_OI_HISTORY_PERIODS, 500).name).toBe('1d');
  });
});

describe('binance fetcher against the simulator', () => {
  let sim: BinanceSimulator;
  beforeAll(async () => {
    sim = await startBinanceSimulator(SIM_OPTS);
  });
  afterAll(() => sim.close());

  it('one 5m request covers 24 h; values are the live feed’s at each time', async () => {
    const fetcher = oiHistoryFetcher('binance', `${sim.restUrl}/`)!;
    const points = await fetcher('SOLUSDT', FROM_TS, START_TS);
    expectSeries(points, 5 * MIN_MS);
    for (const p of points) {
      const live = binancePoint(sim.market, 'SOL', 'SOLUSDT', p.ts, 8);
      expect(p.oiBase).toBe(live.oiBase);
      expect(p.markPrice! / live.markPrice).toBeCloseTo(1, 9);
    }
    expect(surgeRatio(points)).toBeGreaterThan(1.05);
    const asked = sim.restRequestLog().filter((r) => r.path.startsWith('/futures/data/openInterestHist'));
    expect(asked).toHaveLength(1);
    expect(new URL(asked[0]!.path, 'http://x').searchParams.get('period')).toBe('5m');
  });

  it('a three-day span takes a coarser period, still in one request', async () => {
    const before = sim.restRequestLog().length;
    const points = await oiHistoryFetcher('binance', sim.restUrl)!(
      'BTCUSDT',
      START_TS - 3 * DAY_MS,
      START_TS,
    );
    expect(points).toHaveLength(3 * 96 + 1);
    const asked = sim.restRequestLog().slice(before);
    expect(asked.map((r) => new URL(r.path, 'http://x').searchParams.get('period'))).toEqual(['15m']);
  });

  it('an unknown symbol rejects with the venue error', async () => {
    await expect(
      oiHistoryFetcher('binance', sim.restUrl)!('NOPEUSDT', FROM_TS, START_TS),
    ).rejects.toMatchObject({
      code: 'E_HISTORY_HTTP',
      status: 400,
    });
  });
});

describe('bybit fetcher against the simulator', () => {
  let sim: BybitSimulator;
  beforeAll(async () => {
    sim = await startBybitSimulator(SIM_OPTS);
  });
  afterAll(() => sim.close());

  it('pages the OI by cursor and adds the mark from the mark-price klines', async () => {
    const hooks = skipHooks();
    const points = await oiHistoryFetcher('bybit', sim.restUrl)!(
      'SOLUSDT',
      FROM_TS,
      START_TS,
      undefined,
      hooks,
    );
    expectSeries(points, 5 * MIN_MS);
    for (const p of points) {
      const live = bybitTickerData(sim.market, 'SOL', p.ts);
      expect(p.oiBase).toBe(Number(live.singleOpenInterest));
      expect(p.markPrice).toBe(Number(live.markPrice));
    }
    expect(surgeRatio(points)).toBeGreaterThan(1.05);
    expect(hooks.skipped).toEqual([]);
    const paths = sim.restRequestLog().map((r) => new URL(r.path, 'http://x'));
    const oi = paths.filter((u) => u.pathname === '/v5/market/open-interest');
    expect(oi.length).toBe(2); // 289 points at 200 per page
    expect(oi[1]!.searchParams.get('cursor')).toBeTruthy();
    expect(paths.filter((u) => u.pathname === '/v5/market/mark-price-kline').length).toBeGreaterThan(0);
  });

  it('keeps the OI with null marks when the mark klines fail', async () => {
    sim.failRestNext('/v5/market/mark-price-kline', { status: 403, body: { retCode: 10006, retMsg: 'x' } });
    const hooks = skipHooks();
    const points = await oiHistoryFetcher('bybit', sim.restUrl)!(
      'ETHUSDT',
      FROM_TS,
      START_TS,
      undefined,
      hooks,
    );
    expectSeries(points, 5 * MIN_MS);
    expect(points.every((p) => p.markPrice === null)).toBe(true);
    expect(hooks.skipped.join()).toContain('mark-price-kline');
  });
});

describe('okx fetcher against the simulator', () => {
  let sim: OkxSimulator;
  beforeAll(async () => {
    sim = await startOkxSimulator(SIM_OPTS);
  });
  afterAll(() => sim.close());

  it('fetches 24 h in windows of 100 bars, each bar stamped at its end with the live value there', async () => {
    const points = await oiHistoryFetcher('okx', sim.restUrl)!('SOL-USDT-SWAP', FROM_TS, START_TS);
    expectSeries(points, 5 * MIN_MS);
    for (const p of points) {
      const live = okxPoint(sim.market, 'SOL', p.ts);
      expect(p.oiBase).toBe(live.oiBase);
      expect(p.markPrice! / live.markPrice).toBeCloseTo(1, 9);
    }
    expect(surgeRatio(points)).toBeGreaterThan(1.05);
    const asked = sim.restRequestLog().filter((r) => r.path.includes('open-interest-history'));
    expect(asked).toHaveLength(3);
  });

  it('ten days need 15m bars (OKX keeps the latest 1,440)', async () => {
    const before = sim.restRequestLog().length;
    const points = await oiHistoryFetcher('okx', sim.restUrl)!(
      'BTC-USDT-SWAP',
      START_TS - 10 * DAY_MS,
      START_TS,
    );
    expect(points).toHaveLength(10 * 96 + 1);
    const periods = sim
      .restRequestLog()
      .slice(before)
      .map((r) => new URL(r.path, 'http://x').searchParams.get('period'));
    expect(new Set(periods)).toEqual(new Set(['15m']));
  });

  it('Hyperliquid has no history endpoint', () => {
    expect(oiHistoryFetcher('hyperliquid', 'http://127.0.0.1:1')).toBeNull();
    expect(BACKFILL_REQUESTS_PER_SEC.hyperliquid).toBe(0);
  });
});

describe('runBackfill', () => {
  let okx: OkxSimulator;
  let binance: BinanceSimulator;
  beforeAll(async () => {
    [okx, binance] = await Promise.all([startOkxSimulator(SIM_OPTS), startBinanceSimulator(SIM_OPTS)]);
  });
  afterAll(() => Promise.all([okx.close(), binance.close()]));

  it('keeps the budget, skips failing instruments with a warning, and counts what it got', async () => {
    const logs: { level: number; instrument?: string; msg: string }[] = [];
    const logger = pino({ level: 'info' }, { write: (line: string) => logs.push(JSON.parse(line)) });
    const swaps = ['BTC', 'ETH', 'SOL', 'XRP', 'DOGE'].map((s) => `${s}-USDT-SWAP`);
    const instruments = [...swaps, 'NOPE-USDT-SWAP'];
    // One instrument's window answers 429; which one depends on the order of requests.
    okx.failRestNext('/api/v5/rubik', { status: 429 });
    const got = new Map<string, OiHistoryPoint[]>();
    const before = okx.restRequestLog().length;
    const result = await runBackfill({
      venue: 'okx',
      instruments,
      fetcher: oiHistoryFetcher('okx', okx.restUrl)!,
      fromTs: FROM_TS,
      toTs: START_TS,
      maxRequestsPerSec: 6,
      logger,
      onPoints: (instrument, points) => got.set(instrument, points),
    });
    const seen = okx.restRequestLog().slice(before);
    expect(seen.length).toBeGreaterThan(6);
    expect(maxPerSecond(seen.map((r) => r.wallMs))).toBeLessThanOrEqual(6);
    expect(result).toMatchObject({ instruments: 4, failed: 2, aborted: false, skippedRows: 0 });
    expect(result.points).toBe(4 * 289);
    expect([...got.keys()].every((i) => swaps.includes(i))).toBe(true);
    const warned = logs.filter((l) => l.level === 40).map((l) => l.instrument);
    expect(warned).toHaveLength(2);
    expect(warned).toContain('NOPE-USDT-SWAP');
    expect(warned.filter((i) => !got.has(i!))).toHaveLength(2);
  });

  it('counts unreadable bodies as failures and unreadable rows as skipped, never rejecting', async () => {
    okx.failRestNext('/api/v5/rubik', { status: 200, body: '<html>gateway</html>' });
    binance.failRestNext('/futures/data/openInterestHist?symbol=ETHUSDT', {
      status: 200,
      body: [
        {
          symbol: 'ETHUSDT',
          sumOpenInterest: '10',
          sumOpenInterestValue: '25000',
          timestamp: START_TS - MIN_MS * 5,
        },
        { symbol: 'ETHUSDT', sumOpenInterest: 'NaN?', sumOpenInterestValue: '1', timestamp: START_TS },
      ],
    });
    const okxResult = await runBackfill({
      venue: 'okx',
      instruments: ['BTC-USDT-SWAP'],
      fetcher: oiHistoryFetcher('okx', okx.restUrl)!,
      fromTs: FROM_TS,
      toTs: START_TS,
      maxRequestsPerSec: 50,
      logger: silent,
      onPoints: () => {},
    });
    expect(okxResult).toMatchObject({ instruments: 0, failed: 1, points: 0 });
    const got: OiHistoryPoint[][] = [];
    const binanceResult = await runBackfill({
      venue: 'binance',
      instruments: ['ETHUSDT', 'BTCUSDT'],
      fetcher: oiHistoryFetcher('binance', binance.restUrl)!,
      fromTs: FROM_TS,
      toTs: START_TS,
      maxRequestsPerSec: 50,
      logger: silent,
      concurrency: 1,
      onPoints: (_, points) => got.push(points),
    });
    expect(binanceResult).toMatchObject({ instruments: 2, failed: 0, skippedRows: 1, points: 1 + 289 });
    expect(got[0]).toEqual([{ ts: START_TS - 5 * MIN_MS, oiBase: 10, markPrice: 2500 }]);
  });

  it('an onPoints that throws fails that instrument only', async () => {
    const result = await runBackfill({
      venue: 'binance',
      instruments: ['BTCUSDT', 'ETHUSDT'],
      fetcher: oiHistoryFetcher('binance', binance.restUrl)!,
      fromTs: FROM_TS,
      toTs: START_TS,
      maxRequestsPerSec: 50,
      logger: silent,
      onPoints: (instrument) => {
        if (instrument === 'BTCUSDT') throw new Error('consumer bug');
      },
    });
    expect(result).toMatchObject({ instruments: 1, failed: 1, points: 289 });
  });

  it('charges a fetcher that does not report its requests one per call', async () => {
    const calls: number[] = [];
    const result = await runBackfill({
      venue: 'binance',
      instruments: Array.from({ length: 9 }, (_, i) => `X${i}USDT`),
      fetcher: async () => {
        calls.push(Date.now());
        return [];
      },
      fromTs: FROM_TS,
      toTs: START_TS,
      maxRequestsPerSec: 4,
      logger: silent,
      onPoints: () => {},
    });
    expect(result).toMatchObject({ instruments: 9, points: 0, failed: 0 });
    expect(calls).toHaveLength(9);
    expect(maxPerSecond(calls)).toBeLessThanOrEqual(4);
  });

  it('stops on abort: no request starts after it, no onPoints after it, resolves with the counts so far', async () => {
    const controller = new AbortController();
    const before = binance.restRequestLog().length;
    const handed: string[] = [];
    let atAbort = 0;
    const result = await runBackfill({
      venue: 'binance',
      instruments: ['BTCUSDT', 'ETHUSDT', 'SOLUSDT', 'XRPUSDT', 'DOGEUSDT'],
      fetcher: oiHistoryFetcher('binance', binance.restUrl)!,
      fromTs: FROM_TS,
      toTs: START_TS,
      maxRequestsPerSec: 1,
      logger: silent,
      signal: controller.signal,
      onPoints: (instrument) => {
        handed.push(instrument);
        atAbort = binance.restRequestLog().length - before;
        controller.abort();
      },
    });
    expect(result).toMatchObject({ instruments: 1, failed: 0, points: 289, aborted: true });
    expect(handed).toHaveLength(1);
    await new Promise((r) => setTimeout(r, 1_500)); // past the next slot of the 1/s budget
    expect(binance.restRequestLog().length - before).toBe(atAbort);
  });

  it('an already aborted signal makes no request', async () => {
    const before = binance.restRequestLog().length;
    const result = await runBackfill({
      venue: 'binance',
      instruments: ['BTCUSDT'],
      fetcher: oiHistoryFetcher('binance', binance.restUrl)!,
      fromTs: FROM_TS,
      toTs: START_TS,
      maxRequestsPerSec: 10,
      logger: silent,
      signal: AbortSignal.abort(),
      onPoints: () => {},
    });
    expect(result).toEqual({ instruments: 0, points: 0, failed: 0, skippedRows: 0, aborted: true });
    expect(binance.restRequestLog().length).toBe(before);
  });
});
