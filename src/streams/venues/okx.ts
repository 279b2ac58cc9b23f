/**
 * OKX v5 public, SWAP: four channels per instrument (`open-interest`, `funding-rate`, `mark-price`,
 * `tickers`); each push carries one channel's fields only, so events carry only what the frame held
 * and the analytics merge them per instrument.
 * https://www.okx.com/docs-v5/en/#overview-websocket (connection rules, ping/pong, notice 64008)
 * https://www.okx.com/docs-v5/en/#public-data-websocket-open-interest-channel
 * https://www.okx.com/docs-v5/en/#public-data-websocket-funding-rate-channel
 * https://www.okx.com/docs-v5/en/#public-data-websocket-mark-price-channel
 * https://www.okx.com/docs-v5/en/#order-book-trading-market-data-ws-tickers-channel
 * Every number is a decimal string and `""` means no value.
 */
import type { MarketEvent } from '../../domain/types.js';
import type { FrameParser, ParseResult, VenueAdapter } from '../core/adapter.js';
import { type Fields, FrameReader, isRecord, marketEvent, setDefined as set } from '../core/fields.js';
import type { UniverseEntry } from '../core/universe.js';

export const OKX_WS_URL = 'wss://ws.okx.com:8443/ws/v5/public';
export const OKX_REST_URL = 'https://www.okx.com';

/** The public channels subscribed for every instrument, in subscription order. */
export const OKX_CHANNELS = ['open-interest', 'funding-rate', 'mark-price', 'tickers'] as const;
export type OkxChannel = (typeof OKX_CHANNELS)[number];

/**
 * Args of all subscribe messages of one connection may total at most 64 KB, and each
 * subscribe/unsubscribe message counts against 480 requests per hour per connection. One arg is
 * about 55 bytes, so 200 args (50 instruments × 4 channels) make a message of about 11 KB: few
 * messages, each far under the limit.
 */
const ARGS_PER_MESSAGE = 200;
/** Hard cap on one message's size, in case instrument ids get long. */
const MAX_MESSAGE_BYTES = 16 * 1024;
const HOUR_MS = 3_600_000;

export interface OkxAdapterOptions {
  readonly wsUrl?: string;
  /** The followed listing; its `symbol` names an instrument's events (else the instId's base). */
  readonly universe?: () => readonly UniverseEntry[];
}

interface OkxArg {
  readonly channel: OkxChannel;
  readonly instId: string;
}

/** The linear USDT swap of a base asset: `BTC` → `BTC-USDT-SWAP`. */
export function okxInstrument(symbol: string): string {
  return `${symbol}-USDT-SWAP`;
}

/** The base asset of an OKX instrument id: `BTC-USDT-SWAP` → `BTC`. */
export function okxBase(instId: string): string {
  return (instId.split('-')[0] ?? instId).toUpperCase();
}

class OkxParser implements FrameParser {
  private entries: readonly UniverseEntry[] | undefined;
  private symbols = new Map<string, string>();

  constructor(private readonly universe: (() => readonly UniverseEntry[]) | undefined) {}

  reset(): void {}

  parse(frame: string, receiveTs: number): ParseResult {
    // The heartbeat reply is the bare text `pong`, not JSON.
    if (frame === 'pong') return { events: [], control: 'pong' };
    const at = new FrameReader('okx', frame);
    const msg = at.json();
    if (!isRecord(msg)) return at.fail('not an object');
    if (typeof msg.event === 'string') return this.control(msg);
    const arg = msg.arg;
    if (!isRecord(arg) || typeof arg.channel !== 'string') return at.fail('unknown frame');
    if (!(OKX_CHANNELS as readonly string[]).includes(arg.channel))
      return { events: [], control: 'ignored', detail: arg.channel };
    const channel = arg.channel as OkxChannel;
    if (!Array.isArray(msg.data)) return at.fail('data is not an array', 'data');
    const events: MarketEvent[] = [];
    for (const el of msg.data) {
      if (!isRecord(el)) return at.fail('data element is not an object', 'data');
      // Since 2026-03 funding-rate may also carry X-Perps (`FUTURES`); follow swaps only.
      if (el.instType !== undefined && el.instType !== 'SWAP') continue;
      const instId = typeof el.instId === 'string' ? el.instId : arg.instId;
      if (typeof instId !== 'string' || instId === '') return at.fail('no instId', 'instId');
      const ev = this.toEvent(channel, instId, el, receiveTs, at);
      if (ev) events.push(ev);
    }
    return events.length > 0
      ? { events }
      : { events: [], control: 'ignored', detail: `no values on ${channel}` };
  }

  private control(msg: Fields): ParseResult {
    const code = msg.code === undefined ? '' : String(msg.code);
    const text = typeof msg.msg === 'string' ? msg.msg : '';
    switch (msg.event) {
      case 'subscribe':
      case 'unsubscribe':
        return { events: [], control: 'ack' };
      case 'error':
        return { events: [], control: 'error', detail: `${code} ${text}`.trim() };
      case 'notice':
        // 64008: "The connection will soon be closed for a service upgrade" (60 s ahead).
        return code === '64008'
          ? { events: [], control: 'reconnect', detail: `${code} ${text}`.trim() }
          : { events: [], control: 'ignored', detail: `notice ${code} ${text}`.trim() };
      default:
        return { events: [], control: 'ignored', detail: String(msg.event) };
    }
  }

  private symbolOf(instId: string): string {
    const entries = this.universe?.();
    if (entries && entries !== this.entries) {
      this.entries = entries;
      this.symbols = new Map(entries.map((e) => [e.instrument, e.symbol]));
    }
    return this.symbols.get(instId) ?? okxBase(instId);
  }

  private toEvent(
    channel: OkxChannel,
    instId: string,
    el: Fields,
    receiveTs: number,
    at: FrameReader,
  ): MarketEvent | null {
    const eventTs = at.time(el, 'ts') ?? receiveTs;
    const ev = marketEvent('okx', this.symbolOf(instId), instId, eventTs, receiveTs);
    const before = Object.keys(ev).length;
    switch (channel) {
      case 'open-interest':
        // `oi` is in contracts; `oiCcy` is base coin (one side), `oiUsd` is USD.
        set(ev, 'oiBase', at.num(el, 'oiCcy'));
        set(ev, 'oiUsd', at.num(el, 'oiUsd'));
        break;
      case 'funding-rate': {
        // `fundingTime` is the upcoming settlement (the rate applies there), `nextFundingTime` the
        // one after; their difference is the interval. `nextFundingRate` is "" under current_period.
        set(ev, 'fundingRate', at.num(el, 'fundingRate'));
        const fundingTs = at.time(el, 'fundingTime');
        set(ev, 'nextFundingTs', fundingTs);
        const afterTs = at.num(el, 'nextFundingTime');
        if (fundingTs !== undefined && afterTs !== undefined && afterTs > fundingTs)
          ev.fundingIntervalHours = (afterTs - fundingTs) / HOUR_MS;
        // The rate's bounds for this instrument, per interval like `fundingRate`.
        set(ev, 'fundingRateCap', at.num(el, 'maxFundingRate'));
        set(ev, 'fundingRateFloor', at.num(el, 'minFundingRate'));
        break;
      }
      case 'mark-price':
        set(ev, 'markPrice', at.num(el, 'markPx'));
        break;
      case 'tickers': {
        const last = at.num(el, 'last');
        set(ev, 'lastPrice', last);
        // For swaps `volCcy24h` is BASE volume (`vol24h` is contracts): turnover = base × last.
        const volBase = at.num(el, 'volCcy24h');
        if (volBase !== undefined && last !== undefined) ev.turnover24hUsd = volBase * last;
        break;
      }
    }
    return Object.keys(ev).length > before ? ev : null;
  }
}

function argsOf(instruments: readonly string[]): OkxArg[] {
  return instruments.flatMap((instId) => OKX_CHANNELS.map((channel) => ({ channel, instId })));
}

/** Batches args into as few messages as the size budget allows (each counts against 480/h). */
function opMessages(op: 'subscribe' | 'unsubscribe', instruments: readonly string[]): string[] {
  const messages: string[] = [];
  let batch: OkxArg[] = [];
  let bytes = 0;
  const flush = () => {
    if (batch.length === 0) return;
    const id = `${op === 'subscribe' ? 'sub' : 'unsub'}${messages.length}`;
    messages.push(JSON.stringify({ id, op, args: batch }));
    batch = [];
    bytes = 0;
  };
  for (const arg of argsOf(instruments)) {
    const size = JSON.stringify(arg).length + 1;
    if (batch.length >= ARGS_PER_MESSAGE || bytes + size > MAX_MESSAGE_BYTES) flush();
    batch.push(arg);
    bytes += size;
  }
  flush();
  return messages;
}

export function createOkxAdapter(opts: OkxAdapterOptions = {}): VenueAdapter {
  return {
    venue: 'okx',
    wsUrl: opts.wsUrl ?? OKX_WS_URL,
    // Text `ping` under every 30 s; the server cuts an idle connection after 30 s (close 4004).
    heartbeat: { message: 'ping', intervalMs: 20_000 },
    // OKX documents no channel cap for public connections, only 64 KB of args and 480
    // subscribe requests per hour. 100 instruments = 400 channel subscriptions (~22 KB of args)
    // keeps each connection's push rate (mark 5/s, tickers up to 10/s per instrument) moderate and
    // a drop's blast radius small.
    maxInstrumentsPerConnection: 100,
    // A push holds one instrument of one channel (under 1 KB); 1 MiB is ample headroom.
    maxPayloadBytes: 1024 * 1024,
    subscribeMessages: (instruments) => opMessages('subscribe', instruments),
    unsubscribeMessages: (instruments) => opMessages('unsubscribe', instruments),
    createParser: () => new OkxParser(opts.universe),
  };
}
