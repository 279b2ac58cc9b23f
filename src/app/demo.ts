import type { VenueId } from '../domain/types.js';
import type { RestPollClock } from '../streams/core/adapter.js';
import { startBinanceSimulator } from '../streams/sim/binance-sim.js';
import { startBybitSimulator } from '../streams/sim/bybit-sim.js';
import { startHyperliquidSimulator } from '../streams/sim/hyperliquid-sim.js';
import { createScriptedMarket, DEFAULT_MARKET_SYMBOLS, type ScriptedMarket } from '../streams/sim/market.js';
import { startOkxSimulator } from '../streams/sim/okx-sim.js';
import type { SimulatorControls } from '../streams/sim/options.js';
import { createBinanceLongShortPlan } from '../streams/venues/binance-long-short.js';
import { createBinanceRestPlan } from '../streams/venues/binance-rest.js';
import { createBybitLongShortPlan } from '../streams/venues/bybit-long-short.js';
import { createHyperliquidAdapter } from '../streams/venues/hyperliquid.js';
import { createOkxLongShortPlan } from '../streams/venues/okx-long-short.js';
import { VENUES, type VenueModule } from '../streams/venues/registry.js';

const MIN = 60_000;
/** Event ms per wall ms in `--demo`: a 15-minute window fills in 15 s. */
export const DEMO_TIME_SCALE = 60;
/**
 * Event time between two frames of a simulator subscription (250 ms of wall time at 60×): the
 * same spacing at any demo speed, so a faster test clock sees the market the demo shows.
 */
const DEMO_TICK_EVENT_MS = 15_000;

/** Settings of the demo that only tests change. */
export interface DemoOptions {
  /** Event ms per wall ms; default `DEMO_TIME_SCALE`. Tests run the same script faster. */
  readonly timeScale?: number;
}

/**
 * The demo's one event clock: event time starts at `startTs` and runs `timeScale`× the wall
 * clock. Every simulator stamps its frames with it, the Hyperliquid parser maps receive times
 * through it (its frames carry no time), and Binance open interest is polled on it, so all
 * venues' snapshots share one event time and none falls behind it.
 */
export interface DemoClock extends RestPollClock {
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
  return { startTs, timeScale, eventTsAt, now: () => eventTsAt(Date.now()) };
}

/**
 * The market `npm start -- --demo` plays (event time; at 60× a minute below is a second of wall
 * time). Every alert rule fires in its first five minutes of wall time, on windows the processor
 * saw itself (the day before the start comes from the warm start, see demo-history.ts):
 * - 20 min SOL: OI +6% and price +2.5% in 6 min: `oi_change_15m` and, against a quiet day,
 *   `momentum_spike`; the aggregate's control becomes longs opening.
 * - 35 min ETH: OI −4.5% and price −3% in 8 min, $15M of longs liquidated on each venue with a
 *   feed: a long flush, `liquidation_cascade` (longs) and `oi_change_15m` down.
 * - 50 min SOL: OI −5% and price −3% in 6 min: longs unwind, the aggregate's `control_flip`.
 * - 60 min BTC: OI −3.5% and price +2% in 6 min, $30M of shorts liquidated on each venue with a
 *   feed: a short squeeze, `liquidation_cascade` (shorts), "short covering · N% forced".
 * - 80 min DOGE: funding jumps to 0.375% per 8 h, OKX's cap: `funding_pressure` everywhere,
 *   `funding_at_bound` on OKX.
 * - 100 min DOGE: the venues shorten its funding interval to 4 h: `funding_interval_change`.
 * - 100–200 min XRP: OI builds +20% in 100 min (about 3% per 15 min): `oi_change_24h` near
 *   150 min, which the day's own noise (a few percent) can neither cause nor hide.
 * - 220 min BTC: OI +5% while price falls 1.5% in 10 min: shorts opening.
 * The first minutes are quiet on purpose: the 15m window first has to cover the start-up (the
 * time between the history's last point and the first frame is a hole, flagged like any gap).
 */
export function demoMarket(startTs = Date.now()): ScriptedMarket {
  return createScriptedMarket({
    symbols: DEFAULT_MARKET_SYMBOLS,
    startTs,
    events: [
      { symbol: 'SOL', atTs: startTs + 20 * MIN, durationMs: 6 * MIN, oiChangePct: 6, priceChangePct: 2.5 },
      { symbol: 'ETH', atTs: startTs + 35 * MIN, durationMs: 8 * MIN, oiChangePct: -4.5, priceChangePct: -3 },
      { symbol: 'SOL', atTs: startTs + 50 * MIN, durationMs: 6 * MIN, oiChangePct: -5, priceChangePct: -3 },
      { symbol: 'BTC', atTs: startTs + 60 * MIN, durationMs: 6 * MIN, oiChangePct: -3.5, priceChangePct: 2 },
      {
        symbol: 'XRP',
        atTs: startTs + 100 * MIN,
        durationMs: 100 * MIN,
        oiChangePct: 20,
        priceChangePct: 1.5,
      },
      {
        symbol: 'BTC',
        atTs: startTs + 220 * MIN,
        durationMs: 10 * MIN,
        oiChangePct: 5,
        priceChangePct: -1.5,
      },
    ],
    liquidations: [
      { symbol: 'ETH', atTs: startTs + 35 * MIN, durationMs: 8 * MIN, side: 'long', totalUsd: 15_000_000 },
      { symbol: 'BTC', atTs: startTs + 60 * MIN, durationMs: 6 * MIN, side: 'short', totalUsd: 30_000_000 },
    ],
    funding: [
      { symbol: 'DOGE', atTs: startTs + 80 * MIN, fundingRate: 0.00375 },
      { symbol: 'DOGE', atTs: startTs + 100 * MIN, intervalHours: 4 },
    ],
  });
}

/** Starts the local simulator of one venue, on the demo's clock, on a free loopback port. */
export function startDemoVenue(
  venue: VenueId,
  market: ScriptedMarket,
  clock: DemoClock = demoClock(market.startTs),
): Promise<SimulatorControls> {
  const opts = {
    market,
    startTs: clock.startTs,
    eventClock: clock.now,
    tickMs: DEMO_TICK_EVENT_MS / clock.timeScale,
  };
  switch (venue) {
    case 'binance':
      // Its request weight counts per minute of the demo's clock, as the poller's budget does.
      return startBinanceSimulator({ ...opts, weightClock: 'event' });
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
 * event time from the demo's clock instead of the receive time, and Binance open interest is
 * polled on the demo's clock (a 10 s cycle of event time): polled on the wall clock, each answer
 * would be ten minutes of event time old by the next, and every Binance snapshot stale. The
 * long/short statistics are polled on the demo's clock too, so they refresh every 5 minutes of
 * event time as live, not every 5 hours.
 */
export function demoVenueModule(venue: VenueId, clock: DemoClock): VenueModule {
  const module = VENUES[venue];
  const pollClock: RestPollClock = { now: clock.now, timeScale: clock.timeScale };
  switch (venue) {
    case 'hyperliquid':
      return {
        ...module,
        createAdapter: (ctx) =>
          createHyperliquidAdapter({
            wsUrl: ctx.wsUrl,
            ...(ctx.universe ? { universe: ctx.universe } : {}),
            eventClock: clock.eventTsAt,
          }),
      };
    case 'binance':
      return {
        ...module,
        createRestPlan: (ctx) => ({
          ...createBinanceRestPlan({
            restUrl: ctx.restUrl,
            universe: ctx.universe ?? (() => []),
            now: clock.now,
          }),
          clock: pollClock,
        }),
        // The plan keeps no clock of its own: its cycle and budget are read on `clock`.
        createLongShortPlan: (ctx) => ({
          ...createBinanceLongShortPlan({ restUrl: ctx.restUrl, universe: ctx.universe ?? (() => []) }),
          clock: pollClock,
        }),
      };
    case 'bybit':
      return {
        ...module,
        createLongShortPlan: (ctx) =>
          createBybitLongShortPlan({
            restUrl: ctx.restUrl,
            universe: ctx.universe ?? (() => []),
            clock: pollClock,
          }),
      };
    case 'okx':
      return {
        ...module,
        createLongShortPlan: (ctx) =>
          createOkxLongShortPlan({
            restUrl: ctx.restUrl,
            universe: ctx.universe ?? (() => []),
            clock: pollClock,
          }),
      };
  }
}
