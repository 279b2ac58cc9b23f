/**
 * Which Binance USDⓈ-M instruments to follow: USDT-quoted perpetuals that are trading, either
 * the configured SYMBOLS or the top N by 24 h quote volume.
 * https://developers.binance.com/docs/derivatives/usds-margined-futures/market-data/rest-api/Exchange-Information (weight 1)
 * https://developers.binance.com/docs/derivatives/usds-margined-futures/market-data/rest-api/24hr-Ticker-Price-Change-Statistics (weight 40 without symbol)
 * https://developers.binance.com/docs/derivatives/usds-margined-futures/market-data/rest-api/Get-Funding-Rate-Info (weight 0, own 500/5 min limit)
 */
import { canonicalSymbol } from '../../domain/symbols.js';
import { finite } from '../core/fields.js';
import { type FetchUniverse, selectUniverse, type UniverseEntry } from '../core/universe.js';
import { BINANCE_DEFAULT_FUNDING_INTERVAL_HOURS } from './binance.js';
import { FUNDING_INFO_PATH } from './binance-rest.js';

interface SymbolRow {
  symbol: string;
  contractType: string;
  status: string;
  baseAsset: string;
  quoteAsset: string;
}

async function getJson(url: string, timeoutMs: number): Promise<unknown> {
  const res = await fetch(url, { signal: AbortSignal.timeout(timeoutMs) });
  if (!res.ok) {
    // Binance error bodies are `{"code":-1003,"msg":"..."}`; keep the message for the log.
    const text = await res.text().catch(() => '');
    throw new Error(`GET ${url}: HTTP ${res.status}${text ? ` ${text.slice(0, 200)}` : ''}`);
  }
  return res.json();
}

function rows<T>(value: unknown, url: string): T[] {
  if (!Array.isArray(value)) throw new Error(`GET ${url}: expected an array`);
  return value as T[];
}

/**
 * Lists the trading USDT perpetuals (COIN-M, USDC, dated and TradFi contract types are left out
 * by the filter), ranks them by `quoteVolume`, and takes each one's funding interval from
 * `fundingInfo` (8 h when not listed there).
 */
export const fetchBinanceUniverse: FetchUniverse = async (restUrl, want, timeoutMs = 10_000) => {
  const infoUrl = `${restUrl}/fapi/v1/exchangeInfo`;
  const tickerUrl = `${restUrl}/fapi/v1/ticker/24hr`;
  const fundingUrl = `${restUrl}${FUNDING_INFO_PATH}`;
  const [info, tickers, funding] = await Promise.all([
    getJson(infoUrl, timeoutMs),
    getJson(tickerUrl, timeoutMs),
    getJson(fundingUrl, timeoutMs),
  ]);
  const symbols = rows<SymbolRow>((info as { symbols?: unknown }).symbols, infoUrl);
  const turnover = new Map(
    rows<{ symbol: string; quoteVolume: string }>(tickers, tickerUrl).map((t) => [
      t.symbol,
      finite(t.quoteVolume),
    ]),
  );
  const intervals = new Map(
    rows<{ symbol: string; fundingIntervalHours?: number }>(funding, fundingUrl).map((f) => [
      f.symbol,
      finite(f.fundingIntervalHours),
    ]),
  );
  const all: UniverseEntry[] = [];
  for (const row of symbols) {
    if (row.contractType !== 'PERPETUAL' || row.status !== 'TRADING' || row.quoteAsset !== 'USDT') continue;
    const hours = intervals.get(row.symbol);
    const volume = turnover.get(row.symbol);
    all.push({
      symbol: canonicalSymbol(row.baseAsset) ?? row.baseAsset.toUpperCase(),
      instrument: row.symbol,
      fundingIntervalHours: hours && hours > 0 ? hours : BINANCE_DEFAULT_FUNDING_INTERVAL_HOURS,
      ...(volume !== undefined ? { turnover24hUsd: volume } : {}),
    });
  }
  return selectUniverse(all, want);
};
