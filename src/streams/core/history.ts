/**
 * Shared parts of the REST open-interest history fetchers (warm start): the point and fetcher
 * types, a typed error, one JSON GET with timeout and abort, the period choice, and a request
 * pacer. The per-venue fetchers live in `venues/<venue>-history.ts`; `streams/history.ts` picks one.
 */

/** One historical OI observation. */
export interface OiHistoryPoint {
  /** Epoch ms at which the value held. */
  readonly ts: number;
  /** Open interest of one side, base units (as the live feed's `oiBase`). */
  readonly oiBase: number;
  /** Mark price at `ts` where the venue's history gives one, else null. */
  readonly markPrice: number | null;
}

/** What a fetcher reports back to its caller while it works. */
export interface OiHistoryHooks {
  /** Awaited before every HTTP request (a request budget); may reject when the signal aborts. */
  beforeRequest?(signal?: AbortSignal): Promise<void>;
  /** A row (or a side series such as Bybit's mark prices) was unreadable and skipped. */
  onSkipped?(detail: string): void;
}

/**
 * Fetches OI history for one instrument over [fromTs, toTs] (epoch ms), oldest first, at the
 * finest period that covers the span within the venue's limits. Throws `OiHistoryError` when the
 * venue answers with an error or an unreadable body, and the signal's reason when aborted.
 */
export type OiHistoryFetcher = (
  instrument: string,
  fromTs: number,
  toTs: number,
  signal?: AbortSignal,
  hooks?: OiHistoryHooks,
) => Promise<OiHistoryPoint[]>;

export type OiHistoryErrorCode = 'E_HISTORY_HTTP' | 'E_HISTORY_VENUE' | 'E_HISTORY_BODY';

/** A history request that failed: HTTP status, a venue error in the body, or an unreadable body. */
export class OiHistoryError extends Error {
  constructor(
    readonly code: OiHistoryErrorCode,
    message: string,
    readonly status?: number,
  ) {
    super(message);
    this.name = 'OiHistoryError';
  }
}

export interface HistoryHttp {
  readonly fetchImpl: typeof fetch;
  readonly signal: AbortSignal | undefined;
  readonly hooks: OiHistoryHooks | undefined;
}

/** Each request gives up after this long (the venue or the network is stuck). */
export const HISTORY_REQUEST_TIMEOUT_MS = 15_000;

/** GET `url` as JSON, after the caller's budget allows it. Never retries. */
export async function getHistoryJson(http: HistoryHttp, url: string): Promise<unknown> {
  http.signal?.throwIfAborted();
  await http.hooks?.beforeRequest?.(http.signal);
  http.signal?.throwIfAborted();
  const timeout = AbortSignal.timeout(HISTORY_REQUEST_TIMEOUT_MS);
  const signal = http.signal ? AbortSignal.any([http.signal, timeout]) : timeout;
  const res = await http.fetchImpl(url, { signal });
  const text = await res.text();
  if (!res.ok) {
    throw new OiHistoryError(
      'E_HISTORY_HTTP',
      `GET ${url}: HTTP ${res.status} ${text.slice(0, 200)}`,
      res.status,
    );
  }
  try {
    return JSON.parse(text);
  } catch {
    throw new OiHistoryError('E_HISTORY_BODY', `GET ${url}: body is not JSON: ${text.slice(0, 200)}`);
  }
}

/** A venue's name for a bar size, and its length. */
export interface HistoryPeriod {
  readonly name: string;
  readonly ms: number;
}

const MIN_MS = 60_000;
export const PERIOD_5M = 5 * MIN_MS;

/**
 * The finest period (list sorted finest first) whose points over `spanMs` fit in `maxPoints`;
 * the coarsest when none does.
 */
export function choosePeriod<P extends HistoryPeriod>(
  spanMs: number,
  periods: readonly P[],
  maxPoints: number,
): P {
  const fit = periods.find((p) => Math.floor(Math.max(0, spanMs) / p.ms) + 1 <= maxPoints);
  const chosen = fit ?? periods[periods.length - 1];
  if (!chosen) throw new RangeError('no periods');
  return chosen;
}

/** `usd / base` when both are positive, else null: a price only where the pair defines one. */
export function priceOf(usd: number | undefined, base: number | undefined): number | null {
  if (usd === undefined || base === undefined || !(usd > 0) || !(base > 0)) return null;
  return usd / base;
}

/** Oldest first, one point per `ts` (the last seen wins), only within [fromTs, toTs]. */
export function normalizePoints(
  points: Iterable<OiHistoryPoint>,
  fromTs: number,
  toTs: number,
): OiHistoryPoint[] {
  const byTs = new Map<number, OiHistoryPoint>();
  for (const p of points) if (p.ts >= fromTs && p.ts <= toTs) byTs.set(p.ts, p);
  return [...byTs.values()].sort((a, b) => a.ts - b.ts);
}

/**
 * Spaces request starts at least `(1000 + marginMs) / perSec` ms apart, so any one-second window
 * holds at most `perSec` of them even when the network delays some by up to the margin. Slots
 * are reserved synchronously, so concurrent callers never share one. Fractions (0.5/s) work.
 */
export class RequestPacer {
  private nextAtMs = 0;
  private readonly gapMs: number;

  constructor(perSec: number, marginMs = 50) {
    if (!(perSec > 0) || !Number.isFinite(perSec)) throw new RangeError(`perSec must be > 0, got ${perSec}`);
    this.gapMs = (1_000 + marginMs) / perSec;
  }

  /** Resolves at this caller's slot; rejects with the signal's reason if it aborts first. */
  acquire(signal?: AbortSignal): Promise<void> {
    if (signal?.aborted) return Promise.reject(signal.reason);
    const now = performance.now();
    const at = Math.max(now, this.nextAtMs);
    this.nextAtMs = at + this.gapMs;
    const waitMs = at - now;
    if (waitMs <= 0) return Promise.resolve();
    return new Promise((resolve, reject) => {
      const onAbort = () => {
        clearTimeout(timer);
        reject(signal?.reason);
      };
      const timer = setTimeout(() => {
        signal?.removeEventListener('abort', onAbort);
        resolve();
      }, waitMs);
      signal?.addEventListener('abort', onAbort, { once: true });
    });
  }
}
