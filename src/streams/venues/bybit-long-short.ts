/**
 * Bybit v5 long/short statistics: `GET /v5/market/account-ratio`.
 * https://bybit-exchange.github.io/docs/v5/market/long-short-ratio
 * `buyRatio` is the share of holders with long positions (a fraction as a string), `timestamp`
 * the 5-minute bucket; rows come newest first. Bybit publishes no top-trader figure, so
 * `topTradersLongPct` stays absent. The generic `RestPoller` runs the plan and feeds each body to
 * the Bybit parser with `source` = the request path, so a recording replays it.
 */

import { canonicalSymbol } from '../../domain/symbols.js';
import type { MarketEvent } from '../../domain/types.js';
import type { ParseResult, RestPollClock, RestPollPlan, RestRequest } from '../core/adapter.js';
import { type Fields, type FrameReader, isRecord, marketEvent } from '../core/fields.js';
import type { UniverseEntry } from '../core/universe.js';

export const BYBIT_ACCOUNT_RATIO_PATH = '/v5/market/account-ratio';

/** The statistics' bucket: each followed instrument is polled once per bucket. */
export const BYBIT_LONG_SHORT_PERIOD_MS = 5 * 60_000;
/** Cycles per bucket: each cycle polls the next slice of the instruments, spreading the bucket's calls. */
export const BYBIT_LONG_SHORT_STEPS = 30;
/** 10 s: one slice of the instruments (500 instruments: 17 requests). */
export const BYBIT_LONG_SHORT_CYCLE_MS = BYBIT_LONG_SHORT_PERIOD_MS / BYBIT_LONG_SHORT_STEPS;
/**
 * Our own cap, requests per rolling minute: 50 per 5 s, a twelfth of Bybit's 600 per 5 s per IP,
 * which the tickers listing and the OI backfill share. Enough for 3,000 instruments per bucket.
 */
export const BYBIT_LONG_SHORT_REQUESTS_PER_MINUTE = 600;

export function bybitAccountRatioPath(instrument: string): string {
  const query = new URLSearchParams({ category: 'linear', symbol: instrument, period: '5min', limit: '1' });
  return `${BYBIT_ACCOUNT_RATIO_PATH}?${query}`;
}

export interface BybitLongShortPlanOptions {
  readonly restUrl: string;
  /** The followed instruments, read at the start of every cycle. */
  readonly universe: () => readonly UniverseEntry[];
  /** The clock the poller runs on (`--demo`: the simulators' event clock); default the wall clock. */
  readonly clock?: RestPollClock;
}

/**
 * Every 10 s the next slice of the instruments in name order, continuing after the last one
 * polled. The 30 slices of a bucket add up to the n instruments (`ceil((k + 1)·n / 30) −
 * ceil(k·n / 30)` in cycle k, so the first cycle is never empty): each followed instrument is
 * polled once per 5 minutes, evenly. The cursor is a name, not an index, so a universe change
 * neither skips nor repeats the instruments that stay. Requests carry no `instrument`: a late
 * statistic is not an OI gap.
 */
export function createBybitLongShortPlan(opts: BybitLongShortPlanOptions): RestPollPlan {
  let last: string | undefined;
  let step = 0;
  return {
    venue: 'bybit',
    restUrl: opts.restUrl,
    cycleMs: BYBIT_LONG_SHORT_CYCLE_MS,
    weightPerMinute: BYBIT_LONG_SHORT_REQUESTS_PER_MINUTE,
    ...(opts.clock ? { clock: opts.clock } : {}),
    requests(): readonly RestRequest[] {
      const names = [...new Set(opts.universe().map((e) => e.instrument))].sort();
      const n = names.length;
      const count =
        Math.ceil(((step + 1) * n) / BYBIT_LONG_SHORT_STEPS) - Math.ceil((step * n) / BYBIT_LONG_SHORT_STEPS);
      step = (step + 1) % BYBIT_LONG_SHORT_STEPS;
      if (count === 0) return [];
      const after = last === undefined ? 0 : names.findIndex((name) => name > last!);
      const start = Math.max(after, 0);
      const slice = Array.from({ length: count }, (_, k) => names[(start + k) % n]!);
      last = slice[slice.length - 1];
      return slice.map((instrument) => ({ path: bybitAccountRatioPath(instrument), weight: 1 }));
    },
  };
}

/** Removes binary noise from `100 × fraction` (0.4927 → 49.27, not 49.269999999999996). */
function percent(fraction: number): number {
  return Math.round(fraction * 100 * 1e10) / 1e10;
}

/**
 * An account-ratio body → one event with `accountsLongPct` and `longShortTs` from the NEWEST row
 * by `timestamp` (the docs list newest first; the position is not trusted). Its event time is the
 * answer's `time` (when Bybit answered), else the receive time. `retCode` ≠ 0 is a venue error;
 * an empty list (a symbol without statistics yet) is ignored.
 */
export function parseBybitAccountRatio(msg: unknown, at: FrameReader, receiveTs: number): ParseResult {
  if (!isRecord(msg)) return at.fail('account-ratio body is not an object');
  if (msg.retCode !== 0) {
    if (typeof msg.retCode !== 'number') return at.fail('account-ratio body without retCode', 'retCode');
    return {
      events: [],
      control: 'error',
      detail: `account-ratio: retCode ${msg.retCode}: ${String(msg.retMsg)}`,
    };
  }
  const list = isRecord(msg.result) ? msg.result.list : undefined;
  if (!Array.isArray(list)) return at.fail('result.list is not an array', 'list');
  let newest: { row: Fields; ts: number } | undefined;
  for (const [i, row] of list.entries()) {
    if (!isRecord(row)) return at.fail(`list[${i}] is not an object`, 'list');
    const ts = at.time(row, 'timestamp');
    if (ts === undefined) return at.fail(`list[${i}].timestamp is not a time`, 'timestamp');
    if (!newest || ts > newest.ts) newest = { row, ts };
  }
  if (!newest) return { events: [], control: 'ignored', detail: 'account-ratio: empty list' };
  const { row, ts } = newest;
  const instrument = row.symbol;
  if (typeof instrument !== 'string' || instrument === '')
    return at.fail('account-ratio row without symbol', 'symbol');
  const buyRatio = at.num(row, 'buyRatio');
  if (buyRatio === undefined || buyRatio < 0 || buyRatio > 1)
    return at.fail(`buyRatio is not a fraction: ${JSON.stringify(row.buyRatio)}`, 'buyRatio');
  const symbol = canonicalSymbol(instrument) ?? instrument;
  const ev = marketEvent('bybit', symbol, instrument, at.time(msg, 'time') ?? receiveTs, receiveTs);
  ev.accountsLongPct = percent(buyRatio);
  ev.longShortTs = ts;
  return { events: [ev satisfies MarketEvent] };
}
