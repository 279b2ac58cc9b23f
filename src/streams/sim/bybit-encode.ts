/**
 * Bybit v5 `tickers.{symbol}` frames for a synthetic point, in the real wire format (protocol
 * mirror of https://bybit-exchange.github.io/docs/v5/websocket/public/ticker, the same field set
 * as `bybitTickerData` in bybit-sim.ts): a `snapshot` with every field on an instrument's first
 * point, then `delta`s carrying `symbol` and only the fields that changed. Every number is a
 * decimal string that parses back to exactly the point's value; `openInterest` counts both sides
 * (2 × `singleOpenInterest`).
 */
import { priceDecimals } from './market.js';
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
