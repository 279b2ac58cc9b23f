/**
 * Which OKX instruments to follow: linear USDT swaps that are live, ranked by 24h turnover.
 * https://www.okx.com/docs-v5/en/#public-data-rest-api-get-instruments (20 req / 2 s)
 * https://www.okx.com/docs-v5/en/#order-book-trading-market-data-get-tickers (20 req / 2 s)
 * `instType=SWAP` mixes USDT-margined (linear), USDC-margined and coin-margined (inverse) swaps.
 * `volCcy24h` is base volume for swaps, so turnover = `volCcy24h × last`.
 * `ctVal × ctMult` is the base coin per contract of a linear swap (BTC-USDT-SWAP 0.01): liquidation
 * sizes come in contracts.
 */
import { finite } from '../core/fields.js';
import { type FetchUniverse, selectUniverse, type UniverseEntry } from '../core/universe.js';
import { okxBase } from './okx.js';

interface InstrumentRow {
  instId?: string;
  instType?: string;
  uly?: string;
  settleCcy?: string;
  ctType?: string;
  state?: string;
  ctVal?: string;
  ctMult?: string;
}

interface TickerRow {
  instId?: string;
  last?: string;
  volCcy24h?: string;
}

async function getData<T>(url: string, timeoutMs: number): Promise<T[]> {
  const res = await fetch(url, { signal: AbortSignal.timeout(timeoutMs) });
  if (!res.ok) throw new Error(`GET ${url}: HTTP ${res.status}`);
  const body = (await res.json()) as { code?: unknown; msg?: unknown; data?: unknown };
  if (String(body.code) !== '0') throw new Error(`GET ${url}: code ${String(body.code)} ${String(body.msg)}`);
  if (!Array.isArray(body.data)) throw new Error(`GET ${url}: no data array`);
  return body.data as T[];
}

function isLinearUsdtSwap(row: InstrumentRow): row is InstrumentRow & { instId: string } {
  return (
    row.instType === 'SWAP' &&
    row.settleCcy === 'USDT' &&
    row.ctType === 'linear' &&
    row.state === 'live' &&
    typeof row.instId === 'string' &&
    row.instId.endsWith('-USDT-SWAP')
  );
}

/** Base coin per contract (`ctVal × ctMult`, `ctMult` 1 when absent); undefined when unreadable. */
export function okxContractValueBase(row: Pick<InstrumentRow, 'ctVal' | 'ctMult'>): number | undefined {
  const ctVal = finite(row.ctVal);
  const ctMult = row.ctMult === undefined || row.ctMult === '' ? 1 : finite(row.ctMult);
  if (ctVal === undefined || ctMult === undefined || !(ctVal > 0) || !(ctMult > 0)) return undefined;
  return Number((ctVal * ctMult).toPrecision(12));
}

/** `uly` is `BTC-USDT`; the base is what precedes the quote. */
function baseOf(row: InstrumentRow & { instId: string }): string {
  return okxBase(row.uly || row.instId);
}

export const fetchOkxUniverse: FetchUniverse = async (restUrl, want, timeoutMs = 10_000) => {
  const [instruments, tickers] = await Promise.all([
    getData<InstrumentRow>(`${restUrl}/api/v5/public/instruments?instType=SWAP`, timeoutMs),
    getData<TickerRow>(`${restUrl}/api/v5/market/tickers?instType=SWAP`, timeoutMs),
  ]);
  const turnover = new Map<string, number>();
  for (const t of tickers) {
    const volBase = finite(t.volCcy24h);
    const last = finite(t.last);
    if (typeof t.instId === 'string' && volBase !== undefined && last !== undefined)
      turnover.set(t.instId, volBase * last);
  }
  const all: UniverseEntry[] = instruments.filter(isLinearUsdtSwap).map((row) => {
    const usd = turnover.get(row.instId);
    const contractValueBase = okxContractValueBase(row);
    return {
      symbol: baseOf(row),
      instrument: row.instId,
      ...(contractValueBase !== undefined ? { contractValueBase } : {}),
      ...(usd !== undefined ? { turnover24hUsd: usd } : {}),
    };
  });
  return selectUniverse(all, want);
};
