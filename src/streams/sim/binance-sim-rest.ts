/**
 * Binance USDⓈ-M wire bodies for the simulator and the recording encoder: markPriceUpdate and
 * 24hrTicker array elements, and the REST answers (exchangeInfo, ticker/24hr, openInterest,
 * fundingInfo, openInterestHist from `history-sim.ts`, and the long/short statistics from
 * `binance-sim-forced.ts`). Protocol mirror of the USDⓈ-M docs
 * (https://developers.binance.com/docs/derivatives/usds-margined-futures/market-data/rest-api);
 * field order as in the 2026-09-09 capture of `/market/stream`.
 */
import type { IncomingMessage, ServerResponse } from 'node:http';
import { LONG_SHORT_PATHS, longShortResponse } from './binance-sim-forced.js';
import { binanceOiHistory } from './history-sim.js';
import type { ScriptedMarket } from './market.js';
import { formatPrice } from './market.js';
import type { EncodedFrame, EncodeFrames, SyntheticPoint } from './synthetic.js';

const HOUR_MS = 3_600_000;
const DAY_MS = 24 * HOUR_MS;
/** The dated COIN-M contract the arrays mix in (`st` 2, `r` "", `T` 0). */
export const COIN_M_SUFFIX = 'USD_261225';
const DELIVERY_TS = 1_798_185_600_000;

/** `value` with at least `decimals` places, and as many more as it takes to read back exactly. */
export function decimal(value: number, decimals: number): string {
  for (let d = decimals; d <= 20; d++) {
    const s = value.toFixed(d);
    if (Number(s) === value) return s;
  }
  return String(value);
}

/** One `!markPrice@arr` element. `P` (estimated settle price) deliberately differs from `p` and `i`. */
export function markPriceElement(p: SyntheticPoint, coinM = false) {
  return {
    e: 'markPriceUpdate',
    E: p.ts,
    s: p.instrument,
    p: decimal(p.markPrice, 8),
    ap: decimal(p.markPrice, 8),
    P: (p.indexPrice * 1.0005).toFixed(8),
    i: decimal(p.indexPrice, 8),
    r: coinM ? '' : decimal(p.fundingRate, 8),
    T: coinM ? 0 : p.nextFundingTs,
    st: coinM ? 2 : 1,
  };
}

/** One `!ticker@arr` element. `P` is the change percent here; `q` the quote (USDT) volume. */
export function tickerElement(p: SyntheticPoint, coinM = false) {
  const c = decimal(p.lastPrice, 2);
  return {
    e: '24hrTicker',
    E: p.ts,
    s: p.instrument,
    p: '0.00',
    P: '0.000',
    w: c,
    c,
    Q: '0.010',
    o: c,
    h: decimal(Math.max(p.lastPrice, p.markPrice), 2),
    l: decimal(Math.min(p.lastPrice, p.markPrice), 2),
    v: (p.turnover24hUsd / p.lastPrice).toFixed(3),
    q: decimal(p.turnover24hUsd, 2),
    O: p.ts - DAY_MS,
    C: p.ts - 1,
    F: 1_000_000,
    L: 1_000_000 + (Math.floor(p.ts / 1_000) % 100_000),
    n: 1 + (Math.floor(p.ts / 1_000) % 100_000),
    ps: coinM ? p.instrument.split('_')[0] : p.instrument,
    st: coinM ? 2 : 1,
  };
}

/** `GET /fapi/v1/openInterest?symbol=` body: one side, base units; `time` is the event time. */
export function openInterestBody(p: SyntheticPoint) {
  return { openInterest: decimal(p.oiBase, 3), symbol: p.instrument, time: p.ts };
}

export const envelope = (stream: string, data: unknown) => JSON.stringify({ stream, data });

/**
 * One point as Binance delivers it: a one-element mark array, a one-element ticker array, and
 * the polled open-interest body (with its REST `source`).
 */
export const encodeBinanceFrames: EncodeFrames = (point): EncodedFrame[] => [
  { t: point.ts + 5, frame: envelope('!markPrice@arr@1s', [markPriceElement(point)]) },
  { t: point.ts + 6, frame: envelope('!ticker@arr', [tickerElement(point)]) },
  {
    t: point.ts + 8,
    frame: JSON.stringify(openInterestBody(point)),
    source: `/fapi/v1/openInterest?symbol=${point.instrument}`,
  },
];

/** The market's state as Binance would quote it (rounded to wire precision), interval applied. */
export function binancePoint(
  market: ScriptedMarket,
  symbol: string,
  instrument: string,
  ts: number,
  intervalHours: number,
): SyntheticPoint {
  const s = market.stateAt(symbol, ts);
  const intervalMs = intervalHours * HOUR_MS;
  return {
    symbol,
    instrument,
    ts,
    markPrice: Number(formatPrice(s.markPrice)),
    lastPrice: Number(formatPrice(s.lastPrice)),
    indexPrice: Number(formatPrice(s.indexPrice)),
    oiBase: Number(s.oiBase.toFixed(3)),
    fundingRate: Number(s.fundingRate.toFixed(8)),
    fundingIntervalHours: intervalHours,
    nextFundingTs: Math.floor(ts / intervalMs) * intervalMs + intervalMs,
    turnover24hUsd: Number(s.turnover24hUsd.toFixed(2)),
  };
}

interface Listing {
  readonly name: string;
  readonly base: string;
  readonly quote: 'USDT' | 'USDC';
  readonly contractType: 'PERPETUAL' | 'CURRENT_QUARTER';
  readonly status: 'TRADING' | 'SETTLING';
}

/** exchangeInfo mixes USDT perps with USDC perps, dated futures and settling contracts. */
export function binanceListings(market: ScriptedMarket): Listing[] {
  const first = market.symbols[0] ?? 'BTC';
  return [
    ...market.symbols.map((base) => ({
      name: `${base}USDT`,
      base,
      quote: 'USDT' as const,
      contractType: 'PERPETUAL' as const,
      status: 'TRADING' as const,
    })),
    { name: `${first}USDC`, base: first, quote: 'USDC', contractType: 'PERPETUAL', status: 'TRADING' },
    {
      name: `${first}USDT_261225`,
      base: first,
      quote: 'USDT',
      contractType: 'CURRENT_QUARTER',
      status: 'TRADING',
    },
    { name: 'OLDUSDT', base: 'OLD', quote: 'USDT', contractType: 'PERPETUAL', status: 'SETTLING' },
  ];
}

function exchangeSymbol(l: Listing) {
  return {
    symbol: l.name,
    pair: l.name.split('_')[0],
    contractType: l.contractType,
    deliveryDate: l.contractType === 'PERPETUAL' ? 4_133_404_800_000 : DELIVERY_TS,
    onboardDate: 1_569_398_400_000,
    status: l.status,
    baseAsset: l.base,
    quoteAsset: l.quote,
    marginAsset: l.quote,
    pricePrecision: 2,
    quantityPrecision: 3,
    underlyingType: 'COIN',
  };
}

/** `/fapi/v1/ticker/24hr` row keys and the `24hrTicker` keys holding the same values. */
const REST_TICKER_KEYS = Object.entries({
  priceChange: 'p',
  priceChangePercent: 'P',
  weightedAvgPrice: 'w',
  lastPrice: 'c',
  lastQty: 'Q',
  openPrice: 'o',
  highPrice: 'h',
  lowPrice: 'l',
  volume: 'v',
  quoteVolume: 'q',
  openTime: 'O',
  closeTime: 'C',
  firstId: 'F',
  lastId: 'L',
  count: 'n',
});

export interface RestAnswer {
  readonly status: number;
  readonly body: unknown;
  /** Request weight Binance charges for this call. */
  readonly weight: number;
}

export interface RestContext {
  readonly market: ScriptedMarket;
  /** Instrument → funding interval hours for `fundingInfo` (others: 8 h, not listed). */
  readonly intervals: ReadonlyMap<string, number>;
  readonly weightLimitPerMinute: number;
}

/** The answer to `GET path?query` at event time `ts`. */
export function binanceRestResponse(
  ctx: RestContext,
  path: string,
  query: URLSearchParams,
  ts: number,
): RestAnswer {
  const { market } = ctx;
  const tradable = binanceListings(market).filter((l) => l.status === 'TRADING');
  const point = (l: Listing) => binancePoint(market, l.base, l.name, ts, ctx.intervals.get(l.name) ?? 8);
  const symbol = query.get('symbol');
  switch (path) {
    case '/fapi/v1/exchangeInfo':
      return {
        status: 200,
        weight: 1,
        body: {
          timezone: 'UTC',
          serverTime: ts,
          futuresType: 'U_MARGINED',
          rateLimits: [
            {
              rateLimitType: 'REQUEST_WEIGHT',
              interval: 'MINUTE',
              intervalNum: 1,
              limit: ctx.weightLimitPerMinute,
            },
            { rateLimitType: 'ORDERS', interval: 'MINUTE', intervalNum: 1, limit: 1200 },
          ],
          exchangeFilters: [],
          assets: [],
          symbols: binanceListings(market).map(exchangeSymbol),
        },
      };
    case '/fapi/v1/ticker/24hr': {
      const rows = tradable
        .filter((l) => !symbol || l.name === symbol)
        .map((l) => {
          const t: Record<string, unknown> = tickerElement(point(l));
          return { symbol: l.name, ...Object.fromEntries(REST_TICKER_KEYS.map(([k, w]) => [k, t[w]])) };
        });
      if (symbol && rows.length === 0) return invalidSymbol(1);
      return { status: 200, weight: symbol ? 1 : 40, body: symbol ? rows[0] : rows };
    }
    case '/fapi/v1/openInterest': {
      if (!symbol) {
        const msg = "Mandatory parameter 'symbol' was not sent, was empty/null, or malformed.";
        return { status: 400, weight: 1, body: { code: -1102, msg } };
      }
      const l = tradable.find((x) => x.name === symbol);
      return l ? { status: 200, weight: 1, body: openInterestBody(point(l)) } : invalidSymbol(1);
    }
    case '/futures/data/openInterestHist': {
      // Weight 0; its own limit of 1000 requests per 5 min is kept by the handler.
      const names = new Map(tradable.map((l) => [l.name, l.base]));
      const hours = (name: string) => ctx.intervals.get(name) ?? 8;
      return { weight: 0, ...binanceOiHistory(market, names, hours, query, ts) };
    }
    case '/futures/data/globalLongShortAccountRatio':
    case '/futures/data/topLongShortPositionRatio': {
      // Weight 0; its own limit of 1000 requests per 5 min is kept by the handler.
      const l = tradable.find((x) => x.name === symbol && x.quote === 'USDT');
      if (!l) return invalidSymbol(0);
      return { weight: 0, ...longShortResponse(market, LONG_SHORT_PATHS[path], l.name, l.base, query, ts) };
    }
    case '/fapi/v1/fundingInfo':
      return {
        status: 200,
        weight: 0,
        body: [...ctx.intervals].map(([name, hours]) => ({
          symbol: name,
          adjustedFundingRateCap: '0.02000000',
          adjustedFundingRateFloor: '-0.02000000',
          fundingIntervalHours: hours,
          disclaimer: false,
        })),
      };
    default:
      return { status: 404, weight: 1, body: { code: -5000, msg: `Path ${path}, Method GET is invalid` } };
  }
}

function invalidSymbol(weight: number): RestAnswer {
  return { status: 400, weight, body: { code: -1121, msg: 'Invalid symbol.' } };
}

/** An injected REST answer (see `BinanceSimulator.failRestNext`). */
export interface RestFailure {
  readonly status: number;
  /** For 429 and 418, `Retry-After: 1` unless given here. */
  readonly headers?: Readonly<Record<string, string>>;
  readonly body?: unknown;
}

const MINUTE_MS = 60_000;
/**
 * `openInterestHist` and the long/short statistics: each "IP rate limit 1000 requests/5min",
 * apart from the request weight. Whether they share one counter is not documented: the simulator
 * counts them together, the stricter reading.
 */
const FUTURES_DATA_PREFIX = '/futures/data/';
const FUTURES_DATA_LIMIT = 1_000;
const FUTURES_DATA_WINDOW_MS = 5 * MINUTE_MS;

/** One REST request as the simulator saw it: path with query, and the wall clock at arrival. */
export interface RestRequestLogEntry {
  readonly path: string;
  readonly wallMs: number;
}
const FAILURE_BODIES: Record<number, object> = {
  429: { code: -1003, msg: 'Too many requests; current limit of IP(127.0.0.1) is 2400 requests per minute.' },
  418: { code: -1003, msg: 'Way too many requests; IP(127.0.0.1) banned until 1700000000000.' },
};

/**
 * The simulator's HTTP side: answers, request weight per clock minute in `X-MBX-USED-WEIGHT-1M`
 * (429 with `Retry-After` past the limit), injected failures, and a log of requested paths.
 */
export function createBinanceRestHandler(
  ctx: RestContext & {
    readonly eventTs: () => number;
    /** The clock whose minutes the weight is counted in; default the wall clock. */
    readonly weightClock?: () => number;
  },
) {
  const weightNow = ctx.weightClock ?? Date.now;
  const failures: { prefix: string; failure: RestFailure }[] = [];
  const requested: string[] = [];
  const log: RestRequestLogEntry[] = [];
  const weight = { minute: 0, used: 0 };
  /** Wall times of `/futures/data/*` requests within the last 5 minutes. */
  const futuresDataTimes: number[] = [];
  const handle = (req: IncomingMessage, res: ServerResponse) => {
    const url = new URL(req.url ?? '/', 'http://sim');
    const pathWithQuery = `${url.pathname}${url.search}`;
    requested.push(pathWithQuery);
    log.push({ path: pathWithQuery, wallMs: Date.now() });
    const minute = Math.floor(weightNow() / MINUTE_MS);
    if (weight.minute !== minute) Object.assign(weight, { minute, used: 0 });
    const reply = (status: number, body: unknown, headers: Readonly<Record<string, string>> = {}) => {
      const own = { 'content-type': 'application/json', 'x-mbx-used-weight-1m': String(weight.used) };
      res.writeHead(status, { ...own, ...headers }).end(JSON.stringify(body));
    };
    const failed = failures.findIndex((f) => pathWithQuery.startsWith(f.prefix));
    if (failed >= 0) {
      const { failure } = failures.splice(failed, 1)[0]!;
      const given = Object.keys(failure.headers ?? {}).some((k) => k.toLowerCase() === 'retry-after');
      const limited = failure.status === 429 || failure.status === 418;
      const body = failure.body ??
        FAILURE_BODIES[failure.status] ?? { code: -1000, msg: 'An unknown error occurred.' };
      return reply(failure.status, body, {
        ...(limited && !given ? { 'retry-after': '1' } : {}),
        ...failure.headers,
      });
    }
    if (url.pathname.startsWith(FUTURES_DATA_PREFIX)) {
      const nowMs = Date.now();
      const times = futuresDataTimes;
      while (times.length > 0 && times[0]! <= nowMs - FUTURES_DATA_WINDOW_MS) times.shift();
      if (times.length >= FUTURES_DATA_LIMIT) return reply(429, FAILURE_BODIES[429], { 'retry-after': '60' });
      times.push(nowMs);
    }
    const answer =
      req.method === 'GET'
        ? binanceRestResponse(ctx, url.pathname, url.searchParams, ctx.eventTs())
        : { status: 405, weight: 1, body: { code: -1000, msg: 'Method not allowed' } };
    weight.used += answer.weight;
    if (weight.used > ctx.weightLimitPerMinute) {
      const retryAfterSec = Math.ceil(((minute + 1) * MINUTE_MS - weightNow()) / 1000);
      return reply(429, FAILURE_BODIES[429], { 'retry-after': String(retryAfterSec) });
    }
    reply(answer.status, answer.body);
  };
  return {
    handle,
    requests: (): string[] => [...requested],
    requestLog: (): RestRequestLogEntry[] => [...log],
    failNext: (prefix: string, failure: RestFailure): void => {
      failures.push({ prefix, failure });
    },
  };
}
