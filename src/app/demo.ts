import { createScriptedMarket, DEFAULT_MARKET_SYMBOLS, type ScriptedMarket } from '../streams/sim/market.js';

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
