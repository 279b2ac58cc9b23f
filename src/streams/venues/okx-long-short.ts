/**
 * OKX long/short statistics over REST (Trading Statistics, "rubik"), per followed swap:
 * https://www.okx.com/docs-v5/en/#trading-statistics-rest-api-get-contract-long-short-ratio
 * https://www.okx.com/docs-v5/en/#trading-statistics-rest-api-get-top-traders-contract-long-short-ratio-by-position
 * - `long-short-account-ratio-contract`: accounts net long ÷ accounts net short;
 *   `long-short-position-ratio-contract-top-trader`: the top 5% traders' long ÷ short positions.
 * - `data` rows are `[ts, ratio]`, both strings; the docs' example repeats a timestamp and does not
 *   settle the order, so rows are sorted by `ts` and the newest is taken.
 * - The long share is `100 × r / (1 + r)` percent (1.5 → 60%).
 * - Rate limit: 5 requests per 2 s per IP and instrument (each endpoint).
 * The generic `RestPoller` runs the plan and hands each body to the OKX parser with `source` set.
 */
import type { MarketEvent } from '../../domain/types.js';
import type { ParseResult, RestPollClock, RestPollPlan, RestRequest } from '../core/adapter.js';
import { FrameReader, finite, isRecord, marketEvent } from '../core/fields.js';
import type { UniverseEntry } from '../core/universe.js';

export const OKX_ACCOUNT_RATIO_PATH = '/api/v5/rubik/stat/contracts/long-short-account-ratio-contract';
export const OKX_TOP_TRADER_POSITION_RATIO_PATH =
  '/api/v5/rubik/stat/contracts/long-short-position-ratio-contract-top-trader';

/** The statistics come in 5-minute buckets: one poll of each per instrument and bucket. */
export const OKX_LONG_SHORT_CYCLE_MS = 5 * 60_000;
const CYCLE_MINUTES = OKX_LONG_SHORT_CYCLE_MS / 60_000;
/** Requests per instrument and cycle: the account ratio and the top traders' position ratio. */
export const OKX_LONG_SHORT_REQUESTS_PER_INSTRUMENT = 2;

export interface OkxLongShortPlanOptions {
  /** Default `https://www.okx.com`. */
  readonly restUrl?: string;
  /** The followed instruments, read at the start of every cycle. */
  readonly universe: () => readonly UniverseEntry[];
  /** The clock the poll runs on (the demo's accelerated clock); default the wall clock. */
  readonly clock?: RestPollClock;
}

/** The request path of one statistic for one instrument (also the `source` the parser reads). */
export function okxLongShortPath(path: string, instId: string): string {
  return `${path}?instId=${encodeURIComponent(instId)}&period=5m&limit=1`;
}

/**
 * Both statistics of every followed instrument once per 5 minutes, spread over the cycle: the budget
 * per rolling minute is a fifth of the cycle's requests, so the poller sends them in five slices a
 * minute apart. Each instrument gets one request per endpoint per cycle, far inside 5 per 2 s.
 * Requests carry no `instrument`: a late statistic is no OI gap.
 */
export function createOkxLongShortPlan(opts: OkxLongShortPlanOptions): RestPollPlan {
  return {
    venue: 'okx',
    restUrl: opts.restUrl ?? 'https://www.okx.com',
    cycleMs: OKX_LONG_SHORT_CYCLE_MS,
    // Read by the poller before every request, so it follows the universe.
    get weightPerMinute() {
      const perCycle = opts.universe().length * OKX_LONG_SHORT_REQUESTS_PER_INSTRUMENT;
      return Math.max(1, Math.ceil(perCycle / CYCLE_MINUTES));
    },
    ...(opts.clock ? { clock: opts.clock } : {}),
    requests(): readonly RestRequest[] {
      return opts.universe().flatMap((e) => [
        { path: okxLongShortPath(OKX_ACCOUNT_RATIO_PATH, e.instrument), weight: 1 },
        { path: okxLongShortPath(OKX_TOP_TRADER_POSITION_RATIO_PATH, e.instrument), weight: 1 },
      ]);
    },
  };
}

/** `100 × r / (1 + r)`: the long share in percent of a long ÷ short ratio (to 1e-9 %, no binary noise). */
export function longPctOfRatio(ratio: number): number {
  return Math.round(((100 * ratio) / (1 + ratio)) * 1e9) / 1e9;
}

/** Which figure a request path carries, or undefined for a path the OKX parser does not read. */
function figureOf(pathname: string): 'accountsLongPct' | 'topTradersLongPct' | undefined {
  if (pathname === OKX_ACCOUNT_RATIO_PATH) return 'accountsLongPct';
  if (pathname === OKX_TOP_TRADER_POSITION_RATIO_PATH) return 'topTradersLongPct';
  return undefined;
}

/**
 * One rubik body → one event carrying the newest row's figure at `longShortTs` = its `ts`. The
 * event's time is the receive time (the body has no time of its own): the bucket's time is minutes
 * old by design and would read as out of order next to the live frames. `code` other than "0" is a
 * venue error; a body that is not JSON or has no `data` array is malformed (`FrameError`);
 * unreadable rows are skipped, as in every REST history.
 */
export function parseOkxLongShortBody(
  body: string,
  source: string,
  receiveTs: number,
  symbolOf: (instId: string) => string,
): ParseResult {
  const url = new URL(source, 'https://www.okx.com');
  const figure = figureOf(url.pathname);
  if (!figure) return { events: [], control: 'ignored', detail: `okx REST ${url.pathname}` };
  const at = new FrameReader('okx', body);
  const instId = url.searchParams.get('instId');
  if (!instId) return at.fail(`no instId in ${source}`, 'instId');
  const msg = at.json();
  if (!isRecord(msg)) return at.fail('not an object');
  if (String(msg.code) !== '0') {
    const text = typeof msg.msg === 'string' ? msg.msg : '';
    return { events: [], control: 'error', detail: `${String(msg.code)} ${text} (${source})`.trim() };
  }
  if (!Array.isArray(msg.data)) return at.fail('data is not an array', 'data');
  let newest: { ts: number; ratio: number } | undefined;
  for (const row of msg.data) {
    if (!Array.isArray(row)) continue;
    const ts = finite(row[0]);
    const ratio = finite(row[1]);
    if (ts === undefined || ts <= 0 || ratio === undefined || ratio < 0) continue;
    if (!newest || ts > newest.ts) newest = { ts, ratio };
  }
  if (!newest) return { events: [], control: 'ignored', detail: `no rows in ${source}` };
  const ev: MarketEvent = {
    ...marketEvent('okx', symbolOf(instId), instId, receiveTs, receiveTs),
    [figure]: longPctOfRatio(newest.ratio),
    longShortTs: newest.ts,
  };
  return { events: [ev] };
}
