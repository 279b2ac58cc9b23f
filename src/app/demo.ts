import type { VenueId } from '../domain/types.js';
import { startBinanceSimulator } from '../streams/sim/binance-sim.js';
import { startBybitSimulator } from '../streams/sim/bybit-sim.js';
import { startHyperliquidSimulator } from '../streams/sim/hyperliquid-sim.js';
import { createScriptedMarket, DEFAULT_MARKET_SYMBOLS, type ScriptedMarket } from '../streams/sim/market.js';
import { startOkxSimulator } from '../streams/sim/okx-sim.js';
import type { SimulatorControls } from '../streams/sim/options.js';

const MIN = 60_000;

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

/** Starts the local simulator of one venue, at 60x event time, on a free loopback port. */
export function startDemoVenue(venue: VenueId, market: ScriptedMarket): Promise<SimulatorControls> {
  const opts = { market, timeScale: 60, tickMs: 250 };
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
