import { createHook } from 'node:async_hooks';
import { afterEach, describe, expect, it } from 'vitest';
import WebSocket from 'ws';
import {
  encodeHyperliquidFrames,
  type HyperliquidSimulator,
  startHyperliquidSimulator,
} from '../../../src/streams/sim/hyperliquid-sim.js';
import {
  decimalString,
  hyperliquidPoint,
  SIM_DELISTED_COIN,
} from '../../../src/streams/sim/hyperliquid-sim-rest.js';
import { createScriptedMarket, DEFAULT_MARKET_SYMBOLS } from '../../../src/streams/sim/market.js';
import type { SyntheticPoint } from '../../../src/streams/sim/synthetic.js';
import { createHyperliquidAdapter } from '../../../src/streams/venues/hyperliquid.js';
import { sleep, waitFor } from '../feed-harness.js';

const HOUR_MS = 3_600_000;
const START_TS = Date.UTC(2026, 7, 13, 10, 20, 0);
const CTX_KEYS = [
  'funding',
  'openInterest',
  'prevDayPx',
  'dayNtlVlm',
  'premium',
  'oraclePx',
  'markPx',
  'midPx',
  'impactPxs',
  'dayBaseVlm',
];

interface Msg {
  channel?: string;
  data?: unknown;
  /** Set instead when the text was not JSON. */
  raw?: string;
}
type Ctx = Record<string, unknown>;
const ctxOf = (m: Msg) => (m.data as { coin: string; ctx: Ctx }).ctx;
const coinOf = (m: Msg) => (m.data as { coin: string }).coin;

/** A real `ws` client that queues every message for ordered assertions. */
class Client {
  private readonly queue: Msg[] = [];
  readonly closed: Promise<void>;

  private constructor(readonly ws: WebSocket) {
    ws.on('message', (d) => {
      const text = d.toString();
      try {
        this.queue.push(JSON.parse(text) as Msg);
      } catch {
        this.queue.push({ raw: text });
      }
    });
    this.closed = new Promise((resolve) => ws.once('close', () => resolve()));
  }

  static async open(url: string): Promise<Client> {
    const ws = new WebSocket(url);
    const c = new Client(ws);
    await new Promise<void>((resolve, reject) => {
      ws.once('open', () => resolve());
      ws.once('error', reject);
    });
    return c;
  }

  send(msg: unknown): void {
    this.ws.send(typeof msg === 'string' ? msg : JSON.stringify(msg));
  }

  async next(timeoutMs = 2_000): Promise<Msg> {
    await waitFor(() => this.queue.length > 0, timeoutMs);
    return this.queue.shift()!;
  }

  async drain(ms: number): Promise<Msg[]> {
    await sleep(ms);
    return this.queue.splice(0);
  }
}

const sub = (coin: string, method = 'subscribe') => ({
  method,
  subscription: { type: 'activeAssetCtx', coin },
});

describe('Hyperliquid simulator', () => {
  let sim: HyperliquidSimulator | undefined;
  const clients: Client[] = [];
  const start = async (opts: Parameters<typeof startHyperliquidSimulator>[0] = {}) => {
    sim = await startHyperliquidSimulator({ startTs: START_TS, tickMs: 20, ...opts });
    return sim;
  };
  /** A client past the greeting. */
  const connect = async () => {
    const c = await Client.open(sim!.wsUrl);
    clients.push(c);
    expect(await c.next()).toEqual({ raw: 'Websocket connection established.' });
    return c;
  };
  afterEach(async () => {
    for (const c of clients.splice(0)) c.ws.terminate();
    await sim?.close();
    sim = undefined;
  });

  it('greets, acks a subscribe, sends the context at once and then every tick, all strings', async () => {
    const s = await start();
    expect(s.wsUrl).toMatch(/^ws:\/\/127\.0\.0\.1:\d+\/ws$/);
    const c = await connect();
    c.send(sub('BTC'));
    expect(await c.next()).toEqual({ channel: 'subscriptionResponse', data: sub('BTC') });
    const first = await c.next();
    expect(first.channel).toBe('activeAssetCtx');
    expect(coinOf(first)).toBe('BTC');
    const ctx = ctxOf(first);
    expect(Object.keys(ctx)).toEqual(CTX_KEYS);
    for (const key of CTX_KEYS.filter((k) => k !== 'impactPxs')) expect(typeof ctx[key], key).toBe('string');
    expect(Number(ctx.markPx)).toBeCloseTo(63_500, -3);
    // hourly funding: the scripted 8-hour rate around 0.0001 is about 0.0000125 an hour
    expect(Math.abs(Number(ctx.funding))).toBeLessThan(0.0001);
    expect(s.subscriptions()).toEqual(['BTC']);
    const later = await c.drain(120);
    expect(later.length).toBeGreaterThanOrEqual(3);
    expect(later.every((m) => m.channel === 'activeAssetCtx' && coinOf(m) === 'BTC')).toBe(true);
  });

  it('answers {"method":"ping"} with {"channel":"pong"} and counts it', async () => {
    const s = await start();
    const c = await connect();
    c.send({ method: 'ping' });
    expect(await c.next()).toEqual({ channel: 'pong' });
    expect(s.pingCount()).toBe(1);
  });

  it('reports bad requests on the error channel, as the venue does', async () => {
    const s = await start();
    const c = await connect();
    c.send(sub('XYZ'));
    expect(await c.next()).toEqual({
      channel: 'error',
      data: 'Invalid subscription {"type":"activeAssetCtx","coin":"XYZ"}',
    });
    c.send(sub('ETH'));
    await c.next();
    c.send(sub('ETH'));
    const msgs = await c.drain(100);
    expect(msgs).toContainEqual({
      channel: 'error',
      data: 'Already subscribed: {"type":"activeAssetCtx","coin":"ETH"}',
    });
    c.send(sub('SOL', 'unsubscribe'));
    expect((await c.drain(100)).filter((m) => m.channel === 'error')).toEqual([
      { channel: 'error', data: 'Already unsubscribed: {"type":"activeAssetCtx","coin":"SOL"}' },
    ]);
    c.send('hello');
    expect((await c.drain(50)).find((m) => m.channel === 'error')?.data).toMatch(/^Error parsing JSON/);
    expect(s.subscriptions()).toEqual(['ETH']);
  });

  it('unsubscribes with an ack and stops that coin', async () => {
    const s = await start();
    const c = await connect();
    c.send(sub('ETH'));
    c.send(sub('SOL'));
    await waitFor(() => s.subscriptions().length === 2);
    c.send(sub('ETH', 'unsubscribe'));
    await waitFor(() => s.subscriptions().length === 1);
    const before = await c.drain(50);
    expect(before).toContainEqual({ channel: 'subscriptionResponse', data: sub('ETH', 'unsubscribe') });
    const after = await c.drain(150);
    expect(after.length).toBeGreaterThan(0);
    expect(after.every((m) => coinOf(m) === 'SOL')).toBe(true);
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

  it('setSilent stops data, acks and pongs while the socket stays open', async () => {
    const s = await start();
    const c = await connect();
    c.send(sub('BTC'));
    await c.next();
    s.setSilent(true);
    await c.drain(30);
    c.send({ method: 'ping' });
    expect(await c.drain(200)).toEqual([]);
    expect(s.pingCount()).toBe(1);
    expect(c.ws.readyState).toBe(WebSocket.OPEN);
    s.setSilent(false);
    c.send({ method: 'ping' });
    const after = await c.drain(150);
    expect(after).toContainEqual({ channel: 'pong' });
    expect(after.some((m) => m.channel === 'activeAssetCtx')).toBe(true);
  });

  it('pause stops ticking; raw text and frames reach every client', async () => {
    const s = await start();
    const a = await connect();
    const b = await connect();
    a.send(sub('BTC'));
    await a.next();
    s.pause();
    await a.drain(30);
    expect(await a.drain(100)).toEqual([]);
    s.sendFrame({ channel: 'pong' });
    s.broadcastRaw('{"not":"closed"');
    expect(await b.next()).toEqual({ channel: 'pong' });
    expect(await b.next()).toEqual({ raw: '{"not":"closed"' });
    s.resume();
    expect((await a.drain(100)).some((m) => m.channel === 'activeAssetCtx')).toBe(true);
  });

  it('runs its event clock timeScale times faster than the wall clock', async () => {
    const s = await start({ timeScale: 60 });
    await sleep(100);
    expect(s.eventTs() - START_TS).toBeGreaterThan(100 * 60 * 0.9);
  });

  it('serves POST /info metaAndAssetCtxs, index-aligned, with a delisted coin; meta alone', async () => {
    const s = await start();
    const post = async (body: string, path = '/info', method = 'POST') => {
      const res = await fetch(`${s.restUrl}${path}`, {
        method,
        headers: { 'content-type': 'application/json' },
        ...(method === 'POST' ? { body } : {}),
      });
      return { status: res.status, text: await res.text() };
    };
    const { status, text } = await post('{"type":"metaAndAssetCtxs"}');
    expect(status).toBe(200);
    const [meta, ctxs] = JSON.parse(text) as [{ universe: Ctx[]; collateralToken: number }, Ctx[]];
    expect(meta.collateralToken).toBe(0);
    expect(meta.universe.map((u) => u.name)).toEqual(['BTC', SIM_DELISTED_COIN, 'ETH', 'SOL', 'XRP', 'DOGE']);
    expect(ctxs).toHaveLength(meta.universe.length);
    expect(meta.universe[0]).toMatchObject({ name: 'BTC', szDecimals: 5, maxLeverage: 40 });
    expect(meta.universe[1]).toMatchObject({ isDelisted: true });
    expect(ctxs[1]).toMatchObject({ midPx: null, premium: null, impactPxs: null, dayNtlVlm: '0.0' });
    expect(Number(ctxs[0]!.markPx)).toBeCloseTo(63_500, -3);
    expect(Number(ctxs[2]!.markPx)).toBeCloseTo(2_500, -2);
    for (const ctx of ctxs) expect(Object.keys(ctx)).toEqual(CTX_KEYS);

    const metaOnly = await post('{"type":"meta"}');
    expect(JSON.parse(metaOnly.text)).toEqual(meta);
    expect((await post('{"type":"nope"}')).status).toBe(422);
    expect((await post('not json')).status).toBe(400);
    expect((await post('', '/info', 'GET')).status).toBe(405);
    expect((await post('{"type":"meta"}', '/exchange')).status).toBe(404);
  });

  it('failRestNext answers the next matching call once, with status, headers and body', async () => {
    const s = await start();
    s.failRestNext('/info', { status: 429, headers: { 'retry-after': '7' }, body: '{"error":"slow down"}' });
    const init = { method: 'POST', body: '{"type":"meta"}' };
    const hit = await fetch(`${s.restUrl}/info`, init);
    expect(hit.status).toBe(429);
    expect(hit.headers.get('retry-after')).toBe('7');
    expect(await hit.text()).toBe('{"error":"slow down"}');
    const next = await fetch(`${s.restUrl}/info`, init);
    expect(next.status).toBe(200);
    await next.text();
    s.failRestNext('/other', { status: 500 });
    expect((await fetch(`${s.restUrl}/info`, init).then((r) => r.text())).startsWith('{')).toBe(true);
  });

  it('close() is idempotent and leaves no server, socket or timer behind', async () => {
    const live = new Map<number, string>();
    let tracking = true;
    const hook = createHook({
      init: (id, type) => {
        if (tracking && ['Timeout', 'TCPSERVERWRAP', 'TCPWRAP'].includes(type)) live.set(id, type);
      },
      destroy: (id) => live.delete(id),
    }).enable();
    try {
      const s = await startHyperliquidSimulator({ startTs: START_TS, tickMs: 20 });
      const c = await Client.open(s.wsUrl);
      c.send(sub('BTC'));
      await c.next();
      await fetch(`${s.restUrl}/info`, { method: 'POST', body: '{"type":"meta"}' }).then((r) => r.text());
      await Promise.all([s.close(), s.close()]);
      await s.close();
      await c.closed;
      await expect(Client.open(s.wsUrl)).rejects.toThrow(/ECONNREFUSED/);
      tracking = false;
      await waitFor(() => live.size === 0).catch(() => expect([...live.values()]).toEqual([]));
    } finally {
      hook.disable();
    }
  });
});

describe('Hyperliquid encoder', () => {
  const point: SyntheticPoint = {
    symbol: 'ETH',
    instrument: 'ETH',
    ts: START_TS,
    markPrice: 2512.3,
    lastPrice: 2512.25,
    indexPrice: 2513.1,
    oiBase: 451234.5678,
    fundingRate: 0.0000125,
    fundingIntervalHours: 1,
    nextFundingTs: START_TS - 20 * 60_000 + HOUR_MS,
    turnover24hUsd: 1_234_567_890.1234,
  };

  it('encodes one activeAssetCtx frame a few ms after the event, carrying exactly the point', () => {
    const frames = encodeHyperliquidFrames(point, true);
    expect(frames).toHaveLength(1);
    const [{ t, frame, source }] = frames as [{ t: number; frame: string; source?: string }];
    expect(t - point.ts).toBeGreaterThan(0);
    expect(t - point.ts).toBeLessThan(20);
    expect(source).toBeUndefined();
    expect(encodeHyperliquidFrames(point, false)).toEqual(frames);
    const parsed = JSON.parse(frame);
    expect(parsed.channel).toBe('activeAssetCtx');
    expect(parsed.data.ctx.funding).toBe('0.0000125');
    expect(parsed.data.ctx.markPx).toBe('2512.3');

    const [ev] = createHyperliquidAdapter().createParser().parse(frame, t).events;
    expect(ev).toEqual({
      type: 'market',
      venue: 'hyperliquid',
      symbol: 'ETH',
      instrument: 'ETH',
      eventTs: t,
      receiveTs: t,
      markPrice: point.markPrice,
      lastPrice: point.lastPrice,
      indexPrice: point.indexPrice,
      oiBase: point.oiBase,
      fundingRate: point.fundingRate,
      fundingIntervalHours: 1,
      nextFundingTs: point.nextFundingTs,
      fundingRateCap: 0.04,
      fundingRateFloor: -0.04,
      turnover24hUsd: point.turnover24hUsd,
    });
  });

  it('writes plain decimals that read back as the same number', () => {
    for (const x of [0, 1e-7, -2.5e-8, 0.0000052974, 80640, 1.5e21, 123.456, 7300000000]) {
      const s = decimalString(x);
      expect(s, String(x)).toMatch(/^-?\d+\.\d+$/);
      expect(Number(s)).toBe(x);
    }
    expect(decimalString(80640)).toBe('80640.0');
    expect(decimalString(1e-7)).toBe('0.0000001');
    expect(() => decimalString(Number.NaN)).toThrow(RangeError);
  });

  it('turns the scripted 8-hour funding into the hourly rate and rounds to the venue precision', () => {
    const m = createScriptedMarket({ symbols: DEFAULT_MARKET_SYMBOLS, startTs: START_TS, seed: 2 });
    const ts = START_TS + 1234;
    const p = hyperliquidPoint(m, 'BTC', ts);
    const s = m.stateAt('BTC', ts);
    expect(p.fundingRate).toBeCloseTo(s.fundingRate / 8, 10);
    expect(p.fundingIntervalHours).toBe(1);
    expect(p.nextFundingTs).toBe(Date.UTC(2026, 7, 13, 11));
    expect(p.markPrice.toString().replace('.', '').replace(/^0+/, '').length).toBeLessThanOrEqual(5);
    expect(p.oiBase).toBeCloseTo(s.oiBase, 4);
  });
});
