import { createServer, request } from 'node:http';
import type { AddressInfo } from 'node:net';
import WebSocket, { WebSocketServer } from 'ws';
import { canonicalSymbol } from '../../src/domain/symbols.js';
import type { MarketSymbolSpec } from '../../src/streams/sim/market.js';

/**
 * `count` distinct, deterministic market symbols of realistic variety: names of 5 to 14
 * characters (letters then a serial number, so no name ends in a quote suffix, in `Z` or looks
 * like another test's `uniqueSymbol`), prices from 0.00001 to 100,000 USD and OI values spread
 * over five orders of magnitude, so the turnover ranking is not the list order.
 */
export function universeSpecs(count: number, seed = 7): MarketSymbolSpec[] {
  let state = seed >>> 0 || 1;
  const rand = () => {
    state = (Math.imul(state, 1_664_525) + 1_013_904_223) >>> 0;
    return state / 4_294_967_296;
  };
  const letters = 'ABCDEFGHIJKLMNOPQRSUVWXY';
  const specs: MarketSymbolSpec[] = [];
  for (let i = 0; i < count; i++) {
    let name = '';
    const len = 1 + Math.floor(rand() * 10);
    for (let k = 0; k < len; k++) name += letters[Math.floor(rand() * letters.length)];
    name += String(i).padStart(4, '0');
    if (canonicalSymbol(name) !== name) throw new Error(`generated symbol ${name} is not canonical`);
    const basePrice = Number((10 ** (-5 + rand() * 10)).toPrecision(4));
    const oiUsd = 10 ** (5 + rand() * 5);
    specs.push({ symbol: name, basePrice, baseOiBase: Number((oiUsd / basePrice).toPrecision(6)) });
  }
  return specs;
}

/** One WebSocket connection through the tap, with every message the client sent on it. */
export interface TappedConnection {
  readonly openedAt: number;
  closedAt: number | null;
  readonly sent: { readonly ts: number; readonly text: string }[];
}

export interface TappedRestCall {
  readonly ts: number;
  readonly method: string;
  /** Path with query. */
  readonly path: string;
  status: number;
}

/**
 * A transparent loopback proxy in front of one venue simulator (WebSocket and REST on one port)
 * that records what the client sends: per-connection messages and every REST call, with times.
 * The simulators count venue-wide; the venues' limits are per connection and per minute.
 */
export interface VenueTap {
  /** The simulator's WS URL (same path) on the tap's port. */
  readonly wsUrl: string;
  readonly restUrl: string;
  connections(): readonly TappedConnection[];
  restCalls(): readonly TappedRestCall[];
  close(): Promise<void>;
}

export async function startVenueTap(target: { wsUrl: string; restUrl: string }): Promise<VenueTap> {
  const wsTarget = new URL(target.wsUrl);
  const restTarget = new URL(target.restUrl);
  const conns: TappedConnection[] = [];
  const calls: TappedRestCall[] = [];
  const sockets = new Set<WebSocket>();

  const http = createServer((req, res) => {
    const call: TappedRestCall = {
      ts: Date.now(),
      method: req.method ?? 'GET',
      path: req.url ?? '/',
      status: 0,
    };
    calls.push(call);
    const upstream = request(
      {
        host: restTarget.hostname,
        port: restTarget.port,
        method: req.method,
        path: req.url,
        headers: { ...req.headers, host: restTarget.host },
      },
      (up) => {
        call.status = up.statusCode ?? 0;
        res.writeHead(up.statusCode ?? 502, up.headers);
        up.pipe(res);
      },
    );
    upstream.on('error', () => {
      call.status = 502;
      if (!res.headersSent) res.writeHead(502);
      res.end();
    });
    req.pipe(upstream);
  });
  const wss = new WebSocketServer({ server: http, path: wsTarget.pathname, perMessageDeflate: false });
  wss.on('connection', (client, req) => {
    const conn: TappedConnection = { openedAt: Date.now(), closedAt: null, sent: [] };
    conns.push(conn);
    const upstream = new WebSocket(`${wsTarget.protocol}//${wsTarget.host}${req.url ?? wsTarget.pathname}`, {
      perMessageDeflate: false,
    });
    sockets.add(client);
    sockets.add(upstream);
    const queue: string[] = [];
    client.on('message', (data) => {
      const text = data.toString();
      conn.sent.push({ ts: Date.now(), text });
      if (upstream.readyState === WebSocket.OPEN) upstream.send(text);
      else queue.push(text);
    });
    upstream.on('open', () => {
      for (const text of queue.splice(0)) upstream.send(text);
    });
    upstream.on('message', (data, isBinary) => {
      if (client.readyState === WebSocket.OPEN) client.send(data, { binary: isBinary });
    });
    const end = () => {
      conn.closedAt ??= Date.now();
      client.terminate();
      upstream.terminate();
      sockets.delete(client);
      sockets.delete(upstream);
    };
    client.on('close', end);
    upstream.on('close', end);
    client.on('error', end);
    upstream.on('error', end);
  });
  wss.on('error', () => {});
  await new Promise<void>((resolve, reject) => {
    http.once('error', reject);
    http.listen(0, '127.0.0.1', () => {
      http.off('error', reject);
      resolve();
    });
  });
  const { port } = http.address() as AddressInfo;
  let closing: Promise<void> | undefined;
  return {
    wsUrl: `ws://127.0.0.1:${port}${wsTarget.pathname}`,
    restUrl: `http://127.0.0.1:${port}`,
    connections: () => conns,
    restCalls: () => calls,
    close: () => {
      closing ??= (async () => {
        for (const s of sockets) s.terminate();
        await new Promise<void>((resolve) => wss.close(() => resolve()));
        http.closeAllConnections();
        await new Promise<void>((resolve) => http.close(() => resolve()));
      })();
      return closing;
    },
  };
}

/** The largest total weight (default 1 each) of `items` (sorted by `ts`) within any `windowMs`. */
export function maxInWindow(
  items: readonly { readonly ts: number; readonly weight?: number }[],
  windowMs: number,
) {
  let best = 0;
  let sum = 0;
  let start = 0;
  for (let end = 0; end < items.length; end++) {
    sum += items[end]!.weight ?? 1;
    while (items[end]!.ts - items[start]!.ts >= windowMs) sum -= items[start++]!.weight ?? 1;
    best = Math.max(best, sum);
  }
  return best;
}
