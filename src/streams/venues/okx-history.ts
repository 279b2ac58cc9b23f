/**
 * OKX contract open-interest history (warm start), Trading Statistics ("rubik").
 * https://www.okx.com/docs-v5/en/#trading-statistics-rest-api-get-contract-open-interest-history
 * Confirmed (the doc page as mirrored in rosssaunders/coincise `docs/okx/trading_statistics.md`):
 * - `GET /api/v5/rubik/stat/contracts/open-interest-history?instId&period&begin&end&limit`;
 *   `period` 5m/15m/30m/1H/2H/4H (6H and up align on UTC+8); `limit` max and default 100; `end`
 *   returns records earlier than it, `begin` records newer than it; "can retrieve the latest 1,440
 *   data entries"; 10 requests per 2 s per IP + instrument.
 * - `data` is an array of rows `[ts, oi, oiCcy, oiUsd]`: contracts, base coin, USD.
 * Assumed, from independent clients (a Go collector and a Python backtest tool found with the
 * search tool, both measured 2026): rows come newest first; `ts` is the bar's start and the value is
 * the level at the bar's end (the bar in progress follows the live OI). So a row stands for
 * `ts + period`, and bars not closed by `toTs` are left out. `oiCcy` is one side in base coin
 * like the `open-interest` channel's, and `oiUsd / oiCcy` is the mark price the venue valued it at.
 * The range is fetched in windows of at most `limit` bars, so paging needs no cursor.
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

export const OKX_OI_HISTORY_PATH = '/api/v5/rubik/stat/contracts/open-interest-history';
export const OKX_OI_HISTORY_LIMIT = 100;
/** "This endpoint can retrieve the latest 1,440 data entries." */
export const OKX_OI_HISTORY_MAX_ENTRIES = 1_440;

const MIN_MS = 60_000;
export const OKX_OI_HISTORY_PERIODS: readonly HistoryPeriod[] = [
  { name: '5m', ms: 5 * MIN_MS },
  { name: '15m', ms: 15 * MIN_MS },
  { name: '30m', ms: 30 * MIN_MS },
  { name: '1H', ms: 60 * MIN_MS },
  { name: '2H', ms: 120 * MIN_MS },
  { name: '4H', ms: 240 * MIN_MS },
];

/**
 * Rows of one body as points stamped at the bar's end (`ts + periodMs`). An OKX error
 * (`code` ≠ "0") or a body without a `data` array throws; unreadable rows are skipped and reported.
 */
export function parseOkxOiHistory(body: unknown, periodMs: number, hooks?: OiHistoryHooks): OiHistoryPoint[] {
  if (!isRecord(body)) throw new OiHistoryError('E_HISTORY_BODY', 'body is not an object');
  if (String(body.code) !== '0')
    throw new OiHistoryError('E_HISTORY_VENUE', `code ${String(body.code)}: ${String(body.msg)}`);
  if (!Array.isArray(body.data)) throw new OiHistoryError('E_HISTORY_BODY', 'data is not an array');
  const points: OiHistoryPoint[] = [];
  for (const row of body.data) {
    const [barTs, , oiCcy, oiUsd] = Array.isArray(row) ? row.map(finite) : [];
    if (barTs === undefined || barTs <= 0 || oiCcy === undefined || oiCcy < 0) {
      hooks?.onSkipped?.(`open-interest-history row: ${JSON.stringify(row)?.slice(0, 120)}`);
      continue;
    }
    points.push({ ts: barTs + periodMs, oiBase: oiCcy, markPrice: priceOf(oiUsd, oiCcy) });
  }
  return points;
}

export function createOkxOiHistoryFetcher(
  restUrl: string,
  fetchImpl: typeof fetch = fetch,
): OiHistoryFetcher {
  return async (instrument, fromTs, toTs, signal, hooks) => {
    if (toTs < fromTs) return [];
    const period = choosePeriod(toTs - fromTs, OKX_OI_HISTORY_PERIODS, OKX_OI_HISTORY_MAX_ENTRIES);
    const p = period.ms;
    // Bars whose end lies in [fromTs, toTs]: starts from ceil(fromTs − p) to floor(toTs − p).
    const firstBar = Math.ceil((fromTs - p) / p) * p;
    const lastBar = Math.floor((toTs - p) / p) * p;
    const points: OiHistoryPoint[] = [];
    for (let newest = lastBar; newest >= firstBar; newest -= OKX_OI_HISTORY_LIMIT * p) {
      const oldest = Math.max(firstBar, newest - (OKX_OI_HISTORY_LIMIT - 1) * p);
      const query = new URLSearchParams({
        instId: instrument,
        period: period.name,
        // both bounds are exclusive
        begin: String(oldest - 1),
        end: String(newest + 1),
        limit: String(OKX_OI_HISTORY_LIMIT),
      });
      const body = await getHistoryJson(
        { fetchImpl, signal, hooks },
        `${restUrl}${OKX_OI_HISTORY_PATH}?${query}`,
      );
      const page = parseOkxOiHistory(body, p, hooks);
      points.push(...page);
      // Older than OKX keeps: the history ends here.
      if (page.length === 0) break;
    }
    return normalizePoints(points, fromTs, toTs);
  };
}
