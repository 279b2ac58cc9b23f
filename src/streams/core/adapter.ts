import type { MarketEvent, VenueId } from '../../domain/types.js';

/** What a parser made of one frame. Control frames (acks, pongs) carry no events. */
export interface ParseResult {
  readonly events: readonly MarketEvent[];
  /**
   * `pong`/`ack`: control traffic; `error`: a venue-reported failure (e.g. a rejected subscribe);
   * `reconnect`: the venue announced it will close this connection (OKX 64008): replace it now.
   */
  readonly control?: 'pong' | 'ack' | 'error' | 'ignored' | 'reconnect';
  readonly detail?: string;
}

/** What a `FrameError` says about the frame it rejects. */
export interface FrameErrorDetails {
  readonly venue: VenueId;
  /** Why the frame was rejected, e.g. `not JSON`, `field p is not a number: "x"`. */
  readonly reason: string;
  /** The field that could not be read, when one field is the reason. */
  readonly field?: string;
  /** The whole frame; only a bounded excerpt of it is kept. */
  readonly frame: string;
}

/** At most this many characters of a rejected frame are kept (a frame can be megabytes). */
export const FRAME_EXCERPT_CHARS = 200;

/**
 * Thrown by a parser for a frame it cannot read. The frame is counted and skipped; `parseFrame`
 * turns it into the `parse_error` detail (reason and excerpt) that the throttled log shows.
 */
export class FrameError extends Error {
  readonly code = 'E_FRAME';
  readonly venue: VenueId;
  readonly reason: string;
  readonly field: string | undefined;
  /** The frame's first `FRAME_EXCERPT_CHARS` characters, with the full length when cut. */
  readonly excerpt: string;

  constructor(details: FrameErrorDetails) {
    super(details.reason);
    this.name = 'FrameError';
    this.venue = details.venue;
    this.reason = details.reason;
    this.field = details.field;
    const { frame } = details;
    this.excerpt =
      frame.length > FRAME_EXCERPT_CHARS
        ? `${frame.slice(0, FRAME_EXCERPT_CHARS)}… (${frame.length} chars)`
        : frame;
  }
}

/** Parses frames of one connection; keeps per-connection state (e.g. Bybit snapshot + deltas). */
export interface FrameParser {
  /** `source` is set for a REST response body (the endpoint path), absent for a WebSocket frame. */
  parse(frame: string, receiveTs: number, source?: string): ParseResult;
  /** Forgets per-connection state; called on every reconnect. */
  reset(): void;
}

/**
 * A venue adapter is data plus a parser: it never owns sockets or timers.
 * The shared connection core (`connection.ts`) does connect, heartbeat, staleness,
 * reconnect and resubscribe for every venue.
 */
export interface VenueAdapter {
  readonly venue: VenueId;
  readonly wsUrl: string;
  /** Messages that subscribe to the given venue instrument ids (sent on every connect). */
  subscribeMessages(instruments: readonly string[]): string[];
  /** Messages that end those subscriptions (a delisting picked up while connected). */
  unsubscribeMessages(instruments: readonly string[]): string[];
  /** Application-level heartbeat, or null when the venue pings us (ws answers ping frames). */
  readonly heartbeat: { readonly message: string; readonly intervalMs: number } | null;
  /** How many instruments one connection may carry within the venue's documented limits. */
  readonly maxInstrumentsPerConnection: number;
  /** Reconnect proactively before the venue's hard cut (Binance: 24 h). */
  readonly maxConnectionAgeMs?: number;
  /** Largest frame accepted; bigger ones are counted and the connection replaced. */
  readonly maxPayloadBytes?: number;
  createParser(): FrameParser;
}

/** One REST request of a venue's polling plan. */
export interface RestRequest {
  /** Path and query, appended to the venue's REST base URL; also the recording's `source`. */
  readonly path: string;
  readonly method?: 'GET' | 'POST';
  /** JSON body for POST. */
  readonly body?: string;
  /** The venue's request weight for this call. */
  readonly weight: number;
  /** The instrument whose data this request refreshes, if one: its silence is reported as a gap. */
  readonly instrument?: string;
}

/**
 * Data a venue only offers over REST (Binance open interest and funding intervals): requests
 * polled in cycles within a weight budget; each response body goes through the adapter's parser
 * with `source` = the request path, and is recorded with the same `source`.
 */
export interface RestPollPlan {
  readonly venue: VenueId;
  readonly restUrl: string;
  /** Requests of one cycle; called at the start of every cycle, so it follows the universe. */
  requests(): readonly RestRequest[];
  /** Time between the starts of two cycles. */
  readonly cycleMs: number;
  /** Our own weight budget per rolling minute (kept well under the venue's limit). */
  readonly weightPerMinute: number;
  /** Response header carrying the venue's count of weight used this minute, if any. */
  readonly usedWeightHeader?: string;
  /** The venue's weight limit per minute, against which `usedWeightHeader` is read. */
  readonly venueWeightLimitPerMinute?: number;
  /**
   * The clock the cycles, budget and receive times run on; default the wall clock. `--demo` polls
   * its simulators on their accelerated event clock, so OI is as fresh in event time as live.
   */
  readonly clock?: RestPollClock;
}

/** A clock that may run faster than the timers: `now()` advances `timeScale` ms per wall ms. */
export interface RestPollClock {
  now(): number;
  readonly timeScale: number;
}
