/**
 * Bybit v5 linear open-interest history (warm start), with mark prices from the mark-price klines.
 * Confirmed against bybit-exchange/docs (`docs/v5/market/open-interest.mdx`, `mark-kline.mdx`) and
 * https://bybit-exchange.github.io/docs/v5/market/open-interest:
 * - `GET /v5/market/open-interest?category=linear&symbol&intervalTime=5min|15min|30min|1h|4h|1d
 *   &startTime&endTime&limit(1..200, default 50)&cursor`; `result.list` newest first, rows
 *   `{openInterest, singleOpenInterest (since 2026-06-11), timestamp}`, paginated by
 *   `result.nextPageCursor`. `openInterest` counts both sides since 2023-11 (= 2 × single).
 * - `GET /v5/market/mark-price-kline?category=linear&symbol&interval=5|15|30|60|240|D&start&end
 *   &limit(1..200, default 200)`; `result.list` newest first, rows of strings
 *   `[startTime, open, high, low, close]`; no cursor.
 * Assumed: an OI row's `timestamp` is when the value held, and the mark then is the open of the
 * candle starting at that time (else the close of the candle before). The kline range is fetched
 * in windows of at most `limit` candles, so the answer does not depend on which end Bybit trims.
 * Mark prices are a side series: when they fail the points keep `markPrice: null`.
 */

import { finite, isRecord } from '../core/fields.js';
import {
  choosePeriod,
  getHistoryJson,
  type HistoryHttp,
  type HistoryPeriod,
  normalizePoints,
  OiHistoryError,
  type OiHistoryFetcher,
  type OiHistoryHooks,
  type OiHistoryPoint,
} from '../core/history.js';

export const BYBIT_OI_HISTORY_PATH = '/v5/market/open-interest';
export const BYBIT_MARK_KLINE_PATH = '/v5/market/mark-price-kline';
export const BYBIT_OI_HISTORY_LIMIT = 200;
export const BYBIT_MARK_KLINE_LIMIT = 200;
/** At most this many points per instrument (5 pages): 24 h at 5 min is 289. */
const MAX_POINTS = 1_000;

const MIN_MS = 60_000;
/** OI `intervalTime` names with the matching mark-kline `interval`. */
export const BYBIT_OI_HISTORY_PERIODS: readonly (HistoryPeriod & { readonly kline: string })[] = [
  { name: '5min', ms: 5 * MIN_MS, kline: '5' },
  { name: '15min', ms: 15 * MIN_MS, kline: '15' },
  { name: '30min', ms: 30 * MIN_MS, kline: '30' },
  { name: '1h', ms: 60 * MIN_MS, kline: '60' },
  { name: '4h', ms: 240 * MIN_MS, kline: '240' },
  { name: '1d', ms: 1_440 * MIN_MS, kline: 'D' },
];

/** `result` of a Bybit answer; `retCode` ≠ 0 throws. */
function resultOf(body: unknown): Record<string, unknown> {
  if (!isRecord(body)) throw new OiHistoryError('E_HISTORY_BODY', 'body is not an object');
  if (body.retCode !== 0)
    throw new OiHistoryError('E_HISTORY_VENUE', `retCode ${String(body.retCode)}: ${String(body.retMsg)}`);
  if (!isRecord(body.result) || !Array.isArray(body.result.list))
    throw new OiHistoryError('E_HISTORY_BODY', 'result.list is not an array');
  return body.result;
}

/** One open-interest page: one-side OI points (mark unknown) and the next cursor (`""` = none). */
export function parseBybitOiPage(
  body: unknown,
  hooks?: OiHistoryHooks,
): { points: OiHistoryPoint[]; nextCursor: string } {
  const result = resultOf(body);
  const points: OiHistoryPoint[] = [];
  for (const row of result.list as unknown[]) {
    const ts = isRecord(row) ? finite(row.timestamp) : undefined;
    const single = isRecord(row) ? finite(row.singleOpenInterest) : undefined;
    const both = isRecord(row) ? finite(row.openInterest) : undefined;
    const oiBase = single ?? (both !== undefined ? both / 2 : undefined);
    if (ts === undefined || ts <= 0 || oiBase === undefined || oiBase < 0) {
      hooks?.onSkipped?.(`open-interest row: ${JSON.stringify(row)?.slice(0, 120)}`);
      continue;
    }
    points.push({ ts, oiBase, markPrice: null });
  }
  const nextCursor = typeof result.nextPageCursor === 'string' ? result.nextPageCursor : '';
  return { points, nextCursor };
}

/** One mark-price-kline page: candle start time → [open, close]. */
export function parseBybitMarkKlines(
  body: unknown,
  hooks?: OiHistoryHooks,
): Map<number, readonly [number, number]> {
  const result = resultOf(body);
  const candles = new Map<number, readonly [number, number]>();
  for (const row of result.list as unknown[]) {
    const [start, open, , , close] = Array.isArray(row) ? row.map(finite) : [];
    if (start === undefined || open === undefined || close === undefined || !(open > 0) || !(close > 0)) {
      hooks?.onSkipped?.(`mark-price-kline row: ${JSON.stringify(row)?.slice(0, 120)}`);
      continue;
    }
    candles.set(start, [open, close]);
  }
  return candles;
}

async function fetchOi(http: HistoryHttp, base: string, maxPages: number): Promise<OiHistoryPoint[]> {
  const points: OiHistoryPoint[] = [];
  let cursor = '';
  for (let page = 0; page < maxPages; page++) {
    const url = cursor ? `${base}&cursor=${encodeURIComponent(cursor)}` : base;
    const { points: rows, nextCursor } = parseBybitOiPage(await getHistoryJson(http, url), http.hooks);
    points.push(...rows);
    if (rows.length === 0 || !nextCursor || nextCursor === cursor) break;
    cursor = nextCursor;
  }
  return points;
}

async function fetchMarks(
  http: HistoryHttp,
  restUrl: string,
  instrument: string,
  period: (typeof BYBIT_OI_HISTORY_PERIODS)[number],
  fromTs: number,
  toTs: number,
): Promise<Map<number, readonly [number, number]>> {
  const candles = new Map<number, readonly [number, number]>();
  // One candle before `fromTs`, so the first point can fall back on its close.
  const first = Math.floor(fromTs / period.ms) * period.ms - period.ms;
  const windowMs = BYBIT_MARK_KLINE_LIMIT * period.ms;
  for (let start = first; start <= toTs; start += windowMs) {
    const query = new URLSearchParams({
      category: 'linear',
      symbol: instrument,
      interval: period.kline,
      start: String(start),
      end: String(Math.min(toTs, start + windowMs - 1)),
      limit: String(BYBIT_MARK_KLINE_LIMIT),
    });
    const page = parseBybitMarkKlines(
      await getHistoryJson(http, `${restUrl}${BYBIT_MARK_KLINE_PATH}?${query}`),
      http.hooks,
    );
    for (const [ts, candle] of page) candles.set(ts, candle);
  }
  return candles;
}

export function createBybitOiHistoryFetcher(
  restUrl: string,
  fetchImpl: typeof fetch = fetch,
): OiHistoryFetcher {
  return async (instrument, fromTs, toTs, signal, hooks) => {
    if (toTs < fromTs) return [];
    const http: HistoryHttp = { fetchImpl, signal, hooks };
    const period = choosePeriod(toTs - fromTs, BYBIT_OI_HISTORY_PERIODS, MAX_POINTS);
    const query = new URLSearchParams({
      category: 'linear',
      symbol: instrument,
      intervalTime: period.name,
      startTime: String(fromTs),
      endTime: String(toTs),
      limit: String(BYBIT_OI_HISTORY_LIMIT),
    });
    const maxPages = Math.ceil(MAX_POINTS / BYBIT_OI_HISTORY_LIMIT) + 1;
    const oi = normalizePoints(
      await fetchOi(http, `${restUrl}${BYBIT_OI_HISTORY_PATH}?${query}`, maxPages),
      fromTs,
      toTs,
    );
    if (oi.length === 0) return oi;
    let candles: Map<number, readonly [number, number]>;
    try {
      candles = await fetchMarks(http, restUrl, instrument, period, oi[0]!.ts, toTs);
    } catch (err) {
      if (signal?.aborted) throw err;
      hooks?.onSkipped?.(`mark-price-kline: ${err instanceof Error ? err.message : String(err)}`);
      return oi;
    }
    return oi.map((p) => ({
      ...p,
      markPrice: candles.get(p.ts)?.[0] ?? candles.get(p.ts - period.ms)?.[1] ?? null,
    }));
  };
}
