/**
 * Hyperliquid perps: `activeAssetCtx` carries mark, oracle, mid, funding, open interest and 24h
 * notional volume for one coin, about once a second. One subscription per message.
 * https://hyperliquid.gitbook.io/hyperliquid-docs/for-developers/api/websocket/subscriptions
 * https://hyperliquid.gitbook.io/hyperliquid-docs/for-developers/api/websocket/timeouts-and-heartbeats
 * The docs type every value as a number; on the wire they are strings (recorded frames): both read.
 * The frame has no timestamp, so the event time is the receive time (or what `eventClock` makes
 * of it: the demo runs the simulated market faster than the wall clock).
 */
import { canonicalSymbol } from '../../domain/symbols.js';
import type { FrameParser, ParseResult, VenueAdapter } from '../core/adapter.js';
import { FrameReader, isRecord, marketEvent, setDefined as set } from '../core/fields.js';
import type { UniverseEntry } from '../core/universe.js';

export const HYPERLIQUID_WS_URL = 'wss://api.hyperliquid.xyz/ws';
export const HYPERLIQUID_REST_URL = 'https://api.hyperliquid.xyz';

/** The server may send this non-JSON text on connect; the official Python SDK skips it. */
export const HYPERLIQUID_GREETING = 'Websocket connection established.';

const HOUR_MS = 3_600_000;

/**
 * "Funding on Hyperliquid is capped at 4%/hour"; "The funding cap and funding interval do not
 * depend on the asset" (https://hyperliquid.gitbook.io/hyperliquid-docs/trading/funding). The
 * interval is one hour, so per interval the rate lies within ±0.04.
 */
export const HYPERLIQUID_FUNDING_RATE_CAP = 0.04;
export const HYPERLIQUID_FUNDING_RATE_FLOOR = -0.04;

export interface HyperliquidAdapterOptions {
  readonly wsUrl?: string;
  /**
   * Accepted for uniform wiring with the other venues; not needed here: frames name the coin,
   * and the symbol follows from it by `hyperliquidSymbol`, the same rule the universe uses.
   */
  readonly universe?: () => readonly UniverseEntry[];
  /**
   * The event time of a frame received at `receiveTs` (epoch ms). Default: the receive time itself,
   * since frames carry no time. `--demo` passes its simulators' accelerated clock, so Hyperliquid's
   * snapshots are on the same event time as the venues that stamp their frames.
   */
  readonly eventClock?: (receiveTs: number) => number;
}

/**
 * The canonical symbol of a main-dex perp coin (`BTC`, `kPEPE` → `KPEPE`), or null for a coin
 * we do not follow: HIP-3 coins are dex-prefixed (`xyz:AAPL`) and spot ones are `@107` or
 * `PURR/USDC`. `kPEPE` is not merged with Binance's `1000PEPE`: its unit is 1000 PEPE, and
 * unit conversions are not the symbol's business.
 */
export function hyperliquidSymbol(coin: string): string | null {
  if (/[:@/]/.test(coin)) return null;
  return canonicalSymbol(coin);
}

/** The next full UTC hour strictly after `ts`: Hyperliquid pays funding every hour. */
export function nextHourTs(ts: number): number {
  return Math.floor(ts / HOUR_MS) * HOUR_MS + HOUR_MS;
}

class HyperliquidParser implements FrameParser {
  constructor(private readonly eventClock: (receiveTs: number) => number) {}

  reset(): void {
    // Stateless: every activeAssetCtx frame carries the coin's full context.
  }

  parse(frame: string, receiveTs: number): ParseResult {
    if (frame === HYPERLIQUID_GREETING) return { events: [], control: 'ignored', detail: 'greeting' };
    const at = new FrameReader('hyperliquid', frame);
    const msg = at.json();
    if (!isRecord(msg)) return at.fail('not an object');
    const channel = msg.channel;
    if (typeof channel !== 'string') return at.fail('no channel', 'channel');
    switch (channel) {
      case 'activeAssetCtx':
        return this.assetCtx(msg.data, this.eventClock(receiveTs), receiveTs, at);
      case 'pong':
        return { events: [], control: 'pong' };
      case 'subscriptionResponse':
        return { events: [], control: 'ack', detail: describeAck(msg.data) };
      case 'error':
        return {
          events: [],
          control: 'error',
          detail: typeof msg.data === 'string' ? msg.data : JSON.stringify(msg.data),
        };
      default:
        // Spot (`activeSpotAssetCtx`) and any channel we did not ask for: perps only.
        return { events: [], control: 'ignored', detail: channel };
    }
  }

  private assetCtx(data: unknown, eventTs: number, receiveTs: number, at: FrameReader): ParseResult {
    if (!isRecord(data) || typeof data.coin !== 'string' || !isRecord(data.ctx))
      return at.fail('activeAssetCtx without coin and ctx');
    const coin = data.coin;
    if (coin.includes(':')) return { events: [], control: 'ignored', detail: `HIP-3 coin ${coin}` };
    const symbol = hyperliquidSymbol(coin);
    if (symbol === null) return at.fail(`not a perp coin: ${coin}`, 'coin');
    const ctx = data.ctx;
    const ev = marketEvent('hyperliquid', symbol, coin, eventTs, receiveTs);
    set(ev, 'markPrice', at.num(ctx, 'markPx'));
    // No last trade price in the context: the book mid is the closest, null for book-less assets.
    set(ev, 'lastPrice', at.num(ctx, 'midPx'));
    set(ev, 'indexPrice', at.num(ctx, 'oraclePx'));
    // In coins (`kPEPE`: units of 1000 PEPE). The docs do not say whether this counts one side
    // or both; common usage (DefiLlama: openInterest × markPx) reads it as the market's OI, so we
    // treat it as one side.
    set(ev, 'oiBase', at.num(ctx, 'openInterest'));
    // `funding` is the hourly rate, paid every full UTC hour for every asset
    // (https://hyperliquid.gitbook.io/hyperliquid-docs/trading/funding).
    const rate = at.num(ctx, 'funding');
    if (rate !== undefined) {
      ev.fundingRate = rate;
      ev.fundingIntervalHours = 1;
      ev.nextFundingTs = nextHourTs(eventTs);
      ev.fundingRateCap = HYPERLIQUID_FUNDING_RATE_CAP;
      ev.fundingRateFloor = HYPERLIQUID_FUNDING_RATE_FLOOR;
    }
    set(ev, 'turnover24hUsd', at.num(ctx, 'dayNtlVlm'));
    return { events: [ev] };
  }
}

function describeAck(data: unknown): string | undefined {
  if (!isRecord(data) || !isRecord(data.subscription)) return undefined;
  return `${String(data.method)} ${String(data.subscription.type)} ${String(data.subscription.coin)}`;
}

function subscriptionMessages(method: 'subscribe' | 'unsubscribe', coins: readonly string[]): string[] {
  return coins.map((coin) => JSON.stringify({ method, subscription: { type: 'activeAssetCtx', coin } }));
}

export function createHyperliquidAdapter(opts: HyperliquidAdapterOptions = {}): VenueAdapter {
  return {
    venue: 'hyperliquid',
    wsUrl: opts.wsUrl ?? HYPERLIQUID_WS_URL,
    // The server closes a connection it has not heard from in 60 s; the official SDK pings every 50 s.
    heartbeat: { message: JSON.stringify({ method: 'ping' }), intervalMs: 50_000 },
    // Limits are per IP, not per connection (https://hyperliquid.gitbook.io/hyperliquid-docs/for-developers/api/rate-limits-and-user-limits): 1000
    // subscriptions, 10 connections (30 new ones per minute) and 2000 client messages per minute.
    // One subscription per coin, so one connection can carry the whole per-IP budget; the main dex
    // lists a few hundred perps. A full resubscribe of N coins costs N of the 2000 messages/minute.
    maxInstrumentsPerConnection: 1000,
    // An activeAssetCtx frame is under 1 KiB; anything near this is not a frame we asked for.
    maxPayloadBytes: 1024 * 1024,
    subscribeMessages: (coins) => subscriptionMessages('subscribe', coins),
    unsubscribeMessages: (coins) => subscriptionMessages('unsubscribe', coins),
    createParser: () => new HyperliquidParser(opts.eventClock ?? ((receiveTs) => receiveTs)),
  };
}
