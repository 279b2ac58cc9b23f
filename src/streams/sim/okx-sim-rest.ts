/**
 * OKX v5 wire elements and REST answers for the simulator and the encoder (protocol mirror of
 * https://www.okx.com/docs-v5/en/ public-data channels, `GET /api/v5/public/instruments` and
 * `GET /api/v5/market/tickers`). Every number is a plain decimal string, as OKX sends them.
 */
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { OkxChannel } from '../venues/okx.js';
import { okxInstrument } from '../venues/okx.js';
import type { RestRequestLogEntry } from './binance-sim-rest.js';
import { okxOiHistory } from './history-sim.js';
import { formatPrice, priceDecimals, type ScriptedMarket } from './market.js';
import { OKX_LONG_SHORT_PATHS, okxLongShortAnswer } from './okx-sim-long-short.js';

/** Served from the scripted market's past (`history-sim.ts`). */
const OKX_OI_HISTORY_PATH = '/api/v5/rubik/stat/contracts/open-interest-history';

import type { SyntheticPoint } from './synthetic.js';

const HOUR_MS = 3_600_000;

/** OKX's real contract values (`ctVal`, base coin per contract) for the default symbols; else 1. */
const CONTRACT_VALUES: Record<string, number> = { BTC: 0.01, ETH: 0.1, SOL: 1, XRP: 100, DOGE: 1000 };

export function okxContractValue(symbol: string): number {
  return CONTRACT_VALUES[symbol] ?? 1;
}

/** The shortest decimal that parses back to exactly `x`, never in exponent notation. */
export function plainDecimal(x: number): string {
  const s = String(x);
  const m = /^(-?)(\d+)(?:\.(\d+))?e([+-]\d+)$/.exec(s);
  if (!m) return s;
  const [, sign, int = '', frac = '', expText] = m;
  const digits = int + frac;
  const point = int.length + Number(expText);
  if (point <= 0) return `${sign}0.${'0'.repeat(-point)}${digits}`;
  if (point >= digits.length) return `${sign}${digits}${'0'.repeat(point - digits.length)}`;
  return `${sign}${digits.slice(0, point)}.${digits.slice(point)}`;
}

/** `x` moved by `ulps` units in the last place (positive finite `x`). */
function nudge(x: number, ulps: number): number {
  const view = new DataView(new ArrayBuffer(8));
  view.setFloat64(0, x);
  view.setBigInt64(0, view.getBigInt64(0) + BigInt(ulps));
  return view.getFloat64(0);
}

/**
 * A base volume whose product with `last` is exactly `turnoverUsd` when one exists within a few
 * ulps, so the adapter's `volCcy24h × last` gives back the encoded turnover.
 */
export function baseVolumeFor(turnoverUsd: number, last: number): number {
  const v = turnoverUsd / last;
  if (!(v > 0) || !Number.isFinite(v)) return v;
  for (let k = 0; k <= 8; k++) {
    for (const ulps of k === 0 ? [0] : [k, -k]) {
      const candidate = nudge(v, ulps);
      if (candidate * last === turnoverUsd) return candidate;
    }
  }
  return v;
}

/** The `data` element one channel pushes for `point` (the fields of OKX's documented pushes). */
export function okxElement(channel: OkxChannel, p: SyntheticPoint): Record<string, string> {
  const ts = String(p.ts);
  const ctVal = okxContractValue(p.symbol);
  switch (channel) {
    case 'open-interest':
      return {
        instId: p.instrument,
        instType: 'SWAP',
        oi: plainDecimal(Number((p.oiBase / ctVal).toFixed(8))),
        oiCcy: plainDecimal(p.oiBase),
        oiUsd: plainDecimal(p.oiBase * p.markPrice),
        ts,
      };
    case 'funding-rate':
      return {
        formulaType: 'noRate',
        fundingRate: plainDecimal(p.fundingRate),
        fundingTime: String(p.nextFundingTs),
        impactValue: '',
        instId: p.instrument,
        instType: 'SWAP',
        interestRate: '',
        method: 'current_period',
        maxFundingRate: '0.00375',
        minFundingRate: '-0.00375',
        nextFundingRate: '',
        nextFundingTime: String(p.nextFundingTs + p.fundingIntervalHours * HOUR_MS),
        premium: (p.fundingRate * 0.8).toFixed(16),
        settFundingRate: p.fundingRate.toFixed(16),
        settState: 'settled',
        ts,
      };
    case 'mark-price':
      return { instId: p.instrument, instType: 'SWAP', markPx: plainDecimal(p.markPrice), ts };
    case 'tickers': {
      const volBase = baseVolumeFor(p.turnover24hUsd, p.lastPrice);
      const near = (f: number) => formatPrice(p.lastPrice * f);
      // Book and 24 h range fields are plausible filler: the adapter reads `last` and `volCcy24h`.
      return {
        instType: 'SWAP',
        instId: p.instrument,
        last: plainDecimal(p.lastPrice),
        lastSz: '1',
        askPx: near(1.0001),
        askSz: '12',
        bidPx: near(0.9999),
        bidSz: '9',
        open24h: near(0.99),
        high24h: near(1.015),
        low24h: near(0.98),
        volCcy24h: plainDecimal(volBase),
        vol24h: String(Math.round(volBase / ctVal)),
        sodUtc0: near(0.995),
        sodUtc8: near(1.005),
        ts,
      };
    }
  }
}

/** One channel's push for `point`, as OKX sends it. */
export function okxChannelFrame(channel: OkxChannel, point: SyntheticPoint): string {
  return JSON.stringify({
    arg: { channel, instId: point.instrument },
    data: [okxElement(channel, point)],
  });
}

/** The value whose change triggers a push on each channel. */
export function triggerValue(channel: OkxChannel, p: SyntheticPoint): string {
  switch (channel) {
    case 'open-interest':
      return String(p.oiBase);
    case 'funding-rate':
      return `${p.fundingRate}/${p.nextFundingTs}`;
    case 'mark-price':
      return String(p.markPrice);
    case 'tickers':
      return String(p.lastPrice);
  }
}

/**
 * The market's state at `ts` rounded the way OKX quotes it (prices to the tick, OI to 0.01
 * contract, funding to 12 decimals), so frames look real and still carry exactly these values.
 */
export function okxPoint(market: ScriptedMarket, symbol: string, ts: number): SyntheticPoint {
  const s = market.stateAt(symbol, ts);
  const ctVal = okxContractValue(symbol);
  const lastPrice = Number(formatPrice(s.lastPrice));
  const volBase = Number((s.turnover24hUsd / lastPrice).toFixed(4));
  return {
    symbol,
    instrument: okxInstrument(symbol),
    ts,
    markPrice: Number(formatPrice(s.markPrice)),
    lastPrice,
    indexPrice: Number(formatPrice(s.indexPrice)),
    oiBase: Number(((Math.round((s.oiBase / ctVal) * 100) / 100) * ctVal).toFixed(8)),
    fundingRate: Number(s.fundingRate.toFixed(12)),
    fundingIntervalHours: s.fundingIntervalHours,
    nextFundingTs: s.nextFundingTs,
    turnover24hUsd: volBase * lastPrice,
  };
}

interface Listing {
  readonly instId: string;
  readonly base: string;
  readonly settleCcy: string;
  readonly ctType: 'linear' | 'inverse';
  readonly state: 'live' | 'suspend';
}

/**
 * `instType=SWAP` mixes linear USDT, linear USDC and inverse swaps, and lists suspended ones:
 * serve one of each, with the biggest volumes, so a missing filter shows in the ranking.
 */
function listings(market: ScriptedMarket): Listing[] {
  const [first = 'BTC', second = first] = market.symbols;
  return [
    ...market.symbols.map((base) => ({
      instId: okxInstrument(base),
      base,
      settleCcy: 'USDT',
      ctType: 'linear' as const,
      state: 'live' as const,
    })),
    { instId: `${first}-USD-SWAP`, base: first, settleCcy: first, ctType: 'inverse', state: 'live' },
    { instId: `${second}-USDC-SWAP`, base: second, settleCcy: 'USDC', ctType: 'linear', state: 'live' },
    { instId: `${first}Z-USDT-SWAP`, base: first, settleCcy: 'USDT', ctType: 'linear', state: 'suspend' },
  ];
}

function instrumentRow(market: ScriptedMarket, l: Listing) {
  const inverse = l.ctType === 'inverse';
  const quote = inverse ? 'USD' : l.settleCcy;
  const coin = l.instId.split('-')[0] ?? l.base;
  const decimals = priceDecimals(market.spec(l.base).basePrice);
  return {
    alias: '',
    baseCcy: '',
    category: '1',
    ctMult: '1',
    ctType: l.ctType,
    ctVal: inverse ? '100' : String(okxContractValue(l.base)),
    ctValCcy: inverse ? 'USD' : coin,
    expTime: '',
    instFamily: `${coin}-${quote}`,
    instId: l.instId,
    instType: 'SWAP',
    lever: '100',
    listTime: '1611916828000',
    lotSz: '0.01',
    maxMktSz: '10000',
    minSz: '0.01',
    optType: '',
    quoteCcy: '',
    ruleType: 'normal',
    settleCcy: l.settleCcy,
    state: l.state,
    stk: '',
    tickSz: plainDecimal(Number((10 ** -decimals).toFixed(decimals))),
    uly: `${coin}-${quote}`,
  };
}

function tickerRow(market: ScriptedMarket, l: Listing, ts: number) {
  const p = okxPoint(market, l.base, ts);
  const own = l.instId === okxInstrument(l.base) && l.state === 'live';
  // Other listings trade 50× the volume, so a listing that should be filtered out would rank first.
  return okxElement('tickers', {
    ...p,
    instrument: l.instId,
    turnover24hUsd: p.turnover24hUsd * (own ? 1 : 50),
  });
}

export interface RestAnswer {
  readonly status: number;
  readonly body: object;
}

/** The REST answer for `GET path?query`: instruments and tickers of `instType=SWAP`, else 404. */
export function okxRestResponse(
  market: ScriptedMarket,
  path: string,
  query: URLSearchParams,
  ts: number,
): RestAnswer {
  if (path !== '/api/v5/public/instruments' && path !== '/api/v5/market/tickers') {
    return { status: 404, body: { code: '404', msg: 'Not Found', data: [] } };
  }
  if (query.get('instType') !== 'SWAP') {
    return { status: 400, body: { code: '51000', msg: 'Parameter instType error', data: [] } };
  }
  const instId = query.get('instId');
  const all = listings(market).filter((l) => !instId || l.instId === instId);
  const data =
    path === '/api/v5/public/instruments'
      ? all.map((l) => instrumentRow(market, l))
      : all.map((l) => tickerRow(market, l, ts));
  return { status: 200, body: { code: '0', msg: '', data } };
}

/** A REST answer injected in place of the next matching call. */
export interface RestFault {
  readonly status: number;
  readonly headers?: Record<string, string>;
  /** Default: OKX's 50011 "Too Many Requests" body. */
  readonly body?: string;
}

/** The simulator's HTTP handler, with one-shot faults per path prefix. */
export function createOkxRestHandler(market: ScriptedMarket, eventTs: () => number) {
  const faults: { prefix: string; fault: RestFault }[] = [];
  const log: RestRequestLogEntry[] = [];
  const swaps = new Map(market.symbols.map((s) => [okxInstrument(s), s]));
  return {
    failNext(prefix: string, fault: RestFault): void {
      faults.push({ prefix, fault });
    },
    requestLog: (): RestRequestLogEntry[] => [...log],
    handle(req: IncomingMessage, res: ServerResponse): void {
      const url = new URL(req.url ?? '/', 'http://sim');
      log.push({ path: `${url.pathname}${url.search}`, wallMs: Date.now() });
      const i = faults.findIndex((f) => url.pathname.startsWith(f.prefix));
      if (i >= 0) {
        const { fault } = faults.splice(i, 1)[0]!;
        const body = fault.body ?? JSON.stringify({ code: '50011', msg: 'Too Many Requests', data: [] });
        res.writeHead(fault.status, { 'content-type': 'application/json', ...fault.headers }).end(body);
        return;
      }
      const path = req.method === 'GET' ? url.pathname : '';
      const { status, body } =
        path === OKX_OI_HISTORY_PATH
          ? okxOiHistory(market, swaps, url.searchParams, eventTs())
          : OKX_LONG_SHORT_PATHS.includes(path)
            ? okxLongShortAnswer(swaps, path, url.searchParams, eventTs())
            : okxRestResponse(market, path, url.searchParams, eventTs());
      res.writeHead(status, { 'content-type': 'application/json' }).end(JSON.stringify(body));
    },
  };
}
