import type { FeedHealthJson } from '../bus/types.js';
import type { Shard } from '../streams/core/universe.js';
import type { VenueRuntime } from './venue-runtime.js';

/** What `/status` and other processes see of one venue: written to `pulse:status` every few seconds. */
export function feedHealth(
  runtime: Pick<VenueRuntime, 'venue' | 'connections' | 'universe'>,
  shard: Shard | null | undefined,
  staleAfterMs: number,
  nowMs: number,
): FeedHealthJson {
  const conns = runtime.connections();
  const open = conns.filter((c) => c.isOpen).length;
  const lastTimes = conns.map((c) => c.lastDataAt).filter((t) => t > 0);
  const lastDataTs = lastTimes.length > 0 ? Math.max(...lastTimes) : null;
  // Ready in the /readyz sense: every connection open, each with data within the bound.
  const everyFresh = conns.every((c) => c.lastDataAt > 0 && nowMs - c.lastDataAt <= staleAfterMs);
  return {
    v: 1,
    venue: runtime.venue,
    shard: shard && shard.count > 1 ? `${shard.index}/${shard.count}` : 'all',
    ts: nowMs,
    ok: conns.length > 0 && open === conns.length && everyFresh,
    connections: conns.length,
    open,
    lastDataTs,
    staleAfterMs,
    instruments: runtime.universe().length,
  };
}
