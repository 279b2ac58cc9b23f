/**
 * The demo's warm start: a day of open interest from the simulators' REST history endpoints (the
 * fetchers live BACKFILL uses), kept as the processor's own recorded past, as a checkpoint would
 * bring it back.
 *
 * Why not as backfilled history, as live does: live flags windows that start in a venue's REST
 * history (coarse, mark prices filled in) and never alerts on them, so `oi_change_24h` and
 * `momentum_spike` (which needs a whole live 24 h window) could fire only after a day of event
 * time: 24 minutes into the demo. The demo's history is the scripted market itself, exact by
 * construction, so it stands for the day this processor would have recorded. The live rule is
 * unchanged; only where the demo's past comes from differs.
 */
import type { Logger } from 'pino';
import { checkpointInstrument } from '../analytics/checkpoint.js';
import { applyHistory, createInstrumentState } from '../analytics/instrument.js';
import type { VenueId } from '../domain/types.js';
import { inShard, type Shard, type UniverseEntry, type UniverseWant } from '../streams/core/universe.js';
import { type OiHistoryPoint, oiHistoryFetcher, runBackfill } from '../streams/history.js';
import type { ScriptedMarket } from '../streams/sim/market.js';
import { VENUES } from '../streams/venues/registry.js';
import type { DemoClock } from './demo.js';

/** The 24 h window and a margin, as live's warm start asks. */
const DEMO_HISTORY_SPAN_MS = 24 * 3_600_000 + 30 * 60_000;
/** History points for a venue without a history endpoint (Hyperliquid): the venues' 5 min period. */
const DEMO_HISTORY_STEP_MS = 5 * 60_000;
/** The simulators are local: pace only so a slow machine is not flooded. */
const DEMO_HISTORY_REQUESTS_PER_SEC = 200;

export interface DemoHistoryOptions {
  readonly venues: readonly VenueId[];
  readonly endpoints: Readonly<Record<VenueId, { readonly restUrl: string }>>;
  readonly market: ScriptedMarket;
  readonly clock: DemoClock;
  readonly want: UniverseWant;
  readonly shard: Shard | null;
  readonly logger: Logger;
  readonly signal: AbortSignal;
}

/**
 * Checkpoint documents (see `Pipeline.restore`) holding the last day of every venue's
 * instruments. Venues whose simulator has a history endpoint answer over REST; Hyperliquid,
 * which has none (as live), gets the same scripted market sampled every 5 minutes, so the
 * aggregate has a whole day too. A venue that fails is logged and starts empty.
 */
export async function demoHistory(opts: DemoHistoryOptions): Promise<string[]> {
  const nowTs = opts.clock.now();
  const fromTs = nowTs - DEMO_HISTORY_SPAN_MS;
  const perVenue = await Promise.all(
    opts.venues.map(async (venue) => {
      const log = opts.logger.child({ venue });
      try {
        const restUrl = opts.endpoints[venue].restUrl;
        const listing = await VENUES[venue].fetchUniverse(restUrl, opts.want);
        const entries = listing.entries.filter((e) => inShard(opts.shard, venue, e.symbol));
        const fetcher = oiHistoryFetcher(venue, restUrl);
        if (fetcher === null)
          return entries.map((e) => own(venue, e, sampled(opts.market, e, fromTs, nowTs)));
        const docs: string[] = [];
        const symbolOf = new Map(entries.map((e) => [e.instrument, e]));
        await runBackfill({
          venue,
          instruments: entries.map((e) => e.instrument),
          fetcher,
          fromTs,
          toTs: nowTs,
          maxRequestsPerSec: DEMO_HISTORY_REQUESTS_PER_SEC,
          logger: opts.logger,
          signal: opts.signal,
          onPoints: (instrument, points) => {
            const entry = symbolOf.get(instrument);
            if (entry) docs.push(own(venue, entry, points));
          },
        });
        return docs;
      } catch (err) {
        log.warn({ err }, 'demo: no history for this venue; its windows start empty');
        return [];
      }
    }),
  );
  return perVenue.flat().filter((doc) => doc !== '');
}

/** The market as the simulator plays it, every `DEMO_HISTORY_STEP_MS` up to `toTs`. */
function sampled(market: ScriptedMarket, e: UniverseEntry, fromTs: number, toTs: number): OiHistoryPoint[] {
  if (!market.has(e.symbol)) return [];
  const points: OiHistoryPoint[] = [];
  for (
    let ts = Math.ceil(fromTs / DEMO_HISTORY_STEP_MS) * DEMO_HISTORY_STEP_MS;
    ts <= toTs;
    ts += DEMO_HISTORY_STEP_MS
  ) {
    const s = market.stateAt(e.symbol, ts);
    points.push({ ts, oiBase: s.oiBase, markPrice: s.markPrice });
  }
  return points;
}

/** One instrument's history as a checkpoint document of its own past ('' when nothing usable). */
function own(venue: VenueId, e: UniverseEntry, points: readonly OiHistoryPoint[]): string {
  const state = createInstrumentState(venue, e.symbol, e.instrument);
  if (applyHistory(state, points) === 0) return '';
  const checkpoint = checkpointInstrument(state);
  // Recorded past, not venue history: see the top of this file.
  checkpoint.fields.backfilledUntilTs = null;
  return JSON.stringify(checkpoint);
}
