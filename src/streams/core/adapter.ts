import type { MarketEvent, VenueId } from '../../domain/types.js';

/** What a parser made of one frame. Control frames (acks, pongs) carry no events. */
export interface ParseResult {
  readonly events: readonly MarketEvent[];
  /** `pong`/`ack` count as liveness; `error` is a venue-reported failure (e.g. a rejected subscribe). */
  readonly control?: 'pong' | 'ack' | 'error' | 'ignored';
  readonly detail?: string;
}

/** Thrown by a parser for a frame it cannot read. The frame is counted and skipped. */
export class FrameError extends Error {
  readonly code = 'E_FRAME';
  constructor(
    message: string,
    readonly frame: string,
  ) {
    super(message);
    this.name = 'FrameError';
  }
}

/** Parses frames of one connection; keeps per-connection state (e.g. Bybit snapshot + deltas). */
export interface FrameParser {
  parse(frame: string, receiveTs: number): ParseResult;
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
  /** Application-level heartbeat, or null when the venue pings us (ws answers ping frames). */
  readonly heartbeat: { readonly message: string; readonly intervalMs: number } | null;
  createParser(): FrameParser;
}
