import type { Logger } from 'pino';
import type { Subscription } from 'rxjs';
import { redactUrl, redisNames } from '../bus/keys.js';
import { sharedRedis } from '../bus/stores.js';
import type { Bus } from '../bus/types.js';
import { newReplayCounters, replay$ } from '../streams/replay.js';
import { VENUES } from '../streams/venues/registry.js';
import type { Config } from './config.js';
import type { Pipeline } from './pipeline.js';
import { botReadsAlerts, ReplayRefusedError } from './replay-guard.js';
import { alertReport } from './rule-config.js';

type ReplayMode = Extract<Config['mode'], { kind: 'replay' }>;

/** A recording fed through the parsers and the pipeline (`--replay FILE`). */
export interface ReplayRun {
  /** Resolves when the recording is done and its final snapshots are published. */
  readonly done: Promise<void>;
  /** Stops reading the recording (idempotent). */
  close(): void;
}

/**
 * A replay writes alerts to the alert stream and overwrites the latest snapshots: into a Redis a bot
 * reads, it would page subscribers. Refused unless `--force`.
 */
async function guardReplayTarget(bus: Bus, mode: ReplayMode, logger: Logger): Promise<void> {
  const redis = sharedRedis(bus);
  if (redis === null || !(await botReadsAlerts(redis.url, redis.prefix))) return;
  if (!mode.force) throw new ReplayRefusedError(redis.url, redisNames(redis.prefix).alertStream);
  logger.warn(
    { url: redactUrl(redis.url) },
    '--force: replaying into a Redis a bot reads; its alerts are marked replay, and the bot sends none older than ALERT_MAX_AGE_MIN',
  );
}

/**
 * Waits for the bus (a replay's whole point is what it publishes: better to stop than to drop
 * everything), checks it may write there, then plays the recording. Rejects, having started
 * nothing, when the bus does not answer or the replay is refused.
 */
export async function startReplay(
  config: Config,
  mode: ReplayMode,
  bus: Bus,
  pipeline: Pipeline,
  logger: Logger,
): Promise<ReplayRun> {
  await bus.ready(10_000);
  await guardReplayTarget(bus, mode, logger);
  const counters = newReplayCounters();
  // No universe in a replay: adapters keep every linear USDT perpetual the recording holds.
  const adapters = new Map(
    config.venues.map((id) => [id, VENUES[id].createAdapter({ ...config.endpoints[id] })]),
  );
  let subscription: Subscription | undefined;
  const done = new Promise<void>((resolve, reject) => {
    subscription = replay$(
      // Silence longer than the live stale bound is a gap in a replay too.
      { path: mode.path, speed: mode.speed, adapters, staleAfterMs: config.staleAfterMs },
      counters,
    ).subscribe({
      next: (ev) => pipeline.handle(ev),
      error: reject,
      complete: () => {
        void pipeline.flush().then(() => {
          logger.info(
            { ...counters, instruments: pipeline.instrumentCount(), ...pipeline.counters },
            'replay finished',
          );
          if (mode.report) process.stdout.write(alertReport(pipeline.alertsByKind, config));
          resolve();
        }, reject);
      },
    });
  });
  return { done, close: () => subscription?.unsubscribe() };
}
