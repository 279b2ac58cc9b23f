import { setTimeout as sleep } from 'node:timers/promises';
import type { Logger } from 'pino';
import type { FetchUniverse, UniverseEntry, UniverseWant } from '../streams/core/universe.js';

/**
 * Resolves the instruments to follow on one venue, retrying with backoff (2 s doubling to 60 s)
 * until the venue answers or `signal` aborts. A venue that answers but lists none of SYMBOLS
 * yields an empty list (logged), since the symbols may live on other venues.
 */
export async function resolveUniverse(
  fetchUniverse: FetchUniverse,
  restUrl: string,
  want: UniverseWant,
  logger: Logger,
  signal: AbortSignal,
): Promise<UniverseEntry[]> {
  for (let attempt = 0; !signal.aborted; attempt++) {
    let listing: Awaited<ReturnType<FetchUniverse>>;
    try {
      listing = await fetchUniverse(restUrl, want);
    } catch (err) {
      const delayMs = Math.min(60_000, 2000 * 2 ** Math.min(attempt, 5));
      logger.warn(
        { restUrl, message: err instanceof Error ? err.message : String(err), retryInMs: delayMs },
        'cannot list instruments; retrying',
      );
      await sleep(delayMs, undefined, { signal }).catch(() => {});
      continue;
    }
    if (listing.missing.length > 0) {
      logger.warn(
        { missing: listing.missing },
        'SYMBOLS lists assets this venue has no trading linear perpetual for',
      );
    }
    logger.info(
      { count: listing.entries.length, symbols: listing.entries.map((e) => e.symbol) },
      'universe resolved',
    );
    return [...listing.entries];
  }
  return [];
}
