import { readFileSync } from 'node:fs';
import { afterEach, describe, expect, it } from 'vitest';
import WebSocket from 'ws';
import {
  type BinanceSimulator,
  type BinanceSimulatorOptions,
  encodeBinanceFrames,
  startBinanceSimulator,
} from '../../../src/streams/sim/binance-sim.js';
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
