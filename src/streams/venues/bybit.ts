/**
 * Bybit v5 public linear: `tickers.{symbol}` carries mark, funding and open interest.
 * https://bybit-exchange.github.io/docs/v5/websocket/public/ticker
 * A `snapshot` replaces the per-symbol state; a `delta` carries only changed keys and must be
 * merged into it; `""` means no value. `openInterest` counts both sides: use `singleOpenInterest`.
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
  /** The followed instruments; their listed funding intervals fill in for frames before 2025-10. */
  readonly universe?: () => readonly UniverseEntry[];
}

type TickerFields = Record<string, string>;

interface TopicState {
  fields: TickerFields;
  cs: number;
}

export function bybitInstrument(symbol: string): string {
  return `${symbol}USDT`;
}

function num(fields: TickerFields, key: string, frame: string): number | undefined {
  const raw = fields[key];
  if (raw === undefined || raw === '') return undefined;
  const value = Number(raw);
  if (!Number.isFinite(value))
    throw new FrameError(`field ${key} is not a number: ${JSON.stringify(raw)}`, frame);
  return value;
}

class BybitParser implements FrameParser {
  private readonly topics = new Map<string, TopicState>();

  constructor(private readonly fundingIntervalHours: ReadonlyMap<string, number> | undefined) {}

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
      state = { fields: { ...fields }, cs };
      this.topics.set(topic, state);
    } else if (msg.type === 'delta') {
      // A delta before its snapshot cannot be merged: wait for the snapshot that follows a subscribe.
      if (!state) return { events: [], control: 'ignored', detail: `delta before snapshot on ${topic}` };
      if (cs !== 0 && cs <= state.cs)
        return { events: [], control: 'ignored', detail: `stale cs on ${topic}` };
      for (const key in fields) {
        const value = fields[key];
        if (typeof value === 'string') state.fields[key] = value;
      }
      if (cs !== 0) state.cs = cs;
    } else {
      throw new FrameError(`unknown type ${String(msg.type)}`, frame);
    }
    const eventTs = typeof msg.ts === 'number' && msg.ts > 0 ? msg.ts : receiveTs;
    return {
      events: [this.toEvent(topic.slice('tickers.'.length), state.fields, eventTs, receiveTs, frame)],
    };
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

  private toEvent(
    instrument: string,
    f: TickerFields,
    eventTs: number,
    receiveTs: number,
    frame: string,
  ): MarketEvent {
    const single = num(f, 'singleOpenInterest', frame);
    const both = num(f, 'openInterest', frame);
    const singleUsd = num(f, 'singleOpenInterestValue', frame);
    const bothUsd = num(f, 'openInterestValue', frame);
    const intervalHours = num(f, 'fundingIntervalHour', frame) ?? this.fundingIntervalHours?.get(instrument);
    const ev: {
      -readonly [K in keyof MarketEvent]: MarketEvent[K];
    } = {
      type: 'market',
      venue: 'bybit',
      symbol: canonicalSymbol(instrument) ?? instrument,
      instrument,
      eventTs,
      receiveTs,
    };
    const mark = num(f, 'markPrice', frame);
    if (mark !== undefined) ev.markPrice = mark;
    const last = num(f, 'lastPrice', frame);
    if (last !== undefined) ev.lastPrice = last;
    const index = num(f, 'indexPrice', frame);
    if (index !== undefined) ev.indexPrice = index;
    const oiBase = single ?? (both !== undefined ? both / 2 : undefined);
    if (oiBase !== undefined) ev.oiBase = oiBase;
    const oiUsd = singleUsd ?? (bothUsd !== undefined ? bothUsd / 2 : undefined);
    if (oiUsd !== undefined) ev.oiUsd = oiUsd;
    const rate = num(f, 'fundingRate', frame);
    if (rate !== undefined) ev.fundingRate = rate;
    if (intervalHours !== undefined) ev.fundingIntervalHours = intervalHours;
    const next = num(f, 'nextFundingTime', frame);
    if (next !== undefined && next > 0) ev.nextFundingTs = next;
    const turnover = num(f, 'turnover24h', frame);
    if (turnover !== undefined) ev.turnover24hUsd = turnover;
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
      for (const e of opts.universe?.() ?? []) {
        if (e.fundingIntervalHours && !intervals.has(e.instrument))
          intervals.set(e.instrument, e.fundingIntervalHours);
      }
      return new BybitParser(intervals);
    },
  };
}
