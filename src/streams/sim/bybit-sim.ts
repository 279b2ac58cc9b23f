/**
 * A local Bybit v5 public linear simulator: WebSocket `tickers.{symbol}` and REST tickers,
 * instruments-info, and open-interest and mark-price-kline history (`history-sim.ts`) on one
 * loopback port, in the real wire format (protocol mirror of
 * https://bybit-exchange.github.io/docs/v5/websocket/public/ticker and docs/v5/market/tickers).
 * Faults for component tests: drops, a dead-but-open connection, raw frames.
 */
import { randomUUID } from 'node:crypto';
import { createServer } from 'node:http';
import { type WebSocket, WebSocketServer } from 'ws';
import type { RestRequestLogEntry } from './binance-sim-rest.js';
import { bybitHistory } from './history-sim.js';
import { formatPrice, priceDecimals, type ScriptedMarket } from './market.js';
import {
  listenOnLoopback,
  type SimLogger,
  type SimulatorControls,
  type SimulatorOptions,
  simEventClock,
} from './options.js';
import { commonControls, type SimFlags, sendTo, simMarket } from './server.js';

export type { RestRequestLogEntry, SimLogger };

const WS_PATH = '/v5/public/linear';
const HOUR_MS = 3_600_000;
const FUTURE_DELIVERY = '2113286400000';

export type BybitSimulatorOptions = SimulatorOptions;

export interface BybitSimulator extends SimulatorControls {
  /** `ws://127.0.0.1:PORT/v5/public/linear` */
  readonly wsUrl: string;
  /** Topics currently subscribed, across connections, sorted and deduplicated. */
  subscriptions(): string[];
  /** Pings received (answered or not). */
  pingCount(): number;
  /** Silent: no data frames, acks or pongs, while sockets stay open. */
  setSilent(silent: boolean): void;
  /** The next REST call whose path starts with `pathPrefix` gets this answer (e.g. 429, 403). */
  failRestNext(pathPrefix: string, fault: RestFault): void;
  /** REST requests seen so far (path with query, wall-clock arrival), in order. */
  restRequestLog(): RestRequestLogEntry[];
}

/** An injected REST answer. */
export interface RestFault {
  readonly status: number;
  readonly headers?: Readonly<Record<string, string>>;
  readonly body?: unknown;
}

type Fields = Record<string, string>;

interface Conn {
  readonly ws: WebSocket;
  readonly id: string;
  /** Topic → the fields last sent, or null while its snapshot is still owed. */
  readonly topics: Map<string, Fields | null>;
}

/** The full Bybit linear ticker field set for `symbol` at `ts`, every number a decimal string. */
export function bybitTickerData(market: ScriptedMarket, symbol: string, ts: number): Fields {
  const s = market.stateAt(symbol, ts);
  const hourTs = Math.floor(ts / HOUR_MS) * HOUR_MS;
  const lastAt = (t: number) => market.stateAt(symbol, t).lastPrice;
  const hourly = Array.from({ length: 24 }, (_, k) => lastAt(hourTs - k * HOUR_MS));
  const prev24h = lastAt(hourTs - 24 * HOUR_MS);
  const before = lastAt(ts - 1_000);
  const single = s.oiBase.toFixed(3);
  const both = (2 * Number(single)).toFixed(3);
  const tick = 10 ** -priceDecimals(s.lastPrice);
  const size = (k: number) => (0.5 + hashSize(ts, k)).toFixed(3);
  return {
    symbol: `${symbol}USDT`,
    tickDirection: s.lastPrice > before ? 'PlusTick' : s.lastPrice < before ? 'MinusTick' : 'ZeroPlusTick',
    price24hPcnt: (s.lastPrice / prev24h - 1).toFixed(6),
    lastPrice: formatPrice(s.lastPrice),
    prevPrice24h: formatPrice(prev24h),
    highPrice24h: formatPrice(Math.max(s.lastPrice, ...hourly)),
    lowPrice24h: formatPrice(Math.min(s.lastPrice, ...hourly)),
    prevPrice1h: formatPrice(lastAt(hourTs - HOUR_MS)),
    markPrice: formatPrice(s.markPrice),
    indexPrice: formatPrice(s.indexPrice),
    openInterest: both,
    openInterestValue: (Number(both) * s.markPrice).toFixed(2),
    turnover24h: s.turnover24hUsd.toFixed(4),
    volume24h: (s.turnover24hUsd / s.lastPrice).toFixed(4),
    fundingIntervalHour: String(s.fundingIntervalHours),
    fundingCap: '0.005',
    singleOpenInterest: single,
    singleOpenInterestValue: (Number(single) * s.markPrice).toFixed(2),
    nextFundingTime: String(s.nextFundingTs),
    fundingRate: s.fundingRate.toFixed(8),
    bid1Price: formatPrice(s.lastPrice - tick),
    bid1Size: size(1),
    ask1Price: formatPrice(s.lastPrice),
    ask1Size: size(2),
    preOpenPrice: '',
    preQty: '',
    curPreListingPhase: '',
  };
}

function hashSize(ts: number, k: number): number {
  return (((Math.floor(ts / 1_000) * 2_654_435_761 + k * 40_503) >>> 0) % 10_000) / 1_000;
}

interface Listing {
  readonly name: string;
  readonly base: string;
  readonly quote: 'USDT' | 'USDC';
  readonly future: boolean;
}

/** `category=linear` mixes USDT perps, USDT dated futures and USDC perps; serve one of each kind. */
function listings(market: ScriptedMarket): Listing[] {
  const [first = 'BTC', second = first] = market.symbols;
  return [
    ...market.symbols.map((base) => ({ name: `${base}USDT`, base, quote: 'USDT' as const, future: false })),
    { name: `${first}USDT-26DEC36`, base: first, quote: 'USDT', future: true },
    { name: `${second}PERP`, base: second, quote: 'USDC', future: false },
  ];
}

function instrument(market: ScriptedMarket, l: Listing) {
  return {
    symbol: l.name,
    contractType: l.future ? 'LinearFutures' : 'LinearPerpetual',
    status: 'Trading',
    baseCoin: l.base,
    quoteCoin: l.quote,
    settleCoin: l.quote,
    launchTime: '1585526400000',
    deliveryTime: l.future ? FUTURE_DELIVERY : '0',
    priceScale: String(priceDecimals(market.spec(l.base).basePrice)),
    fundingInterval: l.future ? 0 : 480,
    upperFundingRate: '0.005',
    lowerFundingRate: '-0.005',
    isPreListing: false,
    preListingInfo: null,
  };
}

function restTicker(market: ScriptedMarket, l: Listing, ts: number): Fields {
  const t = { ...bybitTickerData(market, l.base, ts), symbol: l.name, basis: '', deliveryTime: '0' };
  const noFunding = { fundingRate: '', fundingIntervalHour: '', fundingCap: '', nextFundingTime: '' };
  return l.future ? { ...t, ...noFunding, deliveryTime: FUTURE_DELIVERY } : t;
}

/** The REST answer for `GET path?query`: tickers and instruments-info (paginated), else 404. */
export function bybitRestResponse(market: ScriptedMarket, path: string, query: URLSearchParams, ts: number) {
  const answer = (status: number, retCode: number, retMsg: string, result: object = {}) => ({
    status,
    body: { retCode, retMsg, result, retExtInfo: {}, time: ts },
  });
  if (path !== '/v5/market/tickers' && path !== '/v5/market/instruments-info') {
    return answer(404, 404, 'Not Found');
  }
  if (query.get('category') !== 'linear') return answer(200, 10001, 'Illegal category');
  const symbol = query.get('symbol');
  const all = listings(market).filter((l) => !symbol || l.name === symbol);
  if (path === '/v5/market/tickers') {
    if (all.length === 0) return answer(200, 10001, 'Not supported symbols');
    return answer(200, 0, 'OK', { category: 'linear', list: all.map((l) => restTicker(market, l, ts)) });
  }
  const limit = Math.min(1000, Math.max(1, Number(query.get('limit') ?? 500) || 500));
  const offset = Number(query.get('cursor') ?? 0) || 0;
  const list = all.slice(offset, offset + limit).map((l) => instrument(market, l));
  const nextPageCursor = offset + limit < all.length ? String(offset + limit) : '';
  return answer(200, 0, 'OK', { category: 'linear', list, nextPageCursor });
}

export async function startBybitSimulator(opts: BybitSimulatorOptions = {}): Promise<BybitSimulator> {
  const startTs = opts.startTs ?? Date.now();
  const market = simMarket(opts, startTs);
  const log = opts.logger;
  const eventTs = simEventClock(opts, startTs);
  const conns = new Set<Conn>();
  const cs = new Map<string, number>();
  const flags: SimFlags = { silent: false, paused: false };
  let pings = 0;

  const symbolOf = (topic: string): string | null => {
    const m = /^tickers\.(.+)USDT$/.exec(topic);
    return m?.[1] && market.has(m[1]) ? m[1] : null;
  };
  const send = (c: Conn, payload: unknown) => sendTo(c.ws, payload);
  /** Sends what a subscription is owed: a snapshot first, then only the changed fields. */
  const emit = (c: Conn, topic: string, data: Fields, ts: number) => {
    const last = c.topics.get(topic);
    if (last === undefined) return;
    const changed = last ? Object.keys(data).filter((k) => data[k] !== last[k]) : [];
    if (last && changed.length === 0) return;
    const delta = Object.fromEntries([['symbol', data.symbol], ...changed.map((k) => [k, data[k]])]);
    const n = (cs.get(topic) ?? 1_000_000) + 1;
    cs.set(topic, n);
    send(c, { topic, type: last ? 'delta' : 'snapshot', data: last ? delta : data, cs: n, ts });
    c.topics.set(topic, data);
  };

  const tick = () => {
    if (flags.silent || flags.paused) return;
    const ts = eventTs();
    const cache = new Map<string, Fields>();
    const dataOf = (topic: string) => cache.get(topic) ?? bybitTickerData(market, symbolOf(topic)!, ts);
    for (const c of conns) {
      for (const topic of c.topics.keys()) {
        cache.set(topic, dataOf(topic));
        emit(c, topic, cache.get(topic)!, ts);
      }
    }
  };

  const onMessage = (c: Conn, text: string) => {
    let msg: { op?: unknown; args?: unknown; req_id?: unknown } = {};
    try {
      msg = Object(JSON.parse(text));
    } catch {
      // Not JSON: answered below as an unknown op.
    }
    const reqId = typeof msg.req_id === 'string' ? msg.req_id : msg.req_id == null ? '' : String(msg.req_id);
    const op = typeof msg.op === 'string' ? msg.op : '';
    const reply = (success: boolean, retMsg: string) => {
      if (!flags.silent) send(c, { success, ret_msg: retMsg, conn_id: c.id, req_id: reqId, op });
    };
    if (op === 'ping') {
      pings++;
      return reply(true, 'pong');
    }
    if (op !== 'subscribe' && op !== 'unsubscribe') return reply(false, `error:invalid op ${op}`);
    const args = Array.isArray(msg.args) ? msg.args.filter((a): a is string => typeof a === 'string') : [];
    const bad = args.filter((a) => symbolOf(a) === null);
    const good = args.filter((a) => symbolOf(a) !== null);
    if (op === 'unsubscribe') for (const t of good) c.topics.delete(t);
    const added = op === 'subscribe' ? good.filter((t) => !c.topics.has(t)) : [];
    for (const t of added) c.topics.set(t, null);
    if (bad.length > 0) reply(false, `Invalid symbol :[${bad.join(',')}]`);
    else if (op === 'subscribe' && added.length < good.length) reply(false, 'error:already subscribed');
    else reply(true, '');
    if (flags.silent) return;
    const ts = eventTs();
    for (const t of added) emit(c, t, bybitTickerData(market, symbolOf(t)!, ts), ts);
  };

  const restFaults: { prefix: string; fault: RestFault }[] = [];
  const restLog: RestRequestLogEntry[] = [];
  const historySymbols = new Map(listings(market).map((l) => [l.name, l.base]));
  const http = createServer((req, res) => {
    const url = new URL(req.url ?? '/', 'http://sim');
    restLog.push({ path: `${url.pathname}${url.search}`, wallMs: Date.now() });
    const faultAt = restFaults.findIndex((f) => url.pathname.startsWith(f.prefix));
    if (faultAt >= 0) {
      const { fault } = restFaults.splice(faultAt, 1)[0]!;
      res
        .writeHead(fault.status, { 'content-type': 'application/json', ...fault.headers })
        .end(JSON.stringify(fault.body ?? { retCode: 10006, retMsg: 'Too many visits!' }));
      return;
    }
    const path = req.method === 'GET' ? url.pathname : '';
    const ts = eventTs();
    const { status, body } =
      bybitHistory(market, historySymbols, path, url.searchParams, ts) ??
      bybitRestResponse(market, path, url.searchParams, ts);
    res.writeHead(status, { 'content-type': 'application/json' }).end(JSON.stringify(body));
  });
  const wss = new WebSocketServer({ server: http, path: WS_PATH });
  wss.on('connection', (ws) => {
    const c: Conn = { ws, id: `sim-${randomUUID()}`, topics: new Map() };
    conns.add(c);
    log?.debug({ connId: c.id }, 'bybit sim: client connected');
    ws.on('message', (data) => onMessage(c, data.toString()));
    ws.on('close', () => conns.delete(c));
    ws.on('error', (err) => log?.warn({ err, connId: c.id }, 'bybit sim: client socket error'));
  });

  // With `server`, ws re-emits the HTTP server's errors (e.g. EADDRINUSE) on itself.
  wss.on('error', (err) => log?.warn({ err }, 'bybit sim: server error'));
  const port = await listenOnLoopback(http, wss, opts);
  const host = opts.host ?? '127.0.0.1';
  const timer = setInterval(tick, opts.tickMs ?? 200);

  return {
    ...commonControls({ conns, flags, timers: [timer], wss, http }),
    failRestNext(pathPrefix, fault) {
      restFaults.push({ prefix: pathPrefix, fault });
    },
    restRequestLog: () => [...restLog],
    wsUrl: `ws://${host}:${port}${WS_PATH}`,
    restUrl: `http://${host}:${port}`,
    port,
    market,
    eventTs,
    subscriptions: () => [...new Set([...conns].flatMap((c) => [...c.topics.keys()]))].sort(),
    pingCount: () => pings,
  };
}
