/**
 * A local Binance USDⓈ-M simulator: the `/market/stream` combined-stream WebSocket and the
 * fapi REST endpoints the adapter, universe and poller use, on one loopback port, in the real
 * wire format (protocol mirror of
 * https://developers.binance.com/docs/derivatives/usds-margined-futures/websocket-market-streams). Like the venue it pushes `!markPrice@arr@1s` in
 * two shards per tick, mixes in a COIN-M and a USDC element, pushes `!forceOrder@arr` sampled
 * to the latest order per symbol per second (COIN-M mixed in), sends ping frames, counts request
 * weight in `X-MBX-USED-WEIGHT-1M`, and answers 429 with `Retry-After` past the limit.
 */
import { createServer } from 'node:http';
import { type WebSocket, WebSocketServer } from 'ws';
import { forceOrderPayload, sampledLiquidations } from './binance-sim-forced.js';
import {
  binancePoint,
  COIN_M_SUFFIX,
  createBinanceRestHandler,
  envelope,
  markPriceElement,
  type RestFailure,
  type RestRequestLogEntry,
  tickerElement,
} from './binance-sim-rest.js';
import {
  listenOnLoopback,
  type SimLogger,
  type SimulatorControls,
  type SimulatorOptions,
  simEventClock,
} from './options.js';
import { commonControls, type SimFlags, sendTo, simMarket } from './server.js';

export { encodeBinanceFrames, type RestFailure, type RestRequestLogEntry } from './binance-sim-rest.js';
export type { SimLogger };

const WS_PATH = '/market/stream';
const MARK_STREAMS = new Set(['!markPrice@arr@1s', '!markPrice@arr']);
const TICKER_STREAM = '!ticker@arr';
const FORCE_ORDER_STREAM = '!forceOrder@arr';
/** "WebSocket connections have a limit of 10 incoming messages per second." */
const MAX_INCOMING_PER_SEC = 10;

export interface BinanceSimulatorOptions extends SimulatorOptions {
  /** Wall ms between ping frames; default 180_000 (every 3 min, as on the venue). */
  readonly pingIntervalMs?: number;
  /** Instrument → interval hours listed by `fundingInfo`; default `{ <second symbol>USDT: 4 }`. */
  readonly fundingIntervalHours?: Readonly<Record<string, number>>;
  /** Request weight per clock minute before 429s; default 2400. */
  readonly weightLimitPerMinute?: number;
  /**
   * The clock whose minutes the request weight is counted in (and `Retry-After` measured on):
   * `wall` (default), or `event`, which runs the REST side at the same speed as the frames when
   * the event clock is accelerated (`--demo` polls open interest on that clock).
   */
  readonly weightClock?: 'wall' | 'event';
}

export interface BinanceSimulator extends SimulatorControls {
  /** `ws://127.0.0.1:PORT/market/stream` */
  readonly wsUrl: string;
  /** Streams currently subscribed, across connections, sorted and deduplicated. */
  subscriptions(): string[];
  /** Ping frames sent by the server. */
  pingCount(): number;
  /** Pong frames received (ws clients answer pings by themselves). */
  pongCount(): number;
  /** REST paths (with query) requested so far, in order. */
  restRequests(): string[];
  /** The same requests with their wall-clock arrival times. */
  restRequestLog(): RestRequestLogEntry[];
  /** Silent: no data, acks or pings, while sockets stay open. */
  setSilent(silent: boolean): void;
  /** The next REST request whose path (with query) starts with `pathPrefix` gets this answer. */
  failRestNext(pathPrefix: string, failure: RestFailure): void;
}

interface Conn {
  readonly ws: WebSocket;
  readonly streams: Set<string>;
  /** Incoming message times within the last second. */
  readonly recent: number[];
}

export async function startBinanceSimulator(opts: BinanceSimulatorOptions = {}): Promise<BinanceSimulator> {
  const startTs = opts.startTs ?? Date.now();
  const market = simMarket(opts, startTs);
  const [first = 'BTC', second = first] = market.symbols;
  const intervals = new Map(Object.entries(opts.fundingIntervalHours ?? { [`${second}USDT`]: 4 }));
  const weightLimitPerMinute = opts.weightLimitPerMinute ?? 2400;
  const log = opts.logger;
  const eventTs = simEventClock(opts, startTs);
  const conns = new Set<Conn>();
  const flags: SimFlags = { silent: false, paused: false };
  let pings = 0;
  let pongs = 0;

  /** Liquidations are pushed for whole seconds of event time from here on (as they happen, never replayed). */
  let liquidationSec = Math.floor(eventTs() / 1000);
  const send = (c: Conn, text: string) => sendTo(c.ws, text);
  const pointOf = (symbol: string, instrument: string, ts: number) =>
    binancePoint(market, symbol, instrument, ts, intervals.get(instrument) ?? 8);

  /** One tick: the mark array in two shards (COIN-M in the first, USDC in the second), then tickers. */
  const tick = () => {
    const ts = eventTs();
    const fromSec = liquidationSec;
    liquidationSec = Math.max(liquidationSec, Math.floor(ts / 1000));
    if (flags.silent || flags.paused || conns.size === 0) return;
    const liquidations = forceOrderFrames(fromSec, liquidationSec);
    const um = market.symbols.map((s) => pointOf(s, `${s}USDT`, ts));
    const coinM = pointOf(first, `${first}${COIN_M_SUFFIX}`, ts);
    const usdc = pointOf(first, `${first}USDC`, ts);
    const half = Math.ceil(um.length / 2);
    const shards = [
      [...um.slice(0, half).map((p) => markPriceElement(p)), markPriceElement(coinM, true)],
      [...um.slice(half).map((p) => markPriceElement(p)), markPriceElement(usdc)],
    ];
    const tickers = [...um, usdc].map((p) => tickerElement(p));
    tickers.push(tickerElement(coinM, true));
    for (const c of conns) {
      for (const stream of c.streams) {
        if (MARK_STREAMS.has(stream)) for (const shard of shards) send(c, envelope(stream, shard));
        else if (stream === TICKER_STREAM) send(c, envelope(stream, tickers));
        else if (stream === FORCE_ORDER_STREAM) for (const frame of liquidations) send(c, frame);
      }
    }
  };

  /**
   * The `!forceOrder@arr` frames of the whole seconds `[fromSec, toSec)`, oldest first: one per
   * symbol per second at most; the first symbol's are mirrored as a COIN-M `<BASE>USD_PERP`
   * order, as the all-market stream mixes them in since the CM merge. Computed only when some
   * connection subscribed, since sampling walks every symbol's orders.
   */
  const forceOrderFrames = (fromSec: number, toSec: number): string[] => {
    if (toSec <= fromSec || ![...conns].some((c) => c.streams.has(FORCE_ORDER_STREAM))) return [];
    const payloads: { ts: number; payload: object }[] = [];
    for (const symbol of market.symbols) {
      for (const liq of sampledLiquidations(market, symbol, fromSec, toSec)) {
        // Pushed when its second closes, as the venue's snapshot is.
        const E = (Math.floor(liq.ts / 1000) + 1) * 1000;
        const um = forceOrderPayload(liq, `${symbol}USDT`, E);
        if (um) payloads.push({ ts: liq.ts, payload: um });
        const cm = symbol === first ? forceOrderPayload(liq, `${symbol}USD_PERP`, E, true) : undefined;
        if (cm) payloads.push({ ts: liq.ts, payload: cm });
      }
    }
    payloads.sort((a, b) => a.ts - b.ts);
    return payloads.map((p) => envelope(FORCE_ORDER_STREAM, p.payload));
  };

  const onMessage = (c: Conn, text: string) => {
    const now = performance.now();
    c.recent.push(now);
    while (c.recent.length > 0 && c.recent[0]! <= now - 1_000) c.recent.shift();
    if (c.recent.length > MAX_INCOMING_PER_SEC) {
      log?.warn({ perSec: c.recent.length }, 'binance sim: client over 10 messages/s; disconnecting');
      c.ws.terminate();
      return;
    }
    const reply = (payload: object) => {
      if (!flags.silent) send(c, JSON.stringify(payload));
    };
    let msg: { method?: unknown; params?: unknown; id?: unknown };
    try {
      msg = Object(JSON.parse(text));
    } catch {
      return reply({ code: 3, msg: 'Invalid JSON: expected value at line 1 column 1' });
    }
    const id = msg.id;
    if (typeof id !== 'number' || !Number.isInteger(id) || id < 0) {
      return reply({
        code: 2,
        msg: 'Invalid request: request ID must be an unsigned integer',
        id: id ?? null,
      });
    }
    const params = Array.isArray(msg.params)
      ? msg.params.filter((p): p is string => typeof p === 'string')
      : [];
    switch (msg.method) {
      case 'SUBSCRIBE':
        // Acked whatever the stream: an unknown or wrongly routed stream is simply flags.silent.
        for (const p of params) c.streams.add(p);
        return reply({ result: null, id });
      case 'UNSUBSCRIBE':
        for (const p of params) c.streams.delete(p);
        return reply({ result: null, id });
      case 'LIST_SUBSCRIPTIONS':
        return reply({ result: [...c.streams], id });
      default:
        return reply({ code: 2, msg: `Invalid request: unknown variant ${String(msg.method)}`, id });
    }
  };

  const rest = createBinanceRestHandler({
    market,
    intervals,
    weightLimitPerMinute,
    eventTs,
    ...(opts.weightClock === 'event' ? { weightClock: eventTs } : {}),
  });
  const http = createServer(rest.handle);
  const wss = new WebSocketServer({ server: http, path: WS_PATH });
  wss.on('connection', (ws, req) => {
    // `/market/stream?streams=a/b` subscribes at connect, as the venue does.
    const streams = new URL(req.url ?? '/', 'http://sim').searchParams.get('streams');
    const c: Conn = { ws, streams: new Set(streams ? streams.split('/') : []), recent: [] };
    conns.add(c);
    log?.debug({ streams: [...c.streams] }, 'binance sim: client connected');
    ws.on('message', (data) => onMessage(c, data.toString()));
    ws.on('pong', () => pongs++);
    ws.on('close', () => conns.delete(c));
    ws.on('error', (err) => log?.warn({ err }, 'binance sim: client socket error'));
  });
  wss.on('error', (err) => log?.warn({ err }, 'binance sim: server error'));
  const port = await listenOnLoopback(http, wss, opts);
  const host = opts.host ?? '127.0.0.1';
  const tickTimer = setInterval(tick, opts.tickMs ?? 1000);
  const pingTimer = setInterval(() => {
    if (flags.silent) return;
    for (const c of conns) {
      if (c.ws.readyState !== c.ws.OPEN) continue;
      c.ws.ping();
      pings++;
    }
  }, opts.pingIntervalMs ?? 180_000);

  return {
    ...commonControls({ conns, flags, timers: [tickTimer, pingTimer], wss, http }),
    wsUrl: `ws://${host}:${port}${WS_PATH}`,
    restUrl: `http://${host}:${port}`,
    port,
    market,
    eventTs,
    subscriptions: () => [...new Set([...conns].flatMap((c) => [...c.streams]))].sort(),
    pingCount: () => pings,
    pongCount: () => pongs,
    restRequests: rest.requests,
    restRequestLog: rest.requestLog,
    failRestNext: rest.failNext,
  };
}
