import type { MarketSymbolSpec, ScriptedEvent, ScriptedMarket } from './market.js';

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
  readonly seed?: number;
  /** Event time at start; default the wall clock. */
  readonly startTs?: number;
  /** Event ms per wall ms; default 1 (60 fills a 15-minute window in 15 s). */
  readonly timeScale?: number;
  /** Wall ms between frames per subscription; default 200. */
  readonly tickMs?: number;
  readonly market?: ScriptedMarket;
  readonly logger?: SimLogger;
}
