/**
 * A local Bybit v5 public linear simulator: WebSocket `tickers.{symbol}` and
 * `allLiquidation.{symbol}`, and REST tickers, instruments-info, account-ratio, and open-interest
 * and mark-price-kline history (`history-sim.ts`) on one loopback port, in the real wire format
 * (protocol mirror of https://bybit-exchange.github.io/docs/v5/websocket/public/ticker,
 * .../all-liquidation, docs/v5/market/tickers and .../long-short-ratio).
 * Faults for component tests: drops, a dead-but-open connection, raw frames.
 */
import { randomUUID } from 'node:crypto';
import { createServer } from 'node:http';
import { type WebSocket, WebSocketServer } from 'ws';
import type { RestRequestLogEntry } from './binance-sim-rest.js';
import { bybitLiquidationFrame } from './bybit-encode.js';
import { bybitRestResponse, bybitTickerData, listings } from './bybit-sim-rest.js';
import { bybitHistory } from './history-sim.js';
import {
  listenOnLoopback,
  type SimLogger,
  type SimulatorControls,
  type SimulatorOptions,
  simEventClock,
} from './options.js';
import { commonControls, type SimFlags, sendTo, simMarket } from './server.js';

export type { RestRequestLogEntry, SimLogger };
export { bybitRestResponse, bybitTickerData };

const WS_PATH = '/v5/public/linear';

export interface BybitSimulatorOptions extends SimulatorOptions {
  /**
   * Wall ms between two `allLiquidation` pushes of a subscription; default 500 (the venue's push
   * period). Each push carries every order of the event time since the last one.
   */
  readonly liquidationPushMs?: number;
}

export interface BybitSimulator extends SimulatorControls {
  /** `ws://127.0.0.1:PORT/v5/public/linear` */
  readonly wsUrl: string;
  /**
   * `tickers` topics currently subscribed, across connections, sorted and deduplicated: one per
   * followed instrument (the `allLiquidation` topics are in `liquidationSubscriptions()`).
   */
  subscriptions(): string[];
  /** `allLiquidation` topics currently subscribed, across connections, sorted and deduplicated. */
  liquidationSubscriptions(): string[];
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
  /** `tickers` topic → the fields last sent, or null while its snapshot is still owed. */
  readonly topics: Map<string, Fields | null>;
  /** `allLiquidation` topic → the event time its pushes have covered up to. */
  readonly liquidations: Map<string, number>;
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
    const m = /^(?:tickers|allLiquidation)\.(.+)USDT$/.exec(topic);
    return m?.[1] && market.has(m[1]) ? m[1] : null;
  };
  const isLiquidationTopic = (topic: string) => topic.startsWith('allLiquidation.');
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

  /** Every order since the last push of each subscription, as the venue does (complete coverage). */
  const pushLiquidations = () => {
    if (flags.silent || flags.paused) return;
    const ts = eventTs();
    for (const c of conns) {
      for (const [topic, fromTs] of c.liquidations) {
        const orders = market.liquidationsBetween(symbolOf(topic)!, fromTs, ts);
        c.liquidations.set(topic, ts);
        if (orders.length > 0)
          send(c, bybitLiquidationFrame(topic.slice('allLiquidation.'.length), orders, ts));
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
    const mapOf = (t: string): Map<string, unknown> => (isLiquidationTopic(t) ? c.liquidations : c.topics);
    if (op === 'unsubscribe') for (const t of good) mapOf(t).delete(t);
    const added = op === 'subscribe' ? good.filter((t) => !mapOf(t).has(t)) : [];
    const now = eventTs();
    // A new liquidation subscription starts at its subscription: nothing older is replayed.
    for (const t of added) {
      if (isLiquidationTopic(t)) c.liquidations.set(t, now);
      else c.topics.set(t, null);
    }
    if (bad.length > 0) reply(false, `Invalid symbol :[${bad.join(',')}]`);
    else if (op === 'subscribe' && added.length < good.length) reply(false, 'error:already subscribed');
    else reply(true, '');
    if (flags.silent) return;
    const ts = eventTs();
    for (const t of added) {
      if (!isLiquidationTopic(t)) emit(c, t, bybitTickerData(market, symbolOf(t)!, ts), ts);
    }
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
    const c: Conn = { ws, id: `sim-${randomUUID()}`, topics: new Map(), liquidations: new Map() };
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
  const liquidationTimer = setInterval(pushLiquidations, opts.liquidationPushMs ?? 500);

  return {
    ...commonControls({ conns, flags, timers: [timer, liquidationTimer], wss, http }),
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
    liquidationSubscriptions: () =>
      [...new Set([...conns].flatMap((c) => [...c.liquidations.keys()]))].sort(),
    pingCount: () => pings,
  };
}
