import { readFileSync } from 'node:fs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { MarketEvent } from '../../../src/domain/types.js';
import { FrameError } from '../../../src/streams/core/adapter.js';
import type { UniverseEntry } from '../../../src/streams/core/universe.js';
import { type BinanceSimulator, startBinanceSimulator } from '../../../src/streams/sim/binance-sim.js';
import {
  BINANCE_REST_URL,
  BINANCE_WS_URL,
  createBinanceAdapter,
  createBinanceRestPlan,
} from '../../../src/streams/venues/binance.js';
import { fetchBinanceUniverse } from '../../../src/streams/venues/binance-universe.js';

const fixture = (name: string) =>
  readFileSync(new URL(`../../fixtures/binance/${name}`, import.meta.url), 'utf8')
    .trim()
    .split('\n');
const one = (name: string) => fixture(name)[0]!;

const BTC: UniverseEntry = { symbol: 'BTC', instrument: 'BTCUSDT' };
const ETH: UniverseEntry = { symbol: 'ETH', instrument: 'ETHUSDT' };
const parserFor = (...entries: UniverseEntry[]) =>
  createBinanceAdapter({ universe: () => entries }).createParser();

const mark = (s: string, extra: Record<string, unknown> = {}) => ({
  e: 'markPriceUpdate',
  E: 1788936948001,
  s,
  p: '100.5',
  ap: '100.5',
  P: '999.9',
  i: '100.4',
  r: '0.0001',
  T: 1788940800000,
  st: 1,
  ...extra,
});
const arr = (data: unknown[]) => JSON.stringify({ stream: '!markPrice@arr@1s', data });

describe('binance markPrice arrays', () => {
  it('reads the real 2026 /market/stream element: mark, index, funding per interval, next funding', () => {
    const parser = parserFor({ ...BTC, fundingIntervalHours: 8 });
    const res = parser.parse(one('real-2026-09-09-mark-arr.json'), 1788936948050);
    expect(res.events).toEqual([
      {
        type: 'market',
        venue: 'binance',
        symbol: 'BTC',
        instrument: 'BTCUSDT',
        eventTs: 1788936948001,
        receiveTs: 1788936948050,
        markPrice: 79107.36658171,
        indexPrice: 79139.09565217,
        fundingRate: 0.00008359,
        fundingIntervalHours: 8,
        nextFundingTs: 1788940800000,
      } satisfies MarketEvent,
    ]);
    // `P` (estimated settle price, 79176.63756423) is never read as anything
    expect(Object.values(res.events[0]!)).not.toContain(79176.63756423);
  });

  it('reads the documented payloads in raw /ws mode (bare object and bare array)', () => {
    const parser = parserFor(BTC);
    const [single] = parser.parse(one('doc-mark-price.json'), 1).events;
    expect(single).toEqual({
      type: 'market',
      venue: 'binance',
      symbol: 'BTC',
      instrument: 'BTCUSDT',
      eventTs: 1562305380000,
      receiveTs: 1,
      markPrice: 11794.15,
      indexPrice: 11784.62659091,
      fundingRate: 0.00038167,
      nextFundingTs: 1562306400000,
    });
    // no fundingInfo seen and no interval in the universe entry: the interval stays unknown
    expect(single).not.toHaveProperty('fundingIntervalHours');
    const [fromArray] = parser.parse(one('doc-mark-price-arr.json'), 2).events;
    expect(fromArray).toMatchObject({ markPrice: 11185.87786614, fundingRate: 0.0003 });
  });

  it('reads tardis-recorded single-symbol envelopes (markPrice@1s and ticker)', () => {
    const parser = parserFor(BTC);
    const [markFrame, tickerFrame] = fixture('tardis-2019-2020.ndjson');
    expect(parser.parse(markFrame!, 5).events[0]).toMatchObject({
      eventTs: 1597536008000,
      markPrice: 11857.56,
      indexPrice: 11851.86949091,
      fundingRate: 0.0001564,
      nextFundingTs: 1597564800000,
    });
    const [ticker] = parser.parse(tickerFrame!, 6).events;
    expect(ticker).toEqual({
      type: 'market',
      venue: 'binance',
      symbol: 'BTC',
      instrument: 'BTCUSDT',
      eventTs: 1568693103467,
      receiveTs: 6,
      lastPrice: 10223.74,
      turnover24hUsd: 207024349.13,
    });
  });

  it('keeps only universe instruments from sharded mixed arrays; every element is its own event', () => {
    const parser = parserFor(BTC, ETH);
    const shard1 = arr([
      mark('BTCUSDT'),
      mark('BTCUSD_261225', { r: '', T: 0, st: 2 }),
      mark('XAUUSDT', { p: '2400.1' }),
    ]);
    const shard2 = arr([mark('ETHUSDC', { p: '1' }), mark('ETHUSDT', { p: '2500.25', E: 1788936948002 })]);
    const a = parser.parse(shard1, 10).events;
    const b = parser.parse(shard2, 11).events;
    expect(a.map((e) => e.instrument)).toEqual(['BTCUSDT']);
    expect(b.map((e) => [e.instrument, e.symbol, e.markPrice, e.eventTs])).toEqual([
      ['ETHUSDT', 'ETH', 2500.25, 1788936948002],
    ]);
  });

  it('treats "" funding and T = 0 as absent, never as zero, and skips COIN-M even when named alike', () => {
    const parser = parserFor(BTC, { symbol: 'BTCUSD', instrument: 'BTCUSD_PERP' });
    const events = parser.parse(
      arr([mark('BTCUSDT', { r: '', T: 0, i: '' }), mark('BTCUSD_PERP', { st: 2 })]),
      0,
    ).events;
    expect(events).toHaveLength(1);
    expect(events[0]).not.toHaveProperty('fundingRate');
    expect(events[0]).not.toHaveProperty('nextFundingTs');
    expect(events[0]).not.toHaveProperty('indexPrice');
    expect(events[0]?.markPrice).toBe(100.5);
  });

  it('follows the universe as it changes, and without one keeps UM <BASE>USDT names only', () => {
    let universe: UniverseEntry[] = [BTC];
    const parser = createBinanceAdapter({ universe: () => universe }).createParser();
    const frame = arr([mark('BTCUSDT'), mark('ETHUSDT')]);
    expect(parser.parse(frame, 0).events.map((e) => e.symbol)).toEqual(['BTC']);
    universe = [BTC, ETH];
    expect(parser.parse(frame, 0).events.map((e) => e.symbol)).toEqual(['BTC', 'ETH']);
    const open = createBinanceAdapter().createParser();
    const mixed = arr([
      mark('BTCUSDT'),
      mark('1000PEPEUSDT'),
      mark('BTCUSDC'),
      mark('ETHUSDT_261225'),
      mark('BTCUSD_PERP', { st: 2 }),
    ]);
    expect(open.parse(mixed, 0).events.map((e) => e.symbol)).toEqual(['BTC', '1000PEPE']);
  });

  it('ignores other event types on the same connection', () => {
    const parser = parserFor(BTC);
    const kline = { stream: 'btcusdt@kline_1m', data: { e: 'kline', E: 1, s: 'BTCUSDT', k: {} } };
    expect(parser.parse(JSON.stringify(kline), 0).events).toEqual([]);
  });
});

describe('binance REST bodies through the same parser', () => {
  it('reads open interest as one side in base units, event time from `time`', () => {
    const parser = parserFor(BTC);
    const source = '/fapi/v1/openInterest?symbol=BTCUSDT';
    expect(parser.parse(one('doc-open-interest.json'), 1589437530100, source).events).toEqual([
      {
        type: 'market',
        venue: 'binance',
        symbol: 'BTC',
        instrument: 'BTCUSDT',
        eventTs: 1589437530011,
        receiveTs: 1589437530100,
        oiBase: 10659.509,
      },
    ]);
    // the tardis-recorded body has no `time`: the receive time stands in
    const tardis = fixture('tardis-2019-2020.ndjson')[2]!;
    expect(parser.parse(tardis, 42, source).events[0]).toMatchObject({ oiBase: 26286.181, eventTs: 42 });
    expect(parserFor(ETH).parse(tardis, 42, source)).toMatchObject({ events: [], control: 'ignored' });
  });

  it('takes funding intervals from fundingInfo (absent = 8 h), shared by every parser of the adapter', () => {
    const adapter = createBinanceAdapter({
      universe: () => [
        { ...BTC, fundingIntervalHours: 8 },
        { ...ETH, fundingIntervalHours: 1 },
      ],
    });
    const ws = adapter.createParser();
    const rest = adapter.createParser();
    const frame = arr([mark('BTCUSDT'), mark('ETHUSDT')]);
    const hours = () => ws.parse(frame, 0).events.map((e) => e.fundingIntervalHours);
    expect(hours()).toEqual([8, 1]); // from the universe entries until fundingInfo is seen
    const info = JSON.stringify([
      { symbol: 'BTCUSDT', adjustedFundingRateCap: '0.02', fundingIntervalHours: 4, disclaimer: false },
      { symbol: 'BLZUSDT', fundingIntervalHours: 1 },
    ]);
    const res = rest.parse(info, 0, '/fapi/v1/fundingInfo');
    expect(res.events).toEqual([]);
    expect(res.control).toBeUndefined();
    ws.reset(); // a reconnect forgets nothing venue-wide
    expect(hours()).toEqual([4, 8]); // ETHUSDT is no longer listed: back to the 8 h default
    rest.parse(one('doc-funding-info.json'), 0, '/fapi/v1/fundingInfo');
    expect(hours()).toEqual([8, 8]);
  });

  it('reports a Binance error body as a venue error', () => {
    const parser = parserFor(BTC);
    const res = parser.parse('{"code":-1121,"msg":"Invalid symbol."}', 0, '/fapi/v1/openInterest?symbol=X');
    expect(res).toEqual({ events: [], control: 'error', detail: 'code -1121: Invalid symbol.' });
  });
});

describe('binance control and malformed frames', () => {
  it('acks SUBSCRIBE/UNSUBSCRIBE/LIST and reports the stream error table as venue errors', () => {
    const parser = parserFor(BTC);
    const [ack1, ack312, list, ...errors] = fixture('doc-control.ndjson');
    for (const ack of [ack1!, ack312!, list!])
      expect(parser.parse(ack, 0)).toEqual({ events: [], control: 'ack' });
    expect(errors).toHaveLength(5);
    for (const err of errors) expect(parser.parse(err, 0).control).toBe('error');
    expect(parser.parse(errors[1]!, 0).detail).toBe('code 1: Invalid value type: expected Boolean');
    const nested = parser.parse('{"error":{"code":2,"msg":"Invalid request"},"id":7}', 0);
    expect(nested).toMatchObject({ control: 'error', detail: 'code 2: Invalid request' });
  });

  it('throws FrameError for frames Binance does not send', () => {
    const parser = parserFor(BTC);
    for (const bad of [
      '{"stream":"!markPrice@arr@1s","data":[',
      'pong',
      '"pong"',
      '{"hello":1}',
      '{"stream":"!markPrice@arr@1s","data":5}',
      '{"stream":7,"data":[]}',
      '{"stream":"!markPrice@arr@1s","data":[{"s":"BTCUSDT"}]}',
      '{"stream":"!markPrice@arr@1s","data":[17]}',
      arr([mark('BTCUSDT', { p: 'abc' })]),
    ]) {
      expect(() => parser.parse(bad, 0), bad).toThrow(FrameError);
    }
    for (const [body, source] of [
      ['{"openInterest":"1"}', '/fapi/v1/openInterest?symbol=BTCUSDT'],
      ['{"openInterest":"x","symbol":"BTCUSDT","time":1}', '/fapi/v1/openInterest?symbol=BTCUSDT'],
      ['{"symbol":"BTCUSDT"}', '/fapi/v1/fundingInfo'],
      ['[{"fundingIntervalHours":4}]', '/fapi/v1/fundingInfo'],
      ['{"openInterest":"1","symbol":"BTCUSDT","time":1}', '/fapi/v1/premiumIndex'],
    ] as const) {
      expect(() => parser.parse(body, 0, source), `${source} ${body}`).toThrow(FrameError);
    }
  });
});

describe('binance adapter and REST plan', () => {
  it('subscribes the three all-market streams on the routed /market URL, whatever the instruments', () => {
    const adapter = createBinanceAdapter();
    expect(adapter.wsUrl).toBe('wss://fstream.binance.com/market/stream');
    expect(BINANCE_WS_URL).toContain('/market/');
    expect(adapter.subscribeMessages(['BTCUSDT'])).toEqual([
      '{"method":"SUBSCRIBE","params":["!markPrice@arr@1s","!ticker@arr","!forceOrder@arr"],"id":1}',
    ]);
    expect(adapter.subscribeMessages(['BTCUSDT', 'ETHUSDT'])).toEqual(adapter.subscribeMessages(['XUSDT']));
    expect(adapter.subscribeMessages([])).toEqual([]);
    expect(adapter.unsubscribeMessages(['BTCUSDT'])).toEqual([]);
    expect(adapter.heartbeat).toBeNull();
    expect(adapter.maxConnectionAgeMs).toBe((23 * 60 + 50) * 60_000);
    expect(adapter.maxInstrumentsPerConnection).toBeGreaterThanOrEqual(2000);
  });

  it('polls OI per instrument (weight 1) and fundingInfo (weight 0) at most every 15 minutes', () => {
    let now = 1_000_000;
    let universe: UniverseEntry[] = [BTC, ETH];
    const plan = createBinanceRestPlan({ universe: () => universe, now: () => now });
    expect(plan).toMatchObject({
      venue: 'binance',
      restUrl: BINANCE_REST_URL,
      cycleMs: 10_000,
      weightPerMinute: 1200,
      usedWeightHeader: 'x-mbx-used-weight-1m',
      venueWeightLimitPerMinute: 2400,
    });
    expect(plan.requests()).toEqual([
      { path: '/fapi/v1/fundingInfo', weight: 0 },
      { path: '/fapi/v1/openInterest?symbol=BTCUSDT', weight: 1, instrument: 'BTCUSDT' },
      { path: '/fapi/v1/openInterest?symbol=ETHUSDT', weight: 1, instrument: 'ETHUSDT' },
    ]);
    now += 10_000;
    universe = [ETH];
    expect(plan.requests()).toEqual([
      { path: '/fapi/v1/openInterest?symbol=ETHUSDT', weight: 1, instrument: 'ETHUSDT' },
    ]);
    now += 14 * 60_000;
    expect(plan.requests().map((r) => r.path)).not.toContain('/fapi/v1/fundingInfo');
    now += 60_000;
    expect(plan.requests()[0]).toEqual({ path: '/fapi/v1/fundingInfo', weight: 0 });
  });
});

describe('binance universe against the simulator', () => {
  let sim: BinanceSimulator;
  beforeAll(async () => {
    sim = await startBinanceSimulator({ tickMs: 60_000 });
  });
  afterAll(() => sim.close());

  it('lists trading USDT perpetuals only, ranked by quote volume, with fundingInfo intervals', async () => {
    const { entries, missing } = await fetchBinanceUniverse(sim.restUrl, { symbols: null, topN: 10 });
    expect(missing).toEqual([]);
    expect(entries.map((e) => e.instrument).sort()).toEqual(
      ['BTCUSDT', 'DOGEUSDT', 'ETHUSDT', 'SOLUSDT', 'XRPUSDT'].sort(),
    );
    const turnovers = entries.map((e) => e.turnover24hUsd!);
    expect(turnovers.every((t) => t > 0)).toBe(true);
    expect([...turnovers].sort((a, b) => b - a)).toEqual(turnovers);
    expect(Object.fromEntries(entries.map((e) => [e.symbol, e.fundingIntervalHours]))).toEqual({
      BTC: 8,
      ETH: 4,
      SOL: 8,
      XRP: 8,
      DOGE: 8,
    });
    const top2 = await fetchBinanceUniverse(sim.restUrl, { symbols: null, topN: 2 });
    expect(top2.entries.map((e) => e.instrument)).toEqual(entries.slice(0, 2).map((e) => e.instrument));
  });

  it('picks requested symbols in order and names the missing ones', async () => {
    const res = await fetchBinanceUniverse(sim.restUrl, { symbols: ['XRP', 'BTC', 'OLD', 'NOPE'], topN: 0 });
    expect(res.entries.map((e) => e.instrument)).toEqual(['XRPUSDT', 'BTCUSDT']);
    // OLDUSDT is listed but SETTLING
    expect(res.missing).toEqual(['OLD', 'NOPE']);
  });

  it('throws a clear error on an HTTP error', async () => {
    sim.failRestNext('/fapi/v1/ticker/24hr', { status: 418 });
    await expect(fetchBinanceUniverse(sim.restUrl, { symbols: null, topN: 3 })).rejects.toThrow(
      /ticker\/24hr: HTTP 418 .*banned/,
    );
  });
});

describe('binance funding interval changes', () => {
  const H = 3_600_000;
  const mark = (E: number, T: number) =>
    JSON.stringify({
      stream: '!markPrice@arr@1s',
      data: [{ e: 'markPriceUpdate', E, s: 'BTCUSDT', p: '100', i: '100', P: '100', r: '0.0025', T, st: 1 }],
    });

  it('learns a new interval from the jump of T after a settlement, before fundingInfo catches up', () => {
    const parser = createBinanceAdapter().createParser();
    const t0 = Date.UTC(2026, 10, 1, 8);
    parser.parse('[{"symbol":"ETHUSDT","fundingIntervalHours":4}]', t0 - 10 * H, '/fapi/v1/fundingInfo');
    const before = parser.parse(mark(t0 - 60_000, t0), t0 - 60_000).events[0];
    expect(before?.fundingIntervalHours).toBe(8);
    // the settlement at t0 hit the cap: Binance moves BTC to hourly funding
    const after = parser.parse(mark(t0 + 1000, t0 + H), t0 + 1000).events[0];
    expect(after?.fundingIntervalHours).toBe(1);
    // a later fundingInfo body is the authority again
    parser.parse('[{"symbol":"BTCUSDT","fundingIntervalHours":1}]', t0 + 16 * 60_000, '/fapi/v1/fundingInfo');
    expect(
      parser.parse(mark(t0 + 17 * 60_000, t0 + H), t0 + 17 * 60_000).events[0]?.fundingIntervalHours,
    ).toBe(1);
  });

  it('does not mistake a T that merely repeats or a first sighting for an interval', () => {
    const parser = createBinanceAdapter().createParser();
    const t0 = Date.UTC(2026, 10, 1, 8);
    expect(parser.parse(mark(t0 - 5000, t0), t0 - 5000).events[0]?.fundingIntervalHours).toBeUndefined();
    expect(parser.parse(mark(t0 - 4000, t0), t0 - 4000).events[0]?.fundingIntervalHours).toBeUndefined();
    expect(parser.parse(mark(t0 + 1000, t0 + 8 * H), t0 + 1000).events[0]?.fundingIntervalHours).toBe(8);
  });
});
