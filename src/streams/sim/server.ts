/**
 * What the four venue simulators do the same way: the scripted market they serve, sending to a
 * client socket, and the fault and lifecycle controls over their connections (drop, silence,
 * pause, raw frames, close). Each simulator keeps its own wire protocol.
 */
import type { Server } from 'node:http';
import type { WebSocket, WebSocketServer } from 'ws';
import { createScriptedMarket, DEFAULT_MARKET_SYMBOLS, type ScriptedMarket } from './market.js';
import type { SimulatorControls, SimulatorOptions } from './options.js';

/** `opts.market`, or a market scripted from the options (seed 1, no events by default). */
export function simMarket(opts: SimulatorOptions, startTs: number): ScriptedMarket {
  return (
    opts.market ??
    createScriptedMarket({
      symbols: opts.symbols ?? DEFAULT_MARKET_SYMBOLS,
      startTs,
      seed: opts.seed ?? 1,
      events: opts.events ?? [],
      liquidations: opts.liquidations ?? [],
    })
  );
}

/** Sends text (or JSON of anything else) if the socket is open; a closing socket is skipped. */
export function sendTo(ws: WebSocket, payload: unknown): void {
  if (ws.readyState === ws.OPEN) ws.send(typeof payload === 'string' ? payload : JSON.stringify(payload));
}

/** Switched by the controls, read by the simulator before it sends. */
export interface SimFlags {
  /** No data, acks or pongs (each venue says which), while sockets stay open. */
  silent: boolean;
  /** No periodic frames; the event clock keeps running. */
  paused: boolean;
}

type CommonControls = Pick<
  SimulatorControls,
  'connectionCount' | 'dropAll' | 'setSilent' | 'broadcastRaw' | 'sendFrame' | 'pause' | 'resume' | 'close'
>;

/** The controls every simulator offers, over its client sockets, flags, timers and servers. */
export function commonControls(o: {
  readonly conns: ReadonlySet<{ readonly ws: WebSocket }>;
  readonly flags: SimFlags;
  readonly timers: readonly NodeJS.Timeout[];
  readonly wss: WebSocketServer;
  readonly http: Server;
}): CommonControls {
  let closing: Promise<void> | undefined;
  const everyone = (text: string) => {
    for (const c of o.conns) sendTo(c.ws, text);
  };
  return {
    connectionCount: () => o.conns.size,
    dropAll: () => {
      for (const c of o.conns) c.ws.terminate();
    },
    setSilent: (value) => {
      o.flags.silent = value;
    },
    broadcastRaw: everyone,
    sendFrame: (frame) => everyone(JSON.stringify(frame)),
    pause: () => {
      o.flags.paused = true;
    },
    resume: () => {
      o.flags.paused = false;
    },
    close: () => {
      closing ??= (async () => {
        for (const t of o.timers) clearInterval(t);
        for (const c of o.conns) c.ws.terminate();
        await new Promise<void>((resolve) => o.wss.close(() => resolve()));
        o.http.closeAllConnections();
        await new Promise<void>((resolve) => o.http.close(() => resolve()));
      })();
      return closing;
    },
  };
}
