import { setTimeout as sleep } from 'node:timers/promises';
import type { Logger } from 'pino';
import { redisNames } from '../bus/keys.js';
import { sharedRedis } from '../bus/stores.js';
import type { Bus } from '../bus/types.js';
import type { RawFrame, VenueId } from '../domain/types.js';
import { BACKFILL_REQUESTS_PER_SEC, oiHistoryFetcher, runBackfill } from '../streams/history.js';
import { Recorder } from '../streams/recorder.js';
import { GAP_SOURCE } from '../streams/replay.js';
import { VENUES } from '../streams/venues/registry.js';
import { type Config, ConfigError, type RunMode } from './config.js';
import {
  DEMO_TIME_SCALE,
  type DemoClock,
  type DemoOptions,
  demoClock,
  demoMarket,
  demoVenueModule,
  startDemoVenue,
} from './demo.js';
import { demoHistory } from './demo-history.js';
import { feedHealth } from './feed-status.js';
import type { Pipeline } from './pipeline.js';
import { VenueRuntime } from './venue-runtime.js';

/** How far back the warm start asks the venues' OI history: the 24 h window and a margin. */
const BACKFILL_SPAN_MS = 24 * 3_600_000 + 30 * 60_000;

/** How often a live processor writes its feed health to `pulse:status`. */
const FEED_STATUS_INTERVAL_MS = 5_000;

/** How often a live processor checkpoints its analytics state. */
const CHECKPOINT_INTERVAL_MS = 5 * 60_000;

/** How often a live processor reads the chat thresholds (`pulse:alert-levels`) the bot publishes. */
const ALERT_LEVELS_POLL_MS = 30_000;

export interface ProcessorContext {
  readonly config: Config;
  /** Live or `--demo` (a replay feeds the pipeline itself, see replay-run.ts). */
  readonly mode: Exclude<RunMode, { readonly kind: 'replay' }>;
  readonly logger: Logger;
  readonly bus: Bus;
  readonly pipeline: Pipeline;
  /** Aborted when the app closes: stops waits, retries and history requests. */
  readonly signal: AbortSignal;
  readonly demo: DemoOptions;
}

/** The market-data side of a live or demo process: venues, recorder, checkpoints, feed health. */
export interface ProcessorSide {
  /** `--demo`: the simulators' accelerated event clock (alerts carry its time); null live. */
  readonly clock: DemoClock | null;
  /** The venue runtimes, once `start` made them. */
  readonly venues: readonly VenueRuntime[];
  /**
   * Reads the chat thresholds, resumes the checkpoint and the rules' state, then connects the
   * venues (each resolving its universe on its own) and starts the periodic writes.
   */
  start(): Promise<void>;
  /**
   * Idempotent: closes the venues and timers, saves a last checkpoint, then closes the recorder
   * and the simulators. The pipeline, which this side feeds, is closed after it.
   */
  close(): Promise<void>;
}

/** Logs the first occurrence, then at most one line per `everyMs` with the count since. */
function throttledReporter(logger: Logger, msg: string, everyMs: number) {
  let count = 0;
  let lastLogTs = 0;
  return {
    report(detail: string | undefined) {
      count++;
      const now = Date.now();
      if (now - lastLogTs < everyMs) return;
      logger.warn({ count, lastDetail: detail }, msg);
      lastLogTs = now;
      count = 0;
    },
  };
}

/**
 * Prepares the processor: `--demo` starts the venue simulators and warm-starts from their history,
 * `--record` opens the file (a ConfigError naming `--record` when it cannot be written, after
 * closing what was started). Nothing connects to a venue before `start`.
 */
export async function openProcessorSide(ctx: ProcessorContext): Promise<ProcessorSide> {
  const { config, mode, logger, bus, pipeline, signal } = ctx;
  const runtimes: VenueRuntime[] = [];
  const timers: NodeJS.Timeout[] = [];
  const closers: (() => Promise<void> | void)[] = [];
  const endpoints = { ...config.endpoints };

  // Live processors checkpoint their windows (every 5 min and at shutdown) and resume from them.
  const checkpointKey =
    mode.kind === 'live'
      ? redisNames(config.redisPrefix).checkpointKey(
          config.shard ? `${config.shard.index}-${config.shard.count}` : 'all',
        )
      : null;
  const saveCheckpoint = async (key: string) => {
    const documents = pipeline.checkpoint();
    // Never replace a good checkpoint with nothing (a stop before any data arrived).
    if (documents.length === 0) return;
    await bus
      .saveCheckpoint(key, documents)
      .then(() => logger.debug({ instruments: documents.length }, 'analytics checkpoint saved'))
      .catch((err: Error) => logger.warn({ err }, 'could not save the analytics checkpoint'));
  };

  let closing: Promise<void> | undefined;
  const close = () => {
    closing ??= (async () => {
      await Promise.all(runtimes.map((r) => r.close()));
      for (const t of timers) clearInterval(t);
      if (checkpointKey) await saveCheckpoint(checkpointKey);
      for (const c of closers.reverse()) await c();
    })();
    return closing;
  };

  const clock =
    mode.kind === 'demo' ? demoClock(undefined, undefined, ctx.demo.timeScale ?? DEMO_TIME_SCALE) : null;
  if (clock) {
    const market = demoMarket(clock.startTs);
    for (const id of config.venues) {
      const sim = await startDemoVenue(id, market, clock);
      closers.push(() => sim.close());
      endpoints[id] = { wsUrl: sim.wsUrl, restUrl: sim.restUrl };
    }
    logger.info(
      { venues: config.venues, timeScale: clock.timeScale },
      `demo: local venue simulators run at ${clock.timeScale}x event time (a 15m window fills in ${900 / clock.timeScale} s)`,
    );
    // The demo's warm start, before any live event: the simulators' last day as this
    // processor's own past, so every rule can fire within minutes (see demo-history.ts).
    if (config.backfill) {
      const documents = await demoHistory({
        venues: config.venues,
        endpoints,
        market,
        clock,
        want: { symbols: config.symbols, topN: config.topN },
        shard: config.shard,
        logger,
        signal,
      });
      logger.info(
        { instruments: pipeline.restore(documents) },
        "demo: a day of OI history from the simulators' REST endpoints, resumed as this processor's own past",
      );
    }
  }

  let recorder: Recorder | undefined;
  if (mode.recordPath) {
    try {
      recorder = await Recorder.open(mode.recordPath, logger.child({ component: 'recorder' }));
    } catch (err) {
      await close();
      throw new ConfigError('--record', `cannot write ${mode.recordPath}: ${(err as Error).message}`);
    }
    const rec = recorder;
    closers.push(() => rec.close());
    logger.info({ path: rec.path }, 'recording every received frame');
  }

  /** Chat thresholds the bot published: read before the rules start (waited for at most 3 s), then every 30 s. */
  const followAlertLevels = async () => {
    const readLevels = () =>
      bus.alertLevels().then(
        (levels) => pipeline.setAlertLevels(levels),
        (err: Error) => logger.debug({ err }, 'chat alert levels not read; keeping the last ones'),
      );
    const first = bus
      .ready(3000)
      .catch(() => {})
      .then(readLevels);
    await Promise.race([first, sleep(3000, undefined, { ref: false })]);
    // A close() during the wait has already cleared the timers: start none after it.
    if (signal.aborted) return;
    timers.push(setInterval(() => void readLevels(), ALERT_LEVELS_POLL_MS));
  };

  /**
   * Hysteresis and cooldowns survive the restart: nothing repeats, nothing is forgotten. Rules
   * wait until the state is back (retried while Redis is unreachable) rather than re-fire.
   */
  const loadRuleState = async (): Promise<void> => {
    while (!signal.aborted) {
      try {
        const rules = pipeline.restoreAlertState(await bus.loadAlertState());
        logger.info({ rules }, 'alert rules resumed from pulse:alert-state; rules running');
        return;
      } catch (err) {
        logger.warn(
          { message: (err as Error).message },
          'alert rule state not loaded yet; rules wait, retrying in 5 s',
        );
        await sleep(5000, undefined, { signal }).catch(() => {});
      }
    }
  };

  const resumeCheckpoint = async (key: string) => {
    try {
      await bus.ready(3000);
      const restored = pipeline.restore(await bus.loadCheckpoint(key));
      if (restored > 0)
        logger.info({ instruments: restored }, 'resumed the 15m/24h windows from the last checkpoint');
    } catch (err) {
      logger.warn(
        { message: (err as Error).message },
        'no analytics checkpoint restored; windows start empty',
      );
    }
    if (sharedRedis(bus)) {
      // Start-up goes on after 3 s; the rules start whenever the state arrives.
      const waited = new AbortController();
      await Promise.race([
        loadRuleState().finally(() => waited.abort()),
        sleep(3000, undefined, { signal: waited.signal }).catch(() => {}),
      ]);
    }
    if (signal.aborted) return;
    timers.push(setInterval(() => void saveCheckpoint(key), CHECKPOINT_INTERVAL_MS));
  };

  /**
   * Warm start: the last 24 h of OI from the venue's REST history for every instrument the
   * checkpoint did not cover, under the venue's request budget; windows start there, flagged
   * `backfilled` (never alerting) until live data covers them.
   */
  const backfill = async (id: VenueId, runtime: VenueRuntime, venueLogger: Logger): Promise<void> => {
    const fetcher = oiHistoryFetcher(id, endpoints[id].restUrl);
    if (fetcher === null) return;
    const nowMs = Date.now();
    const wanted = runtime.universe().filter((e) => pipeline.needsHistory(id, e.instrument, nowMs));
    if (wanted.length === 0) return;
    const symbolOf = new Map(wanted.map((e) => [e.instrument, e.symbol]));
    const result = await runBackfill({
      venue: id,
      instruments: wanted.map((e) => e.instrument),
      fetcher,
      fromTs: nowMs - BACKFILL_SPAN_MS,
      toTs: nowMs,
      maxRequestsPerSec: BACKFILL_REQUESTS_PER_SEC[id],
      logger: venueLogger,
      signal,
      onPoints: (instrument, points) =>
        pipeline.backfill(id, symbolOf.get(instrument) ?? instrument, instrument, points),
    });
    venueLogger.info(result, 'OI history backfilled from the venue (windows marked backfilled)');
  };

  const startVenue = (id: VenueId) => {
    const venueLogger = logger.child({ venue: id });
    const parseErrors = throttledReporter(venueLogger, 'malformed frames skipped', 10_000);
    const runtime = new VenueRuntime({
      module: clock ? demoVenueModule(id, clock) : VENUES[id],
      ...endpoints[id],
      want: { symbols: config.symbols, topN: config.topN },
      universeRefreshMs: config.universeRefreshMs,
      staleAfterMs: config.staleAfterMs,
      bus,
      logger: venueLogger,
      connectStaggerMs: 400,
      shard: config.shard,
      onEvent: (ev) => {
        if (ev.type === 'status' && ev.kind === 'parse_error') parseErrors.report(ev.detail);
        if (ev.type === 'status' && ev.kind === 'gap' && ev.gap) {
          venueLogger.warn({ gap: ev.gap, detail: ev.detail }, 'feed gap: deltas across it are flagged');
          recorder?.write({
            t: ev.receiveTs,
            venue: ev.venue,
            frame: JSON.stringify(ev.gap),
            source: GAP_SOURCE,
          });
        }
        pipeline.handle(ev);
      },
      ...(recorder ? { onRawFrame: (f: RawFrame) => recorder?.write(f) } : {}),
    });
    runtimes.push(runtime);
    // Venues resolve their universes independently: one venue down does not hold up the others.
    runtime
      .start()
      .then(() => (config.backfill && mode.kind === 'live' ? backfill(id, runtime, venueLogger) : undefined))
      .catch((err: Error) => venueLogger.error({ err }, 'venue failed to start'));
  };

  const start = async () => {
    await followAlertLevels();
    if (checkpointKey) await resumeCheckpoint(checkpointKey);
    // Closed while waiting: connecting now would leave venues and timers running after close().
    if (signal.aborted) return;
    for (const id of config.venues) startVenue(id);
    if (runtimes.length > 0) {
      // Feed health for /status in a bot that may run as its own process.
      const publishStatus = () =>
        bus
          .publishFeedStatus(
            runtimes.map((r) => feedHealth(r, config.shard, config.staleAfterMs, Date.now())),
          )
          .catch((err: Error) => logger.debug({ err }, 'feed status not published'));
      timers.push(setInterval(publishStatus, FEED_STATUS_INTERVAL_MS));
    }
  };

  return { clock, venues: runtimes, start, close };
}
