/**
 * Binance USDⓈ-M open-interest history (warm start).
 * https://developers.binance.com/docs/derivatives/usds-margined-futures/market-data/rest-api/Open-Interest-Statistics
 * Confirmed (the doc page above, binance/binance-connector-js, and its mirror in rosssaunders/coincise
 * `docs/binance/usdm/endpoints/public/get_futures_data_openinteresthist.md`):
 * - `GET /futures/data/openInterestHist?symbol&period&limit&startTime&endTime`; periods 5m … 1d;
 *   `limit` default 30, max 500; only the latest 30 days; request weight 0 but its own IP limit
 *   of 1000 requests per 5 minutes.
 * - Rows oldest first: `symbol`, `sumOpenInterest` (base), `sumOpenInterestValue` (USDT),
 *   `CMCCirculatingSupply`, `timestamp` (a string in the doc, an integer in the 2026 connector).
 * Assumed: `sumOpenInterestValue` is the OI valued at the mark price, so value / OI is the mark;
 * `timestamp` is when the value held. With 5m × 500 = 41 h one request covers 24 h.
 */

import { finite, isRecord } from '../core/fields.js';
import {
  choosePeriod,
  getHistoryJson,
  type HistoryPeriod,
  normalizePoints,
  OiHistoryError,
  type OiHistoryFetcher,
  type OiHistoryHooks,
  type OiHistoryPoint,
  priceOf,
} from '../core/history.js';

export const BINANCE_OI_HISTORY_PATH = '/futures/data/openInterestHist';
/** Rows per request (the documented maximum). */
export const BINANCE_OI_HISTORY_LIMIT = 500;
/** "Only the data of the latest 1 month is available." */
export const BINANCE_OI_HISTORY_RETENTION_MS = 30 * 24 * 3_600_000;

const MIN_MS = 60_000;
const HOUR_MS = 60 * MIN_MS;
export const BINANCE_OI_HISTORY_PERIODS: readonly HistoryPeriod[] = [
  { name: '5m', ms: 5 * MIN_MS },
  { name: '15m', ms: 15 * MIN_MS },
  { name: '30m', ms: 30 * MIN_MS },
  { name: '1h', ms: HOUR_MS },
  { name: '2h', ms: 2 * HOUR_MS },
  { name: '4h', ms: 4 * HOUR_MS },
  { name: '6h', ms: 6 * HOUR_MS },
  { name: '12h', ms: 12 * HOUR_MS },
  { name: '1d', ms: 24 * HOUR_MS },
];

/**
 * Points of one `openInterestHist` body. A Binance error body (`{code,msg}`) or a body that is
 * not an array throws; unreadable rows are skipped and reported.
 */
export function parseBinanceOiHistory(body: unknown, hooks?: OiHistoryHooks): OiHistoryPoint[] {
  if (isRecord(body) && 'code' in body && 'msg' in body)
    throw new OiHistoryError('E_HISTORY_VENUE', `code ${String(body.code)}: ${String(body.msg)}`);
  if (!Array.isArray(body))
    throw new OiHistoryError('E_HISTORY_BODY', 'openInterestHist body is not an array');
  const points: OiHistoryPoint[] = [];
  for (const row of body) {
    const ts = isRecord(row) ? finite(row.timestamp) : undefined;
    const oiBase = isRecord(row) ? finite(row.sumOpenInterest) : undefined;
    if (!isRecord(row) || ts === undefined || ts <= 0 || oiBase === undefined || oiBase < 0) {
      hooks?.onSkipped?.(`openInterestHist row: ${JSON.stringify(row)?.slice(0, 120)}`);
      continue;
    }
    points.push({ ts, oiBase, markPrice: priceOf(finite(row.sumOpenInterestValue), oiBase) });
  }
  return points;
}

export function createBinanceOiHistoryFetcher(
  restUrl: string,
  fetchImpl: typeof fetch = fetch,
): OiHistoryFetcher {
  return async (instrument, fromTs, toTs, signal, hooks) => {
    const from = Math.max(fromTs, toTs - BINANCE_OI_HISTORY_RETENTION_MS);
    if (toTs < from) return [];
    const period = choosePeriod(toTs - from, BINANCE_OI_HISTORY_PERIODS, BINANCE_OI_HISTORY_LIMIT);
    const query = new URLSearchParams({
      symbol: instrument,
      period: period.name,
      limit: String(BINANCE_OI_HISTORY_LIMIT),
      startTime: String(from),
      endTime: String(toTs),
    });
    const body = await getHistoryJson(
      { fetchImpl, signal, hooks },
      `${restUrl}${BINANCE_OI_HISTORY_PATH}?${query}`,
    );
    return normalizePoints(parseBinanceOiHistory(body, hooks), from, toTs);
  };
}
