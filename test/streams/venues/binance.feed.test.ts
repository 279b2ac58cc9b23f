import { pino } from 'pino';
import { afterEach, describe, expect, it } from 'vitest';
import type { FeedEvent, MarketEvent } from '../../../src/domain/types.js';
import type { VenueAdapter } from '../../../src/streams/core/adapter.js';
import { FeedConnection } from '../../../src/streams/core/connection.js';
import { RestPoller } from '../../../src/streams/core/rest-poller.js';
import type { UniverseEntry } from '../../../src/streams/core/universe.js';
import { type BinanceSimulator, startBinanceSimulator } from '../../../src/streams/sim/binance-sim.js';
import { createBinanceAdapter, createBinanceRestPlan } from '../../../src/streams/venues/binance.js';
import { fetchBinanceUniverse } from '../../../src/streams/venues/binance-universe.js';

const logger = pino({ level: 'silent' });
const fast = { initialMs: 20, maxMs: 100, jitter: 0.5 };

async function until(check: () => boolean, timeoutMs = 5000, what = 'condition'): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!check()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 10));
  }
}
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

let sim: BinanceSimulator | undefined;
let conn: FeedConnection | undefined;
let poller: RestPoller | undefined;

afterEach(async () => {
  await poller?.close();
  await conn?.close();
  await sim?.close();
  poller = undefined;
  conn = undefined;
  sim = undefined;
});

const market = (events: FeedEvent[]) => events.filter((e): e is MarketEvent => e.type === 'market');
const statuses = (events: FeedEvent[], kind: string) =>
  events.filter((e) => e.type === 'status' && e.kind === kind);

async function setup(opts: { staleAfterMs?: number; adapter?: Partial<VenueAdapter> } = {}) {
  sim = await startBinanceSimulator({ tickMs: 20, pingIntervalMs: 30 });
  const { entries } = await fetchBinanceUniverse(sim.restUrl, { symbols: ['BTC', 'ETH', 'SOL'], topN: 0 });
  const adapter = createBinanceAdapter({ wsUrl: sim.wsUrl, universe: () => entries });
  const events: FeedEvent[] = [];
  conn = new FeedConnection({
    adapter: { ...adapter, ...opts.adapter },
    instruments: () => entries.map((e) => e.instrument),
    staleAfterMs: opts.staleAfterMs ?? 5000,
    backoff: fast,
    logger,
    onEvent: (ev) => events.push(ev),
  });
  conn.start();
  return { sim, conn, adapter, entries, events };
}

describe('binance feed against the simulator', () => {
  it('streams universe instruments only, with mark, funding, interval and tickers; answers pings', async () => {
    const { sim, events } = await setup();
    await until(() => market(events).length >= 30, 5000, 'market events');
    expect(sim.subscriptions()).toEqual(['!markPrice@arr@1s', '!ticker@arr']);
    expect(new Set(market(events).map((e) => e.instrument))).toEqual(
      new Set(['BTCUSDT', 'ETHUSDT', 'SOLUSDT']),
    );
    const marks = market(events).filter((e) => e.markPrice !== undefined);
    expect(marks.every((e) => e.fundingRate !== undefined && e.nextFundingTs! > e.eventTs)).toBe(true);
    // ETHUSDT is on 4 h in the simulator's fundingInfo (read by the universe), others on 8 h
    const eth = marks.find((e) => e.symbol === 'ETH')!;
    expect(eth.fundingIntervalHours).toBe(4);
    expect(eth.nextFundingTs! % (4 * 3_600_000)).toBe(0);
    expect(marks.find((e) => e.symbol === 'BTC')?.fundingIntervalHours).toBe(8);
    const tickers = market(events).filter((e) => e.lastPrice !== undefined);
    expect(tickers.length).toBeGreaterThan(0);
    expect(tickers.every((e) => e.turnover24hUsd! > 0 && e.markPrice === undefined)).toBe(true);
    await until(() => sim.pongCount() >= 2, 2000, 'pongs to the server pings');
  });

  it('reconnects and resubscribes after the server drops the connection', async () => {
    const { sim, conn, events } = await setup();
    await until(() => market(events).length > 0);
    sim.dropAll();
    await until(() => statuses(events, 'disconnected').length === 1, 2000, 'disconnect');
    const before = market(events).length;
    await until(() => conn.counters.connects === 2 && market(events).length > before + 5, 5000, 'data again');
    expect(sim.subscriptions()).toEqual(['!markPrice@arr@1s', '!ticker@arr']);
    expect(sim.connectionCount()).toBe(1);
  });

  it('replaces a connection that stays open but sends no data', async () => {
    const { sim, conn, events } = await setup({ staleAfterMs: 300 });
    await until(() => market(events).length > 0);
    sim.setSilent(true);
    await until(() => conn.counters.staleTimeouts >= 1, 3000, 'stale timeout');
    expect(statuses(events, 'stale').length).toBeGreaterThanOrEqual(1);
    sim.setSilent(false);
    const before = market(events).length;
    await until(() => market(events).length > before, 5000, 'data after replacement');
    expect(conn.counters.connects).toBeGreaterThanOrEqual(2);
  });

  it('counts and skips malformed frames, then keeps going on the same connection', async () => {
    const { sim, conn, events } = await setup();
    await until(() => market(events).length > 0);
    sim.broadcastRaw('{"stream":"!markPrice@arr@1s","data":[');
    sim.broadcastRaw('{"stream":"!markPrice@arr@1s","data":[{"e":"markPriceUpdate","s":"BTCUSDT","p":"x"}]}');
    await until(() => conn.counters.parseErrors === 2, 2000, 'parse errors');
    const before = market(events).length;
    await until(() => market(events).length > before + 3, 2000, 'data after bad frames');
    expect(conn.counters.connects).toBe(1);
    expect(statuses(events, 'parse_error')).toHaveLength(2);
  });

  it('counts an oversized frame and replaces the connection', async () => {
    // every tick's ticker array is ~2 KB: a 64 KB limit passes it and rejects the 100 KB frame
    const { sim, conn, events } = await setup({ adapter: { maxPayloadBytes: 64 * 1024 } });
    await until(() => market(events).length > 0);
    sim.broadcastRaw(JSON.stringify({ stream: '!ticker@arr', data: [], pad: 'x'.repeat(100_000) }));
    await until(() => conn.counters.oversized === 1, 2000, 'oversized frame');
    expect(statuses(events, 'oversized')).toHaveLength(1);
    const before = market(events).length;
    await until(() => conn.counters.connects === 2 && market(events).length > before, 5000, 'new connection');
    expect(sim.connectionCount()).toBe(1);
  });

  it('close() is idempotent and nothing outlives it', async () => {
    const { sim, conn, events } = await setup();
    await until(() => market(events).length > 0 && sim.pongCount() > 0);
    await Promise.all([conn.close(), conn.close()]);
    await until(() => sim.connectionCount() === 0, 2000, 'server to see the close');
    const count = events.length;
    const pongs = sim.pongCount();
    await sleep(200);
    expect(events.length).toBe(count);
    expect(sim.pongCount()).toBe(pongs);
    expect(sim.connectionCount()).toBe(0);
    expect(conn.isOpen).toBe(false);
  });
});

describe('binance REST polling against the simulator', () => {
  it('polls OI through the shared parser; fundingInfo intervals reach the WebSocket events', async () => {
    sim = await startBinanceSimulator({ tickMs: 20 });
    const listed = await fetchBinanceUniverse(sim.restUrl, { symbols: ['BTC', 'ETH'], topN: 0 });
    // a universe without intervals: only fundingInfo (through the poller) can tell the WS parser
    const entries: UniverseEntry[] = listed.entries.map(({ symbol, instrument }) => ({ symbol, instrument }));
    const adapter = createBinanceAdapter({ wsUrl: sim.wsUrl, universe: () => entries });
    const ws = adapter.createParser();
    const frame = JSON.stringify({
      stream: '!markPrice@arr@1s',
      data: ['BTCUSDT', 'ETHUSDT'].map((s) => ({ e: 'markPriceUpdate', E: 1, s, p: '1', r: '0', T: 2 })),
    });
    expect(ws.parse(frame, 0).events.map((e) => e.fundingIntervalHours)).toEqual([undefined, undefined]);
    const plan = createBinanceRestPlan({ restUrl: sim.restUrl, universe: () => entries });
    const events: FeedEvent[] = [];
    poller = new RestPoller({
      plan: { ...plan, cycleMs: 50 },
      parser: adapter.createParser(),
      logger,
      onEvent: (ev) => events.push(ev),
    });
    poller.start();
    await until(() => new Set(market(events).map((e) => e.instrument)).size === 2, 3000, 'OI for both');
    const oi = market(events)[0]!;
    expect(oi.oiBase).toBeGreaterThan(0);
    expect(Object.keys(oi).sort()).toEqual(
      ['eventTs', 'instrument', 'oiBase', 'receiveTs', 'symbol', 'type', 'venue'].sort(),
    );
    expect(ws.parse(frame, 0).events.map((e) => e.fundingIntervalHours)).toEqual([8, 4]);
    sim.failRestNext('/fapi/v1/openInterest', { status: 429, headers: { 'Retry-After': '1' } });
    await until(() => poller!.counters.rateLimited === 1, 3000, 'a 429');
    const after = market(events).length;
    await until(() => market(events).length > after, 3000, 'polling resumes after Retry-After');
    // fundingInfo: once for the universe, once in the poller's first cycle, not every 50 ms
    expect(sim.restRequests().filter((p) => p === '/fapi/v1/fundingInfo')).toHaveLength(2);
  });
});
