import type { VenueId } from '../domain/types.js';
import { startBinanceSimulator } from '../streams/sim/binance-sim.js';
import { startBybitSimulator } from '../streams/sim/bybit-sim.js';
import { startHyperliquidSimulator } from '../streams/sim/hyperliquid-sim.js';
import { createScriptedMarket, DEFAULT_MARKET_SYMBOLS, type ScriptedMarket } from '../streams/sim/market.js';
import { startOkxSimulator } from '../streams/sim/okx-sim.js';
import type { SimulatorControls } from '../streams/sim/options.js';
import { createHyperliquidAdapter } from '../streams/venues/hyperliquid.js';
import { VENUES, type VenueModule } from '../streams/venues/registry.js';

const MIN = 60_000;
/** Event ms per wall ms in `--demo`: a 15-minute window fills in 15 s. */
export const DEMO_TIME_SCALE = 60;

/**
 * The demo's one event clock: event time starts at `startTs` and runs `DEMO_TIME_SCALE`× the wall
 * clock. Every simulator stamps its frames with it, and the Hyperliquid parser maps receive times
 * through it (its frames carry no time), so all venues' snapshots share one event time.
 */
export interface DemoClock {
  readonly startTs: number;
  /** Event time at a wall-clock time (epoch ms, as `Date.now()`). */
  eventTsAt(wallMs: number): number;
  /** Event time now. */
  now(): number;
}

export function demoClock(
  startTs = Date.now(),
  wallStartMs = startTs,
  timeScale = DEMO_TIME_SCALE,
): DemoClock {
  const eventTsAt = (wallMs: number) => Math.round(startTs + (wallMs - wallStartMs) * timeScale);
  return { startTs, eventTsAt, now: () => eventTsAt(Date.now()) };
}

/**
 * The market `npm start -- --demo` plays: the default symbols with a few scripted OI moves
 * that cross the default 3%-in-15m alert threshold (event time runs 60x, so minutes below are seconds).
 */
export function demoMarket(startTs = Date.now()): ScriptedMarket {
  return createScriptedMarket({
    symbols: DEFAULT_MARKET_SYMBOLS,
    startTs,
    events: [
      { symbol: 'SOL', atTs: startTs + 18 * MIN, durationMs: 6 * MIN, oiChangePct: 6, priceChangePct: 2.5 },
      { symbol: 'ETH', atTs: startTs + 40 * MIN, durationMs: 8 * MIN, oiChangePct: -4.5, priceChangePct: -3 },
      { symbol: 'BTC', atTs: startTs + 70 * MIN, durationMs: 10 * MIN, oiChangePct: 5, priceChangePct: -1.5 },
      { symbol: 'DOGE', atTs: startTs + 100 * MIN, durationMs: 5 * MIN, oiChangePct: 8, priceChangePct: 6 },
    ],
  });
}

/** Starts the local simulator of one venue, on the demo's clock, on a free loopback port. */
export function startDemoVenue(
  venue: VenueId,
  market: ScriptedMarket,
  clock: DemoClock = demoClock(market.startTs),
): Promise<SimulatorControls> {
  const opts = { market, startTs: clock.startTs, eventClock: clock.now, tickMs: 250 };
  switch (venue) {
    case 'binance':
      return startBinanceSimulator(opts);
    case 'bybit':
      return startBybitSimulator(opts);
    case 'okx':
      return startOkxSimulator(opts);
    case 'hyperliquid':
      return startHyperliquidSimulator(opts);
  }
}

/**
 * The venue module `--demo` runs: the registry's, except that Hyperliquid's parser takes its
 * event time from the demo's clock instead of the receive time.
 */
export function demoVenueModule(venue: VenueId, clock: DemoClock): VenueModule {
  const module = VENUES[venue];
  if (venue !== 'hyperliquid') return module;
  return {
    ...module,
    createAdapter: (ctx) =>
      createHyperliquidAdapter({
        wsUrl: ctx.wsUrl,
        ...(ctx.universe ? { universe: ctx.universe } : {}),
        eventClock: clock.eventTsAt,
      }),
  };
}
