import { type BybitSimulator, startBybitSimulator } from '../../src/streams/sim/bybit-sim.js';
import { createScriptedMarket, DEFAULT_MARKET_SYMBOLS } from '../../src/streams/sim/market.js';

const MIN = 60_000;

/** One scripted OI move, placed in minutes of event time after the simulator starts. */
export interface Surge {
  readonly symbol: string;
  readonly atMin: number;
  readonly oiChangePct: number;
  readonly priceChangePct: number;
  /** Default 2 minutes. */
  readonly durationMin?: number;
}

/**
 * A Bybit simulator at 600× event time (the 15-minute window fills in 1.5 s of wall time, so a
 * surge at `atMin` comes `atMin / 10` seconds after the start) over the default market, with
 * these surges: the setup the program-level alert tests share.
 */
export function startScriptedBybit(surges: readonly Surge[]): Promise<BybitSimulator> {
  const startTs = Date.now();
  return startBybitSimulator({
    timeScale: 600,
    tickMs: 20,
    market: createScriptedMarket({
      symbols: DEFAULT_MARKET_SYMBOLS,
      startTs,
      events: surges.map((s) => ({
        symbol: s.symbol,
        atTs: startTs + s.atMin * MIN,
        durationMs: (s.durationMin ?? 2) * MIN,
        oiChangePct: s.oiChangePct,
        priceChangePct: s.priceChangePct,
      })),
    }),
  });
}
