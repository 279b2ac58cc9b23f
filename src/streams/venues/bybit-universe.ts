/**
 * Which Bybit instruments to follow: linear USDT perpetuals that are trading, either the
 * configured SYMBOLS or the top N by 24h turnover.
 * https://bybit-exchange.github.io/docs/v5/market/instrument (paginated, 500 per page by default)
 * https://bybit-exchange.github.io/docs/v5/market/tickers
 */
import { canonicalSymbol } from '../../domain/symbols.js';

export interface UniverseEntry {
  readonly symbol: string;
  readonly instrument: string;
  /** From `fundingInterval` (minutes); frames before 2025-10 lack `fundingIntervalHour`. */
  readonly fundingIntervalHours?: number;
}

export interface BybitUniverse {
  readonly entries: readonly UniverseEntry[];
  /** Requested symbols Bybit does not list as a trading USDT perpetual. */
  readonly missing: readonly string[];
}

interface InstrumentRow {
  symbol: string;
  contractType: string;
  status: string;
  baseCoin: string;
  quoteCoin: string;
  fundingInterval?: number | string;
}

async function getJson(url: string, timeoutMs: number): Promise<Record<string, unknown>> {
  const res = await fetch(url, { signal: AbortSignal.timeout(timeoutMs) });
  if (!res.ok) throw new Error(`GET ${url}: HTTP ${res.status}`);
  const body = (await res.json()) as Record<string, unknown>;
  if (body.retCode !== 0)
    throw new Error(`GET ${url}: retCode ${String(body.retCode)} ${String(body.retMsg)}`);
  return body;
}

export async function fetchBybitUniverse(
  restUrl: string,
  want: { symbols: readonly string[] | null; topN: number },
  timeoutMs = 10_000,
): Promise<BybitUniverse> {
  const perps = new Map<string, InstrumentRow>();
  let cursor = '';
  for (let page = 0; page < 20; page++) {
    const body = await getJson(
      `${restUrl}/v5/market/instruments-info?category=linear&limit=1000${cursor ? `&cursor=${encodeURIComponent(cursor)}` : ''}`,
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
  const toEntry = (row: InstrumentRow): UniverseEntry => {
    const minutes = Number(row.fundingInterval);
    return {
      symbol: canonicalSymbol(row.baseCoin) ?? row.baseCoin,
      instrument: row.symbol,
      ...(minutes > 0 ? { fundingIntervalHours: minutes / 60 } : {}),
    };
  };
  if (want.symbols) {
    const bySymbol = new Map(
      [...perps.values()].map((row) => [canonicalSymbol(row.baseCoin) ?? row.baseCoin, row]),
    );
    const entries: UniverseEntry[] = [];
    const missing: string[] = [];
    for (const s of want.symbols) {
      const row = bySymbol.get(s);
      if (row) entries.push(toEntry(row));
      else missing.push(s);
    }
    return { entries, missing };
  }
  const tickers = await getJson(`${restUrl}/v5/market/tickers?category=linear`, timeoutMs);
  const list = ((tickers.result as { list?: { symbol: string; turnover24h: string }[] }).list ?? [])
    .filter((t) => perps.has(t.symbol))
    .sort((a, b) => Number(b.turnover24h) - Number(a.turnover24h))
    .slice(0, want.topN);
  return { entries: list.map((t) => toEntry(perps.get(t.symbol)!)), missing: [] };
}
