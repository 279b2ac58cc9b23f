/**
 * Hyperliquid perps: `activeAssetCtx` carries mark, oracle, mid, funding, open interest and 24h
 * notional volume for one coin, about once a second. One subscription per message.
 * https://hyperliquid.gitbook.io/hyperliquid-docs/for-developers/api/websocket/subscriptions
 * https://hyperliquid.gitbook.io/hyperliquid-docs/for-developers/api/websocket/timeouts-and-heartbeats
 * The docs type every value as a number; on the wire they are strings (venues.md §6.20).
 * The frame has no timestamp, so the event time is the receive time (or what `eventClock` makes
 * of it: the demo runs the simulated market faster than the wall clock).
 */
import { canonicalSymbol } from '../../domain/symbols.js';
import type { MarketEvent } from '../../domain/types.js';
import { FrameError, type FrameParser, type ParseResult, type VenueAdapter } from '../core/adapter.js';
import type { UniverseEntry } from '../core/universe.js';

export const HYPERLIQUID_WS_URL = 'wss://api.hyperliquid.xyz/ws';
export const HYPERLIQUID_REST_URL = 'https://api.hyperliquid.xyz';

/** The server may send this non-JSON text on connect; the official Python SDK skips it. */
export const HYPERLIQUID_GREETING = 'Websocket connection established.';

const HOUR_MS = 3_600_000;

/**
 * "Funding on Hyperliquid is capped at 4%/hour"; "The funding cap and funding interval do not
 * depend on the asset" [HL-DOCS trading/funding.md]. The interval is one hour, so per interval
 * the rate lies within ±0.04.
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

type Ctx = Record<string, unknown>;

/** A decimal string (or a number, as the docs type it); null, absent and `""` mean no value. */
function num(ctx: Ctx, key: string, frame: string): number | undefined {
  const raw = ctx[key];
  if (raw === undefined || raw === null || raw === '') return undefined;
  const value = typeof raw === 'string' || typeof raw === 'number' ? Number(raw) : Number.NaN;
  if (!Number.isFinite(value))
    throw new FrameError(`field ${key} is not a number: ${JSON.stringify(raw)}`, frame);
  return value;
}

function isObject(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

class HyperliquidParser implements FrameParser {
  constructor(private readonly eventClock: (receiveTs: number) => number) {}

  reset(): void {
    // Stateless: every activeAssetCtx frame carries the coin's full context.
  }

  parse(frame: string, receiveTs: number): ParseResult {
    if (frame === HYPERLIQUID_GREETING) return { events: [], control: 'ignored', detail: 'greeting' };
    let msg: unknown;
    try {
      msg = JSON.parse(frame);
    } catch {
      throw new FrameError('not JSON', frame);
    }
    if (!isObject(msg)) throw new FrameError('not an object', frame);
    const channel = msg.channel;
    if (typeof channel !== 'string') throw new FrameError('no channel', frame);
    switch (channel) {
      case 'activeAssetCtx':
        return this.assetCtx(msg.data, this.eventClock(receiveTs), receiveTs, frame);
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

  private assetCtx(data: unknown, eventTs: number, receiveTs: number, frame: string): ParseResult {
    if (!isObject(data) || typeof data.coin !== 'string' || !isObject(data.ctx))
      throw new FrameError('activeAssetCtx without coin and ctx', frame);
    const coin = data.coin;
    if (coin.includes(':')) return { events: [], control: 'ignored', detail: `HIP-3 coin ${coin}` };
    const symbol = hyperliquidSymbol(coin);
    if (symbol === null) throw new FrameError(`not a perp coin: ${coin}`, frame);
    const ctx = data.ctx;
    const ev: { -readonly [K in keyof MarketEvent]: MarketEvent[K] } = {
      type: 'market',
      venue: 'hyperliquid',
      symbol,
      instrument: coin,
      eventTs,
      receiveTs,
    };
    const mark = num(ctx, 'markPx', frame);
    if (mark !== undefined) ev.markPrice = mark;
    // No last trade price in the context: the book mid is the closest, null for book-less assets.
    const mid = num(ctx, 'midPx', frame);
    if (mid !== undefined) ev.lastPrice = mid;
    const oracle = num(ctx, 'oraclePx', frame);
    if (oracle !== undefined) ev.indexPrice = oracle;
    // In coins (`kPEPE`: units of 1000 PEPE). The docs do not say whether this counts one side
    // or both (venues.md §6.26); common usage (DefiLlama: openInterest × markPx) reads it as the
    // market's OI, so we treat it as one side.
    const oi = num(ctx, 'openInterest', frame);
    if (oi !== undefined) ev.oiBase = oi;
    // `funding` is the hourly rate, paid every full UTC hour for every asset [HL-DOCS funding.md].
    const rate = num(ctx, 'funding', frame);
    if (rate !== undefined) {
      ev.fundingRate = rate;
      ev.fundingIntervalHours = 1;
      ev.nextFundingTs = nextHourTs(eventTs);
      ev.fundingRateCap = HYPERLIQUID_FUNDING_RATE_CAP;
      ev.fundingRateFloor = HYPERLIQUID_FUNDING_RATE_FLOOR;
    }
    const turnover = num(ctx, 'dayNtlVlm', frame);
    if (turnover !== undefined) ev.turnover24hUsd = turnover;
    return { events: [ev] };
  }
}

function describeAck(data: unknown): string | undefined {
  if (!isObject(data) || !isObject(data.subscription)) return undefined;
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
    // Limits are per IP, not per connection [HL-DOCS rate-limits-and-user-limits.md]: 1000
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
