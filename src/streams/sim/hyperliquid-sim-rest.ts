/**
 * Hyperliquid wire shapes for the simulator and the encoder (protocol mirror of
 * https://hyperliquid.gitbook.io/hyperliquid-docs/for-developers/api/info-endpoint/perpetuals
 * and the `activeAssetCtx` subscription): the per-coin asset context, the synthetic point the
 * scripted market gives for a coin, and the `POST /info` answers.
 */
import { hyperliquidSymbol, nextHourTs } from '../venues/hyperliquid.js';
import type { ScriptedMarket } from './market.js';
import type { SyntheticPoint } from './synthetic.js';

/** A `PerpAssetCtx` as on the wire: every number a decimal string; three fields may be null. */
export interface HyperliquidCtx {
  readonly funding: string;
  readonly openInterest: string;
  readonly prevDayPx: string;
  readonly dayNtlVlm: string;
  readonly premium: string | null;
  readonly oraclePx: string;
  readonly markPx: string;
  readonly midPx: string | null;
  readonly impactPxs: readonly [string, string] | null;
  readonly dayBaseVlm: string;
}

/**
 * The number as a plain decimal that parses back to exactly the same number, with at least one
 * decimal like the venue's (`80640.0`) and never an exponent (`1e-7` → `0.0000001`).
 */
export function decimalString(x: number): string {
  if (!Number.isFinite(x)) throw new RangeError(`not a finite number: ${x}`);
  let s = String(x);
  const m = /^(-?)(\d)(?:\.(\d+))?e([+-]\d+)$/.exec(s);
  if (m) {
    const [, sign = '', lead = '', frac = '', expText = '0'] = m;
    const exp = Number(expText);
    const digits = lead + frac;
    s =
      exp < 0
        ? `${sign}0.${'0'.repeat(-exp - 1)}${digits}`
        : exp >= frac.length
          ? `${sign}${digits}${'0'.repeat(exp - frac.length)}`
          : `${sign}${digits.slice(0, exp + 1)}.${digits.slice(exp + 1)}`;
  }
  return s.includes('.') ? s : `${s}.0`;
}

/** Size decimals as the venue would list them for a coin at this price (BTC 5, ETH 4, XRP 0). */
export function szDecimalsFor(price: number): number {
  return Math.min(5, Math.max(0, Math.floor(Math.log10(price)) + 1));
}

/** Hyperliquid prices: at most 5 significant figures and at most 6 − szDecimals decimals. */
function roundPx(price: number, szDecimals: number): number {
  return Number(Number(price.toPrecision(5)).toFixed(Math.max(0, 6 - szDecimals)));
}

/** The asset context carrying exactly the point's values (`funding` is the point's hourly rate). */
export function hyperliquidCtx(p: SyntheticPoint): HyperliquidCtx {
  const lo = Math.min(p.lastPrice, p.markPrice);
  const hi = Math.max(p.lastPrice, p.markPrice);
  return {
    funding: decimalString(p.fundingRate),
    openInterest: decimalString(p.oiBase),
    prevDayPx: decimalString(p.lastPrice),
    dayNtlVlm: decimalString(p.turnover24hUsd),
    premium: decimalString(Number(((p.markPrice - p.indexPrice) / p.indexPrice).toFixed(10))),
    oraclePx: decimalString(p.indexPrice),
    markPx: decimalString(p.markPrice),
    midPx: decimalString(p.lastPrice),
    impactPxs: [decimalString(lo), decimalString(hi)],
    dayBaseVlm: decimalString(Number((p.turnover24hUsd / p.lastPrice).toFixed(5))),
  };
}

/**
 * The scripted market's state of `coin` at `ts` as Hyperliquid would quote it: prices and sizes
 * rounded to the venue's precision, the market's 8-hour funding rate turned into the hourly one,
 * the next funding at the next full hour.
 */
export function hyperliquidPoint(market: ScriptedMarket, coin: string, ts: number): SyntheticPoint {
  const s = market.stateAt(coin, ts);
  const sz = szDecimalsFor(market.spec(coin).basePrice);
  return {
    symbol: hyperliquidSymbol(coin) ?? coin,
    instrument: coin,
    ts,
    markPrice: roundPx(s.markPrice, sz),
    lastPrice: roundPx(s.lastPrice, sz),
    indexPrice: roundPx(s.indexPrice, sz),
    oiBase: Number(s.oiBase.toFixed(sz)),
    fundingRate: Number((s.fundingRate / s.fundingIntervalHours).toFixed(10)),
    fundingIntervalHours: 1,
    nextFundingTs: nextHourTs(ts),
    turnover24hUsd: Number(s.turnover24hUsd.toFixed(4)),
  };
}

/** A delisted coin the simulator lists, as the venue keeps them in `meta.universe`. */
export const SIM_DELISTED_COIN = 'LOOM';

const DELISTED_ROW = {
  name: SIM_DELISTED_COIN,
  szDecimals: 1,
  maxLeverage: 3,
  marginTableId: 3,
  isDelisted: true,
  marginMode: 'strictIsolated',
  onlyIsolated: true,
};

const DELISTED_CTX: HyperliquidCtx = {
  funding: '0.0',
  openInterest: '0.0',
  prevDayPx: '0.05',
  dayNtlVlm: '0.0',
  premium: null,
  oraclePx: '0.05',
  markPx: '0.05',
  midPx: null,
  impactPxs: null,
  dayBaseVlm: '0.0',
};

const MARGIN_TABLES = [3, 10, 20, 40, 50].map((lev) => [
  lev,
  { description: '', marginTiers: [{ lowerBound: '0.0', maxLeverage: lev }] },
]);

/** `[meta, ctxs]`, index-aligned; the delisted coin sits second so a mis-zip shows. */
export function hyperliquidMetaAndCtxs(market: ScriptedMarket, ts: number): [object, HyperliquidCtx[]] {
  const rows: object[] = [];
  const ctxs: HyperliquidCtx[] = [];
  market.symbols.forEach((coin, i) => {
    const sz = szDecimalsFor(market.spec(coin).basePrice);
    const maxLeverage = sz >= 5 ? 40 : sz >= 4 ? 25 : sz >= 2 ? 20 : 10;
    rows.push({ name: coin, szDecimals: sz, maxLeverage, marginTableId: maxLeverage });
    ctxs.push(hyperliquidCtx(hyperliquidPoint(market, coin, ts)));
    if (i === 0 && !market.has(SIM_DELISTED_COIN)) {
      rows.push(DELISTED_ROW);
      ctxs.push(DELISTED_CTX);
    }
  });
  return [{ universe: rows, marginTables: MARGIN_TABLES, collateralToken: 0 }, ctxs];
}

export interface RestAnswer {
  readonly status: number;
  readonly contentType: string;
  readonly body: string;
}

const json = (status: number, body: unknown): RestAnswer => ({
  status,
  contentType: 'application/json',
  body: JSON.stringify(body),
});
const text = (status: number, body: string): RestAnswer => ({
  status,
  contentType: 'text/plain; charset=utf-8',
  body,
});

/** The answer to `method path` with `body`: `POST /info` for `meta` and `metaAndAssetCtxs`. */
export function hyperliquidRestResponse(
  market: ScriptedMarket,
  method: string,
  path: string,
  body: string,
  ts: number,
): RestAnswer {
  if (path !== '/info') return text(404, 'Not Found');
  if (method !== 'POST') return text(405, 'Method Not Allowed');
  let type: unknown;
  try {
    type = (JSON.parse(body) as { type?: unknown } | null)?.type;
  } catch {
    return text(400, 'Failed to parse the request body as JSON');
  }
  if (type === 'metaAndAssetCtxs') return json(200, hyperliquidMetaAndCtxs(market, ts));
  if (type === 'meta') return json(200, hyperliquidMetaAndCtxs(market, ts)[0]);
  return text(422, 'Failed to deserialize the JSON body into the target type');
}
