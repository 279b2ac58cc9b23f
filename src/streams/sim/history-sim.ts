/**
 * The simulators' REST open-interest history, from the scripted market's own past (protocol
 * mirror of the venues' history endpoints; see `venues/<venue>-history.ts` for the sources):
 * Binance `openInterestHist`, Bybit `open-interest` and `mark-price-kline`, OKX rubik
 * `open-interest-history`. Values are the ones the live frames carry at the same event time,
 * rounded the same way, so a backfill against a simulator agrees with its live feed.
 */
import { binancePoint, decimal } from './binance-sim-rest.js';
import { formatPrice, type ScriptedMarket } from './market.js';
import { okxContractValue, okxPoint, plainDecimal } from './okx-sim-rest.js';

const MIN_MS = 60_000;
const HOUR_MS = 60 * MIN_MS;
const DAY_MS = 24 * HOUR_MS;

export interface HistoryAnswer {
  readonly status: number;
  readonly body: unknown;
}

/** Period starts `p`-aligned (plus `offsetMs`) within [fromTs, toTs], oldest first. */
function boundaries(fromTs: number, toTs: number, p: number, offsetMs = 0): number[] {
  const out: number[] = [];
  for (let t = Math.ceil((fromTs - offsetMs) / p) * p + offsetMs; t <= toTs; t += p) out.push(t);
  return out;
}

const int = (v: string | null): number | undefined => {
  if (v === null || v === '') return undefined;
  const n = Number(v);
  return Number.isFinite(n) ? n : Number.NaN;
};

const BINANCE_PERIODS: Readonly<Record<string, number>> = {
  '5m': 5 * MIN_MS,
  '15m': 15 * MIN_MS,
  '30m': 30 * MIN_MS,
  '1h': HOUR_MS,
  '2h': 2 * HOUR_MS,
  '4h': 4 * HOUR_MS,
  '6h': 6 * HOUR_MS,
  '12h': 12 * HOUR_MS,
  '1d': DAY_MS,
};

/**
 * `GET /futures/data/openInterestHist`: up to `limit` (default 30, max 500) period boundaries of
 * the last 30 days, oldest first; from `startTime` forward when given, else the latest up to
 * `endTime` (as Binance's klines do). `instruments` maps a listed symbol to its base asset.
 */
export function binanceOiHistory(
  market: ScriptedMarket,
  instruments: ReadonlyMap<string, string>,
  intervalHours: (instrument: string) => number,
  query: URLSearchParams,
  nowTs: number,
): HistoryAnswer {
  const bad = (code: number, msg: string) => ({ status: 400, body: { code, msg } });
  const symbol = query.get('symbol');
  const base = symbol ? instruments.get(symbol) : undefined;
  if (!symbol) return bad(-1102, "Mandatory parameter 'symbol' was not sent, was empty/null, or malformed.");
  if (!base) return bad(-1121, 'Invalid symbol.');
  const p = BINANCE_PERIODS[query.get('period') ?? ''];
  if (!p) return bad(-1120, 'Invalid interval.');
  const limit = int(query.get('limit')) ?? 30;
  if (!Number.isInteger(limit) || limit < 1 || limit > 500)
    return bad(-1130, "Data sent for parameter 'limit' is not valid.");
  const start = int(query.get('startTime'));
  const end = int(query.get('endTime'));
  if (Number.isNaN(start) || Number.isNaN(end)) return bad(-1100, 'Illegal characters found in a parameter.');
  const all = boundaries(Math.max(start ?? 0, nowTs - 30 * DAY_MS), Math.min(end ?? nowTs, nowTs), p);
  const picked = start !== undefined ? all.slice(0, limit) : all.slice(-limit);
  const body = picked.map((ts) => {
    const pt = binancePoint(market, base, symbol, ts, intervalHours(symbol));
    return {
      symbol,
      sumOpenInterest: decimal(pt.oiBase, 8),
      sumOpenInterestValue: decimal(pt.oiBase * pt.markPrice, 8),
      CMCCirculatingSupply: '19800000.000',
      timestamp: ts,
    };
  });
  return { status: 200, body };
}

const BYBIT_OI_INTERVALS: Readonly<Record<string, number>> = {
  '5min': 5 * MIN_MS,
  '15min': 15 * MIN_MS,
  '30min': 30 * MIN_MS,
  '1h': HOUR_MS,
  '4h': 4 * HOUR_MS,
  '1d': DAY_MS,
};
const BYBIT_KLINE_INTERVALS: Readonly<Record<string, number>> = {
  ...Object.fromEntries([1, 3, 5, 15, 30, 60, 120, 240, 360, 720].map((m) => [String(m), m * MIN_MS])),
  D: DAY_MS,
};

function bybitAnswer(ts: number, retCode: number, retMsg: string, result: object = {}): HistoryAnswer {
  return { status: 200, body: { retCode, retMsg, result, retExtInfo: {}, time: ts } };
}

/**
 * `GET /v5/market/open-interest` (newest first, `limit` 1..200 default 50, `nextPageCursor`) and
 * `GET /v5/market/mark-price-kline` (newest first, `limit` 1..200 default 200, the latest candles
 * within [start, end]). `symbols` maps a linear perpetual to its base asset.
 */
export function bybitHistory(
  market: ScriptedMarket,
  symbols: ReadonlyMap<string, string>,
  path: string,
  query: URLSearchParams,
  nowTs: number,
): HistoryAnswer | null {
  if (path !== '/v5/market/open-interest' && path !== '/v5/market/mark-price-kline') return null;
  if (query.get('category') !== 'linear') return bybitAnswer(nowTs, 10001, 'Illegal category');
  const symbol = query.get('symbol') ?? '';
  const base = symbols.get(symbol);
  if (!base) return bybitAnswer(nowTs, 10001, 'Not supported symbols');
  const kline = path === '/v5/market/mark-price-kline';
  const p = kline
    ? BYBIT_KLINE_INTERVALS[query.get('interval') ?? '']
    : BYBIT_OI_INTERVALS[query.get('intervalTime') ?? ''];
  if (!p) return bybitAnswer(nowTs, 10001, 'params error: interval invalid');
  const limit = int(query.get('limit')) ?? (kline ? 200 : 50);
  if (!Number.isInteger(limit) || limit < 1 || limit > 200)
    return bybitAnswer(nowTs, 10001, 'params error: limit');
  const start = int(query.get(kline ? 'start' : 'startTime'));
  const end = int(query.get(kline ? 'end' : 'endTime'));
  if (Number.isNaN(start) || Number.isNaN(end)) return bybitAnswer(nowTs, 10001, 'params error: time');
  const mark = (ts: number) => formatPrice(market.stateAt(base, ts).markPrice);
  if (kline) {
    const last = Math.min(end ?? nowTs, nowTs);
    const starts = boundaries(start ?? last - limit * p, last, p)
      .slice(-limit)
      .reverse();
    const list = starts.map((t) => {
      const open = mark(t);
      const close = mark(Math.min(t + p - 1, nowTs));
      const [hi, lo] = Number(open) >= Number(close) ? [open, close] : [close, open];
      return [String(t), open, hi, lo, close];
    });
    return bybitAnswer(nowTs, 0, 'OK', { symbol, category: 'linear', list });
  }
  // The cursor is the newest timestamp the next page may hold (opaque to clients).
  const cursor = int(query.get('cursor'));
  const newest = Math.min(
    end ?? nowTs,
    nowTs,
    cursor !== undefined && !Number.isNaN(cursor) ? cursor : nowTs,
  );
  const times = boundaries(start ?? nowTs - 30 * DAY_MS, newest, p).reverse();
  const page = times.slice(0, limit);
  const list = page.map((t) => {
    const single = market.stateAt(base, t).oiBase.toFixed(3);
    return {
      openInterest: (2 * Number(single)).toFixed(8),
      singleOpenInterest: single,
      timestamp: String(t),
    };
  });
  const more = times.length > limit;
  return bybitAnswer(nowTs, 0, 'OK', {
    symbol,
    category: 'linear',
    list,
    nextPageCursor: more ? String(page[page.length - 1]! - 1) : '',
  });
}

/** OKX rubik bar sizes (`period`), shared by every rubik endpoint the simulators serve. */
export const OKX_PERIODS: Readonly<Record<string, number>> = {
  '5m': 5 * MIN_MS,
  '15m': 15 * MIN_MS,
  '30m': 30 * MIN_MS,
  '1H': HOUR_MS,
  '2H': 2 * HOUR_MS,
  '4H': 4 * HOUR_MS,
  '1D': DAY_MS,
};
/** 6H and longer bars open on UTC+8 days (16:00 UTC). */
const OKX_UTC8_OFFSET_MS = -8 * HOUR_MS;

/**
 * `GET /api/v5/rubik/stat/contracts/open-interest-history`: rows `[ts, oi, oiCcy, oiUsd]`, newest
 * first, at most `limit` (≤ 100) bars strictly between `begin` and `end`, from the latest 1,440.
 * A bar's value is the level at its end (the bar in progress follows the live OI), as on OKX.
 * `instIds` maps a followed swap to its base asset.
 */
export function okxOiHistory(
  market: ScriptedMarket,
  instIds: ReadonlyMap<string, string>,
  query: URLSearchParams,
  nowTs: number,
): HistoryAnswer {
  const fail = (code: string, msg: string) => ({ status: 200, body: { code, msg, data: [] } });
  const instId = query.get('instId') ?? '';
  const base = instIds.get(instId);
  if (!instId) return fail('50014', 'Parameter instId can not be empty.');
  if (!base) return fail('51001', "Instrument ID doesn't exist.");
  const period = query.get('period') ?? '5m';
  const p = OKX_PERIODS[period];
  if (!p) return fail('51000', 'Parameter period error');
  const limit = int(query.get('limit')) ?? 100;
  if (!Number.isInteger(limit) || limit < 1 || limit > 100) return fail('51000', 'Parameter limit error');
  const begin = int(query.get('begin'));
  const end = int(query.get('end'));
  if (Number.isNaN(begin) || Number.isNaN(end)) return fail('51000', 'Parameter begin/end error');
  const offset = p >= DAY_MS ? OKX_UTC8_OFFSET_MS : 0;
  const kept = boundaries(nowTs - 1_440 * p, nowTs, p, offset).slice(-1_440);
  const bars = kept.filter((t) => (begin === undefined || t > begin) && (end === undefined || t < end));
  const ctVal = okxContractValue(base);
  const data = bars
    .slice(-limit)
    .reverse()
    .map((t) => {
      const pt = okxPoint(market, base, Math.min(t + p, nowTs));
      return [
        String(t),
        plainDecimal(Number((pt.oiBase / ctVal).toFixed(8))),
        plainDecimal(pt.oiBase),
        plainDecimal(pt.oiBase * pt.markPrice),
      ];
    });
  return { status: 200, body: { code: '0', msg: '', data } };
}
