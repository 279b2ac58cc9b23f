import { readFileSync } from 'node:fs';
import { afterEach, describe, expect, it } from 'vitest';
import WebSocket from 'ws';
import {
  type BinanceSimulator,
  type BinanceSimulatorOptions,
  encodeBinanceFrames,
  startBinanceSimulator,
} from '../../../src/streams/sim/binance-sim.js';
import { simLongShare } from '../../../src/streams/sim/binance-sim-forced.js';
import { createScriptedMarket, DEFAULT_MARKET_SYMBOLS } from '../../../src/streams/sim/market.js';
import type { SyntheticPoint } from '../../../src/streams/sim/synthetic.js';
import { createBinanceAdapter } from '../../../src/streams/venues/binance.js';
import { sleep, waitFor } from '../feed-harness.js';

const fixtureJson = (name: string) =>
  JSON.parse(readFileSync(new URL(`../../fixtures/binance/${name}`, import.meta.url), 'utf8'));

type Msg = Record<string, unknown> & { stream?: string; data?: Record<string, unknown>[] };

/** A real `ws` client that queues every message and counts pings. */
class Client {
  readonly queue: Msg[] = [];
  pings = 0;
  readonly closed: Promise<void>;
  private constructor(readonly ws: WebSocket) {
    ws.on('message', (d) => this.queue.push(JSON.parse(d.toString()) as Msg));
    ws.on('ping', () => this.pings++);
    this.closed = new Promise((resolve) => ws.once('close', () => resolve()));
  }
  static async open(url: string): Promise<Client> {
    const ws = new WebSocket(url);
    await new Promise<void>((resolve, reject) => {
      ws.once('open', () => resolve());
      ws.once('error', reject);
    });
    return new Client(ws);
  }
  send(msg: unknown): void {
    this.ws.send(typeof msg === 'string' ? msg : JSON.stringify(msg));
  }
  async next(match: (m: Msg) => boolean = () => true, timeoutMs = 2_000): Promise<Msg> {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      const i = this.queue.findIndex(match);
      if (i >= 0) return this.queue.splice(i, 1)[0]!;
      if (Date.now() > deadline) throw new Error('no matching message in time');
      await sleep(5);
    }
  }
}

let sim: BinanceSimulator | undefined;
const clients: Client[] = [];
const start = async (opts: BinanceSimulatorOptions = {}) => {
  sim = await startBinanceSimulator({ tickMs: 30, ...opts });
  return sim;
};
const connect = async (url: string) => {
  const c = await Client.open(url);
  clients.push(c);
  return c;
};
afterEach(async () => {
  for (const c of clients.splice(0)) c.ws.terminate();
  await sim?.close();
  sim = undefined;
});

const SUB = { method: 'SUBSCRIBE', params: ['!markPrice@arr@1s', '!ticker@arr'], id: 1 };
const symbolsOf = (m: Msg) => (m.data ?? []).map((e) => e.s);

describe('Binance simulator WebSocket', () => {
  it('acks SUBSCRIBE, then pushes the mark array in two shards (COIN-M and USDC mixed in) and tickers', async () => {
    const s = await start();
    const c = await connect(s.wsUrl);
    c.send(SUB);
    expect(await c.next()).toEqual({ result: null, id: 1 });
    const isMark = (m: Msg) => m.stream === '!markPrice@arr@1s';
    const [a, b] = [await c.next(isMark), await c.next(isMark)];
    expect(symbolsOf(a)).toEqual(['BTCUSDT', 'ETHUSDT', 'SOLUSDT', 'BTCUSD_261225']);
    expect(symbolsOf(b)).toEqual(['XRPUSDT', 'DOGEUSDT', 'BTCUSDC']);
    const coinM = a.data!.find((e) => e.s === 'BTCUSD_261225');
    expect(coinM).toMatchObject({ st: 2, r: '', T: 0 });
    // every element has exactly the keys of the real 2026 capture
    const real = fixtureJson('real-2026-09-09-mark-arr.json').data[0];
    for (const el of [...a.data!, ...b.data!]) expect(Object.keys(el)).toEqual(Object.keys(real));
    const ticker = await c.next((m) => m.stream === '!ticker@arr');
    expect(symbolsOf(ticker)).toEqual(
      expect.arrayContaining(['BTCUSDT', 'DOGEUSDT', 'BTCUSDC', 'BTCUSD_261225']),
    );
    expect(ticker.data!.find((e) => e.s === 'BTCUSD_261225')).toMatchObject({ st: 2, ps: 'BTCUSD' });
    expect(s.subscriptions()).toEqual(['!markPrice@arr@1s', '!ticker@arr']);
  });

  it('lists and unsubscribes, answers protocol errors, and honours ?streams=', async () => {
    const s = await start();
    const c = await connect(`${s.wsUrl}?streams=!ticker@arr`);
    expect(await c.next((m) => m.stream === '!ticker@arr')).toBeDefined();
    c.send({ method: 'LIST_SUBSCRIPTIONS', id: 3 });
    expect(await c.next((m) => m.id === 3)).toEqual({ result: ['!ticker@arr'], id: 3 });
    c.send({ method: 'UNSUBSCRIBE', params: ['!ticker@arr'], id: 312 });
    expect(await c.next((m) => m.id === 312)).toEqual({ result: null, id: 312 });
    c.queue.splice(0);
    c.send({ method: 'SUBSCRIBE', params: ['btcusdt@markPrice'], id: 'x' });
    expect(await c.next((m) => 'code' in m)).toMatchObject({ code: 2 });
    c.send('{"method":');
    expect(await c.next((m) => 'code' in m)).toMatchObject({ code: 3 });
    // an unknown or wrongly routed stream is acked and stays silent, as on the venue
    c.send({ method: 'SUBSCRIBE', params: ['btcusdt@depth'], id: 4 });
    expect(await c.next((m) => m.id === 4)).toEqual({ result: null, id: 4 });
    await sleep(150);
    expect(c.queue.filter((m) => m.stream)).toEqual([]);
  });

  it('sends ping frames that ws clients answer with pongs, and pauses them when silent', async () => {
    const s = await start({ pingIntervalMs: 20 });
    const c = await connect(s.wsUrl);
    await waitFor(() => c.pings >= 3 && s.pongCount() >= 3);
    expect(s.pingCount()).toBeGreaterThanOrEqual(3);
    s.setSilent(true);
    await sleep(30);
    const pings = s.pingCount();
    c.send(SUB);
    await sleep(100);
    expect(s.pingCount()).toBe(pings);
    expect(c.queue).toEqual([]);
    expect(s.connectionCount()).toBe(1);
  });

  it('disconnects a client that sends more than 10 messages a second', async () => {
    const s = await start();
    const c = await connect(s.wsUrl);
    for (let i = 0; i < 12; i++) c.send({ method: 'LIST_SUBSCRIPTIONS', id: i });
    await c.closed;
    await waitFor(() => s.connectionCount() === 0);
  });
});

describe('Binance simulator REST', () => {
  const get = async (s: BinanceSimulator, path: string) => {
    const res = await fetch(`${s.restUrl}${path}`);
    return { status: res.status, headers: res.headers, body: (await res.json()) as unknown };
  };
  const used = (h: Headers) => Number(h.get('x-mbx-used-weight-1m'));

  it('serves exchangeInfo, ticker/24hr, openInterest and fundingInfo in the real shapes', async () => {
    const s = await start();
    const info = (await get(s, '/fapi/v1/exchangeInfo')).body as { symbols: Record<string, unknown>[] };
    const realRow = fixtureJson('real-2021-exchange-info-symbol.json');
    for (const row of info.symbols)
      expect(Object.keys(row)).toEqual(expect.arrayContaining(Object.keys(realRow)));
    expect(info.symbols.map((r) => `${r.symbol} ${r.contractType} ${r.status} ${r.quoteAsset}`)).toContain(
      'BTCUSDT_261225 CURRENT_QUARTER TRADING USDT',
    );
    const tickers = (await get(s, '/fapi/v1/ticker/24hr')).body as Record<string, string>[];
    expect(tickers.map((t) => t.symbol)).toEqual(expect.arrayContaining(['BTCUSDT', 'BTCUSDC']));
    expect(Number(tickers[0]!.quoteVolume)).toBeGreaterThan(0);
    const oi = await get(s, '/fapi/v1/openInterest?symbol=ETHUSDT');
    expect(Object.keys(oi.body as object)).toEqual(Object.keys(fixtureJson('doc-open-interest.json')));
    expect(oi.body).toMatchObject({ symbol: 'ETHUSDT', openInterest: expect.stringMatching(/^\d+\.\d{3}$/) });
    expect((await get(s, '/fapi/v1/fundingInfo')).body).toEqual([
      {
        symbol: 'ETHUSDT',
        adjustedFundingRateCap: '0.02000000',
        adjustedFundingRateFloor: '-0.02000000',
        fundingIntervalHours: 4,
        disclaimer: false,
      },
    ]);
    expect(await get(s, '/fapi/v1/openInterest')).toMatchObject({ status: 400, body: { code: -1102 } });
    expect(await get(s, '/fapi/v1/openInterest?symbol=NOPEUSDT')).toMatchObject({
      status: 400,
      body: { code: -1121, msg: 'Invalid symbol.' },
    });
    expect(s.restRequests()[0]).toBe('/fapi/v1/exchangeInfo');
  });

  it('counts request weight this minute in X-MBX-USED-WEIGHT-1M and answers 429 past the limit', async () => {
    const s = await start({ weightLimitPerMinute: 45 });
    const a = used((await get(s, '/fapi/v1/openInterest?symbol=BTCUSDT')).headers);
    const b = used((await get(s, '/fapi/v1/openInterest?symbol=BTCUSDT')).headers);
    expect(b === a + 1 || b === 1).toBe(true); // 1: a new clock minute began in between
    const c = used((await get(s, '/fapi/v1/fundingInfo')).headers);
    expect(c === b || c === 0).toBe(true);
    const before = used((await get(s, '/fapi/v1/ticker/24hr')).headers);
    const over = await get(s, '/fapi/v1/ticker/24hr');
    if (before + 40 > 45) {
      expect(over.status).toBe(429);
      expect(Number(over.headers.get('retry-after'))).toBeGreaterThan(0);
      expect(Number(over.headers.get('retry-after'))).toBeLessThanOrEqual(60);
    }
  });

  it('counts request weight per minute of its event clock with weightClock event', async () => {
    // An event clock that jumps a minute per request: every request starts a new weight minute.
    let eventTs = Date.UTC(2026, 0, 1);
    const s = await start({ weightClock: 'event', eventClock: () => (eventTs += 60_000) });
    for (let i = 0; i < 3; i++) {
      const res = await get(s, '/fapi/v1/openInterest?symbol=BTCUSDT');
      expect(res.status).toBe(200);
      expect(used(res.headers)).toBe(1);
    }
    // On the wall clock (the default) the same three requests add up in one minute (or two).
    await sim?.close();
    const wall = await start({ eventClock: () => (eventTs += 60_000) });
    const last = [];
    for (let i = 0; i < 3; i++)
      last.push(used((await get(wall, '/fapi/v1/openInterest?symbol=BTCUSDT')).headers));
    expect(Math.max(...last)).toBeGreaterThan(1);
  });

  it('injects 429 and 418 with Retry-After once, on the matching path only', async () => {
    const s = await start();
    s.failRestNext('/fapi/v1/openInterest', { status: 429 });
    s.failRestNext('/fapi/v1/openInterest?symbol=ETH', { status: 418, headers: { 'Retry-After': '120' } });
    const info = await get(s, '/fapi/v1/exchangeInfo');
    expect(info.status).toBe(200);
    const limited = await get(s, '/fapi/v1/openInterest?symbol=BTCUSDT');
    expect(limited).toMatchObject({ status: 429, body: { code: -1003 } });
    expect(limited.headers.get('retry-after')).toBe('1');
    const banned = await get(s, '/fapi/v1/openInterest?symbol=ETHUSDT');
    expect(banned.status).toBe(418);
    expect(banned.headers.get('retry-after')).toBe('120');
    expect((banned.body as { msg: string }).msg).toContain('banned');
    expect((await get(s, '/fapi/v1/openInterest?symbol=ETHUSDT')).status).toBe(200);
    s.failRestNext('/fapi/v1/fundingInfo', { status: 500, body: { code: -1001, msg: 'Internal error' } });
    expect(await get(s, '/fapi/v1/fundingInfo')).toMatchObject({ status: 500, body: { code: -1001 } });
  });
});

describe('Binance encoder and lifecycle', () => {
  it('encodes a point into mark and ticker arrays and an OI body that parse back to exactly its values', () => {
    const point: SyntheticPoint = {
      symbol: 'SOL',
      instrument: 'SOLUSDT',
      ts: 1_788_936_948_000,
      markPrice: 151.2345,
      lastPrice: 151.25,
      indexPrice: 151.1,
      oiBase: 3_500_123.456,
      fundingRate: -0.00012345,
      fundingIntervalHours: 4,
      nextFundingTs: 1_788_940_800_000,
      turnover24hUsd: 987_654_321.5,
    };
    const frames = encodeBinanceFrames(point, true);
    expect(frames.map((f) => f.source)).toEqual([
      undefined,
      undefined,
      '/fapi/v1/openInterest?symbol=SOLUSDT',
    ]);
    expect(frames.every((f) => f.t > point.ts && f.t < point.ts + 50)).toBe(true);
    const entry = { symbol: 'SOL', instrument: 'SOLUSDT', fundingIntervalHours: 4 };
    const parser = createBinanceAdapter({ universe: () => [entry] }).createParser();
    const events = frames.flatMap((f) => parser.parse(f.frame, f.t, f.source).events);
    const base = {
      type: 'market',
      venue: 'binance',
      symbol: 'SOL',
      instrument: 'SOLUSDT',
      eventTs: point.ts,
    };
    expect(events).toEqual([
      {
        ...base,
        receiveTs: frames[0]!.t,
        markPrice: 151.2345,
        indexPrice: 151.1,
        fundingRate: -0.00012345,
        fundingIntervalHours: 4,
        nextFundingTs: 1_788_940_800_000,
      },
      { ...base, receiveTs: frames[1]!.t, lastPrice: 151.25, turnover24hUsd: 987_654_321.5 },
      { ...base, receiveTs: frames[2]!.t, oiBase: 3_500_123.456 },
    ]);
  });

  it('close() is idempotent and leaves no socket, server or ping behind', async () => {
    const s = await start({ pingIntervalMs: 20 });
    const c = await connect(s.wsUrl);
    c.send(SUB);
    await c.next((m) => m.stream === '!ticker@arr');
    await Promise.all([s.close(), s.close()]);
    await c.closed;
    const pings = s.pingCount();
    await sleep(80);
    expect(s.pingCount()).toBe(pings);
    expect(s.connectionCount()).toBe(0);
    await expect(fetch(`${s.restUrl}/fapi/v1/exchangeInfo`)).rejects.toThrow();
    await s.close();
  });
});

describe('Binance simulator liquidations and long/short statistics', () => {
  const T0 = Date.UTC(2026, 9, 8, 12);
  const cascades = [
    { symbol: 'BTC', atTs: T0, durationMs: 10 * 60_000, side: 'long' as const, totalUsd: 50_000_000 },
    { symbol: 'ETH', atTs: T0, durationMs: 10 * 60_000, side: 'short' as const, totalUsd: 20_000_000 },
  ];
  type ForceOrder = { e: string; E: number; o: Record<string, string | number> };
  const universe = ['BTC', 'ETH', 'SOL', 'XRP', 'DOGE'].map((symbol) => ({
    symbol,
    instrument: `${symbol}USDT`,
  }));

  it('pushes !forceOrder@arr once subscribed, at most one order per symbol per second, read back to the market', async () => {
    const s = await start({ startTs: T0, timeScale: 10, liquidations: cascades });
    const c = await connect(s.wsUrl);
    c.send({ method: 'SUBSCRIBE', params: ['!ticker@arr'], id: 1 });
    await c.next((m) => m.stream === '!ticker@arr');
    await sleep(300);
    // not subscribed: nothing, although the market liquidates twice a second
    expect(c.queue.filter((m) => m.stream === '!forceOrder@arr')).toEqual([]);
    // another connection that keeps only the tickers while the first adds liquidations
    const other = await connect(`${s.wsUrl}?streams=!ticker@arr`);
    c.send({ method: 'SUBSCRIBE', params: ['!forceOrder@arr'], id: 2 });
    await c.next((m) => m.id === 2);
    const subscribedTs = s.eventTs();
    await waitFor(() => c.queue.filter((m) => m.stream === '!forceOrder@arr').length >= 40, 5_000);
    const frames = c.queue.filter((m) => m.stream === '!forceOrder@arr');
    const orders = frames.map((m) => m.data as unknown as ForceOrder);
    // the real 2026 frame's keys, in its order (ps/st inside o)
    const real = fixtureJson('real-2026-10-08-force-order.json');
    for (const f of frames) expect(Object.keys(f)).toEqual(['stream', 'data']);
    for (const o of orders) {
      expect(Object.keys(o)).toEqual(Object.keys(real.data));
      expect(Object.keys(o.o)).toEqual(Object.keys(real.data.o));
      expect(o.E).toBeGreaterThanOrEqual(o.o.T as number);
      expect(o.o.T).toBeGreaterThan(subscribedTs - 2_000);
    }
    // sampled: one order per symbol per second at most
    const keys = orders.map((o) => `${o.o.s}@${Math.floor((o.o.T as number) / 1000)}`);
    expect(new Set(keys).size).toBe(keys.length);
    const btc = orders.filter((o) => o.o.s === 'BTCUSDT');
    const seconds = btc.map((o) => Math.floor((o.o.T as number) / 1000));
    const [first, last] = [Math.min(...seconds), Math.max(...seconds)];
    const inMarket = s.market.liquidationsBetween('BTC', first * 1000 - 1, last * 1000 + 999);
    expect(inMarket.length).toBeGreaterThan(btc.length); // two cascade orders a second, one pushed
    // COIN-M is mixed in, as on the venue since the CM merge
    expect(orders.some((o) => o.o.s === 'BTCUSD_PERP' && o.o.st === 2)).toBe(true);
    // the parser reads the sides (SELL = long), z and ap back to the market's orders
    const parser = createBinanceAdapter({ universe: () => universe }).createParser();
    const events = frames.flatMap((f) => parser.parse(JSON.stringify(f), 0).events);
    expect(events.length).toBe(orders.filter((o) => o.o.st === 1).length);
    const sides = new Set<string>();
    const um = orders.filter((o) => o.o.st === 1);
    events.forEach((ev, i) => {
      const [liq] = ev.liquidations!;
      const z = String(um[i]!.o.z);
      expect(liq!.base).toBe(Number(z)); // z, never l
      // the market's order at that time (a cascade's and a background order may share it)
      const [order] = s.market
        .liquidationsBetween(ev.symbol, liq!.ts - 1, liq!.ts)
        .sort((a, b) => Math.abs(a.base - liq!.base) - Math.abs(b.base - liq!.base));
      expect(order, `${ev.symbol} ${liq!.ts}`).toBeDefined();
      const decimals = z.split('.')[1]?.length ?? 0;
      expect(Math.abs(order!.base - liq!.base)).toBeLessThanOrEqual(0.5 * 10 ** -decimals + 1e-9);
      expect(liq!.side).toBe(order!.side);
      expect(liq!.usd / liq!.base / order!.price).toBeCloseTo(1, 4);
      sides.add(`${ev.symbol} ${liq!.side}`);
    });
    expect(other.queue.filter((m) => m.stream === '!ticker@arr').length).toBeGreaterThan(0);
    expect(other.queue.filter((m) => m.stream === '!forceOrder@arr')).toEqual([]);
    expect(sides).toContain('BTC long');
    expect(sides).toContain('ETH short');
  });

  it('serves both /futures/data long/short statistics in the real format, read back by the parser', async () => {
    const s = await start({ startTs: T0, eventClock: () => T0 + 17 * 60_000 + 1234 });
    const get = async (path: string) => {
      const res = await fetch(`${s.restUrl}${path}`);
      return { status: res.status, body: (await res.json()) as Record<string, unknown>[] };
    };
    const global = await get('/futures/data/globalLongShortAccountRatio?symbol=BTCUSDT&period=5m&limit=3');
    expect(global.status).toBe(200);
    const doc = fixtureJson('doc-global-long-short-account-ratio.json');
    for (const row of global.body) {
      expect(Object.keys(row)).toEqual(Object.keys(doc[0]));
      for (const v of Object.values(row)) expect(typeof v).toBe('string');
      expect(Number(row.longAccount) + Number(row.shortAccount)).toBeCloseTo(1, 6);
      expect(Number(row.longAccount)).toBeGreaterThanOrEqual(0.45);
      expect(Number(row.longAccount)).toBeLessThanOrEqual(0.75);
    }
    // oldest first, 5-minute buckets, the newest one begun at T0 + 15 min
    expect(global.body.map((r) => Number(r.timestamp) - T0)).toEqual([5, 10, 15].map((m) => m * 60_000));
    const top = await get('/futures/data/topLongShortPositionRatio?symbol=ETHUSDT&period=5m&limit=1');
    expect(top.body).toHaveLength(1);
    expect(top.body[0]!.symbol).toBe('ETHUSDT');
    const parser = createBinanceAdapter({ universe: () => universe }).createParser();
    const source = '/futures/data/topLongShortPositionRatio?symbol=ETHUSDT&period=5m&limit=1';
    const [ev] = parser.parse(JSON.stringify(top.body), 1, source).events;
    expect(ev).toMatchObject({
      symbol: 'ETH',
      topTradersLongPct: Number(top.body[0]!.longAccount) * 100,
      longShortTs: T0 + 15 * 60_000,
    });
    expect(await get('/futures/data/globalLongShortAccountRatio?symbol=BTCUSDT')).toMatchObject({
      status: 400,
      body: { code: -1102 },
    });
    expect(await get('/futures/data/globalLongShortAccountRatio?symbol=NOPEUSDT&period=5m')).toMatchObject({
      status: 400,
      body: { code: -1121 },
    });
  });

  it('drifts the long share within its band and raises it after the price ran up', () => {
    const H = 3_600_000;
    const market = createScriptedMarket({
      symbols: DEFAULT_MARKET_SYMBOLS,
      startTs: T0,
      events: [{ symbol: 'SOL', atTs: T0, durationMs: H, oiChangePct: 5, priceChangePct: 8 }],
    });
    const flat = createScriptedMarket({ symbols: DEFAULT_MARKET_SYMBOLS, startTs: T0 });
    const shares = Array.from({ length: 48 }, (_, i) => simLongShare(flat, 'BTC', 'accounts', T0 + i * H));
    expect(Math.min(...shares)).toBeGreaterThanOrEqual(0.45);
    expect(Math.max(...shares)).toBeLessThanOrEqual(0.75);
    expect(new Set(shares).size).toBeGreaterThan(10); // it drifts
    for (const kind of ['accounts', 'topTraders'] as const) {
      const after = T0 + H + 5 * 60_000;
      expect(simLongShare(market, 'SOL', kind, after)).toBeGreaterThan(
        simLongShare(flat, 'SOL', kind, after),
      );
    }
  });
});
