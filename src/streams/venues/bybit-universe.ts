/**
 * Bybit linear USDT perpetuals that are trading, ranked by 24h turnover.
 * https://bybit-exchange.github.io/docs/v5/market/instrument (paginated, 500 per page by default)
 * https://bybit-exchange.github.io/docs/v5/market/tickers
 */
import { canonicalSymbol } from '../../domain/symbols.js';
import { finite } from '../core/fields.js';
import { type FetchUniverse, selectUniverse, type UniverseEntry } from '../core/universe.js';

interface InstrumentRow {
  symbol: string;
  contractType: string;
  status: string;
  baseCoin: string;
  quoteCoin: string;
  fundingInterval?: number | string;
  /** Bounds on the funding rate per interval; `""` (or absent) on dated futures. */
  upperFundingRate?: string;
  lowerFundingRate?: string;
}

async function getJson(url: string, timeoutMs: number): Promise<Record<string, unknown>> {
  const res = await fetch(url, { signal: AbortSignal.timeout(timeoutMs) });
  if (!res.ok) throw new Error(`GET ${url}: HTTP ${res.status}`);
  const body = (await res.json()) as Record<string, unknown>;
  if (body.retCode !== 0)
    throw new Error(`GET ${url}: retCode ${String(body.retCode)} ${String(body.retMsg)}`);
  return body;
}

export const fetchBybitUniverse: FetchUniverse = async (restUrl, want, timeoutMs = 10_000) => {
  const perps = new Map<string, InstrumentRow>();
  let cursor = '';
  for (let page = 0; page < 20; page++) {
    const query = cursor ? `&cursor=${encodeURIComponent(cursor)}` : '';
    const body = await getJson(
      `${restUrl}/v5/market/instruments-info?category=linear&limit=1000${query}`,
      timeoutMs,
    );
    const result = body.result as { list?: InstrumentRow[]; nextPageCursor?: string };
    for (const row of result.list ?? []) {
      if (row.contractType === 'LinearPerpetual' && row.status === 'Trading' && row.quoteCoin === 'USDT') {
        perps.set(row.symbol, row);
      }
    }
    cursor = result.nextPageCursor ?? '';
    if (!cursor) break;
  }
  const tickers = await getJson(`${restUrl}/v5/market/tickers?category=linear`, timeoutMs);
  const turnover = new Map(
    ((tickers.result as { list?: { symbol: string; turnover24h: string }[] }).list ?? []).map((t) => [
      t.symbol,
      finite(t.turnover24h),
    ]),
  );
  const all: UniverseEntry[] = [...perps.values()].map((row) => {
    const minutes = finite(row.fundingInterval) ?? 0;
    const cap = finite(row.upperFundingRate);
    const floor = finite(row.lowerFundingRate);
    return {
      symbol: canonicalSymbol(row.baseCoin) ?? row.baseCoin,
      instrument: row.symbol,
      turnover24hUsd: turnover.get(row.symbol) ?? 0,
      ...(minutes > 0 ? { fundingIntervalHours: minutes / 60 } : {}),
      ...(cap !== undefined ? { fundingRateCap: cap } : {}),
      ...(floor !== undefined ? { fundingRateFloor: floor } : {}),
    };
  });
  return selectUniverse(all, want);
};
