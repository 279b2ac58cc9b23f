/**
 * OKX rubik long/short ratios for the simulator, in the real format (protocol mirror of
 * https://www.okx.com/docs-v5/en/#trading-statistics-rest-api-get-contract-long-short-ratio and the
 * top-trader position ratio): `{"code":"0","msg":"","data":[[ts, ratio], …]}`, strings, newest
 * first, one row per closed bar stamped at its start; errors as OKX's codes with HTTP 200.
 * The scripted market has no crowd, so the ratios are a seeded smooth walk per symbol.
 */
import { stableHash } from '../core/universe.js';
import { OKX_ACCOUNT_RATIO_PATH, OKX_TOP_TRADER_POSITION_RATIO_PATH } from '../venues/okx-long-short.js';
import { OKX_PERIODS } from './history-sim.js';

const HOUR_MS = 3_600_000;
/** "The latest 1,440 data entries" are kept. */
const MAX_ENTRIES = 1_440;

export const OKX_LONG_SHORT_PATHS: readonly string[] = [
  OKX_ACCOUNT_RATIO_PATH,
  OKX_TOP_TRADER_POSITION_RATIO_PATH,
];

function hash01(key: string): number {
  return stableHash(key) / 4_294_967_296;
}

/**
 * The long ÷ short ratio of `symbol` at `ts`: accounts lean long (about 1.1, retail), top traders'
 * positions near even; a smooth walk between hourly seeded knots, 4 decimals like OKX.
 */
export function okxSimLongShortRatio(symbol: string, path: string, ts: number): number {
  const top = path === OKX_TOP_TRADER_POSITION_RATIO_PATH;
  const knot = Math.floor(ts / HOUR_MS);
  const f = ts / HOUR_MS - knot;
  const u = f * f * (3 - 2 * f);
  const a = hash01(`${path}:${symbol}:${knot}`);
  const b = hash01(`${path}:${symbol}:${knot + 1}`);
  const walk = a + (b - a) * u - 0.5;
  return Number(((top ? 0.95 : 1.1) * Math.exp((top ? 0.5 : 0.8) * walk)).toFixed(4));
}

function int(text: string | null): number | undefined {
  return text === null || text === '' ? undefined : Number(text);
}

/**
 * The answer to `GET <path>?instId&period&begin&end&limit` for one of `OKX_LONG_SHORT_PATHS`.
 * `instIds` maps the simulated swaps to their symbols.
 */
export function okxLongShortAnswer(
  instIds: ReadonlyMap<string, string>,
  path: string,
  query: URLSearchParams,
  nowTs: number,
): { status: number; body: object } {
  const fail = (code: string, msg: string) => ({ status: 200, body: { code, msg, data: [] } });
  const instId = query.get('instId') ?? '';
  if (!instId) return fail('50014', 'Parameter instId can not be empty.');
  const symbol = instIds.get(instId);
  if (!symbol) return fail('51001', "Instrument ID doesn't exist.");
  const periodMs = OKX_PERIODS[query.get('period') ?? '5m'];
  if (!periodMs) return fail('51000', 'Parameter period error');
  const limit = int(query.get('limit')) ?? 100;
  if (!Number.isInteger(limit) || limit < 1 || limit > 100) return fail('51000', 'Parameter limit error');
  const begin = int(query.get('begin'));
  const end = int(query.get('end'));
  if (Number.isNaN(begin) || Number.isNaN(end)) return fail('51000', 'Parameter begin/end error');
  // Closed bars only: the newest starts one period before the current bar.
  const newestTs = Math.floor(nowTs / periodMs) * periodMs - periodMs;
  const rows: string[][] = [];
  for (let i = 0; i < MAX_ENTRIES && rows.length < limit; i++) {
    const ts = newestTs - i * periodMs;
    if (begin !== undefined && ts <= begin) break;
    if (end !== undefined && ts >= end) continue;
    rows.push([String(ts), String(okxSimLongShortRatio(symbol, path, ts + periodMs))]);
  }
  return { status: 200, body: { code: '0', msg: '', data: rows } };
}
