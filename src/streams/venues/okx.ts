/**
 * OKX v5 public, SWAP: four channels per instrument (`open-interest`, `funding-rate`, `mark-price`,
 * `tickers`); each push carries one channel's fields only, so events carry only what the frame held
 * and the analytics merge them per instrument.
 * https://www.okx.com/docs-v5/en/#overview-websocket (connection rules, ping/pong, notice 64008)
 * https://www.okx.com/docs-v5/en/#public-data-websocket-open-interest-channel
 * https://www.okx.com/docs-v5/en/#public-data-websocket-funding-rate-channel
 * https://www.okx.com/docs-v5/en/#public-data-websocket-mark-price-channel
 * https://www.okx.com/docs-v5/en/#order-book-trading-market-data-ws-tickers-channel
 * Plus `liquidation-orders` (one subscription for every swap, see okx-liquidations.ts) and the
 * long/short statistics polled over REST (okx-long-short.ts), parsed here with `source` set.
 * Every number is a decimal string and `""` means no value.
 */
import type { MarketEvent } from '../../domain/types.js';
import type { FrameParser, ParseResult, VenueAdapter } from '../core/adapter.js';
import { type Fields, FrameReader, isRecord, marketEvent, setDefined as set } from '../core/fields.js';
import type { UniverseEntry } from '../core/universe.js';
import {
  isOkxLinearUsdtSwap,
  OKX_LIQUIDATION_ARG,
  OKX_LIQUIDATION_CHANNEL,
  OKX_LIQUIDATION_MARGIN_MS,
  OkxLiquidationBook,
  type OkxLiquidationContext,
  type OkxLiquidationCounters,
  readOkxLiquidations,
} from './okx-liquidations.js';
import { parseOkxLongShortBody } from './okx-long-short.js';

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
 *
 * `liquidation-orders` is subscribed on every connection (redundancy: a dead connection loses no
 * liquidation; the parsers de-duplicate the copies). Its arg rides at the end of the first subscribe
 * message of a non-empty batch, outside the 200, so it costs no subscribe operation of its own: a
 * connection of 100 instruments sends 2 subscribe requests per (re)connect, as before (480 per hour
 * allow 240 reconnects an hour), and a universe change that adds instruments sends the arg again in
 * the same request (OKX acknowledges a repeated subscription; it is never unsubscribed).
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

/** The OKX adapter, with the counters of the liquidation details its connections received. */
export interface OkxAdapter extends VenueAdapter {
  readonly liquidations: { readonly counters: Readonly<OkxLiquidationCounters> };
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
  private byInstrument = new Map<string, UniverseEntry>();
  /** Receive time of this connection's `liquidation-orders` ack (the first since reset). */
  private liquidationAckTs: number | undefined;
  /** Venue time − receive time of the latest timestamped push: maps the ack into venue time. */
  private clockOffsetMs: number | undefined;
  /** The subscription time in venue time, less the margin; fixed once known. */
  private liquidationCutoffTs: number | undefined;

  constructor(
    private readonly universe: (() => readonly UniverseEntry[]) | undefined,
    private readonly book: OkxLiquidationBook,
  ) {}

  reset(): void {
    this.liquidationAckTs = undefined;
    this.clockOffsetMs = undefined;
    this.liquidationCutoffTs = undefined;
  }

  parse(frame: string, receiveTs: number, source?: string): ParseResult {
    if (source !== undefined) return parseOkxLongShortBody(frame, source, receiveTs, (i) => this.symbolOf(i));
    // The heartbeat reply is the bare text `pong`, not JSON.
    if (frame === 'pong') return { events: [], control: 'pong' };
    const at = new FrameReader('okx', frame);
    const msg = at.json();
    if (!isRecord(msg)) return at.fail('not an object');
    if (typeof msg.event === 'string') return this.control(msg, receiveTs);
    const arg = msg.arg;
    if (!isRecord(arg) || typeof arg.channel !== 'string') return at.fail('unknown frame');
    if (arg.channel === OKX_LIQUIDATION_CHANNEL) return this.liquidations(msg, receiveTs, at);
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

  /** A venue timestamp seen on this connection: fixes the subscription time in venue time. */
  private noteVenueTime(venueTs: number, receiveTs: number): void {
    this.clockOffsetMs = venueTs - receiveTs;
    if (this.liquidationAckTs !== undefined && this.liquidationCutoffTs === undefined)
      this.liquidationCutoffTs = this.liquidationAckTs + this.clockOffsetMs - OKX_LIQUIDATION_MARGIN_MS;
  }

  private noteLiquidationAck(receiveTs: number): void {
    if (this.liquidationAckTs !== undefined) return;
    this.liquidationAckTs = receiveTs;
    if (this.clockOffsetMs !== undefined)
      this.liquidationCutoffTs = receiveTs + this.clockOffsetMs - OKX_LIQUIDATION_MARGIN_MS;
  }

  private liquidations(msg: Fields, receiveTs: number, at: FrameReader): ParseResult {
    if (!Array.isArray(msg.data)) return at.fail('data is not an array', 'data');
    // Until a timestamped push maps the ack into venue time, the clocks are taken to agree.
    const cutoffTs =
      this.liquidationCutoffTs ??
      (this.liquidationAckTs !== undefined ? this.liquidationAckTs - OKX_LIQUIDATION_MARGIN_MS : undefined);
    const ctx: OkxLiquidationContext = {
      book: this.book,
      followed: (instId) => this.follows(instId),
      contractValue: (instId) =>
        this.entryOf(instId)?.contractValueBase ?? this.book.learnedContractValue(instId),
      cutoffTs,
    };
    const events: MarketEvent[] = [];
    for (const el of msg.data) {
      if (!isRecord(el)) return at.fail('data element is not an object', 'data');
      const instId = el.instId;
      if (typeof instId !== 'string' || instId === '') return at.fail('no instId', 'instId');
      if (el.instType !== undefined && el.instType !== 'SWAP') continue;
      const liquidations = readOkxLiquidations(el, instId, ctx, at);
      if (liquidations.length === 0) continue;
      const newestTs = Math.max(...liquidations.map((l) => l.ts));
      events.push({
        ...marketEvent('okx', this.symbolOf(instId), instId, newestTs, receiveTs),
        liquidations,
      });
    }
    return events.length > 0
      ? { events }
      : { events: [], control: 'ignored', detail: 'no liquidations kept' };
  }

  /**
   * Linear USDT swaps of the universe; without one (a replay), those whose per-instrument channels
   * this adapter has seen, i.e. the ones the recording followed.
   */
  private follows(instId: string): boolean {
    if (!isOkxLinearUsdtSwap(instId)) return false;
    return this.universe ? this.entryOf(instId) !== undefined : this.book.seenInstrument(instId);
  }

  private control(msg: Fields, receiveTs: number): ParseResult {
    const code = msg.code === undefined ? '' : String(msg.code);
    const text = typeof msg.msg === 'string' ? msg.msg : '';
    switch (msg.event) {
      case 'subscribe':
        if (isRecord(msg.arg) && msg.arg.channel === OKX_LIQUIDATION_CHANNEL)
          this.noteLiquidationAck(receiveTs);
        return { events: [], control: 'ack' };
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

  private entryOf(instId: string): UniverseEntry | undefined {
    const entries = this.universe?.();
    if (entries && entries !== this.entries) {
      this.entries = entries;
      this.byInstrument = new Map(entries.map((e) => [e.instrument, e]));
    }
    return this.byInstrument.get(instId);
  }

  private symbolOf(instId: string): string {
    return this.entryOf(instId)?.symbol ?? okxBase(instId);
  }

  private toEvent(
    channel: OkxChannel,
    instId: string,
    el: Fields,
    receiveTs: number,
    at: FrameReader,
  ): MarketEvent | null {
    const venueTs = at.time(el, 'ts');
    if (venueTs !== undefined) this.noteVenueTime(venueTs, receiveTs);
    this.book.noteInstrument(instId);
    const eventTs = venueTs ?? receiveTs;
    const ev = marketEvent('okx', this.symbolOf(instId), instId, eventTs, receiveTs);
    const before = Object.keys(ev).length;
    switch (channel) {
      case 'open-interest':
        // `oi` is in contracts; `oiCcy` is base coin (one side), `oiUsd` is USD. Their ratio is the
        // contract value that values liquidation sizes where the universe gives none (a replay).
        set(ev, 'oiBase', at.num(el, 'oiCcy'));
        this.book.learnFromOi(instId, at.num(el, 'oi'), ev.oiBase);
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

/**
 * Batches args into as few messages as the size budget allows (each counts against 480/h); a
 * subscribe also carries the `liquidation-orders` arg at the end of its first message.
 */
function opMessages(op: 'subscribe' | 'unsubscribe', instruments: readonly string[]): string[] {
  const batches: object[][] = [];
  let batch: OkxArg[] = [];
  let bytes = 0;
  const flush = () => {
    if (batch.length > 0) batches.push(batch);
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
  if (op === 'subscribe' && batches.length > 0) batches[0]!.push(OKX_LIQUIDATION_ARG);
  const prefix = op === 'subscribe' ? 'sub' : 'unsub';
  return batches.map((args, i) => JSON.stringify({ id: `${prefix}${i}`, op, args }));
}

export function createOkxAdapter(opts: OkxAdapterOptions = {}): OkxAdapter {
  // Shared by every connection's parser (and the REST poller's): one count per liquidation.
  const book = new OkxLiquidationBook();
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
    createParser: () => new OkxParser(opts.universe, book),
    liquidations: { counters: book.counters },
  };
}
