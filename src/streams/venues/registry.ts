import type { VenueId } from '../../domain/types.js';
import type { RestPollPlan, VenueAdapter } from '../core/adapter.js';
import type { FetchUniverse, UniverseEntry } from '../core/universe.js';
import { BINANCE_REST_URL, BINANCE_WS_URL, createBinanceAdapter, createBinanceRestPlan } from './binance.js';
import { fetchBinanceUniverse } from './binance-universe.js';
import { BYBIT_REST_URL, BYBIT_WS_URL, createBybitAdapter } from './bybit.js';
import { fetchBybitUniverse } from './bybit-universe.js';
import { createHyperliquidAdapter, HYPERLIQUID_REST_URL, HYPERLIQUID_WS_URL } from './hyperliquid.js';
import { fetchHyperliquidUniverse } from './hyperliquid-universe.js';
import { createOkxAdapter, OKX_REST_URL, OKX_WS_URL } from './okx.js';
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
  },
  bybit: {
    id: 'bybit',
    defaultWsUrl: BYBIT_WS_URL,
    defaultRestUrl: BYBIT_REST_URL,
    fetchUniverse: fetchBybitUniverse,
    createAdapter: (ctx) =>
      createBybitAdapter({ wsUrl: ctx.wsUrl, ...(ctx.universe ? { universe: ctx.universe } : {}) }),
  },
  okx: {
    id: 'okx',
    defaultWsUrl: OKX_WS_URL,
    defaultRestUrl: OKX_REST_URL,
    fetchUniverse: fetchOkxUniverse,
    createAdapter: (ctx) =>
      createOkxAdapter({ wsUrl: ctx.wsUrl, ...(ctx.universe ? { universe: ctx.universe } : {}) }),
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
