/**
 * The Bybit simulator's REST side, in the real format: tickers and instruments-info (paginated)
 * for a linear category that mixes USDT perps, a dated future and a USDC perp, and
 * `/v5/market/account-ratio` (protocol mirror of docs/v5/market/tickers, docs/v5/market/instrument
 * and https://bybit-exchange.github.io/docs/v5/market/long-short-ratio). The open-interest and
 * mark-price-kline history is in `history-sim.ts`.
 */
import { BYBIT_ACCOUNT_RATIO_PERIODS, bybitAccountRatioResult } from './bybit-encode.js';
import { formatPrice, priceDecimals, type ScriptedMarket } from './market.js';

const HOUR_MS = 3_600_000;
const FUTURE_DELIVERY = '2113286400000';

type Fields = Record<string, string>;

/** The full Bybit linear ticker field set for `symbol` at `ts`, every number a decimal string. */
export function bybitTickerData(market: ScriptedMarket, symbol: string, ts: number): Fields {
  const s = market.stateAt(symbol, ts);
  const hourTs = Math.floor(ts / HOUR_MS) * HOUR_MS;
  const lastAt = (t: number) => market.stateAt(symbol, t).lastPrice;
  const hourly = Array.from({ length: 24 }, (_, k) => lastAt(hourTs - k * HOUR_MS));
  const prev24h = lastAt(hourTs - 24 * HOUR_MS);
  const before = lastAt(ts - 1_000);
  const single = s.oiBase.toFixed(3);
  const both = (2 * Number(single)).toFixed(3);
  const tick = 10 ** -priceDecimals(s.lastPrice);
  const size = (k: number) => (0.5 + hashSize(ts, k)).toFixed(3);
  return {
    symbol: `${symbol}USDT`,
    tickDirection: s.lastPrice > before ? 'PlusTick' : s.lastPrice < before ? 'MinusTick' : 'ZeroPlusTick',
    price24hPcnt: (s.lastPrice / prev24h - 1).toFixed(6),
    lastPrice: formatPrice(s.lastPrice),
    prevPrice24h: formatPrice(prev24h),
    highPrice24h: formatPrice(Math.max(s.lastPrice, ...hourly)),
    lowPrice24h: formatPrice(Math.min(s.lastPrice, ...hourly)),
    prevPrice1h: formatPrice(lastAt(hourTs - HOUR_MS)),
    markPrice: formatPrice(s.markPrice),
    indexPrice: formatPrice(s.indexPrice),
    openInterest: both,
    openInterestValue: (Number(both) * s.markPrice).toFixed(2),
    turnover24h: s.turnover24hUsd.toFixed(4),
    volume24h: (s.turnover24hUsd / s.lastPrice).toFixed(4),
    fundingIntervalHour: String(s.fundingIntervalHours),
    fundingCap: '0.005',
    singleOpenInterest: single,
    singleOpenInterestValue: (Number(single) * s.markPrice).toFixed(2),
    nextFundingTime: String(s.nextFundingTs),
    fundingRate: s.fundingRate.toFixed(8),
    bid1Price: formatPrice(s.lastPrice - tick),
    bid1Size: size(1),
    ask1Price: formatPrice(s.lastPrice),
    ask1Size: size(2),
    preOpenPrice: '',
    preQty: '',
    curPreListingPhase: '',
  };
}

function hashSize(ts: number, k: number): number {
  return (((Math.floor(ts / 1_000) * 2_654_435_761 + k * 40_503) >>> 0) % 10_000) / 1_000;
}

export interface Listing {
  readonly name: string;
  readonly base: string;
  readonly quote: 'USDT' | 'USDC';
  readonly future: boolean;
}

/** `category=linear` mixes USDT perps, USDT dated futures and USDC perps; serve one of each kind. */
export function listings(market: ScriptedMarket): Listing[] {
  const [first = 'BTC', second = first] = market.symbols;
  return [
    ...market.symbols.map((base) => ({ name: `${base}USDT`, base, quote: 'USDT' as const, future: false })),
    { name: `${first}USDT-26DEC36`, base: first, quote: 'USDT', future: true },
    { name: `${second}PERP`, base: second, quote: 'USDC', future: false },
  ];
}

function instrument(market: ScriptedMarket, l: Listing) {
  return {
    symbol: l.name,
    contractType: l.future ? 'LinearFutures' : 'LinearPerpetual',
    status: 'Trading',
    baseCoin: l.base,
    quoteCoin: l.quote,
    settleCoin: l.quote,
    launchTime: '1585526400000',
    deliveryTime: l.future ? FUTURE_DELIVERY : '0',
    priceScale: String(priceDecimals(market.spec(l.base).basePrice)),
    fundingInterval: l.future ? 0 : 480,
    upperFundingRate: '0.005',
    lowerFundingRate: '-0.005',
    isPreListing: false,
    preListingInfo: null,
  };
}

function restTicker(market: ScriptedMarket, l: Listing, ts: number): Fields {
  const t = { ...bybitTickerData(market, l.base, ts), symbol: l.name, basis: '', deliveryTime: '0' };
  const noFunding = { fundingRate: '', fundingIntervalHour: '', fundingCap: '', nextFundingTime: '' };
  return l.future ? { ...t, ...noFunding, deliveryTime: FUTURE_DELIVERY } : t;
}

/** The REST answer for `GET path?query`: tickers and instruments-info (paginated), else 404. */
export function bybitRestResponse(market: ScriptedMarket, path: string, query: URLSearchParams, ts: number) {
  const answer = (status: number, retCode: number, retMsg: string, result: object = {}) => ({
    status,
    body: { retCode, retMsg, result, retExtInfo: {}, time: ts },
  });
  if (
    path !== '/v5/market/tickers' &&
    path !== '/v5/market/instruments-info' &&
    path !== '/v5/market/account-ratio'
  ) {
    return answer(404, 404, 'Not Found');
  }
  if (query.get('category') !== 'linear') return answer(200, 10001, 'Illegal category');
  const symbol = query.get('symbol');
  if (path === '/v5/market/account-ratio') return accountRatio(market, query, ts, answer);
  const all = listings(market).filter((l) => !symbol || l.name === symbol);
  if (path === '/v5/market/tickers') {
    if (all.length === 0) return answer(200, 10001, 'Not supported symbols');
    return answer(200, 0, 'OK', { category: 'linear', list: all.map((l) => restTicker(market, l, ts)) });
  }
  const limit = Math.min(1000, Math.max(1, Number(query.get('limit') ?? 500) || 500));
  const offset = Number(query.get('cursor') ?? 0) || 0;
  const list = all.slice(offset, offset + limit).map((l) => instrument(market, l));
  const nextPageCursor = offset + limit < all.length ? String(offset + limit) : '';
  return answer(200, 0, 'OK', { category: 'linear', list, nextPageCursor });
}

interface RestAnswer {
  readonly status: number;
  readonly body: object;
}
type Answer = (status: number, retCode: number, retMsg: string, result?: object) => RestAnswer;

/** `/v5/market/account-ratio` for a USDT perpetual: seeded plausible long shares, newest first. */
function accountRatio(
  market: ScriptedMarket,
  query: URLSearchParams,
  ts: number,
  answer: Answer,
): RestAnswer {
  const symbol = query.get('symbol') ?? '';
  const periodMs = BYBIT_ACCOUNT_RATIO_PERIODS[query.get('period') ?? ''];
  const limit = Number(query.get('limit') ?? 50);
  const m = /^(.+)USDT$/.exec(symbol);
  if (!m?.[1] || !market.has(m[1])) return answer(200, 10001, 'params error: symbol invalid');
  if (periodMs === undefined) return answer(200, 10001, 'params error: period invalid');
  if (!Number.isInteger(limit) || limit < 1 || limit > 500)
    return answer(200, 10001, 'params error: limit invalid');
  return answer(200, 0, 'OK', bybitAccountRatioResult(symbol, periodMs, limit, ts));
}
