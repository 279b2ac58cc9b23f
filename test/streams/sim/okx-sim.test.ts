import { afterEach, describe, expect, it } from 'vitest';
import WebSocket from 'ws';
import { type OkxSimulator, okxChannelFrame, startOkxSimulator } from '../../../src/streams/sim/okx-sim.js';
import { okxPoint, plainDecimal } from '../../../src/streams/sim/okx-sim-rest.js';

interface Msg {
  event?: string;
  code?: string;
  msg?: string;
  id?: string;
  connId?: string;
  arg?: { channel: string; instId: string };
  data?: Record<string, string>[];
  /** Set instead of the fields when the text was not JSON. */
  raw?: string;
  text: string;
}

/** A real `ws` client that queues every message for ordered assertions. */
class Client {
  readonly all: Msg[] = [];
  private read = 0;
  readonly closed: Promise<void>;

  private constructor(readonly ws: WebSocket) {
    ws.on('message', (d) => {
      const text = d.toString();
      try {
        this.all.push({ ...(JSON.parse(text) as object), text });
      } catch {
        this.all.push({ raw: text, text });
      }
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
    this.ws.send(typeof msg === 'string' ? msg : JSON.stringify(msg));
  }

  /** The next message matching `pred`, skipping others. */
  async next(pred: (m: Msg) => boolean = () => true, timeoutMs = 3000): Promise<Msg> {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      while (this.read < this.all.length) {
        const m = this.all[this.read++]!;
        if (pred(m)) return m;
      }
      if (Date.now() > deadline) throw new Error('timed out waiting for a message');
      await new Promise((r) => setTimeout(r, 5));
    }
  }
}

let sim: OkxSimulator | undefined;
const clients: Client[] = [];

afterEach(async () => {
  for (const c of clients.splice(0)) c.ws.terminate();
  await sim?.close();
  sim = undefined;
});

async function client(): Promise<Client> {
  const c = await Client.open(sim!.wsUrl);
  clients.push(c);
  return c;
}

const push = (channel: string, instId: string) => (m: Msg) =>
  m.arg?.channel === channel && m.arg.instId === instId && Array.isArray(m.data);

describe('okx simulator websocket', () => {
  it('answers the text ping with the text pong and counts pings', async () => {
    sim = await startOkxSimulator();
    expect(sim.wsUrl).toMatch(/^ws:\/\/127\.0\.0\.1:\d+\/ws\/v5\/public$/);
    const c = await client();
    c.send('ping');
    expect((await c.next()).raw).toBe('pong');
    expect(sim.pingCount()).toBe(1);
    sim.setSilent(true);
    c.send('ping');
    await new Promise((r) => setTimeout(r, 100));
    expect(c.all).toHaveLength(1);
    expect(sim.pingCount()).toBe(2);
  });

  it('acks each arg, pushes at once, rejects unknown channels and instruments with 60018', async () => {
    sim = await startOkxSimulator();
    const c = await client();
    c.send({
      id: 'sub0',
      op: 'subscribe',
      args: [
        { channel: 'mark-price', instId: 'BTC-USDT-SWAP' },
        { channel: 'candle1m', instId: 'BTC-USDT-SWAP' },
        { channel: 'tickers', instId: 'NOPE-USDT-SWAP' },
        { channel: 'funding-rate', instId: 'ETH-USDT-SWAP' },
      ],
    });
    const ack = await c.next((m) => m.event === 'subscribe');
    expect(ack).toMatchObject({ id: 'sub0', arg: { channel: 'mark-price', instId: 'BTC-USDT-SWAP' } });
    expect(ack.connId).toMatch(/^[0-9a-f]{8}$/);
    await c.next((m) => m.event === 'subscribe' && m.arg?.channel === 'funding-rate');
    expect(c.all.filter((m) => m.event === 'error').map((m) => m.code)).toEqual(['60018', '60018']);
    const funding = await c.next(push('funding-rate', 'ETH-USDT-SWAP'));
    // each push follows its own ack
    const mark = c.all.findIndex(push('mark-price', 'BTC-USDT-SWAP'));
    expect(c.all[mark - 1]).toMatchObject({ event: 'subscribe', arg: { channel: 'mark-price' } });
    expect(Object.keys(c.all[mark]!.data![0]!)).toEqual(['instId', 'instType', 'markPx', 'ts']);
    const f = funding.data![0]!;
    expect(f.nextFundingRate).toBe('');
    expect(Number(f.nextFundingTime) - Number(f.fundingTime)).toBe(8 * 3_600_000);
    expect(sim.subscriptions()).toEqual(['funding-rate:ETH-USDT-SWAP', 'mark-price:BTC-USDT-SWAP']);
    c.send({ op: 'unsubscribe', args: [{ channel: 'mark-price', instId: 'BTC-USDT-SWAP' }] });
    await c.next((m) => m.event === 'unsubscribe');
    expect(sim.subscriptions()).toEqual(['funding-rate:ETH-USDT-SWAP']);
  });

  it('answers a request it cannot read with 60012 and bad args with 60013', async () => {
    sim = await startOkxSimulator();
    const c = await client();
    c.send('hello');
    expect(await c.next()).toMatchObject({ event: 'error', code: '60012' });
    c.send({ op: 'subscribe', argss: [] });
    expect(await c.next()).toMatchObject({ event: 'error', code: '60013' });
    c.send({ op: 'login', args: [{}] });
    expect(await c.next()).toMatchObject({ event: 'error', code: '60012' });
  });

  it('pushes the encoder’s frames; open-interest at most every 3 s, funding less often', async () => {
    sim = await startOkxSimulator({ tickMs: 20, timeScale: 100, fundingPushMs: 60_000 });
    const c = await client();
    c.send({
      op: 'subscribe',
      args: ['open-interest', 'funding-rate', 'mark-price', 'tickers'].map((channel) => ({
        channel,
        instId: 'SOL-USDT-SWAP',
      })),
    });
    await new Promise((r) => setTimeout(r, 1500)); // 150 s of event time
    const pushes = c.all.filter((m) => Array.isArray(m.data));
    const tsOf = (channel: string) =>
      pushes.filter((m) => m.arg?.channel === channel).map((m) => Number(m.data![0]!.ts));
    const oi = tsOf('open-interest');
    expect(oi.length).toBeGreaterThan(10);
    expect(oi.slice(1).every((ts, i) => ts - oi[i]! >= 3000)).toBe(true);
    const funding = tsOf('funding-rate');
    expect(funding.length).toBeGreaterThanOrEqual(2);
    expect(funding.slice(1).every((ts, i) => ts - funding[i]! >= 60_000)).toBe(true);
    expect(tsOf('mark-price').length).toBeGreaterThan(oi.length);
    for (const m of pushes.slice(-8)) {
      const ts = Number(m.data![0]!.ts);
      const channel = m.arg!.channel as 'open-interest';
      expect(m.text).toBe(okxChannelFrame(channel, okxPoint(sim.market, 'SOL', ts)));
    }
  });

  it('sends the 64008 notice, broadcasts raw text, and drops on demand', async () => {
    sim = await startOkxSimulator();
    const c = await client();
    sim.sendNotice64008();
    expect(await c.next()).toMatchObject({ event: 'notice', code: '64008' });
    sim.broadcastRaw('garbage');
    expect((await c.next()).raw).toBe('garbage');
    expect(sim.connectionCount()).toBe(1);
    sim.dropAll();
    await c.closed;
  });

  it('close() is idempotent and leaves no socket or server', async () => {
    sim = await startOkxSimulator({ tickMs: 10 });
    const c = await client();
    c.send({ op: 'subscribe', args: [{ channel: 'mark-price', instId: 'BTC-USDT-SWAP' }] });
    await c.next(push('mark-price', 'BTC-USDT-SWAP'));
    const { restUrl, wsUrl } = sim;
    await Promise.all([sim.close(), sim.close()]);
    await sim.close();
    await c.closed;
    expect(sim.connectionCount()).toBe(0);
    await expect(fetch(`${restUrl}/api/v5/public/instruments?instType=SWAP`)).rejects.toThrow();
    await expect(Client.open(wsUrl)).rejects.toThrow();
  });
});

describe('okx simulator REST', () => {
  it('lists SWAP instruments of every kind, in OKX’s envelope', async () => {
    sim = await startOkxSimulator();
    const res = await fetch(`${sim.restUrl}/api/v5/public/instruments?instType=SWAP`);
    expect(res.status).toBe(200);
    const body = (await res.json()) as { code: string; msg: string; data: Record<string, string>[] };
    expect(body.code).toBe('0');
    const btc = body.data.find((r) => r.instId === 'BTC-USDT-SWAP');
    expect(btc).toMatchObject({
      instType: 'SWAP',
      ctType: 'linear',
      ctVal: '0.01',
      ctValCcy: 'BTC',
      settleCcy: 'USDT',
      state: 'live',
      uly: 'BTC-USDT',
    });
    expect(body.data.find((r) => r.instId === 'BTC-USD-SWAP')).toMatchObject({
      ctType: 'inverse',
      settleCcy: 'BTC',
      ctValCcy: 'USD',
    });
    expect(body.data.some((r) => r.settleCcy === 'USDC')).toBe(true);
    expect(body.data.some((r) => r.state === 'suspend')).toBe(true);
    const one = await fetch(`${sim.restUrl}/api/v5/public/instruments?instType=SWAP&instId=ETH-USDT-SWAP`);
    expect(((await one.json()) as { data: unknown[] }).data).toHaveLength(1);
  });

  it('serves tickers whose volCcy24h × last is the point’s turnover', async () => {
    sim = await startOkxSimulator();
    const body = (await (await fetch(`${sim.restUrl}/api/v5/market/tickers?instType=SWAP`)).json()) as {
      data: Record<string, string>[];
    };
    const eth = body.data.find((r) => r.instId === 'ETH-USDT-SWAP')!;
    expect(eth).toMatchObject({ instType: 'SWAP', last: expect.any(String), volCcy24h: expect.any(String) });
    const p = okxPoint(sim.market, 'ETH', Number(eth.ts));
    expect(Number(eth.volCcy24h) * Number(eth.last)).toBeCloseTo(p.turnover24hUsd, 2);
    expect(eth.last).toBe(plainDecimal(p.lastPrice));
  });

  it('rejects a missing instType and unknown paths', async () => {
    sim = await startOkxSimulator();
    const bad = await fetch(`${sim.restUrl}/api/v5/market/tickers`);
    expect(bad.status).toBe(400);
    expect(await bad.json()).toMatchObject({ code: '51000' });
    expect((await fetch(`${sim.restUrl}/api/v5/public/funding-rate?instId=BTC-USDT-SWAP`)).status).toBe(404);
  });

  it('injects a fault on the next call to a path prefix only', async () => {
    sim = await startOkxSimulator();
    sim.failRestNext('/api/v5/market/', { status: 429, headers: { 'retry-after': '3' } });
    const instruments = await fetch(`${sim.restUrl}/api/v5/public/instruments?instType=SWAP`);
    expect(instruments.status).toBe(200);
    const limited = await fetch(`${sim.restUrl}/api/v5/market/tickers?instType=SWAP`);
    expect(limited.status).toBe(429);
    expect(limited.headers.get('retry-after')).toBe('3');
    expect(await limited.json()).toMatchObject({ code: '50011' });
    expect((await fetch(`${sim.restUrl}/api/v5/market/tickers?instType=SWAP`)).status).toBe(200);
    sim.failRestNext('/api/v5/public/instruments', { status: 500, body: 'oops' });
    const failed = await fetch(`${sim.restUrl}/api/v5/public/instruments?instType=SWAP`);
    expect([failed.status, await failed.text()]).toEqual([500, 'oops']);
  });
});

interface LiqDetail {
  bkLoss: string;
  bkPx: string;
  ccy: string;
  posSide: string;
  side: string;
  sz: string;
  ts: string;
}
interface LiqElement {
  details: LiqDetail[];
  instFamily: string;
  instId: string;
  instType: string;
  uly: string;
}
const liquidationPush = (m: Msg) => m.arg?.channel === 'liquidation-orders' && m.event === undefined;
const elementsOf = (m: Msg) => (JSON.parse(m.text) as { data: LiqElement[] }).data;

/** A market with long and short cascades running since 100 s before the event clock starts. */
async function liquidationSim(): Promise<OkxSimulator> {
  const startTs = Date.UTC(2026, 11, 1);
  const wallStart = performance.now();
  return startOkxSimulator({
    startTs,
    eventClock: () => Math.round(startTs + 100_000 + (performance.now() - wallStart) * 20),
    liquidations: [
      { symbol: 'BTC', atTs: startTs, durationMs: 3_600_000, side: 'long', totalUsd: 5e8 },
      { symbol: 'ETH', atTs: startTs, durationMs: 3_600_000, side: 'short', totalUsd: 2e8 },
    ],
    tickMs: 20,
  });
}

describe('okx simulator liquidation-orders', () => {
  it('acks like OKX, then a first push of older orders, then live pushes in the real shape', async () => {
    sim = await liquidationSim();
    const c = await client();
    c.send({ id: 'liq1', op: 'subscribe', args: [{ channel: 'liquidation-orders', instType: 'SWAP' }] });
    const ack = await c.next((m) => m.event === 'subscribe');
    expect(Object.keys(ack).filter((k) => k !== 'text')).toEqual(['id', 'event', 'arg', 'connId']);
    expect(ack).toMatchObject({ id: 'liq1', arg: { channel: 'liquidation-orders', instType: 'SWAP' } });
    expect(sim.liquidationSubscriptions()).toBe(1);
    expect(sim.subscriptions()).toEqual([]);
    const subscribedTs = sim.eventTs();
    // The first push repeats up to a minute of orders from before the subscription, grouped by instrument.
    const first = elementsOf(await c.next(liquidationPush));
    const firstTs = first.flatMap((e) => e.details.map((d) => Number(d.ts)));
    expect(Math.max(...firstTs)).toBeLessThanOrEqual(subscribedTs);
    expect(Math.min(...firstTs)).toBeLessThan(subscribedTs - 30_000);
    expect(first.find((e) => e.instId === 'BTC-USDT-SWAP')!.details.length).toBeGreaterThan(10);
    await new Promise((r) => setTimeout(r, 1500));
    const live = c.all.slice(c.all.indexOf(c.all.find(liquidationPush)!) + 1).filter(liquidationPush);
    expect(live.length).toBeGreaterThan(20);
    const elements: LiqElement[] = [];
    for (const m of live) {
      const frame = JSON.parse(m.text) as Record<string, unknown>;
      expect(Object.keys(frame)).toEqual(['arg', 'data']);
      expect(frame.arg).toEqual({ channel: 'liquidation-orders', instType: 'SWAP' });
      for (const el of elementsOf(m)) {
        expect(Object.keys(el)).toEqual(['details', 'instFamily', 'instId', 'instType', 'uly']);
        expect(Object.keys(el.details[0]!)).toEqual(['bkLoss', 'bkPx', 'ccy', 'posSide', 'side', 'sz', 'ts']);
        elements.push(el);
      }
    }
    const details = (instId: string) => elements.filter((e) => e.instId === instId).flatMap((e) => e.details);
    const btc = details('BTC-USDT-SWAP');
    // At most one order per contract per second, like the venue.
    for (const instId of ['BTC-USDT-SWAP', 'ETH-USDT-SWAP', 'BTC-USD-SWAP']) {
      const seconds = details(instId).map((d) => Math.ceil(Number(d.ts) / 1000));
      expect(new Set(seconds).size, instId).toBe(seconds.length);
    }
    // sz in contracts of 0.01 BTC: sz × ctVal is the market's order size (to 0.01 contract).
    for (const d of btc) {
      const [order] = sim.market.liquidationsBetween('BTC', Number(d.ts) - 1, Number(d.ts));
      expect(order).toBeDefined();
      expect(Math.abs(Number(d.sz) * 0.01 - order!.base)).toBeLessThanOrEqual(0.00005 + 1e-12);
      expect(d.bkLoss).toBe('0');
    }
    // Hedge mode names the position; net mode only the order side (sell closes a long).
    expect(new Set(btc.map((d) => `${d.posSide}/${d.side}`))).toEqual(new Set(['long/sell', 'net/sell']));
    expect(new Set(details('ETH-USDT-SWAP').map((d) => `${d.posSide}/${d.side}`))).toEqual(
      new Set(['short/buy', 'net/buy']),
    );
    // Every swap comes on the one subscription: an inverse BTC-USD-SWAP too.
    expect(details('BTC-USD-SWAP').length).toBeGreaterThan(0);
    expect(elements.find((e) => e.instId === 'BTC-USD-SWAP')).toMatchObject({
      instFamily: 'BTC-USD',
      uly: 'BTC-USD',
    });
    // Now and then an order arrives after a later one.
    const order = live.flatMap((m) => elementsOf(m).flatMap((e) => e.details.map((d) => Number(d.ts))));
    expect(order.some((ts, i) => i > 0 && ts < order[i - 1]!)).toBe(true);
    c.send({ op: 'unsubscribe', args: [{ channel: 'liquidation-orders', instType: 'SWAP' }] });
    await c.next((m) => m.event === 'unsubscribe' && m.arg?.channel === 'liquidation-orders');
    expect(sim.liquidationSubscriptions()).toBe(0);
    const after = c.all.length;
    await new Promise((r) => setTimeout(r, 200));
    expect(c.all.slice(after).filter(liquidationPush)).toEqual([]);
  });

  it('acknowledges other instTypes without data and rejects unknown ones with 60018', async () => {
    sim = await liquidationSim();
    const c = await client();
    c.send({
      op: 'subscribe',
      args: [
        { channel: 'liquidation-orders', instType: 'FUTURES' },
        { channel: 'liquidation-orders', instType: 'SPOT' },
      ],
    });
    expect(await c.next()).toMatchObject({
      event: 'subscribe',
      arg: { channel: 'liquidation-orders', instType: 'FUTURES' },
    });
    expect(await c.next()).toMatchObject({ event: 'error', code: '60018' });
    await new Promise((r) => setTimeout(r, 200));
    expect(c.all.filter(liquidationPush)).toEqual([]);
    expect(sim.liquidationSubscriptions()).toBe(0);
  });
});

describe('okx simulator rubik long/short ratios', () => {
  const ACCOUNTS = '/api/v5/rubik/stat/contracts/long-short-account-ratio-contract';
  const TOP = '/api/v5/rubik/stat/contracts/long-short-position-ratio-contract-top-trader';
  const get = async (path: string) => {
    const res = await fetch(`${sim!.restUrl}${path}`);
    return {
      status: res.status,
      body: (await res.json()) as { code: string; msg: string; data: string[][] },
    };
  };

  it('serves [ts, ratio] strings, newest first, one row per closed 5m bar', async () => {
    sim = await startOkxSimulator();
    for (const path of [ACCOUNTS, TOP]) {
      const { status, body } = await get(`${path}?instId=BTC-USDT-SWAP&period=5m&limit=3`);
      expect(status).toBe(200);
      expect(Object.keys(body)).toEqual(['code', 'msg', 'data']);
      expect(body).toMatchObject({ code: '0', msg: '' });
      expect(body.data).toHaveLength(3);
      const newest = Math.floor(sim.eventTs() / 300_000) * 300_000 - 300_000;
      expect(body.data.map((r) => Number(r[0]))).toEqual([newest, newest - 300_000, newest - 600_000]);
      for (const [ts, ratio] of body.data) {
        expect(typeof ts).toBe('string');
        expect(ratio).toMatch(/^\d+(\.\d{1,4})?$/);
        expect(Number(ratio)).toBeGreaterThan(0.3);
        expect(Number(ratio)).toBeLessThan(3);
      }
    }
    const { body: one } = await get(`${ACCOUNTS}?instId=ETH-USDT-SWAP&period=5m&limit=1`);
    expect(one.data).toHaveLength(1);
  });

  it('answers bad requests with OKX error codes', async () => {
    sim = await startOkxSimulator();
    expect((await get(`${ACCOUNTS}?period=5m`)).body).toMatchObject({ code: '50014', data: [] });
    expect((await get(`${ACCOUNTS}?instId=NOPE-USDT-SWAP`)).body).toMatchObject({ code: '51001' });
    expect((await get(`${TOP}?instId=BTC-USDT-SWAP&period=7m`)).body).toMatchObject({ code: '51000' });
    expect((await get(`${TOP}?instId=BTC-USDT-SWAP&limit=101`)).body).toMatchObject({ code: '51000' });
  });
});
