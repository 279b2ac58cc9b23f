/**
 * Binance USDⓈ-M long/short statistics over REST, in 5-minute buckets:
 * - `globalLongShortAccountRatio`: share of all accounts net long (`accountsLongPct`);
 * - `topLongShortPositionRatio`: share of the top 20% traders' positions that are long
 *   (`topTradersLongPct`; `longAccount` carries the position share despite its name).
 * https://developers.binance.com/docs/derivatives/usds-margined-futures/market-data/rest-api/Long-Short-Ratio
 * https://developers.binance.com/docs/derivatives/usds-margined-futures/market-data/rest-api/Top-Trader-Long-Short-Ratio
 * Both have request weight 0 but an IP limit of 1000 requests per 5 minutes, which
 * `openInterestHist` (the warm-start backfill) may share: the docs do not say whether the
 * `/futures/data/*` endpoints count against one counter, so this plan assumes they do.
 * The bodies go through the Binance parser with `source` = the request path, like open interest.
 */
import type { RestPollPlan, RestRequest } from '../core/adapter.js';
import type { UniverseEntry } from '../core/universe.js';
import { BINANCE_REST_URL } from './binance-rest.js';

export const GLOBAL_ACCOUNT_RATIO_PATH = '/futures/data/globalLongShortAccountRatio';
export const TOP_POSITION_RATIO_PATH = '/futures/data/topLongShortPositionRatio';

const MINUTE_MS = 60_000;
/** The statistics' bucket and the span of the venue's IP limit. */
export const LONG_SHORT_ROUND_MS = 5 * MINUTE_MS;
/**
 * Our requests per 5 minutes, both endpoints together: the IP limit of 1000 less the 600 a
 * warm-start backfill of `openInterestHist` can take at 2 requests/s over the same 5 minutes,
 * less 40 of margin (a pacer's boundary, other tools on the host).
 */
export const LONG_SHORT_REQUESTS_PER_ROUND = 360;
/** A round is split into this many cycles, so the requests are spread over the 5 minutes. */
export const LONG_SHORT_CYCLES_PER_ROUND = 20;
export const LONG_SHORT_CYCLE_MS = LONG_SHORT_ROUND_MS / LONG_SHORT_CYCLES_PER_ROUND;

/** The poller's cap per rolling minute for `budget` requests per round: a fifth of it. */
export function longShortRequestsPerMinute(budget = LONG_SHORT_REQUESTS_PER_ROUND): number {
  return Math.floor((budget * MINUTE_MS) / LONG_SHORT_ROUND_MS);
}
/**
 * 72: the default plan's cap per rolling minute, so any 5 minutes hold at most
 * `LONG_SHORT_REQUESTS_PER_ROUND`. Exported for the limits test that measures it.
 */
export const LONG_SHORT_REQUESTS_PER_MINUTE = longShortRequestsPerMinute();
/**
 * When the budget cannot refresh both figures of every instrument each round, the account ratio
 * (every trader) has priority; the top traders' ratio keeps at least this share of the budget so
 * it is never starved.
 */
export const TOP_TRADERS_MIN_SHARE = 0.25;

/** How many requests of one round go to each endpoint for `instruments` followed instruments. */
export function longShortShares(
  instruments: number,
  budget = LONG_SHORT_REQUESTS_PER_ROUND,
): { readonly accounts: number; readonly topTraders: number } {
  const n = Math.max(0, Math.floor(instruments));
  const accounts = Math.min(n, budget - Math.min(n, Math.floor(budget * TOP_TRADERS_MIN_SHARE)));
  return { accounts, topTraders: Math.min(n, budget - accounts) };
}

/**
 * How often each figure of one instrument is refreshed, ms (null: never, no instruments). With
 * the default budget: up to 180 instruments both every 5 min; up to 270 the account ratio every
 * 5 min and the top traders' every 5 × N / (360 − N) min; beyond, the account ratio every
 * 5 × N / 270 min and the top traders' every 5 × N / 90 min (600 instruments: 11.1 and 33.3 min).
 */
export function longShortRefreshMs(
  instruments: number,
  budget = LONG_SHORT_REQUESTS_PER_ROUND,
): { readonly accountsMs: number | null; readonly topTradersMs: number | null } {
  const { accounts, topTraders } = longShortShares(instruments, budget);
  const every = (share: number) => (share > 0 ? (LONG_SHORT_ROUND_MS * instruments) / share : null);
  return { accountsMs: every(accounts), topTradersMs: every(topTraders) };
}

export interface BinanceLongShortPlanOptions {
  /** Default `BINANCE_REST_URL`. */
  readonly restUrl?: string;
  /** The followed instruments, read at the start of every cycle. */
  readonly universe: () => readonly UniverseEntry[];
  /** Requests per 5 minutes, both endpoints; default `LONG_SHORT_REQUESTS_PER_ROUND`. */
  readonly requestsPerRound?: number;
}

/**
 * Polls both statistics of the followed instruments, `period=5m&limit=1`, within
 * `requestsPerRound` requests per 5 minutes. A round is a list of request slots (first the
 * account ratio's share, then the top traders'), each endpoint walking the instruments
 * round-robin from where it stopped. Each of the round's 20 cycles (one every 15 s) takes the
 * next `requestsPerRound / 20` slots (18) until the round's are used up: a small universe is
 * refreshed at once after the round starts, a large one spread over the whole 5 minutes.
 * The poller's own budget (1 per request, `requestsPerRound / 5` per rolling minute) is the hard
 * cap: any 5 minutes hold at most `requestsPerRound` requests, even when cycles stretch.
 * Requests carry no `instrument`: a late statistic is not an open-interest gap.
 */
export function createBinanceLongShortPlan(opts: BinanceLongShortPlanOptions): RestPollPlan {
  const budget = opts.requestsPerRound ?? LONG_SHORT_REQUESTS_PER_ROUND;
  const perCycle = Math.max(1, Math.floor(budget / LONG_SHORT_CYCLES_PER_ROUND));
  let cycle = 0;
  const cursor = { accounts: 0, topTraders: 0 };
  const request = (path: string, instrument: string): RestRequest => ({
    path: `${path}?symbol=${encodeURIComponent(instrument)}&period=5m&limit=1`,
    weight: 1,
  });
  return {
    venue: 'binance',
    restUrl: opts.restUrl ?? BINANCE_REST_URL,
    cycleMs: LONG_SHORT_CYCLE_MS,
    weightPerMinute: longShortRequestsPerMinute(budget),
    requests(): readonly RestRequest[] {
      const list = opts.universe();
      const i = cycle % LONG_SHORT_CYCLES_PER_ROUND;
      cycle++;
      const n = list.length;
      if (n === 0) return [];
      const { accounts, topTraders } = longShortShares(n, budget);
      const from = i * perCycle;
      const to = Math.min(accounts + topTraders, from + perCycle);
      const out: RestRequest[] = [];
      for (let slot = from; slot < to; slot++) {
        const key = slot < accounts ? 'accounts' : 'topTraders';
        const path = key === 'accounts' ? GLOBAL_ACCOUNT_RATIO_PATH : TOP_POSITION_RATIO_PATH;
        const at = cursor[key] % n;
        cursor[key] = (at + 1) % n;
        out.push(request(path, list[at]!.instrument));
      }
      return out;
    },
  };
}
