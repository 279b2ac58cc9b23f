/**
 * A local Hyperliquid simulator: WebSocket `activeAssetCtx` on `/ws` and `POST /info` on one
 * loopback port, in the real wire format (protocol mirror of
 * https://hyperliquid.gitbook.io/hyperliquid-docs/for-developers/api/websocket/subscriptions).
 * Faults for component tests: drops, a dead-but-open connection, raw frames, REST errors.
 */
import { createServer } from 'node:http';
import { type WebSocket, WebSocketServer } from 'ws';
import { HYPERLIQUID_GREETING } from '../venues/hyperliquid.js';
import { hyperliquidCtx, hyperliquidPoint, hyperliquidRestResponse } from './hyperliquid-sim-rest.js';
import {
  listenOnLoopback,
  type SimLogger,
  type SimulatorControls,
  type SimulatorOptions,
  simEventClock,
} from './options.js';
import { commonControls, type SimFlags, sendTo, simMarket } from './server.js';
import type { EncodeFrames, SyntheticPoint } from './synthetic.js';

export type { SimLogger };

const WS_PATH = '/ws';
/** Receive time of an encoded frame after its event time. */
const FRAME_DELAY_MS = 3;
/**
 * Per IP on the real venue; the simulator is one IP.
 * https://hyperliquid.gitbook.io/hyperliquid-docs/for-developers/api/rate-limits-and-user-limits
 */
const MAX_SUBSCRIPTIONS = 1000;

/** One `activeAssetCtx` frame carrying exactly the point's values. */
export function hyperliquidFrame(point: SyntheticPoint): string {
  return JSON.stringify({
    channel: 'activeAssetCtx',
    data: { coin: point.instrument, ctx: hyperliquidCtx(point) },
  });
}

/** Every push carries the full context, so `first` changes nothing. */
export const encodeHyperliquidFrames: EncodeFrames = (point) => [
  { t: point.ts + FRAME_DELAY_MS, frame: hyperliquidFrame(point) },
];

export type HyperliquidSimulatorOptions = SimulatorOptions;

/** An answer to inject on the next REST call to a path. */
export interface RestFault {
  readonly status: number;
  readonly headers?: Readonly<Record<string, string>>;
  readonly body?: string;
}

export interface HyperliquidSimulator extends SimulatorControls {
  /** `ws://127.0.0.1:PORT/ws` */
  readonly wsUrl: string;
  /** Coins currently subscribed (`activeAssetCtx`), across connections, sorted and deduplicated. */
  subscriptions(): string[];
  /** Pings received (answered or not). */
  pingCount(): number;
  /** Silent: no greeting, data, acks or pongs, while sockets stay open. */
  setSilent(silent: boolean): void;
  /** Answers the next REST call whose path starts with `pathPrefix` with this fault instead. */
  failRestNext(pathPrefix: string, fault: RestFault): void;
}

interface Conn {
  readonly ws: WebSocket;
  readonly coins: Set<string>;
}

interface Request {
  method?: unknown;
  subscription?: unknown;
}

export async function startHyperliquidSimulator(
  opts: HyperliquidSimulatorOptions = {},
): Promise<HyperliquidSimulator> {
  const startTs = opts.startTs ?? Date.now();
  const market = simMarket(opts, startTs);
  const log = opts.logger;
  const eventTs = simEventClock(opts, startTs);
  const conns = new Set<Conn>();
  const faults: Array<{ prefix: string; fault: RestFault }> = [];
  const flags: SimFlags = { silent: false, paused: false };
  let pings = 0;

  const send = (c: Conn, payload: unknown) => sendTo(c.ws, payload);
  const frameOf = (coin: string, ts: number) => hyperliquidFrame(hyperliquidPoint(market, coin, ts));
  const total = () => [...conns].reduce((n, c) => n + c.coins.size, 0);

  const tick = () => {
    if (flags.silent || flags.paused) return;
    const ts = eventTs();
    const cache = new Map<string, string>();
    for (const c of conns) {
      for (const coin of c.coins) {
        if (!cache.has(coin)) cache.set(coin, frameOf(coin, ts));
        send(c, cache.get(coin));
      }
    }
  };

  const onMessage = (c: Conn, text: string) => {
    const error = (data: string) => {
      if (!flags.silent) send(c, { channel: 'error', data });
    };
    let msg: Request;
    try {
      msg = Object(JSON.parse(text));
    } catch {
      return error(`Error parsing JSON into valid websocket request: ${text}`);
    }
    if (msg.method === 'ping') {
      pings++;
      if (!flags.silent) send(c, { channel: 'pong' });
      return;
    }
    if (msg.method !== 'subscribe' && msg.method !== 'unsubscribe')
      return error(`Error parsing JSON into valid websocket request: ${text}`);
    const sub = Object(msg.subscription) as { type?: unknown; coin?: unknown };
    const subText = JSON.stringify(msg.subscription ?? null);
    const coin = typeof sub.coin === 'string' ? sub.coin : '';
    if (sub.type !== 'activeAssetCtx' || !market.has(coin)) return error(`Invalid subscription ${subText}`);
    if (msg.method === 'subscribe') {
      if (c.coins.has(coin)) return error(`Already subscribed: ${subText}`);
      if (total() >= MAX_SUBSCRIPTIONS) return error('Cannot subscribe to more than 1000 channels.');
      c.coins.add(coin);
    } else {
      if (!c.coins.delete(coin)) return error(`Already unsubscribed: ${subText}`);
    }
    if (flags.silent) return;
    send(c, {
      channel: 'subscriptionResponse',
      data: { method: msg.method, subscription: msg.subscription },
    });
    // The current context follows a subscribe at once, as the venue's snapshot does.
    if (msg.method === 'subscribe' && !flags.paused) send(c, frameOf(coin, eventTs()));
  };

  const http = createServer((req, res) => {
    const url = new URL(req.url ?? '/', 'http://sim');
    const chunks: Buffer[] = [];
    req.on('data', (chunk: Buffer) => chunks.push(chunk));
    req.on('end', () => {
      const i = faults.findIndex((f) => url.pathname.startsWith(f.prefix));
      const fault = i >= 0 ? faults.splice(i, 1)[0]?.fault : undefined;
      if (fault) {
        res
          .writeHead(fault.status, { 'content-type': 'application/json', ...fault.headers })
          .end(fault.body ?? '');
        return;
      }
      const body = Buffer.concat(chunks).toString();
      const answer = hyperliquidRestResponse(market, req.method ?? 'GET', url.pathname, body, eventTs());
      res.writeHead(answer.status, { 'content-type': answer.contentType }).end(answer.body);
    });
  });
  const wss = new WebSocketServer({ server: http, path: WS_PATH });
  wss.on('connection', (ws) => {
    const c: Conn = { ws, coins: new Set() };
    conns.add(c);
    log?.debug({ connections: conns.size }, 'hyperliquid sim: client connected');
    ws.on('message', (data) => onMessage(c, data.toString()));
    ws.on('close', () => conns.delete(c));
    ws.on('error', (err) => log?.warn({ err }, 'hyperliquid sim: client socket error'));
    if (!flags.silent) send(c, HYPERLIQUID_GREETING);
  });

  // With `server`, ws re-emits the HTTP server's errors (e.g. EADDRINUSE) on itself.
  wss.on('error', (err) => log?.warn({ err }, 'hyperliquid sim: server error'));
  const port = await listenOnLoopback(http, wss, opts);
  const host = opts.host ?? '127.0.0.1';
  const timer = setInterval(tick, opts.tickMs ?? 200);

  return {
    ...commonControls({ conns, flags, timers: [timer], wss, http }),
    wsUrl: `ws://${host}:${port}${WS_PATH}`,
    restUrl: `http://${host}:${port}`,
    port,
    market,
    eventTs,
    subscriptions: () => [...new Set([...conns].flatMap((c) => [...c.coins]))].sort(),
    pingCount: () => pings,
    failRestNext: (prefix, fault) => {
      faults.push({ prefix, fault });
    },
  };
}
