/**
 * Bybit v5 public linear: `tickers.{symbol}` carries mark, funding and open interest.
 * https://bybit-exchange.github.io/docs/v5/websocket/public/ticker
 * A `snapshot` replaces the per-symbol state; a `delta` carries only changed keys and must be
 * merged into it; `""` means no value. `openInterest` counts both sides: use `singleOpenInterest`.
 * The docs do not say whether a delta carries the two together (frames before 2026-06-11 have
 * only `openInterest`; later ones show both, `openInterest = 2 × singleOpenInterest`), so the most
 * recently pushed of the two is the current OI: a delta with only `openInterest` updates it.
 */
import { canonicalSymbol } from '../../domain/symbols.js';
import type { MarketEvent } from '../../domain/types.js';
import { FrameError, type FrameParser, type ParseResult, type VenueAdapter } from '../core/adapter.js';
import type { UniverseEntry } from '../core/universe.js';

export const BYBIT_WS_URL = 'wss://stream.bybit.com/v5/public/linear';
export const BYBIT_REST_URL = 'https://api.bybit.com';

/** Bybit accepts many args per message, but 10 keeps each message small (as tardis-node does). */
const ARGS_PER_MESSAGE = 10;

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

type TickerFields = Record<string, string>;

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

/** A decimal string as a number; `""` is no value; anything else is a malformed frame. */
/** Records, per pair, which of its two fields this frame carried (the one-side one wins a tie). */
function noteNewest(state: TopicState, fields: TickerFields): void {
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

function num(raw: unknown, key: string, frame: string): number | undefined {
  if (raw === undefined || raw === '') return undefined;
  const value = typeof raw === 'string' ? Number(raw) : Number.NaN;
  if (!Number.isFinite(value))
    throw new FrameError(`field ${key} is not a number: ${JSON.stringify(raw)}`, frame);
  return value;
}

class BybitParser implements FrameParser {
  private readonly topics = new Map<string, TopicState>();

  constructor(
    private readonly fundingIntervalHours: ReadonlyMap<string, number> | undefined,
    private readonly listedBounds: ReadonlyMap<string, RateBounds> = new Map(),
  ) {}

  reset(): void {
    this.topics.clear();
  }

  parse(frame: string, receiveTs: number): ParseResult {
    let msg: Record<string, unknown>;
    try {
      msg = JSON.parse(frame);
    } catch {
      throw new FrameError('not JSON', frame);
    }
    if (typeof msg !== 'object' || msg === null || Array.isArray(msg))
      throw new FrameError('not an object', frame);
    const topic = msg.topic;
    if (typeof topic !== 'string') return this.control(msg, frame);
    if (!topic.startsWith('tickers.')) return { events: [], control: 'ignored', detail: topic };
    const data = msg.data;
    if (typeof data !== 'object' || data === null || Array.isArray(data))
      throw new FrameError('data is not an object', frame);
    const fields = data as TickerFields;
    const cs = typeof msg.cs === 'number' ? msg.cs : 0;
    let state = this.topics.get(topic);
    if (msg.type === 'snapshot') {
      const values: Partial<Record<NumKey, number>> = {};
      for (const key of NUM_KEYS) {
        const v = num(fields[key], key, frame);
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
        if (IS_NUM_KEY.has(key)) changes.push([key as NumKey, num(fields[key], key, frame)]);
      }
      for (const [key, v] of changes) {
        if (v === undefined) delete state.values[key];
        else state.values[key] = v;
      }
      noteNewest(state, fields);
      if (cs !== 0) state.cs = cs;
    } else {
      throw new FrameError(`unknown type ${String(msg.type)}`, frame);
    }
    const eventTs = typeof msg.ts === 'number' && msg.ts > 0 ? msg.ts : receiveTs;
    return { events: [this.toEvent(state, eventTs, receiveTs)] };
  }

  private control(msg: Record<string, unknown>, frame: string): ParseResult {
    if (msg.ret_msg === 'pong' || msg.op === 'pong') return { events: [], control: 'pong' };
    if (msg.op === 'subscribe' || msg.op === 'unsubscribe') {
      return msg.success === false
        ? { events: [], control: 'error', detail: `${String(msg.op)} failed: ${String(msg.ret_msg)}` }
        : { events: [], control: 'ack' };
    }
    if ('success' in msg || 'op' in msg) return { events: [], control: 'ignored' };
    throw new FrameError('unknown frame', frame);
  }

  /** Every event carries the merged state: a delta omits unchanged fields, the event does not. */
  private toEvent(state: TopicState, eventTs: number, receiveTs: number): MarketEvent {
    const v = state.values;
    const ev: { -readonly [K in keyof MarketEvent]: MarketEvent[K] } = {
      type: 'market',
      venue: 'bybit',
      symbol: state.symbol,
      instrument: state.instrument,
      eventTs,
      receiveTs,
    };
    if (v.markPrice !== undefined) ev.markPrice = v.markPrice;
    if (v.lastPrice !== undefined) ev.lastPrice = v.lastPrice;
    if (v.indexPrice !== undefined) ev.indexPrice = v.indexPrice;
    const [oiPair, oiValuePair] = OI_PAIRS;
    const oiBase = oneSide(state, oiPair);
    if (oiBase !== undefined) ev.oiBase = oiBase;
    const oiUsd = oneSide(state, oiValuePair);
    if (oiUsd !== undefined) ev.oiUsd = oiUsd;
    if (v.fundingRate !== undefined) ev.fundingRate = v.fundingRate;
    const intervalHours = v.fundingIntervalHour ?? this.fundingIntervalHours?.get(state.instrument);
    if (intervalHours !== undefined) ev.fundingIntervalHours = intervalHours;
    if (v.nextFundingTime !== undefined && v.nextFundingTime > 0) ev.nextFundingTs = v.nextFundingTime;
    // `fundingCap` bounds the rate both ways (perpetuals only; "" on dated futures). Without it, the
    // listing's `upperFundingRate`/`lowerFundingRate` stand in.
    const listed = this.listedBounds.get(state.instrument);
    const cap = v.fundingCap ?? listed?.cap;
    const floor = v.fundingCap !== undefined ? -v.fundingCap : listed?.floor;
    if (cap !== undefined) ev.fundingRateCap = cap;
    if (floor !== undefined) ev.fundingRateFloor = floor;
    if (v.turnover24h !== undefined) ev.turnover24hUsd = v.turnover24h;
    return ev;
  }
}

function topicMessages(op: 'subscribe' | 'unsubscribe', instruments: readonly string[]): string[] {
  const messages: string[] = [];
  for (let i = 0; i < instruments.length; i += ARGS_PER_MESSAGE) {
    const args = instruments.slice(i, i + ARGS_PER_MESSAGE).map((s) => `tickers.${s}`);
    messages.push(JSON.stringify({ req_id: `${op}-${i / ARGS_PER_MESSAGE}`, op, args }));
  }
  return messages;
}

export function createBybitAdapter(opts: BybitAdapterOptions = {}): VenueAdapter {
  return {
    venue: 'bybit',
    wsUrl: opts.wsUrl ?? BYBIT_WS_URL,
    heartbeat: { message: JSON.stringify({ req_id: 'ping', op: 'ping' }), intervalMs: 20_000 },
    // Args per connection are capped at 21,000 characters; 500 topics of ~20 characters stay well inside.
    maxInstrumentsPerConnection: 500,
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
