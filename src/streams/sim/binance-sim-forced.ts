/**
 * Binance USDⓈ-M forced flows and crowding for the simulator: `!forceOrder@arr` pushes sampled
 * like the venue's, and the `/futures/data/*` long/short statistics. Protocol mirror of
 * https://developers.binance.com/docs/derivatives/usds-margined-futures/websocket-market-streams/All-Market-Liquidation-Order-Streams
 * and …/market-data/rest-api/Long-Short-Ratio (+ Top-Trader-Long-Short-Ratio); key order as in
 * a 2026 capture of `/market/stream` (`ps`/`st` inside `o`).
 */
import { formatPrice, type ScriptedMarket, type SimLiquidation } from './market.js';

const MINUTE_MS = 60_000;
const HOUR_MS = 60 * MINUTE_MS;
const DAY_MS = 24 * HOUR_MS;
/** `BTCUSD_PERP` is quoted in contracts of 100 USD (other COIN-M contracts: 10 USD). */
const COIN_M_CONTRACT_USD = 100;

/** Decimal places of a Binance quantity for this price: 3 for BTC/ETH, 0 below 1 USD. */
function quantityDecimals(price: number): number {
  return Math.max(0, Math.min(3, Math.ceil(Math.log10(price))));
}

/**
 * One `forceOrder` payload for a liquidation of the scripted market. `S` is the order side
 * (`SELL` closes a long); `z` is the whole order, `l` only its last fill, so a reader of `l`
 * gets the size wrong. `p` is the order's limit price, beyond the average fill `ap`. Undefined
 * when the size rounds to nothing at the venue's quantity precision.
 */
export function forceOrderPayload(liq: SimLiquidation, instrument: string, eventTs: number, coinM = false) {
  const S = liq.side === 'long' ? 'SELL' : 'BUY';
  const qd = coinM ? 0 : quantityDecimals(liq.price);
  const size = coinM ? (liq.base * liq.price) / COIN_M_CONTRACT_USD : liq.base;
  const z = size.toFixed(qd);
  if (!(Number(z) > 0)) return undefined;
  const lastFill = Math.max(Number(z) * 0.4, 10 ** -qd);
  return {
    e: 'forceOrder',
    E: eventTs,
    o: {
      s: instrument,
      S,
      o: 'LIMIT',
      f: 'IOC',
      q: z,
      p: formatPrice(liq.price * (S === 'SELL' ? 0.99 : 1.01)),
      ap: formatPrice(liq.price),
      X: 'FILLED',
      l: Math.min(lastFill, Number(z)).toFixed(qd),
      z,
      T: liq.ts,
      ps: coinM ? instrument.split('_')[0] : instrument,
      st: coinM ? 2 : 1,
    },
  };
}

/**
 * "Only the latest one liquidation order within 1000ms will be pushed as the snapshot": the
 * market's orders of `symbol` in the whole seconds `[fromSec, toSec)`, the latest of each second.
 */
export function sampledLiquidations(
  market: ScriptedMarket,
  symbol: string,
  fromSec: number,
  toSec: number,
): SimLiquidation[] {
  const bySecond = new Map<number, SimLiquidation>();
  // `liquidationsBetween` is (from, to]: this asks for [fromSec·1000, toSec·1000 − 1].
  for (const liq of market.liquidationsBetween(symbol, fromSec * 1000 - 1, toSec * 1000 - 1))
    bySecond.set(Math.floor(liq.ts / 1000), liq);
  return [...bySecond.values()];
}

export const LONG_SHORT_PATHS = {
  '/futures/data/globalLongShortAccountRatio': 'accounts',
  '/futures/data/topLongShortPositionRatio': 'topTraders',
} as const;
export type LongShortKind = (typeof LONG_SHORT_PATHS)[keyof typeof LONG_SHORT_PATHS];

const PERIODS: Readonly<Record<string, number>> = {
  '5m': 5 * MINUTE_MS,
  '15m': 15 * MINUTE_MS,
  '30m': 30 * MINUTE_MS,
  '1h': HOUR_MS,
  '2h': 2 * HOUR_MS,
  '4h': 4 * HOUR_MS,
  '6h': 6 * HOUR_MS,
  '12h': 12 * HOUR_MS,
  '1d': DAY_MS,
};

/** Smooth seeded noise in [-1, 1] over `ts / periodMs` (values at integer knots, cosine between). */
function drift(key: string, ts: number, periodMs: number): number {
  const knot = (i: number) => {
    let h = 0x811c9dc5;
    for (const ch of `${key}:${i}`) h = Math.imul(h ^ ch.charCodeAt(0), 0x01000193);
    h ^= h >>> 13;
    h = Math.imul(h, 0x5bd1e995);
    h ^= h >>> 15;
    return ((h >>> 0) / 4_294_967_296) * 2 - 1;
  };
  const x = ts / periodMs;
  const i = Math.floor(x);
  const u = (1 - Math.cos((x - i) * Math.PI)) / 2;
  return knot(i) * (1 - u) + knot(i + 1) * u;
}

/**
 * The long share (fraction) of `kind` for `symbol` at `ts`: accounts drift around 60% within
 * 45–75%, top traders' positions around 52% within 35–70%, both higher after the price ran up
 * over the last 4 hours (crowds chase).
 */
export function simLongShare(
  market: ScriptedMarket,
  symbol: string,
  kind: LongShortKind,
  ts: number,
): number {
  const run = market.stateAt(symbol, ts).markPrice / market.stateAt(symbol, ts - 4 * HOUR_MS).markPrice - 1;
  const [center, low, high] = kind === 'accounts' ? [0.6, 0.45, 0.75] : [0.52, 0.35, 0.7];
  const share = center + 0.08 * drift(`${symbol}:${kind}`, ts, 6 * HOUR_MS) + 2.5 * run;
  return Number(Math.min(high, Math.max(low, share)).toFixed(4));
}

/**
 * A long/short statistics answer at event time `nowTs`: the buckets of `period` up to the latest
 * one begun (`limit` rows, default 30, max 500, within `startTime`/`endTime` and 30 days),
 * oldest first, every value a string as in the documented example.
 */
export function longShortResponse(
  market: ScriptedMarket,
  kind: LongShortKind,
  instrument: string,
  symbol: string,
  query: URLSearchParams,
  nowTs: number,
): { status: number; body: unknown } {
  const periodMs = PERIODS[query.get('period') ?? ''];
  if (periodMs === undefined) {
    const msg = "Mandatory parameter 'period' was not sent, was empty/null, or malformed.";
    return { status: 400, body: { code: -1102, msg } };
  }
  const limit = Math.min(500, Math.max(1, Number(query.get('limit') ?? 30) || 30));
  const endTs = Math.min(nowTs, Number(query.get('endTime') ?? nowTs) || nowTs);
  const startTs = Math.max(nowTs - 30 * DAY_MS, Number(query.get('startTime') ?? 0) || 0);
  const newest = Math.floor(endTs / periodMs) * periodMs;
  const rows = [];
  for (let ts = newest - (limit - 1) * periodMs; ts <= newest; ts += periodMs) {
    if (ts < startTs) continue;
    const long = simLongShare(market, symbol, kind, ts);
    const short = 1 - long;
    rows.push({
      symbol: instrument,
      longShortRatio: (long / short).toFixed(4),
      longAccount: long.toFixed(4),
      shortAccount: short.toFixed(4),
      timestamp: String(ts),
    });
  }
  return { status: 200, body: rows };
}
