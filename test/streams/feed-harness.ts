import { pino } from 'pino';
import { vi } from 'vitest';
import type { FeedEvent, MarketEvent } from '../../src/domain/types.js';
import type { VenueAdapter } from '../../src/streams/core/adapter.js';
import { type ConnectionOptions, FeedConnection } from '../../src/streams/core/connection.js';
import type { Closable } from '../support/track.js';

/** Shared by the connection, lifecycle and per-venue feed tests. */
export const silentLogger = pino({ level: 'silent' });

/** Reconnects within tens of ms, so a lifecycle test does not wait for production backoff. */
export const FAST_BACKOFF = { initialMs: 20, maxMs: 100, jitter: 0.5 };

export const market = (events: readonly FeedEvent[]) =>
  events.filter((e): e is MarketEvent => e.type === 'market');

export const statuses = (events: readonly FeedEvent[], kind: string) =>
  events.filter((e) => e.type === 'status' && e.kind === kind);

export const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/** Waits until `assert` stops throwing (an `expect`), polling every 10 ms; default 5 s. */
export function waitUntil<T>(assert: () => T, timeoutMs = 5000): Promise<T> {
  return vi.waitFor(assert, { timeout: timeoutMs, interval: 10 });
}

export interface OpenFeedOptions {
  readonly adapter: VenueAdapter;
  readonly instruments: () => readonly string[];
  readonly staleAfterMs?: number;
  /** Overrides the adapter's heartbeat interval (its message stays). */
  readonly heartbeatMs?: number;
  readonly maxPayloadBytes?: number;
  readonly gapAfterMs?: number;
}

/**
 * Starts a `FeedConnection` with fast backoff and a silent logger; `track` closes it after the
 * test. `events` receives every event in order.
 */
export function openFeed(
  track: <T extends Closable>(resource: T) => T,
  o: OpenFeedOptions,
): { conn: FeedConnection; events: FeedEvent[] } {
  const events: FeedEvent[] = [];
  const base = o.adapter;
  const adapter: VenueAdapter = {
    ...base,
    ...(o.heartbeatMs && base.heartbeat
      ? { heartbeat: { message: base.heartbeat.message, intervalMs: o.heartbeatMs } }
      : {}),
    ...(o.maxPayloadBytes ? { maxPayloadBytes: o.maxPayloadBytes } : {}),
  };
  const opts: ConnectionOptions = {
    adapter,
    instruments: o.instruments,
    staleAfterMs: o.staleAfterMs ?? 5000,
    backoff: FAST_BACKOFF,
    logger: silentLogger,
    onEvent: (ev) => events.push(ev),
    ...(o.gapAfterMs !== undefined ? { gapAfterMs: o.gapAfterMs } : {}),
  };
  const conn = track(new FeedConnection(opts));
  conn.start();
  return { conn, events };
}

/** Waits until `check()` is true, polling every 10 ms (for conditions that are not an `expect`). */
export function waitFor(check: () => boolean, timeoutMs = 2000, what = 'condition'): Promise<void> {
  return vi.waitFor(
    () => {
      if (!check()) throw new Error(`timed out waiting for ${what}`);
    },
    { timeout: timeoutMs, interval: 10 },
  );
}
