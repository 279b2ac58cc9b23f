import type { Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { WebSocketServer } from 'ws';
import type { MarketSymbolSpec, ScriptedEvent, ScriptedLiquidationEvent, ScriptedMarket } from './market.js';

/** Any pino logger fits. */
export interface SimLogger {
  debug(obj: object, msg?: string): void;
  warn(obj: object, msg?: string): void;
}

/** What every venue simulator takes. */
export interface SimulatorOptions {
  /** Default `127.0.0.1`. */
  readonly host?: string;
  /** Default 0: a free port. */
  readonly port?: number;
  /** Ignored when `market` is given. Default `DEFAULT_MARKET_SYMBOLS`, served under the venue's instrument names. */
  readonly symbols?: readonly MarketSymbolSpec[];
  readonly events?: readonly ScriptedEvent[];
  /** Ignored when `market` is given. Liquidation cascades (a small background runs anyway). */
  readonly liquidations?: readonly ScriptedLiquidationEvent[];
  readonly seed?: number;
  /** Event time at start; default the wall clock. */
  readonly startTs?: number;
  /** Event ms per wall ms; default 1 (60 fills a 15-minute window in 15 s). Ignored with `eventClock`. */
  readonly timeScale?: number;
  /**
   * The event clock, epoch ms. Default: `startTs` plus the wall time since start × `timeScale`.
   * `--demo` gives every simulator and the Hyperliquid parser one clock, so a venue whose frames
   * carry no time is on the same event time as those that stamp theirs.
   */
  readonly eventClock?: () => number;
  /** Wall ms between frames per subscription; default 200. */
  readonly tickMs?: number;
  readonly market?: ScriptedMarket;
  readonly logger?: SimLogger;
}

/** The simulator's event clock: `opts.eventClock`, or `startTs` advancing `timeScale`× the wall clock. */
export function simEventClock(opts: Pick<SimulatorOptions, 'eventClock' | 'timeScale'>, startTs: number) {
  if (opts.eventClock) return opts.eventClock;
  const timeScale = opts.timeScale ?? 1;
  const wallStart = performance.now();
  return () => Math.round(startTs + (performance.now() - wallStart) * timeScale);
}

/**
 * Starts `http` (with `wss` attached to it) on `host:port` (default a free loopback port) and
 * returns the port; on failure the WebSocket server is closed and the error thrown.
 */
export async function listenOnLoopback(
  http: Server,
  wss: WebSocketServer,
  opts: Pick<SimulatorOptions, 'host' | 'port'>,
): Promise<number> {
  await new Promise<void>((resolve, reject) => {
    http.once('error', reject);
    http.listen(opts.port ?? 0, opts.host ?? '127.0.0.1', () => {
      http.off('error', reject);
      resolve();
    });
  }).catch((err: unknown) => {
    wss.close();
    throw err;
  });
  return (http.address() as AddressInfo).port;
}

/** The control surface every venue simulator offers to tests and `--demo`. */
export interface SimulatorControls {
  /** `ws://127.0.0.1:PORT/<the venue's path>` */
  readonly wsUrl: string;
  /** `http://127.0.0.1:PORT` */
  readonly restUrl: string;
  readonly port: number;
  readonly market: ScriptedMarket;
  /** The simulator's event clock, epoch ms. */
  eventTs(): number;
  connectionCount(): number;
  /** What is subscribed now, across connections, sorted and deduplicated. */
  subscriptions(): string[];
  /** Pings seen (see each venue for which way they go). */
  pingCount(): number;
  /** Terminates every client socket, as a server-side drop. */
  dropAll(): void;
  /** Silent: no data, acks or pongs, while sockets stay open. */
  setSilent(silent: boolean): void;
  broadcastRaw(text: string): void;
  sendFrame(frame: unknown): void;
  /** Stops and restarts the periodic frames; the event clock keeps running. */
  pause(): void;
  resume(): void;
  /** Idempotent; resolves when every socket, timer and server is gone. */
  close(): Promise<void>;
}
