import type { VenueId } from '../../domain/types.js';
import type { RestPollPlan, VenueAdapter } from '../core/adapter.js';
import type { OiHistoryFetcher } from '../core/history.js';
import type { FetchUniverse, UniverseEntry } from '../core/universe.js';
import {
  BINANCE_REST_URL,
  BINANCE_WS_URL,
  createBinanceAdapter,
  createBinanceLongShortPlan,
  createBinanceRestPlan,
} from './binance.js';
import { createBinanceOiHistoryFetcher } from './binance-history.js';
import { fetchBinanceUniverse } from './binance-universe.js';
import { BYBIT_REST_URL, BYBIT_WS_URL, createBybitAdapter } from './bybit.js';
import { createBybitOiHistoryFetcher } from './bybit-history.js';
import { createBybitLongShortPlan } from './bybit-long-short.js';
import { fetchBybitUniverse } from './bybit-universe.js';
import { createHyperliquidAdapter, HYPERLIQUID_REST_URL, HYPERLIQUID_WS_URL } from './hyperliquid.js';
import { fetchHyperliquidUniverse } from './hyperliquid-universe.js';
import { createOkxAdapter, OKX_REST_URL, OKX_WS_URL } from './okx.js';
import { createOkxOiHistoryFetcher } from './okx-history.js';
import { createOkxLongShortPlan } from './okx-long-short.js';
import { fetchOkxUniverse } from './okx-universe.js';

export interface VenueContext {
  readonly wsUrl: string;
  readonly restUrl: string;
  /**
   * The instruments followed now (changes when the universe refreshes). Absent in a replay:
   * adapters then keep every linear perpetual the recording holds.
   */
  readonly universe?: () => readonly UniverseEntry[];
}

/** Everything the app needs to run one venue. Adding a venue = its files plus one entry here. */
export interface VenueModule {
  readonly id: VenueId;
  readonly defaultWsUrl: string;
  readonly defaultRestUrl: string;
  readonly fetchUniverse: FetchUniverse;
  createAdapter(ctx: VenueContext): VenueAdapter;
  /** Data the venue only offers over REST (Binance open interest), polled within a budget. */
  createRestPlan?(ctx: VenueContext): RestPollPlan;
  /**
   * Long/short statistics (5-minute buckets) over REST, polled for the followed instruments by a
   * poller of their own, so they never take the OI poll's budget; absent where the venue publishes
   * none (Hyperliquid). Its requests carry no `instrument`: a late statistic is not an OI gap.
   */
  createLongShortPlan?(ctx: VenueContext): RestPollPlan;
  /** The venue's OI history for a warm start; absent where it has none (Hyperliquid: current OI only). */
  readonly oiHistory?: {
    /** A fetcher against the venue's REST base (no trailing slash). */
    createFetcher(restBaseUrl: string, fetchImpl: typeof fetch): OiHistoryFetcher;
    /** HTTP requests started per second by a backfill, well inside the venue's limits. */
    readonly maxRequestsPerSec: number;
  };
}

export const VENUES: Readonly<Record<VenueId, VenueModule>> = {
  binance: {
    id: 'binance',
    defaultWsUrl: BINANCE_WS_URL,
    defaultRestUrl: BINANCE_REST_URL,
    fetchUniverse: fetchBinanceUniverse,
    createAdapter: (ctx) =>
      createBinanceAdapter({ wsUrl: ctx.wsUrl, ...(ctx.universe ? { universe: ctx.universe } : {}) }),
    createRestPlan: (ctx) =>
      createBinanceRestPlan({ restUrl: ctx.restUrl, universe: ctx.universe ?? (() => []) }),
    // Both statistics within 360 requests per 5 min, spread over the round (binance-long-short.ts).
    createLongShortPlan: (ctx) =>
      createBinanceLongShortPlan({ restUrl: ctx.restUrl, universe: ctx.universe ?? (() => []) }),
    // `openInterestHist` has its own IP limit of 1000 per 5 min (3.3/s); one request per instrument.
    oiHistory: { createFetcher: createBinanceOiHistoryFetcher, maxRequestsPerSec: 2 },
  },
  bybit: {
    id: 'bybit',
    defaultWsUrl: BYBIT_WS_URL,
    defaultRestUrl: BYBIT_REST_URL,
    fetchUniverse: fetchBybitUniverse,
    createAdapter: (ctx) =>
      createBybitAdapter({ wsUrl: ctx.wsUrl, ...(ctx.universe ? { universe: ctx.universe } : {}) }),
    // account-ratio: each followed instrument once per 5 min, spread over 10 s cycles.
    createLongShortPlan: (ctx) =>
      createBybitLongShortPlan({ restUrl: ctx.restUrl, universe: ctx.universe ?? (() => []) }),
    // 600 requests per 5 s per IP; four requests per instrument.
    oiHistory: { createFetcher: createBybitOiHistoryFetcher, maxRequestsPerSec: 10 },
  },
  okx: {
    id: 'okx',
    defaultWsUrl: OKX_WS_URL,
    defaultRestUrl: OKX_REST_URL,
    fetchUniverse: fetchOkxUniverse,
    createAdapter: (ctx) =>
      createOkxAdapter({ wsUrl: ctx.wsUrl, ...(ctx.universe ? { universe: ctx.universe } : {}) }),
    // Rubik account and top-trader ratios, each followed instrument once per 5 minutes.
    createLongShortPlan: (ctx) =>
      createOkxLongShortPlan({ restUrl: ctx.restUrl, universe: ctx.universe ?? (() => []) }),
    // 10 requests per 2 s per IP and instrument; three per instrument.
    oiHistory: { createFetcher: createOkxOiHistoryFetcher, maxRequestsPerSec: 5 },
  },
  hyperliquid: {
    id: 'hyperliquid',
    defaultWsUrl: HYPERLIQUID_WS_URL,
    defaultRestUrl: HYPERLIQUID_REST_URL,
    fetchUniverse: fetchHyperliquidUniverse,
    createAdapter: (ctx) =>
      createHyperliquidAdapter({ wsUrl: ctx.wsUrl, ...(ctx.universe ? { universe: ctx.universe } : {}) }),
  },
};
