import { createHook } from 'node:async_hooks';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeAll, describe, expect, it } from 'vitest';
import WebSocket from 'ws';
import type { RawFrame } from '../../src/domain/types.js';
import { type BybitSimulator, startBybitSimulator } from '../../src/streams/sim/bybit-sim.js';
import { createScriptedMarket, DEFAULT_MARKET_SYMBOLS } from '../../src/streams/sim/market.js';
import { generateRecording, type Recording, writeRecording } from '../support/recording.js';
import { sleep, waitFor } from './feed-harness.js';

const MIN_MS = 60_000;
const HOUR_MS = 3_600_000;
const START_TS = Date.UTC(2026, 7, 13, 10, 0, 0);
const SNAPSHOT_KEYS = [
  'symbol',
  'lastPrice',
  'markPrice',
  'indexPrice',
  'openInterest',
  'openInterestValue',
  'singleOpenInterest',
  'singleOpenInterestValue',
  'turnover24h',
  'volume24h',
  'fundingRate',
  'nextFundingTime',
  'fundingIntervalHour',
  'fundingCap',
  'bid1Price',
  'ask1Price',
  'prevPrice24h',
  'price24hPcnt',
];

type Fields = Record<string, string>;
interface Msg {
  topic?: string;
  type?: 'snapshot' | 'delta';
  data?: Fields;
  cs?: number;
  ts?: number;
  success?: boolean;
  ret_msg?: string;
  conn_id?: string;
  req_id?: string;
  op?: string;
  /** Set instead of the fields when the text was not JSON. */
  raw?: string;
}

/** A real `ws` client that queues every message for ordered assertions. */
class Client {
  private readonly queue: Msg[] = [];
  private wake: (() => void) | undefined;
  readonly closed: Promise<void>;

  private constructor(readonly ws: WebSocket) {
    ws.on('message', (d) => {
      const text = d.toString();
      try {
        this.queue.push(JSON.parse(text) as Msg);
      } catch {
        this.queue.push({ raw: text });
      }
      this.wake?.();
    });
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
    this.ws.send(JSON.stringify(msg));
  }

  async next(timeoutMs = 2_000): Promise<Msg> {
    const deadline = Date.now() + timeoutMs;
    while (this.queue.length === 0) {
      const left = deadline - Date.now();
      if (left <= 0) throw new Error('no message in time');
      await new Promise<void>((resolve) => {
        const timer = setTimeout(resolve, left);
        this.wake = () => {
          clearTimeout(timer);
          resolve();
        };
      });
    }
    return this.queue.shift()!;
  }

  /** Everything received during the next `ms` (and before). */
  async drain(ms: number): Promise<Msg[]> {
    await sleep(ms);
    return this.queue.splice(0);
  }
}

describe('Bybit simulator', () => {
  let sim: BybitSimulator | undefined;
  const clients: Client[] = [];
  const start = async (opts: Parameters<typeof startBybitSimulator>[0] = {}) => {
    sim = await startBybitSimulator({ startTs: START_TS, tickMs: 20, ...opts });
    return sim;
  };
  const connect = async () => {
    const c = await Client.open(sim!.wsUrl);
    clients.push(c);
    return c;
  };
  afterEach(async () => {
    for (const c of clients.splice(0)) c.ws.terminate();
    await sim?.close();
    sim = undefined;
  });

  it('acks a subscribe, then sends a full snapshot, then deltas of changed fields only', async () => {
    const s = await start();
    const c = await connect();
    c.send({ req_id: 'r1', op: 'subscribe', args: ['tickers.BTCUSDT'] });
    const ack = await c.next();
    expect(ack).toEqual({
      success: true,
      ret_msg: '',
      conn_id: expect.any(String),
      req_id: 'r1',
      op: 'subscribe',
    });

    const snap = await c.next();
    expect(snap).toMatchObject({ topic: 'tickers.BTCUSDT', type: 'snapshot' });
    const state: Fields = { ...snap.data };
    for (const key of SNAPSHOT_KEYS) expect(typeof state[key], key).toBe('string');
    for (const v of Object.values(state)) expect(typeof v).toBe('string');
    expect(state.symbol).toBe('BTCUSDT');
    expect(Number(state.openInterest)).toBeCloseTo(2 * Number(state.singleOpenInterest), 6);
    expect(state.fundingIntervalHour).toBe('8');
    expect(Number(state.nextFundingTime) % (8 * HOUR_MS)).toBe(0);
    expect(Number(state.nextFundingTime)).toBeGreaterThan(snap.ts!);
    expect(snap.ts! - START_TS).toBeLessThan(2_000);
    expect(s.subscriptions()).toEqual(['tickers.BTCUSDT']);

    let cs = snap.cs!;
    let ts = snap.ts!;
    for (let i = 0; i < 5; i++) {
      const d = await c.next();
      expect(d).toMatchObject({ topic: 'tickers.BTCUSDT', type: 'delta' });
      expect(d.cs).toBeGreaterThan(cs);
      expect(d.ts).toBeGreaterThanOrEqual(ts);
      const data = d.data!;
      expect(data.symbol).toBe('BTCUSDT');
      expect(Object.keys(data).length).toBeLessThan(Object.keys(state).length);
      expect(data).not.toHaveProperty('fundingIntervalHour');
      expect(data).not.toHaveProperty('fundingCap');
      for (const [k, v] of Object.entries(data)) if (k !== 'symbol') expect(v, k).not.toBe(state[k]);
      Object.assign(state, data);
      cs = d.cs!;
      ts = d.ts!;
    }
  });

  it('answers a ping with the linear pong and counts it', async () => {
    const s = await start();
    const c = await connect();
    c.send({ req_id: 'x', op: 'ping' });
    expect(await c.next()).toEqual({
      success: true,
      ret_msg: 'pong',
      conn_id: expect.any(String),
      req_id: 'x',
      op: 'ping',
    });
    expect(s.pingCount()).toBe(1);
  });

  it('rejects an unknown symbol', async () => {
    const s = await start();
    const c = await connect();
    c.send({ op: 'subscribe', args: ['tickers.XYZUSDT'] });
    expect(await c.next()).toMatchObject({
      success: false,
      ret_msg: 'Invalid symbol :[tickers.XYZUSDT]',
      req_id: '',
      op: 'subscribe',
    });
    expect(await c.drain(100)).toEqual([]);
    expect(s.subscriptions()).toEqual([]);
  });

  it('unsubscribes', async () => {
    const s = await start();
    const c = await connect();
    c.send({ req_id: 's', op: 'subscribe', args: ['tickers.ETHUSDT', 'tickers.SOLUSDT'] });
    await waitFor(() => s.subscriptions().length === 2);
    c.send({ req_id: 'u', op: 'unsubscribe', args: ['tickers.ETHUSDT'] });
    await waitFor(() => s.subscriptions().length === 1);
    const before = await c.drain(50);
    expect(before).toContainEqual(expect.objectContaining({ success: true, req_id: 'u', op: 'unsubscribe' }));
    const after = await c.drain(150);
    expect(after.length).toBeGreaterThan(0);
    expect(after.every((m) => m.topic === 'tickers.SOLUSDT')).toBe(true);
  });

  it('dropAll closes every client', async () => {
    const s = await start();
    const a = await connect();
    const b = await connect();
    await waitFor(() => s.connectionCount() === 2);
    s.dropAll();
    await Promise.all([a.closed, b.closed]);
    await waitFor(() => s.connectionCount() === 0);
  });

  it('setSilent stops data frames and pongs while the socket stays open', async () => {
    const s = await start();
    const c = await connect();
    c.send({ op: 'subscribe', args: ['tickers.BTCUSDT'] });
    await c.next();
    await c.next();
    s.setSilent(true);
    await c.drain(30);
    c.send({ req_id: 'p', op: 'ping' });
    expect(await c.drain(200)).toEqual([]);
    expect(s.pingCount()).toBe(1);
    expect(c.ws.readyState).toBe(WebSocket.OPEN);
    s.setSilent(false);
    c.send({ req_id: 'p2', op: 'ping' });
    const after = await c.drain(150);
    expect(after).toContainEqual(expect.objectContaining({ ret_msg: 'pong', req_id: 'p2' }));
    expect(after.some((m) => m.type === 'delta')).toBe(true);
  });

  it('pause stops ticking; raw text and frames reach every client', async () => {
    const s = await start();
    const a = await connect();
    const b = await connect();
    a.send({ op: 'subscribe', args: ['tickers.BTCUSDT'] });
    await a.next();
    await a.next();
    s.pause();
    await a.drain(30);
    expect(await a.drain(100)).toEqual([]);
    s.sendFrame({ topic: 'tickers.BTCUSDT', type: 'delta', data: { symbol: 'BTCUSDT' }, cs: 1, ts: 1 });
    s.broadcastRaw('{"not":"closed"');
    expect(await b.next()).toMatchObject({ topic: 'tickers.BTCUSDT', cs: 1 });
    expect(await b.next()).toEqual({ raw: '{"not":"closed"' });
    s.resume();
    expect((await a.drain(100)).some((m) => m.type === 'delta')).toBe(true);
  });

  it('runs its event clock timeScale times faster than the wall clock', async () => {
    const s = await start({ timeScale: 60 });
    const c = await connect();
    c.send({ op: 'subscribe', args: ['tickers.BTCUSDT'] });
    await c.next();
    const first = (await c.next()).ts!;
    await sleep(200);
    const later = (await c.drain(50)).at(-1)!.ts!;
    expect(later - first).toBeGreaterThan(200 * 60 * 0.9);
    expect(s.eventTs()).toBeGreaterThanOrEqual(later);
  });

  it('serves REST tickers and instruments-info in the Bybit shape', async () => {
    const s = await start();
    const get = async (path: string) => {
      const res = await fetch(`${s.restUrl}${path}`);
      return { status: res.status, body: (await res.json()) as Record<string, unknown> };
    };
    const tickers = await get('/v5/market/tickers?category=linear');
    expect(tickers.status).toBe(200);
    expect(tickers.body).toMatchObject({
      retCode: 0,
      retMsg: 'OK',
      retExtInfo: {},
      time: expect.any(Number),
    });
    const tList = (tickers.body.result as { category: string; list: Fields[] }).list;
    const btc = tList.find((t) => t.symbol === 'BTCUSDT')!;
    for (const key of SNAPSHOT_KEYS) expect(typeof btc[key], key).toBe('string');
    expect(tList.map((t) => t.symbol)).toEqual(
      expect.arrayContaining(['ETHUSDT', 'ETHPERP', 'BTCUSDT-26DEC36']),
    );

    const ins = await get('/v5/market/instruments-info?category=linear');
    const result = ins.body.result as {
      category: string;
      list: Array<Record<string, unknown>>;
      nextPageCursor: string;
    };
    expect(result.category).toBe('linear');
    expect(result.nextPageCursor).toBe('');
    const usdtPerps = result.list.filter(
      (i) => i.contractType === 'LinearPerpetual' && i.status === 'Trading' && i.quoteCoin === 'USDT',
    );
    expect(usdtPerps.map((i) => i.baseCoin)).toEqual(DEFAULT_MARKET_SYMBOLS.map((x) => x.symbol));
    expect(usdtPerps[0]).toMatchObject({ symbol: 'BTCUSDT', settleCoin: 'USDT', fundingInterval: 480 });
    expect(result.list.filter((i) => i.contractType === 'LinearFutures')).toHaveLength(1);
    expect(result.list.filter((i) => i.quoteCoin === 'USDC')).toHaveLength(1);

    const page = (await get('/v5/market/instruments-info?category=linear&limit=3')).body.result;
    expect(page).toMatchObject({ nextPageCursor: '3', list: expect.any(Array) });
    expect((await get('/v5/market/tickers?category=spot')).body).toMatchObject({ retCode: 10001 });
    expect((await get('/v5/market/nope')).status).toBe(404);
  });

  it('close() is idempotent and leaves no server, socket or timer behind', async () => {
    // Track timers and sockets born while the simulator lives; our own polling timers come later.
    const live = new Map<number, string>();
    let tracking = true;
    const hook = createHook({
      init: (id, type) => {
        if (tracking && ['Timeout', 'TCPSERVERWRAP', 'TCPWRAP'].includes(type)) live.set(id, type);
      },
      destroy: (id) => live.delete(id),
    }).enable();
    try {
      const s = await startBybitSimulator({ startTs: START_TS, tickMs: 20 });
      const c = await Client.open(s.wsUrl);
      c.send({ op: 'subscribe', args: ['tickers.BTCUSDT'] });
      await c.next();
      await fetch(`${s.restUrl}/v5/market/tickers?category=linear`).then((r) => r.text());
      await Promise.all([s.close(), s.close()]);
      await c.closed;
      await expect(Client.open(s.wsUrl)).rejects.toThrow(/ECONNREFUSED/);
      tracking = false;
      await waitFor(() => live.size === 0).catch(() => expect([...live.values()]).toEqual([]));
    } finally {
      hook.disable();
    }
  });
});

describe('scripted market', () => {
  const symbols = DEFAULT_MARKET_SYMBOLS;
  it('is a pure, seeded function of symbol and time', () => {
    const a = createScriptedMarket({ symbols, startTs: START_TS, seed: 3 });
    const b = createScriptedMarket({ symbols, startTs: START_TS, seed: 3 });
    const ts = START_TS + 5 * HOUR_MS + 1234;
    expect(a.stateAt('ETH', ts)).toEqual(b.stateAt('ETH', ts));
    expect(a.stateAt('BTC', START_TS)).toMatchObject({
      markPrice: 63_500,
      oiBase: 30_000,
      fundingIntervalHours: 8,
    });
    expect(a.stateAt('BTC', Date.UTC(2026, 7, 13, 8))).toMatchObject({
      nextFundingTs: Date.UTC(2026, 7, 13, 16),
    });
    expect(() => a.stateAt('NOPE', ts)).toThrow(RangeError);
  });

  it('moves OI less than 1% per 15 minutes unless an event ramps it', () => {
    const atTs = START_TS + 2 * HOUR_MS;
    const event = { symbol: 'SOL', atTs, durationMs: 5 * MIN_MS, oiChangePct: 5, priceChangePct: 2 };
    const m = createScriptedMarket({ symbols, startTs: START_TS, events: [event] });
    const change = (sym: string, ts: number) =>
      100 * (m.stateAt(sym, ts).oiBase / m.stateAt(sym, ts - 15 * MIN_MS).oiBase - 1);
    for (let ts = START_TS; ts < START_TS + 24 * HOUR_MS; ts += 5 * MIN_MS) {
      expect(Math.abs(change('BTC', ts))).toBeLessThan(1);
    }
    expect(change('SOL', atTs + 10 * MIN_MS)).toBeGreaterThan(3);
    const price = (ts: number) => m.stateAt('SOL', ts).markPrice;
    expect(100 * (price(atTs + 5 * MIN_MS) / price(atTs) - 1)).toBeGreaterThan(1);
  });
});

describe('synthetic recording', () => {
  let rec: Recording;
  let raws: RawFrame[];
  beforeAll(() => {
    rec = generateRecording({ symbols: ['BTC', 'ETH', 'SOL'], startTs: START_TS, hours: 25, stepMs: 10_000 });
    raws = rec.lines.map((l) => JSON.parse(l) as RawFrame);
  });

  const parseFrames = () => {
    const frames: Msg[] = [];
    let malformed = 0;
    for (const r of raws) {
      try {
        frames.push(JSON.parse(r.frame) as Msg);
      } catch {
        malformed++;
      }
    }
    return { frames, malformed };
  };

  it('writes lines of RawFrame with one malformed frame and two control frames', () => {
    expect(
      raws.every((r) => r.venue === 'bybit' && typeof r.t === 'number' && typeof r.frame === 'string'),
    ).toBe(true);
    const { frames, malformed } = parseFrames();
    expect(malformed).toBe(rec.malformedFrames);
    expect(malformed).toBe(1);
    expect(frames.filter((f) => f.op !== undefined)).toHaveLength(rec.controlFrames);
    expect(raws.findIndex((r, i) => i > 0 && r.t < raws[i - 1]!.t)).toBe(-1);
    const data = frames.filter((f) => f.topic);
    expect(data.at(-1)!.ts).toBe(rec.endTs);
    expect(data.some((f) => f.type === 'delta' && Object.keys(f.data!).join() === 'symbol,bid1Price')).toBe(
      true,
    );
    const oiDeltas = data.filter((f) => f.type === 'delta' && 'singleOpenInterest' in f.data!);
    expect(oiDeltas.length).toBeGreaterThan(100);
    const oiGroup = ['openInterest', 'openInterestValue', 'singleOpenInterestValue'];
    expect(oiDeltas.filter((f) => !oiGroup.every((k) => k in f.data!))).toEqual([]);
  });

  it('starts every topic with a snapshot; receive time trails event time by a few ms', () => {
    const seen = new Set<string>();
    const wrongType: Msg[] = [];
    const lags = new Set<number>();
    for (const r of raws) {
      let f: Msg;
      try {
        f = JSON.parse(r.frame) as Msg;
      } catch {
        continue;
      }
      if (!f.topic) continue;
      if (f.type !== (seen.has(f.topic) ? 'delta' : 'snapshot')) wrongType.push(f);
      seen.add(f.topic);
      lags.add(r.t - f.ts!);
    }
    expect(wrongType).toEqual([]);
    expect(Math.min(...lags)).toBeGreaterThan(0);
    expect(Math.max(...lags)).toBeLessThan(10);
    expect([...seen].sort()).toEqual(['tickers.BTCUSDT', 'tickers.ETHUSDT', 'tickers.SOLUSDT']);
  });

  it('plateaus give exactly the expected deltas at the end (naive merge)', () => {
    const { frames } = parseFrames();
    const symbols = ['BTC', 'ETH', 'SOL'];
    for (const sym of symbols) {
      const history: Array<{ ts: number; oi: number; mark: number }> = [];
      const state: Fields = {};
      for (const f of frames) {
        if (f.topic !== `tickers.${sym}USDT`) continue;
        Object.assign(state, f.data);
        history.push({ ts: f.ts!, oi: Number(state.singleOpenInterest), mark: Number(state.markPrice) });
      }
      const at = (ts: number) => history.filter((h) => h.ts <= ts).at(-1)!;
      const constantOn = (from: number, to: number) => {
        const inside = history.filter((h) => h.ts >= from && h.ts <= to);
        expect(inside.length).toBeGreaterThan(5);
        expect(new Set(inside.map((h) => `${h.oi}@${h.mark}`)).size).toBe(1);
      };
      const end = rec.endTs;
      constantOn(end - 16 * MIN_MS, end - 14 * MIN_MS);
      constantOn(end - 24 * HOUR_MS - 15 * MIN_MS, end - 24 * HOUR_MS + 15 * MIN_MS);
      constantOn(end - 2 * MIN_MS, end);
      const now = at(end);
      const delta = (then: { oi: number; mark: number }) => ({
        base: now.oi - then.oi,
        usd: now.oi * now.mark - then.oi * then.mark,
        pct: (100 * (now.oi - then.oi)) / then.oi,
      });
      expect(rec.expected[sym]).toEqual({
        oiBase: now.oi,
        markPrice: now.mark,
        delta15m: delta(at(end - 15 * MIN_MS)),
        delta24h: delta(at(end - 24 * HOUR_MS)),
      });
      const levels = [at(end).oi, at(end - 15 * MIN_MS).oi, at(end - 24 * HOUR_MS).oi];
      expect(new Set(levels).size).toBe(3);
    }
    expect(rec.expected.BTC!.delta15m.pct).toBeGreaterThan(3);
    expect(Math.abs(rec.expected.ETH!.delta15m.pct)).toBeLessThan(3);
  });

  it('writeRecording writes NDJSON; too short a recording is refused', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'perp-pulse-rec-'));
    try {
      const path = join(dir, 'rec.ndjson');
      await writeRecording(path, rec.lines.slice(0, 3));
      expect((await readFile(path, 'utf8')).split('\n')).toEqual([...rec.lines.slice(0, 3), '']);
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
    expect(() =>
      generateRecording({ symbols: ['BTC'], startTs: START_TS, hours: 24, stepMs: 10_000 }),
    ).toThrow(RangeError);
  });
});
