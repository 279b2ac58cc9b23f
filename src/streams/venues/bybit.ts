/**
 * Bybit v5 public linear: `tickers.{symbol}` carries mark, funding and open interest.
 * https://bybit-exchange.github.io/docs/v5/websocket/public/ticker
 * A `snapshot` replaces the per-symbol state; a `delta` carries only changed keys and must be
 * merged into it; `""` means no value. `openInterest` counts both sides: use `singleOpenInterest`.
 * The docs do not say whether a delta carries the two together (frames before 2026-06-11 have
 * only `openInterest`; later ones show both, `openInterest = 2 × singleOpenInterest`), so the most
 * recently pushed of the two is the current OI: a delta with only `openInterest` updates it.
 * Each instrument also subscribes `allLiquidation.{symbol}` on the same connection
 * (`bybit-liquidation.ts`); REST bodies with `source` set are the long/short statistics
 * (`bybit-long-short.ts`).
 */
import { canonicalSymbol } from '../../domain/symbols.js';
import type { MarketEvent } from '../../domain/types.js';
import type { FrameParser, ParseResult, VenueAdapter } from '../core/adapter.js';
import {
  type Fields,
  FrameReader,
  isRecord,
  marketEvent,
  positiveTime,
  setDefined as set,
} from '../core/fields.js';
import type { UniverseEntry } from '../core/universe.js';
import { BYBIT_LIQUIDATION_TOPIC, parseBybitLiquidations, SeenLiquidations } from './bybit-liquidation.js';
import { BYBIT_ACCOUNT_RATIO_PATH, parseBybitAccountRatio } from './bybit-long-short.js';

export const BYBIT_WS_URL = 'wss://stream.bybit.com/v5/public/linear';
export const BYBIT_REST_URL = 'https://api.bybit.com';

/** Bybit accepts many args per message, but 10 keeps each message small (as tardis-node does). */
export const BYBIT_ARGS_PER_MESSAGE = 10;

/**
 * "For one public connection, you cannot have length of "args" array over 21,000 characters"
 * (https://bybit-exchange.github.io/docs/v5/ws/connect). Read at its strictest: the JSON text of
 * every arg the connection subscribes, quotes and commas included.
 */
export const BYBIT_ARGS_CHARS_PER_CONNECTION = 21_000;

/**
 * Two topics per instrument, `tickers.X` and `allLiquidation.X`: 23 + 2 × len(X) characters,
 * 29 + 2 × len(X) as JSON. 250 instruments of the longest real name (`1000000BABYDOGEUSDT`, 19)
 * take 16,751 of the 21,000; names of up to 27 characters would still fit.
 */
export const BYBIT_MAX_INSTRUMENTS_PER_CONNECTION = 250;

export interface BybitAdapterOptions {
  readonly wsUrl?: string;
  /** From instruments-info (`fundingInterval` minutes / 60), used when a frame lacks `fundingIntervalHour`. */
  readonly fundingIntervalHours?: ReadonlyMap<string, number>;
  /**
   * The followed instruments; their listed funding intervals fill in for frames before 2025-10,
   * and their listed rate bounds (instruments-info) for frames without `fundingCap`.
   */
  readonly universe?: () => readonly UniverseEntry[];
}

interface RateBounds {
  readonly cap?: number;
  readonly floor?: number;
}

/** The ticker fields we read; a topic keeps these as numbers, so a delta parses only what it carries. */
const NUM_KEYS = [
  'markPrice',
  'lastPrice',
  'indexPrice',
  'singleOpenInterest',
  'openInterest',
  'singleOpenInterestValue',
  'openInterestValue',
  'fundingRate',
  'fundingIntervalHour',
  'fundingCap',
  'nextFundingTime',
  'turnover24h',
] as const;
type NumKey = (typeof NUM_KEYS)[number];
const IS_NUM_KEY: ReadonlySet<string> = new Set(NUM_KEYS);

type Values = Partial<Record<NumKey, number>>;

/** A one-side figure and its both-sides counterpart (half of it is the one side). */
const OI_PAIRS = [
  { single: 'singleOpenInterest', both: 'openInterest' },
  { single: 'singleOpenInterestValue', both: 'openInterestValue' },
] as const;
type OiPair = (typeof OI_PAIRS)[number];

interface TopicState {
  readonly instrument: string;
  readonly symbol: string;
  cs: number;
  readonly values: Values;
  /** Per pair's `single` key: true while the both-sides field was pushed more recently than it. */
  readonly bothIsNewer: Partial<Record<OiPair['single'], boolean>>;
}

export function bybitInstrument(symbol: string): string {
  return `${symbol}USDT`;
}

/** Records, per pair, which of its two fields this frame carried (the one-side one wins a tie). */
function noteNewest(state: TopicState, fields: Fields): void {
  for (const { single, both } of OI_PAIRS) {
    if (single in fields) state.bothIsNewer[single] = false;
    else if (both in fields) state.bothIsNewer[single] = true;
  }
}

/** One side of OI (or its value): the newer of the pair, the both-sides figure halved. */
function oneSide(state: TopicState, { single, both }: OiPair): number | undefined {
  const v = state.values;
  const half = v[both] !== undefined ? v[both] / 2 : undefined;
  return state.bothIsNewer[single] ? (half ?? v[single]) : (v[single] ?? half);
}

class BybitParser implements FrameParser {
  private readonly topics = new Map<string, TopicState>();
  /** Liquidations already delivered; kept across `reset()` so a resubscribe's replay is dropped. */
  private readonly seenLiquidations = new SeenLiquidations();

  constructor(
    private readonly fundingIntervalHours: ReadonlyMap<string, number> | undefined,
    private readonly listedBounds: ReadonlyMap<string, RateBounds> = new Map(),
  ) {}

  reset(): void {
    this.topics.clear();
  }

  parse(frame: string, receiveTs: number, source?: string): ParseResult {
    const at = new FrameReader('bybit', frame);
    const msg = at.json();
    if (source !== undefined) return this.rest(msg, at, receiveTs, source);
    if (!isRecord(msg)) return at.fail('not an object');
    const topic = msg.topic;
    if (typeof topic !== 'string') return this.control(msg, at);
    if (topic.startsWith(BYBIT_LIQUIDATION_TOPIC))
      return parseBybitLiquidations(msg, topic, at, this.seenLiquidations, receiveTs);
    if (!topic.startsWith('tickers.')) return { events: [], control: 'ignored', detail: topic };
    const fields = msg.data;
    if (!isRecord(fields)) return at.fail('data is not an object', 'data');
    const cs = typeof msg.cs === 'number' ? msg.cs : 0;
    let state = this.topics.get(topic);
    if (msg.type === 'snapshot') {
      const values: Values = {};
      for (const key of NUM_KEYS) {
        const v = at.num(fields, key);
        if (v !== undefined) values[key] = v;
      }
      const instrument = topic.slice('tickers.'.length);
      state = {
        instrument,
        symbol: state?.symbol ?? canonicalSymbol(instrument) ?? instrument,
        cs,
        values,
        bothIsNewer: {},
      };
      noteNewest(state, fields);
      this.topics.set(topic, state);
    } else if (msg.type === 'delta') {
      // A delta before its snapshot cannot be merged: wait for the snapshot that follows a subscribe.
      if (!state) return { events: [], control: 'ignored', detail: `delta before snapshot on ${topic}` };
      if (cs !== 0 && cs <= state.cs)
        return { events: [], control: 'ignored', detail: `stale cs on ${topic}` };
      // Parse first, merge after: a malformed delta leaves the state as it was.
      const changes: [NumKey, number | undefined][] = [];
      for (const key in fields) {
        if (IS_NUM_KEY.has(key)) changes.push([key as NumKey, at.num(fields, key)]);
      }
      for (const [key, v] of changes) {
        if (v === undefined) delete state.values[key];
        else state.values[key] = v;
      }
      noteNewest(state, fields);
      if (cs !== 0) state.cs = cs;
    } else {
      return at.fail(`unknown type ${String(msg.type)}`, 'type');
    }
    return { events: [this.toEvent(state, at.time(msg, 'ts') ?? receiveTs, receiveTs)] };
  }

  /** A REST body: the long/short statistics are the only REST data this parser reads. */
  private rest(msg: unknown, at: FrameReader, receiveTs: number, source: string): ParseResult {
    const path = new URL(source, 'http://rest').pathname;
    if (path === BYBIT_ACCOUNT_RATIO_PATH) return parseBybitAccountRatio(msg, at, receiveTs);
    return at.fail(`unknown REST source ${source}`);
  }

  private control(msg: Fields, at: FrameReader): ParseResult {
    if (msg.ret_msg === 'pong' || msg.op === 'pong') return { events: [], control: 'pong' };
    if (msg.op === 'subscribe' || msg.op === 'unsubscribe') {
      return msg.success === false
        ? { events: [], control: 'error', detail: `${String(msg.op)} failed: ${String(msg.ret_msg)}` }
        : { events: [], control: 'ack' };
    }
    if ('success' in msg || 'op' in msg) return { events: [], control: 'ignored' };
    return at.fail('unknown frame');
  }

  /** Every event carries the merged state: a delta omits unchanged fields, the event does not. */
  private toEvent(state: TopicState, eventTs: number, receiveTs: number): MarketEvent {
    const v = state.values;
    const ev = marketEvent('bybit', state.symbol, state.instrument, eventTs, receiveTs);
    set(ev, 'markPrice', v.markPrice);
    set(ev, 'lastPrice', v.lastPrice);
    set(ev, 'indexPrice', v.indexPrice);
    const [oiPair, oiValuePair] = OI_PAIRS;
    set(ev, 'oiBase', oneSide(state, oiPair));
    set(ev, 'oiUsd', oneSide(state, oiValuePair));
    set(ev, 'fundingRate', v.fundingRate);
    set(
      ev,
      'fundingIntervalHours',
      v.fundingIntervalHour ?? this.fundingIntervalHours?.get(state.instrument),
    );
    set(ev, 'nextFundingTs', positiveTime(v.nextFundingTime));
    // `fundingCap` bounds the rate both ways (perpetuals only; "" on dated futures). Without it, the
    // listing's `upperFundingRate`/`lowerFundingRate` stand in.
    const listed = this.listedBounds.get(state.instrument);
    set(ev, 'fundingRateCap', v.fundingCap ?? listed?.cap);
    set(ev, 'fundingRateFloor', v.fundingCap !== undefined ? -v.fundingCap : listed?.floor);
    set(ev, 'turnover24hUsd', v.turnover24h);
    return ev;
  }
}

/** Both topics of an instrument, side by side, so one message (un)subscribes them together. */
function topicsOf(instruments: readonly string[]): string[] {
  return instruments.flatMap((s) => [`tickers.${s}`, `${BYBIT_LIQUIDATION_TOPIC}${s}`]);
}

function topicMessages(op: 'subscribe' | 'unsubscribe', instruments: readonly string[]): string[] {
  const topics = topicsOf(instruments);
  const messages: string[] = [];
  for (let i = 0; i < topics.length; i += BYBIT_ARGS_PER_MESSAGE) {
    const args = topics.slice(i, i + BYBIT_ARGS_PER_MESSAGE);
    messages.push(JSON.stringify({ req_id: `${op}-${i / BYBIT_ARGS_PER_MESSAGE}`, op, args }));
  }
  return messages;
}

export function createBybitAdapter(opts: BybitAdapterOptions = {}): VenueAdapter {
  return {
    venue: 'bybit',
    wsUrl: opts.wsUrl ?? BYBIT_WS_URL,
    heartbeat: { message: JSON.stringify({ req_id: 'ping', op: 'ping' }), intervalMs: 20_000 },
    // Args per connection are capped at 21,000 characters: see BYBIT_MAX_INSTRUMENTS_PER_CONNECTION.
    maxInstrumentsPerConnection: BYBIT_MAX_INSTRUMENTS_PER_CONNECTION,
    subscribeMessages: (instruments) => topicMessages('subscribe', instruments),
    unsubscribeMessages: (instruments) => topicMessages('unsubscribe', instruments),
    createParser: () => {
      const intervals = new Map(opts.fundingIntervalHours);
      const bounds = new Map<string, RateBounds>();
      for (const e of opts.universe?.() ?? []) {
        if (e.fundingIntervalHours && !intervals.has(e.instrument))
          intervals.set(e.instrument, e.fundingIntervalHours);
        if (e.fundingRateCap !== undefined || e.fundingRateFloor !== undefined)
          bounds.set(e.instrument, { cap: e.fundingRateCap, floor: e.fundingRateFloor });
      }
      return new BybitParser(intervals, bounds);
    },
  };
}
