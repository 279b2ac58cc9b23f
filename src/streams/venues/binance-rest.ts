/**
 * Binance USDⓈ-M data that only REST offers: open interest and funding intervals.
 * https://developers.binance.com/docs/derivatives/usds-margined-futures/market-data/rest-api/Open-Interest
 * https://developers.binance.com/docs/derivatives/usds-margined-futures/market-data/rest-api/Get-Funding-Rate-Info
 * The generic `RestPoller` (core/rest-poller.ts) runs this plan and feeds every body to the
 * Binance parser with `source` = the request path.
 */
import type { RestPollPlan, RestRequest } from '../core/adapter.js';
import type { UniverseEntry } from '../core/universe.js';

export const BINANCE_REST_URL = 'https://fapi.binance.com';

export const OPEN_INTEREST_PATH = '/fapi/v1/openInterest';
export const FUNDING_INFO_PATH = '/fapi/v1/fundingInfo';

/**
 * `fundingInfo` has weight 0 but its own limit (500 requests / 5 min / IP, shared with
 * `fundingRate`). Intervals change at most once an hour, about 15 min after a settlement
 * (announcements of 2025-05-02 and 2026-01-02), so every 15 minutes is plenty.
 */
export const FUNDING_INFO_REFRESH_MS = 15 * 60_000;

/**
 * Our share of the IP's request weight: Binance allows 2400/min per IP, shared by fapi and dapi
 * since 2026-06-30; we keep half for everything else on the host (universe refreshes, other tools).
 * `openInterest?symbol=` costs 1, so 1200/min covers 200 instruments at the 10 s cycle,
 * 600 instruments every 30 s, or 1200 every 60 s: past 200 the poller stretches the cycle.
 */
export const BINANCE_WEIGHT_PER_MINUTE = 1200;
export const BINANCE_VENUE_WEIGHT_LIMIT_PER_MINUTE = 2400;
export const BINANCE_REST_CYCLE_MS = 10_000;

export interface BinanceRestPlanOptions {
  /** Default `BINANCE_REST_URL`. */
  readonly restUrl?: string;
  /** The instruments to poll, read at the start of every cycle. */
  readonly universe: () => readonly UniverseEntry[];
  /** Clock for the `fundingInfo` refresh; default `Date.now`. */
  readonly now?: () => number;
}

/**
 * One `openInterest` request (weight 1) per universe instrument every cycle, preceded by
 * `fundingInfo` on the first cycle and then at most once per `FUNDING_INFO_REFRESH_MS`.
 * Time-based rather than every Nth cycle, so a cycle stretched by the budget does not delay it.
 */
export function createBinanceRestPlan(opts: BinanceRestPlanOptions): RestPollPlan {
  const now = opts.now ?? Date.now;
  let lastFundingInfoTs: number | undefined;
  return {
    venue: 'binance',
    restUrl: opts.restUrl ?? BINANCE_REST_URL,
    cycleMs: BINANCE_REST_CYCLE_MS,
    weightPerMinute: BINANCE_WEIGHT_PER_MINUTE,
    usedWeightHeader: 'x-mbx-used-weight-1m',
    venueWeightLimitPerMinute: BINANCE_VENUE_WEIGHT_LIMIT_PER_MINUTE,
    requests(): readonly RestRequest[] {
      const requests: RestRequest[] = [];
      const ts = now();
      if (lastFundingInfoTs === undefined || ts - lastFundingInfoTs >= FUNDING_INFO_REFRESH_MS) {
        lastFundingInfoTs = ts;
        requests.push({ path: FUNDING_INFO_PATH, weight: 0 });
      }
      for (const e of opts.universe()) {
        requests.push({
          path: `${OPEN_INTEREST_PATH}?symbol=${encodeURIComponent(e.instrument)}`,
          weight: 1,
          instrument: e.instrument,
        });
      }
      return requests;
    },
  };
}
