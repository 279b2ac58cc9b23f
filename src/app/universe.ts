import { setTimeout as sleep } from 'node:timers/promises';
import type { Logger } from 'pino';
import { bybitInstrument } from '../streams/venues/bybit.js';
import { fetchBybitUniverse, type UniverseEntry } from '../streams/venues/bybit-universe.js';

/**
 * Resolves the instruments to follow. With SYMBOLS set and the REST API unreachable it goes on
 * with `${SYMBOL}USDT` (the WebSocket will say if one is wrong); with TOP_N it must ask the venue,
 * so it retries with backoff until the venue answers or `signal` aborts.
 */
export async function resolveUniverse(
  restUrl: string,
  want: { symbols: readonly string[] | null; topN: number },
  logger: Logger,
  signal: AbortSignal,
): Promise<UniverseEntry[]> {
  for (let attempt = 0; !signal.aborted; attempt++) {
    try {
      const { entries, missing } = await fetchBybitUniverse(restUrl, want);
      if (missing.length > 0) {
        logger.warn(
          { missing },
          'SYMBOLS lists assets Bybit has no trading USDT perpetual for; skipping them',
        );
      }
      if (entries.length === 0) throw new Error('no instrument to follow');
      logger.info({ count: entries.length, symbols: entries.map((e) => e.symbol) }, 'universe resolved');
      return [...entries];
    } catch (err) {
      const message = err instanceof Error ? err.message : String(err);
      if (want.symbols) {
        logger.warn(
          { restUrl, message },
          'Bybit REST unreachable; following SYMBOLS as <SYMBOL>USDT without checking them',
        );
        return want.symbols.map((symbol) => ({ symbol, instrument: bybitInstrument(symbol) }));
      }
      const delayMs = Math.min(60_000, 2000 * 2 ** Math.min(attempt, 5));
      logger.warn(
        { restUrl, message, retryInMs: delayMs },
        'cannot list Bybit instruments for TOP_N; retrying',
      );
      await sleep(delayMs, undefined, { signal }).catch(() => {});
    }
  }
  return [];
}
