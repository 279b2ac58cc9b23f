/**
 * Open-interest history from the venues' REST APIs, for a warm start: with the last 24 h of OI
 * fetched at start-up, the 15 m and 24 h windows have a baseline at once instead of after a day.
 * `oiHistoryFetcher` picks a venue's fetcher (the registry's `oiHistory`, `venues/<venue>-history.ts`); `runBackfill` runs it
 * over a universe under a request budget, skipping (and logging) instruments that fail.
 */
import type { Logger } from 'pino';
import type { VenueId } from '../domain/types.js';
import {
  type OiHistoryFetcher,
  type OiHistoryHooks,
  type OiHistoryPoint,
  RequestPacer,
} from './core/history.js';
import { VENUES } from './venues/registry.js';

export {
  choosePeriod,
  OiHistoryError,
  type OiHistoryErrorCode,
  type OiHistoryFetcher,
  type OiHistoryHooks,
  type OiHistoryPoint,
} from './core/history.js';

/**
 * Requests per second each venue's backfill may make (the registry's `oiHistory`; 0 where the venue
 * has no history).
 */
export const BACKFILL_REQUESTS_PER_SEC: Readonly<Record<VenueId, number>> = Object.fromEntries(
  Object.values(VENUES).map((m) => [m.id, m.oiHistory?.maxRequestsPerSec ?? 0]),
) as Record<VenueId, number>;

/** Instruments fetched at the same time; the budget, not this, sets the pace. */
export const BACKFILL_CONCURRENCY = 4;

/**
 * The venue's OI history fetcher against `restBaseUrl` (the venue's REST base, as in config
 * `endpoints`), or null when the venue has no history endpoint (Hyperliquid exposes current OI only).
 */
export function oiHistoryFetcher(
  venue: VenueId,
  restBaseUrl: string,
  fetchImpl: typeof fetch = fetch,
): OiHistoryFetcher | null {
  const history = VENUES[venue].oiHistory;
  return history ? history.createFetcher(restBaseUrl.replace(/\/+$/, ''), fetchImpl) : null;
}

export interface BackfillOptions {
  readonly venue: VenueId;
  readonly instruments: readonly string[];
  readonly fetcher: OiHistoryFetcher;
  /** Epoch ms, inclusive. */
  readonly fromTs: number;
  readonly toTs: number;
  /** HTTP requests started per second, across all instruments (see `BACKFILL_REQUESTS_PER_SEC`). */
  readonly maxRequestsPerSec: number;
  readonly logger: Logger;
  readonly signal?: AbortSignal;
  /** Instruments fetched at once; default `BACKFILL_CONCURRENCY`. */
  readonly concurrency?: number;
  /** Called once per instrument fetched, oldest point first; not called after an abort. */
  onPoints(instrument: string, points: OiHistoryPoint[]): void;
}

export interface BackfillResult {
  /** Instruments whose history was fetched and handed to `onPoints` (possibly empty). */
  readonly instruments: number;
  readonly points: number;
  /** Instruments skipped because their fetch (or `onPoints`) failed. */
  readonly failed: number;
  /** Rows the fetchers could not read and skipped. */
  readonly skippedRows: number;
  /** The signal aborted before every instrument was done. */
  readonly aborted: boolean;
}

/**
 * Fetches every instrument's history under a request budget: every HTTP request the fetcher
 * makes waits for a slot of the budget (a fetcher that does not report its requests is charged
 * one per call). A failing instrument is logged and skipped; this never rejects (except with a
 * RangeError for a budget ≤ 0, a caller bug). On abort it stops starting requests, cancels those in
 * flight, and resolves with the counts so far.
 */
export async function runBackfill(opts: BackfillOptions): Promise<BackfillResult> {
  const { signal, instruments } = opts;
  const log = opts.logger.child({ venue: opts.venue, component: 'backfill' });
  const pacer = new RequestPacer(opts.maxRequestsPerSec);
  const counts = { instruments: 0, points: 0, failed: 0, skippedRows: 0 };
  let next = 0;

  const one = async (instrument: string): Promise<void> => {
    // The call's first request is paid up front; the fetcher's own `beforeRequest` pays the rest.
    await pacer.acquire(signal);
    let prepaid = true;
    const hooks: OiHistoryHooks = {
      beforeRequest: (s) => {
        if (prepaid) {
          prepaid = false;
          return Promise.resolve();
        }
        return pacer.acquire(s ?? signal);
      },
      onSkipped: (detail) => {
        counts.skippedRows++;
        log.debug({ instrument, detail }, 'backfill: unreadable history row skipped');
      },
    };
    const points = await opts.fetcher(instrument, opts.fromTs, opts.toTs, signal, hooks);
    if (signal?.aborted) return;
    opts.onPoints(instrument, points);
    counts.instruments++;
    counts.points += points.length;
  };

  const worker = async (): Promise<void> => {
    while (!signal?.aborted && next < instruments.length) {
      const instrument = instruments[next++]!;
      try {
        await one(instrument);
      } catch (err) {
        if (signal?.aborted) return;
        counts.failed++;
        log.warn({ err, instrument }, 'backfill: OI history failed; instrument skipped');
      }
    }
  };

  const workers = Math.max(1, Math.min(opts.concurrency ?? BACKFILL_CONCURRENCY, instruments.length));
  await Promise.all(Array.from({ length: workers }, worker));
  const settled = counts.instruments + counts.failed;
  const result = { ...counts, aborted: signal?.aborted === true && settled < instruments.length };
  log.info(result, 'backfill: done');
  return result;
}
