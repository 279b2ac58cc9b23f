/**
 * A local OKX v5 public simulator: WebSocket `/ws/v5/public` (open-interest, funding-rate,
 * mark-price and tickers per SWAP instId, `liquidation-orders` for instType SWAP
 * (`okx-sim-liquidations.ts`), text ping/pong, one ack per arg, notice 64008) and REST
 * instruments, tickers, rubik open-interest history (`history-sim.ts`) and long/short ratios
 * (`okx-sim-long-short.ts`) on one loopback port, in
 * the real wire format (protocol mirror of https://www.okx.com/docs-v5/en/). Faults for component tests: drops, a dead-but-open
 * connection, raw frames, REST errors, an upgrade notice.
 */
import { randomBytes } from 'node:crypto';
import { createServer } from 'node:http';
import { type WebSocket, WebSocketServer } from 'ws';
import { OKX_CHANNELS, type OkxChannel, okxInstrument } from '../venues/okx.js';
import type { RestRequestLogEntry } from './binance-sim-rest.js';
import {
  isLateOrder,
  okxFirstLiquidationPush,
  okxLiquidationElements,
  okxLiquidationFrame,
  sampledLiquidations,
} from './okx-sim-liquidations.js';
import {
  createOkxRestHandler,
  okxChannelFrame,
  okxPoint,
  type RestFault,
  triggerValue,
} from './okx-sim-rest.js';
import {
  listenOnLoopback,
  type SimLogger,
  type SimulatorControls,
  type SimulatorOptions,
  simEventClock,
} from './options.js';
import { commonControls, type SimFlags, sendTo, simMarket } from './server.js';
import type { EncodeFrames, SyntheticPoint } from './synthetic.js';

export type { RestRequestLogEntry, SimLogger };

export { okxChannelFrame, type RestFault };

const WS_PATH = '/ws/v5/public';

/** Event ms between pushes when nothing changed, per the channel docs. */
const MARK_IDLE_PUSH_MS = 10_000;
const OI_MIN_PUSH_MS = 3_000;
/** Liquidations are pushed per whole second of event time (at most one per contract per second). */
const SECOND_MS = 1_000;
/** How far back the first push after a `liquidation-orders` subscribe reaches, event ms. */
const FIRST_PUSH_LOOKBACK_MS = 60_000;
/** A backlog (after a pause) is pushed for at most this much event time. */
const MAX_LIQUIDATION_BACKLOG_MS = 60_000;
const LIQUIDATION_INST_TYPES = ['SWAP', 'FUTURES', 'MARGIN', 'OPTION'];

/** A point as OKX's four channel pushes, received 3–6 ms after the event time. */
export const encodeOkxFrames: EncodeFrames = (point) =>
  OKX_CHANNELS.map((channel, i) => ({ t: point.ts + 3 + i, frame: okxChannelFrame(channel, point) }));

export interface OkxSimulatorOptions extends SimulatorOptions {
  /** Event ms between funding-rate pushes; default 30 000 (OKX: every 30 to 90 s). */
  readonly fundingPushMs?: number;
}

export interface OkxSimulator extends SimulatorControls {
  /** `ws://127.0.0.1:PORT/ws/v5/public` */
  readonly wsUrl: string;
  /** `channel:instId` currently subscribed, across connections, sorted and deduplicated. */
  subscriptions(): string[];
  /** Connections subscribed to `liquidation-orders` (instType SWAP). */
  liquidationSubscriptions(): number;
  /** Text `ping`s received (answered or not). */
  pingCount(): number;
  /** Silent: no pushes, acks or pongs, while sockets stay open. */
  setSilent(silent: boolean): void;
  /** Sends OKX's service-upgrade notice (code 64008) to every connection; sockets stay open. */
  sendNotice64008(): void;
  /** The next REST call whose path starts with `pathPrefix` gets this answer instead. */
  failRestNext(pathPrefix: string, fault: RestFault): void;
  /** REST requests seen so far (path with query, wall-clock arrival), in order. */
  restRequestLog(): RestRequestLogEntry[];
  /** Stops and restarts the periodic pushes; the event clock keeps running. */
  pause(): void;
}

interface Sub {
  readonly channel: OkxChannel;
  readonly instId: string;
  readonly symbol: string;
  /** Event time of the last push, and the value it carried (to push on change). */
  lastTs: number;
  lastValue: string;
}

interface Conn {
  readonly ws: WebSocket;
  readonly id: string;
  readonly subs: Map<string, Sub>;
  /** Subscribed to `liquidation-orders` for swaps. */
  liquidations: boolean;
}

export async function startOkxSimulator(opts: OkxSimulatorOptions = {}): Promise<OkxSimulator> {
  const startTs = opts.startTs ?? Date.now();
  const market = simMarket(opts, startTs);
  const fundingPushMs = opts.fundingPushMs ?? 30_000;
  const log = opts.logger;
  const eventTs = simEventClock(opts, startTs);
  const conns = new Set<Conn>();
  const flags: SimFlags = { silent: false, paused: false };
  let pings = 0;

  const symbolOf = (instId: string): string | null => {
    const base = /^(.+)-USDT-SWAP$/.exec(instId)?.[1];
    return base && market.has(base) && okxInstrument(base) === instId ? base : null;
  };
  const send = (c: Conn, payload: unknown) => sendTo(c.ws, payload);
  const push = (c: Conn, sub: Sub, p: SyntheticPoint) => {
    sub.lastTs = p.ts;
    sub.lastValue = triggerValue(sub.channel, p);
    send(c, okxChannelFrame(sub.channel, p));
  };
  const due = (sub: Sub, p: SyntheticPoint): boolean => {
    const sinceMs = p.ts - sub.lastTs;
    const changed = triggerValue(sub.channel, p) !== sub.lastValue;
    switch (sub.channel) {
      case 'mark-price':
        return changed || sinceMs >= MARK_IDLE_PUSH_MS;
      case 'tickers':
        return changed;
      case 'open-interest':
        return changed && sinceMs >= OI_MIN_PUSH_MS;
      case 'funding-rate':
        return sinceMs >= fundingPushMs;
    }
  };

  /** Liquidations are pushed up to this event time (whole seconds); orders held back a tick. */
  let liquidationsDoneTs = Math.floor(startTs / SECOND_MS) * SECOND_MS;
  let heldBack: string[] = [];
  const pushLiquidations = (ts: number) => {
    const toTs = Math.floor(ts / SECOND_MS) * SECOND_MS;
    const fromTs = Math.max(liquidationsDoneTs, toTs - MAX_LIQUIDATION_BACKLOG_MS);
    if (toTs <= fromTs) return;
    liquidationsDoneTs = toTs;
    if (![...conns].some((c) => c.liquidations)) {
      heldBack = [];
      return;
    }
    const orders = market.symbols.flatMap((symbol) => sampledLiquidations(market, symbol, fromTs, toTs));
    orders.sort((a, b) => a.ts - b.ts);
    const frames = [...heldBack];
    heldBack = [];
    for (const order of orders) {
      for (const element of okxLiquidationElements(market, order)) {
        (isLateOrder(order) ? heldBack : frames).push(okxLiquidationFrame([element]));
      }
    }
    for (const c of conns) {
      if (!c.liquidations) continue;
      for (const frame of frames) send(c, frame);
    }
  };

  const tick = () => {
    if (flags.silent || flags.paused) return;
    const ts = eventTs();
    pushLiquidations(ts);
    const points = new Map<string, SyntheticPoint>();
    const pointOf = (symbol: string) => {
      const p = points.get(symbol) ?? okxPoint(market, symbol, ts);
      points.set(symbol, p);
      return p;
    };
    for (const c of conns) {
      for (const sub of c.subs.values()) {
        const p = pointOf(sub.symbol);
        if (due(sub, p)) push(c, sub, p);
      }
    }
  };

  const onMessage = (c: Conn, text: string) => {
    if (text === 'ping') {
      pings++;
      if (!flags.silent) send(c, 'pong');
      return;
    }
    const reply = (payload: Record<string, unknown>) => {
      if (!flags.silent) send(c, { ...payload, connId: c.id });
    };
    let msg: { id?: unknown; op?: unknown; args?: unknown } = {};
    try {
      msg = Object(JSON.parse(text));
    } catch {
      return reply({ event: 'error', code: '60012', msg: `Invalid request: ${text}` });
    }
    const id = typeof msg.id === 'string' ? { id: msg.id } : {};
    const op = msg.op;
    if (op !== 'subscribe' && op !== 'unsubscribe')
      return reply({ ...id, event: 'error', code: '60012', msg: `Invalid request: ${text}` });
    if (!Array.isArray(msg.args) || msg.args.length === 0)
      return reply({ ...id, event: 'error', code: '60013', msg: `Invalid args: ${text}` });
    const ts = eventTs();
    for (const raw of msg.args) {
      const arg = Object(raw) as { channel?: unknown; instId?: unknown; instType?: unknown };
      if (arg.channel === 'liquidation-orders') {
        const instType = String(arg.instType);
        if (!LIQUIDATION_INST_TYPES.includes(instType)) {
          reply({
            ...id,
            event: 'error',
            code: '60018',
            msg: `Wrong URL or channel:liquidation-orders,instType:${instType} doesn't exist. Please use the correct URL, channel and parameters referring to API document.`,
          });
          continue;
        }
        reply({ ...id, event: op, arg: { channel: 'liquidation-orders', instType } });
        // Only swaps are simulated; a subscription of another instType is acknowledged and silent.
        if (instType !== 'SWAP') continue;
        const first = op === 'subscribe' && !c.liquidations;
        c.liquidations = op === 'subscribe';
        if (first && !flags.silent) {
          const push = okxFirstLiquidationPush(market, ts, FIRST_PUSH_LOOKBACK_MS);
          if (push) send(c, push);
        }
        continue;
      }
      const channel = String(arg.channel);
      const instId = String(arg.instId);
      const symbol = symbolOf(instId);
      if (!(OKX_CHANNELS as readonly string[]).includes(channel) || symbol === null) {
        reply({
          ...id,
          event: 'error',
          code: '60018',
          msg: `Wrong URL or channel:${channel},instId:${instId} doesn't exist. Please use the correct URL, channel and parameters referring to API document.`,
        });
        continue;
      }
      const key = `${channel}:${instId}`;
      reply({ ...id, event: op, arg: { channel, instId } });
      if (op === 'unsubscribe') {
        c.subs.delete(key);
      } else if (!c.subs.has(key)) {
        const sub: Sub = { channel: channel as OkxChannel, instId, symbol, lastTs: 0, lastValue: '' };
        c.subs.set(key, sub);
        // OKX pushes the current state right after the ack.
        if (!flags.silent) push(c, sub, okxPoint(market, symbol, ts));
      }
    }
  };

  const rest = createOkxRestHandler(market, eventTs);
  const http = createServer(rest.handle);
  const wss = new WebSocketServer({ server: http, path: WS_PATH });
  wss.on('connection', (ws) => {
    const c: Conn = { ws, id: randomBytes(4).toString('hex'), subs: new Map(), liquidations: false };
    conns.add(c);
    log?.debug({ connId: c.id }, 'okx sim: client connected');
    ws.on('message', (data) => onMessage(c, data.toString()));
    ws.on('close', () => conns.delete(c));
    ws.on('error', (err) => log?.warn({ err, connId: c.id }, 'okx sim: client socket error'));
  });

  // With `server`, ws re-emits the HTTP server's errors (e.g. EADDRINUSE) on itself.
  wss.on('error', (err) => log?.warn({ err }, 'okx sim: server error'));
  const host = opts.host ?? '127.0.0.1';
  const port = await listenOnLoopback(http, wss, opts);
  const timer = setInterval(tick, opts.tickMs ?? 200);

  return {
    ...commonControls({ conns, flags, timers: [timer], wss, http }),
    wsUrl: `ws://${host}:${port}${WS_PATH}`,
    restUrl: `http://${host}:${port}`,
    port,
    market,
    eventTs,
    subscriptions: () => [...new Set([...conns].flatMap((c) => [...c.subs.keys()]))].sort(),
    liquidationSubscriptions: () => [...conns].filter((c) => c.liquidations).length,
    pingCount: () => pings,
    sendNotice64008: () => {
      for (const c of conns) {
        send(c, {
          event: 'notice',
          code: '64008',
          msg: 'The connection will soon be closed for a service upgrade. Please reconnect.',
          connId: c.id,
        });
      }
    },
    failRestNext: rest.failNext,
    restRequestLog: rest.requestLog,
  };
}
