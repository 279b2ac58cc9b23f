/**
 * Binance USDⓈ-M futures: the all-market streams `!markPrice@arr@1s` (mark, index, funding),
 * `!ticker@arr` (last price, 24 h quote turnover) and `!forceOrder@arr` (liquidations) on ONE
 * combined-stream connection, plus REST bodies (open interest, funding intervals and rate bounds
 * from `binance-rest.ts`, long/short statistics from `binance-long-short.ts`) through the same parser.
 * https://developers.binance.com/docs/derivatives/usds-margined-futures/websocket-market-streams/Mark-Price-Stream-for-All-market
 * https://developers.binance.com/docs/derivatives/usds-margined-futures/websocket-market-streams/All-Market-Tickers-Streams
 * https://developers.binance.com/docs/derivatives/usds-margined-futures/websocket-market-streams/All-Market-Liquidation-Order-Streams
 * Pitfalls (the WebSocket market streams' change log, and frames recorded from `/market/stream`):
 * - These streams exist only on the routed `/market` URL; elsewhere SUBSCRIBE is acked and
 *   nothing ever arrives.
 * - The arrays are sharded (one second can come in several frames) and mix COIN-M (`st` 2),
 *   TradFi and USDC symbols: every element is its own event, and only universe instruments count.
 * - `P` is the estimated settle price in markPriceUpdate and the change percent in 24hrTicker:
 *   it is never read. `r` is per funding interval; `""` and `T` = 0 mean absent.
 * - forceOrder's `S` is the side of the liquidation ORDER: `SELL` closes a long. The stream pushes
 *   at most the latest order per symbol per second (sampled), with no order id; `z` (accumulated
 *   fill) is the order's size, `l` only its last fill. Since the CM merge `ps`/`st` come after the
 *   other keys, inside `o` in a 2026 capture and next to `e`/`E` in the connector's types.
 */
import { canonicalSymbol } from '../../domain/symbols.js';
import type { MarketEvent } from '../../domain/types.js';
import type { FrameParser, ParseResult, VenueAdapter } from '../core/adapter.js';
import { type Fields, FrameReader, isRecord, marketEvent, setDefined as set } from '../core/fields.js';
import type { UniverseEntry } from '../core/universe.js';
import { GLOBAL_ACCOUNT_RATIO_PATH, TOP_POSITION_RATIO_PATH } from './binance-long-short.js';
import { FUNDING_INFO_PATH, OPEN_INTEREST_PATH } from './binance-rest.js';

export {
  type BinanceLongShortPlanOptions,
  createBinanceLongShortPlan,
  GLOBAL_ACCOUNT_RATIO_PATH,
  TOP_POSITION_RATIO_PATH,
} from './binance-long-short.js';
export {
  BINANCE_REST_URL,
  type BinanceRestPlanOptions,
  createBinanceRestPlan,
  FUNDING_INFO_PATH,
  OPEN_INTEREST_PATH,
} from './binance-rest.js';

export const BINANCE_WS_URL = 'wss://fstream.binance.com/market/stream';

/** The all-market streams this adapter subscribes to, whatever the universe. */
export const BINANCE_STREAMS = ['!markPrice@arr@1s', '!ticker@arr', '!forceOrder@arr'] as const;

/** Symbols that `fundingInfo` does not list settle every 8 h (Get-Funding-Rate-Info). */
export const BINANCE_DEFAULT_FUNDING_INTERVAL_HOURS = 8;

/** A single connection is cut at 24 h; replace it 10 minutes before. */
const MAX_CONNECTION_AGE_MS = (23 * 60 + 50) * 60_000;

export interface BinanceAdapterOptions {
  /** Default `BINANCE_WS_URL`; must be a `/market/stream` (combined) URL. */
  readonly wsUrl?: string;
  /**
   * The instruments we follow, read on every frame. Without it the parser keeps every UM
   * element named `<BASE>USDT` (a replay without a universe).
   */
  readonly universe?: () => readonly UniverseEntry[];
}

/**
 * State shared by every parser of one adapter: the poller's parser sees `fundingInfo`, the
 * connection's parser emits the mark frames that need it. Neither is per-connection state, so
 * `reset()` keeps it.
 */
class SharedState {
  /** From the latest `fundingInfo` body; null until one is seen. */
  intervals: Map<string, number> | null = null;
  /**
   * Funding-rate bounds per symbol from the latest `fundingInfo` body (`adjustedFundingRateCap` /
   * `adjustedFundingRateFloor`). Binance lists only adjusted symbols; others stay unknown.
   */
  bounds = new Map<string, { readonly cap?: number; readonly floor?: number }>();
  private list: readonly UniverseEntry[] | undefined;
  private byInstrument = new Map<string, UniverseEntry>();

  constructor(private readonly universe: (() => readonly UniverseEntry[]) | undefined) {}

  /**
   * Looks instruments up in the universe as it is now (read once per frame; the map is rebuilt
   * only when `universe()` returns a new array). Without a universe, UM `<BASE>USDT` names pass.
   */
  lookup(): (instrument: string) => UniverseEntry | undefined {
    if (!this.universe) return fromName;
    const list = this.universe();
    if (list !== this.list) {
      this.list = list;
      this.byInstrument = new Map(list.map((e) => [e.instrument, e]));
    }
    const map = this.byInstrument;
    return (instrument) => map.get(instrument);
  }

  /** Receive time of the latest `fundingInfo` body. */
  intervalsAtTs = 0;
  /** Per symbol: the next funding time last seen, the last settlement, and the interval they imply. */
  private readonly settlement = new Map<
    string,
    { nextTs: number; settledTs?: number; hours?: number; atTs?: number }
  >();

  /**
   * Binance changes intervals right after a settlement (8 h → 1 h at the cap) and `fundingInfo`
   * is refreshed only every 15 min: the jump of `T` from the last settlement tells it at once.
   */
  observeNextFunding(instrument: string, nextTs: number, eventTs: number, receiveTs: number): void {
    const s = this.settlement.get(instrument);
    if (!s) {
      this.settlement.set(instrument, { nextTs });
      return;
    }
    if (nextTs === s.nextTs) return;
    if (s.nextTs <= eventTs) s.settledTs = s.nextTs;
    s.nextTs = nextTs;
    if (s.settledTs === undefined) return;
    const hours = (nextTs - s.settledTs) / 3_600_000;
    if (Number.isInteger(hours) && hours >= 1 && hours <= 8) {
      s.hours = hours;
      s.atTs = receiveTs;
    }
  }

  intervalHours(entry: UniverseEntry): number | undefined {
    const inferred = this.settlement.get(entry.instrument);
    if (inferred?.hours && (inferred.atTs ?? 0) > this.intervalsAtTs) return inferred.hours;
    if (this.intervals) return this.intervals.get(entry.instrument) ?? BINANCE_DEFAULT_FUNDING_INTERVAL_HOURS;
    return entry.fundingIntervalHours;
  }
}

function fromName(instrument: string): UniverseEntry | undefined {
  if (!/^[A-Z0-9]+USDT$/.test(instrument)) return undefined;
  const symbol = canonicalSymbol(instrument);
  return symbol ? { symbol, instrument } : undefined;
}

class BinanceParser implements FrameParser {
  constructor(private readonly shared: SharedState) {}

  reset(): void {
    // Nothing per connection: every array element is a full update of its fields.
  }

  parse(frame: string, receiveTs: number, source?: string): ParseResult {
    const at = new FrameReader('binance', frame);
    const msg = at.json();
    if (source !== undefined) return this.rest(msg, at, receiveTs, source);
    // Raw (`/ws`) mode sends bare payloads; combined (`/stream`) mode wraps them.
    if (Array.isArray(msg)) return this.elements(msg, at, receiveTs);
    if (!isRecord(msg)) return at.fail('not an object');
    if ('stream' in msg && 'data' in msg) {
      if (typeof msg.stream !== 'string') return at.fail('stream is not a string', 'stream');
      const data = msg.data;
      if (Array.isArray(data)) return this.elements(data, at, receiveTs);
      if (isRecord(data)) return this.elements([data], at, receiveTs);
      return at.fail('data is neither an array nor an object', 'data');
    }
    if (typeof msg.e === 'string') return this.elements([msg], at, receiveTs);
    return this.control(msg, at);
  }

  private control(msg: Fields, at: FrameReader): ParseResult {
    if ('result' in msg && 'id' in msg) return { events: [], control: 'ack' };
    const err = isRecord(msg.error) ? msg.error : msg;
    if ('code' in err && 'msg' in err) {
      return { events: [], control: 'error', detail: `code ${String(err.code)}: ${String(err.msg)}` };
    }
    return at.fail('unknown frame');
  }

  private elements(list: readonly unknown[], at: FrameReader, receiveTs: number): ParseResult {
    const events: MarketEvent[] = [];
    const entryOf = this.shared.lookup();
    for (const el of list) {
      if (isRecord(el) && el.e === 'forceOrder') {
        const ev = this.forceOrder(el, at, entryOf, receiveTs);
        if (ev) events.push(ev);
        continue;
      }
      if (!isRecord(el) || typeof el.e !== 'string' || typeof el.s !== 'string')
        return at.fail('array element is not an event');
      if (el.st === 2) continue; // COIN-M, on the UM arrays since 2026-06-30
      if (el.e !== 'markPriceUpdate' && el.e !== '24hrTicker') continue;
      const entry = entryOf(el.s);
      if (!entry) continue;
      const ev = this.event(entry, at.time(el, 'E') ?? receiveTs, receiveTs);
      if (el.e === 'markPriceUpdate') {
        set(ev, 'markPrice', at.num(el, 'p'));
        set(ev, 'indexPrice', at.num(el, 'i'));
        set(ev, 'fundingRate', at.num(el, 'r'));
        const nextTs = at.time(el, 'T');
        set(ev, 'nextFundingTs', nextTs);
        if (nextTs !== undefined)
          this.shared.observeNextFunding(entry.instrument, nextTs, ev.eventTs, receiveTs);
        set(ev, 'fundingIntervalHours', this.shared.intervalHours(entry));
        const bounds = this.shared.bounds.get(entry.instrument);
        set(ev, 'fundingRateCap', bounds?.cap);
        set(ev, 'fundingRateFloor', bounds?.floor);
      } else {
        set(ev, 'lastPrice', at.num(el, 'c'));
        set(ev, 'turnover24hUsd', at.num(el, 'q'));
      }
      events.push(ev);
    }
    return { events };
  }

  /**
   * One liquidation order, or undefined when it is not counted: COIN-M (`st` 2, read at the top
   * level and inside `o`), not followed, or not (yet) `FILLED`. A partially filled order is
   * pushed again once filled, so counting only FILLED counts each order once (as tardis-dev).
   */
  private forceOrder(
    el: Fields,
    at: FrameReader,
    entryOf: (instrument: string) => UniverseEntry | undefined,
    receiveTs: number,
  ): MarketEvent | undefined {
    const o = el.o;
    if (!isRecord(o) || typeof o.s !== 'string') return at.fail('forceOrder without order', 'o');
    if (o.S !== 'SELL' && o.S !== 'BUY') return at.fail(`forceOrder side is ${JSON.stringify(o.S)}`, 'S');
    if (typeof o.X !== 'string') return at.fail('forceOrder without order status', 'X');
    const baseFilled = at.num(o, 'z');
    const avgPrice = at.num(o, 'ap');
    const ts = at.time(o, 'T') ?? at.time(el, 'E') ?? receiveTs;
    if (el.st === 2 || o.st === 2) return undefined;
    const entry = entryOf(o.s);
    if (!entry || o.X !== 'FILLED') return undefined;
    if (baseFilled === undefined || !(baseFilled > 0)) return at.fail('FILLED forceOrder without z', 'z');
    if (avgPrice === undefined || !(avgPrice > 0)) return at.fail('FILLED forceOrder without ap', 'ap');
    const ev = this.event(entry, ts, receiveTs);
    ev.liquidations = [
      { side: o.S === 'SELL' ? 'long' : 'short', base: baseFilled, usd: baseFilled * avgPrice, ts },
    ];
    return ev;
  }

  private rest(msg: unknown, at: FrameReader, receiveTs: number, source: string): ParseResult {
    const path = new URL(source, 'http://rest').pathname;
    if (isRecord(msg) && 'code' in msg && 'msg' in msg) return this.control(msg, at);
    if (path === OPEN_INTEREST_PATH) {
      if (!isRecord(msg) || typeof msg.symbol !== 'string')
        return at.fail('openInterest body without symbol', 'symbol');
      const entry = this.shared.lookup()(msg.symbol);
      if (!entry) return { events: [], control: 'ignored', detail: `${msg.symbol} is not followed` };
      const ev = this.event(entry, at.time(msg, 'time') ?? receiveTs, receiveTs);
      set(ev, 'oiBase', at.num(msg, 'openInterest'));
      return { events: [ev] };
    }
    if (path === GLOBAL_ACCOUNT_RATIO_PATH || path === TOP_POSITION_RATIO_PATH)
      return this.longShort(msg, at, receiveTs, path);
    if (path === FUNDING_INFO_PATH) {
      if (!Array.isArray(msg)) return at.fail('fundingInfo body is not an array');
      const intervals = new Map<string, number>();
      const bounds = new Map<string, { cap?: number; floor?: number }>();
      for (const row of msg) {
        if (!isRecord(row) || typeof row.symbol !== 'string')
          return at.fail('fundingInfo row without symbol', 'symbol');
        const hours = at.num(row, 'fundingIntervalHours');
        if (hours !== undefined && hours > 0) intervals.set(row.symbol, hours);
        // Per funding interval, like `r`; `""` is no value, never 0.
        const cap = at.num(row, 'adjustedFundingRateCap');
        const floor = at.num(row, 'adjustedFundingRateFloor');
        if (cap !== undefined || floor !== undefined)
          bounds.set(row.symbol, {
            ...(cap !== undefined ? { cap } : {}),
            ...(floor !== undefined ? { floor } : {}),
          });
      }
      // Symbols absent here settle every 8 h. The next mark frame (1 s) carries the new intervals.
      this.shared.intervals = intervals;
      this.shared.bounds = bounds;
      this.shared.intervalsAtTs = receiveTs;
      return { events: [], detail: `fundingInfo: ${intervals.size} adjusted symbols` };
    }
    return at.fail(`unknown REST source ${source}`);
  }

  /**
   * A long/short statistics body: rows oldest first, `longAccount` a fraction (the long share of
   * accounts, or of top traders' positions), `timestamp` a string or a number. The doc's
   * `longShortRatio` disagrees with `longAccount / shortAccount`, so only `longAccount` is read.
   * The event's time is the receive time: the bucket's time (`longShortTs`) is minutes old by
   * design and would read as out of order next to the live frames.
   */
  private longShort(msg: unknown, at: FrameReader, receiveTs: number, path: string): ParseResult {
    if (!Array.isArray(msg)) return at.fail('long/short body is not an array');
    let newest: { row: Fields; ts: number } | undefined;
    for (const row of msg) {
      if (!isRecord(row) || typeof row.symbol !== 'string')
        return at.fail('long/short row without symbol', 'symbol');
      const ts = at.time(row, 'timestamp');
      if (ts === undefined) return at.fail('long/short row without timestamp', 'timestamp');
      if (!newest || ts >= newest.ts) newest = { row, ts };
    }
    // No rows is no value (a symbol without statistics yet), never 0%.
    if (!newest) return { events: [], control: 'ignored', detail: `${path}: no rows` };
    const symbol = newest.row.symbol as string;
    const entry = this.shared.lookup()(symbol);
    if (!entry) return { events: [], control: 'ignored', detail: `${symbol} is not followed` };
    const longFraction = at.num(newest.row, 'longAccount');
    if (longFraction === undefined)
      return { events: [], control: 'ignored', detail: `${path}: ${symbol} without longAccount` };
    if (longFraction < 0 || longFraction > 1)
      return at.fail(`longAccount is not a fraction: ${longFraction}`, 'longAccount');
    const ev = this.event(entry, receiveTs, receiveTs);
    // Rounded to 1e-9 %: `100 × 0.6622` is 66.22000000000001 in floating point.
    const pct = Math.round(longFraction * 1e11) / 1e9;
    ev[path === GLOBAL_ACCOUNT_RATIO_PATH ? 'accountsLongPct' : 'topTradersLongPct'] = pct;
    ev.longShortTs = newest.ts;
    return { events: [ev] };
  }

  private event(entry: UniverseEntry, eventTs: number, receiveTs: number) {
    return marketEvent('binance', entry.symbol, entry.instrument, eventTs, receiveTs);
  }
}

/**
 * The subscription does not depend on the instruments: the three all-market streams carry every
 * symbol and the parser filters by the universe. An empty universe subscribes nothing; removing
 * instruments unsubscribes nothing; adding some re-sends the same SUBSCRIBE, which Binance acks
 * without duplicating the streams.
 */
function subscribeMessages(instruments: readonly string[]): string[] {
  if (instruments.length === 0) return [];
  return [JSON.stringify({ method: 'SUBSCRIBE', params: [...BINANCE_STREAMS], id: 1 })];
}

export function createBinanceAdapter(opts: BinanceAdapterOptions = {}): VenueAdapter {
  const shared = new SharedState(opts.universe);
  return {
    venue: 'binance',
    wsUrl: opts.wsUrl ?? BINANCE_WS_URL,
    subscribeMessages,
    unsubscribeMessages: () => [],
    // Binance sends ping frames every 3 min; ws answers them with pongs by itself.
    heartbeat: null,
    // Three streams of the 200 a connection may hold, and each carries every listed symbol (about
    // 1000 UM + CM + TradFi in 2026): one connection serves any universe.
    maxInstrumentsPerConnection: 100_000,
    maxConnectionAgeMs: MAX_CONNECTION_AGE_MS,
    // The largest shard seen (744 markPrice elements) is about 150 KB; a full ticker array about
    // 250 KB. 4 MiB leaves room for growth and still rejects garbage.
    maxPayloadBytes: 4 * 1024 * 1024,
    createParser: () => new BinanceParser(shared),
  };
}
