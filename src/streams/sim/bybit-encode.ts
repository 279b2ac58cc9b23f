/**
 * Bybit v5 frames and bodies in the real wire format, shared by the simulator and recordings:
 * - `tickers.{symbol}` frames for a synthetic point (protocol mirror of
 *   https://bybit-exchange.github.io/docs/v5/websocket/public/ticker, the same field set as
 *   `bybitTickerData` in bybit-sim.ts): a `snapshot` with every field on an instrument's first
 *   point, then `delta`s carrying `symbol` and only the fields that changed. Every number is a
 *   decimal string that parses back to exactly the point's value; `openInterest` counts both
 *   sides (2 × `singleOpenInterest`).
 * - `allLiquidation.{symbol}` pushes and `/v5/market/account-ratio` results (at the end).
 */
import { formatPrice, priceDecimals, type SimLiquidation } from './market.js';
import type { EncodedFrame, EncodeFrames, SyntheticPoint } from './synthetic.js';

const HOUR_MS = 3_600_000;
/** Receive time of an encoded frame after its event time. */
const FRAME_DELAY_MS = 4;
/** Bybit's cross-sequence numbers are large; any start works as long as they increase. */
const FIRST_CS = 2_000_000;

type Fields = Record<string, string>;

/** `value` with at least `decimals` places, and as many more as it takes to read back exactly. */
function fixed(value: number, decimals: number): string {
  for (let d = decimals; d <= 20; d++) {
    const s = value.toFixed(d);
    if (Number(s) === value) return s;
  }
  return String(value);
}

const price = (value: number) => fixed(value, priceDecimals(value));

/** Book sizes: deterministic filler that changes from second to second. */
function size(ts: number, k: number): string {
  return (0.5 + (((Math.floor(ts / 1_000) * 2_654_435_761 + k * 40_503) >>> 0) % 10_000) / 1_000).toFixed(3);
}

interface InstrumentState {
  /** The fields last sent, or undefined while a snapshot is owed. */
  sent: Fields | undefined;
  cs: number;
  /** First last-price seen in each clock hour (hour start → price), for the 24 h fields. */
  readonly hourOpens: Map<number, number>;
}

/** The 24 h statistics from the hourly opens seen so far (the first open stands in for older ones). */
function dayStats(state: InstrumentState, p: SyntheticPoint) {
  const hourTs = Math.floor(p.ts / HOUR_MS) * HOUR_MS;
  if (!state.hourOpens.has(hourTs)) state.hourOpens.set(hourTs, p.lastPrice);
  for (const h of state.hourOpens.keys()) if (h < hourTs - 24 * HOUR_MS) state.hourOpens.delete(h);
  const oldest = Math.min(...state.hourOpens.keys());
  const openAt = (h: number) => state.hourOpens.get(h) ?? state.hourOpens.get(oldest) ?? p.lastPrice;
  const prev24h = openAt(hourTs - 24 * HOUR_MS);
  const recent = [...state.hourOpens].filter(([h]) => h > hourTs - 24 * HOUR_MS).map(([, v]) => v);
  return {
    prev24h,
    prev1h: openAt(hourTs - HOUR_MS),
    high: Math.max(p.lastPrice, ...recent),
    low: Math.min(p.lastPrice, ...recent),
  };
}

/** The full linear ticker field set for a point. */
function tickerFields(state: InstrumentState, p: SyntheticPoint): Fields {
  const day = dayStats(state, p);
  const before = state.sent?.lastPrice === undefined ? p.lastPrice : Number(state.sent.lastPrice);
  const single = fixed(p.oiBase, 3);
  const both = fixed(2 * p.oiBase, 3);
  const tick = 10 ** -priceDecimals(p.lastPrice);
  return {
    symbol: p.instrument,
    tickDirection: p.lastPrice > before ? 'PlusTick' : p.lastPrice < before ? 'MinusTick' : 'ZeroPlusTick',
    price24hPcnt: (p.lastPrice / day.prev24h - 1).toFixed(6),
    lastPrice: price(p.lastPrice),
    prevPrice24h: price(day.prev24h),
    highPrice24h: price(day.high),
    lowPrice24h: price(day.low),
    prevPrice1h: price(day.prev1h),
    markPrice: price(p.markPrice),
    indexPrice: price(p.indexPrice),
    openInterest: both,
    openInterestValue: (2 * p.oiBase * p.markPrice).toFixed(2),
    turnover24h: fixed(p.turnover24hUsd, 4),
    volume24h: (p.turnover24hUsd / p.lastPrice).toFixed(4),
    fundingIntervalHour: String(p.fundingIntervalHours),
    fundingCap: '0.005',
    singleOpenInterest: single,
    singleOpenInterestValue: (p.oiBase * p.markPrice).toFixed(2),
    nextFundingTime: String(p.nextFundingTs),
    fundingRate: fixed(p.fundingRate, 8),
    bid1Price: price(p.lastPrice - tick),
    bid1Size: size(p.ts, 1),
    ask1Price: price(p.lastPrice),
    ask1Size: size(p.ts, 2),
    preOpenPrice: '',
    preQty: '',
    curPreListingPhase: '',
  };
}

/**
 * A Bybit encoder with its own per-instrument memory of what it sent: a snapshot on `first` (or
 * when nothing was sent yet for the instrument), else a delta of the changed fields, or no frame
 * at all when nothing changed (as the venue does). Use one encoder per recorded connection.
 */
export function createBybitEncoder(): EncodeFrames {
  const states = new Map<string, InstrumentState>();
  return (point, first): EncodedFrame[] => {
    let state = states.get(point.instrument);
    if (!state) {
      state = { sent: undefined, cs: FIRST_CS, hourOpens: new Map() };
      states.set(point.instrument, state);
    }
    if (first) state.sent = undefined;
    const data = tickerFields(state, point);
    const last = state.sent;
    let payload: Fields = data;
    if (last) {
      const changed = Object.keys(data).filter((k) => data[k] !== last[k]);
      if (changed.length === 0) return [];
      payload = Object.fromEntries([['symbol', data.symbol], ...changed.map((k) => [k, data[k]])]);
    }
    state.sent = data;
    state.cs++;
    const frame = JSON.stringify({
      topic: `tickers.${point.instrument}`,
      type: last ? 'delta' : 'snapshot',
      data: payload,
      cs: state.cs,
      ts: point.ts,
    });
    return [{ t: point.ts + FRAME_DELAY_MS, frame }];
  };
}

/**
 * A shared encoder for callers that do not keep their own. Its memory is per instrument and reset
 * by `first`, so independent callers stay correct as long as each starts an instrument with `first`.
 */
export const encodeBybitFrames: EncodeFrames = createBybitEncoder();

/**
 * Size as Bybit prints it: at most 6 significant digits, no trailing zeros, never an exponent
 * (the real frames say `"v":"19.7"`, `"v":"2380"`).
 */
export function bybitSize(base: number): string {
  const decimals = Math.min(8, Math.max(0, 5 - Math.floor(Math.log10(base))));
  const s = base.toFixed(decimals);
  return s.includes('.') ? s.replace(/\.?0+$/, '') : s;
}

/**
 * One `allLiquidation.{symbol}` push (protocol mirror of
 * https://bybit-exchange.github.io/docs/v5/websocket/public/all-liquidation): `type` is always
 * `snapshot`, `ts` the push time, one `data[]` entry per order with `T` a number and the rest
 * strings. `S` is the side of the POSITION: "When you receive a Buy update, this means that a
 * long position has been liquidated", so a long is `Buy`. Sizes and prices are rounded as the
 * venue prints them (6 significant digits, the ticker's price decimals): `v × p` is within a few
 * millionths of the order's USD value.
 */
export function bybitLiquidationFrame(
  instrument: string,
  orders: readonly Pick<SimLiquidation, 'side' | 'base' | 'price' | 'ts'>[],
  ts: number,
): string {
  return JSON.stringify({
    topic: `allLiquidation.${instrument}`,
    type: 'snapshot',
    ts,
    data: orders.map((o) => ({
      T: o.ts,
      s: instrument,
      S: o.side === 'long' ? 'Buy' : 'Sell',
      v: bybitSize(o.base),
      p: formatPrice(o.price),
    })),
  });
}

/** `period` values of `/v5/market/account-ratio`, in ms. */
export const BYBIT_ACCOUNT_RATIO_PERIODS: Readonly<Record<string, number>> = {
  '5min': 5 * 60_000,
  '15min': 15 * 60_000,
  '30min': 30 * 60_000,
  '1h': HOUR_MS,
  '4h': 4 * HOUR_MS,
  '1d': 24 * HOUR_MS,
};

/** A seeded value in [-1, 1] for (key, n): the knots of the long-share noise. */
function knot(key: string, n: number): number {
  let h = 0x811c9dc5 ^ n;
  for (let i = 0; i < key.length; i++) h = Math.imul(h ^ key.charCodeAt(i), 0x01000193);
  h = Math.imul(h ^ (h >>> 15), 0x2c1b3c6d);
  h ^= h >>> 13;
  return ((h >>> 0) / 4_294_967_296) * 2 - 1;
}

/**
 * The simulated share of accounts long at `ts`, as Bybit quotes `buyRatio` (4 decimals): a
 * per-instrument lean of ±8 points plus a smooth ±10-point drift over hours, so between 0.32 and
 * 0.68 like the real figures (the docs' example: 0.49, 0.4927).
 */
export function bybitBuyRatio(instrument: string, ts: number): number {
  const x = ts / (3 * HOUR_MS);
  const i = Math.floor(x);
  const f = x - i;
  const u = f * f * (3 - 2 * f);
  const a = knot(instrument, i);
  const drift = a + (knot(instrument, i + 1) - a) * u;
  return Math.round((0.5 + 0.08 * knot(instrument, -1) + 0.1 * drift) * 10_000) / 10_000;
}

/**
 * The `result` of `/v5/market/account-ratio` for `instrument`: `limit` rows of `period` buckets,
 * NEWEST FIRST, the newest at the last bucket boundary at or before `ts`, every value a string
 * (the docs' response). The cursor has the docs' shape; the simulator does not page on it.
 */
export function bybitAccountRatioResult(instrument: string, periodMs: number, limit: number, ts: number) {
  const newest = Math.floor(ts / periodMs) * periodMs;
  const list = Array.from({ length: limit }, (_, k) => {
    const rowTs = newest - k * periodMs;
    const buy = bybitBuyRatio(instrument, rowTs);
    return {
      symbol: instrument,
      buyRatio: String(buy),
      sellRatio: String((10_000 - Math.round(buy * 10_000)) / 10_000),
      timestamp: String(rowTs),
    };
  });
  const oldest = newest - (limit - 1) * periodMs;
  return { list, nextPageCursor: `lastid%3D0%26lasttime%3D${Math.floor(oldest / 1000)}` };
}
