import type { Logger } from 'pino';
import { config as rxConfig } from 'rxjs';
import { redactUrl } from '../bus/keys.js';
import { MemoryBus } from '../bus/memory-bus.js';
import { RedisBus, redisAnswers } from '../bus/redis-bus.js';
import { sharedRedis } from '../bus/stores.js';
import type { Bus } from '../bus/types.js';
import type { AlertJson } from '../domain/types.js';
import { type BotSide, openBotSide } from './bot-side.js';
import { type Config, ConfigError, DEFAULT_REDIS_URL } from './config.js';
import type { DemoOptions } from './demo.js';
import { type HttpServer, startHttp } from './http.js';
import { createMetrics, type Metrics } from './metrics.js';
import { Pipeline } from './pipeline.js';
import { openProcessorSide, type ProcessorSide } from './processor-side.js';
import { firstPublishCheck, type ReadinessCheck } from './readiness.js';
import { type ReplayRun, startReplay } from './replay-run.js';
import { intelOptions, ruleOptions } from './rule-config.js';
import type { VenueRuntime } from './venue-runtime.js';
import { versionInfo } from './version.js';

export { alertReport } from './rule-config.js';

export interface App {
  readonly bus: Bus;
  readonly pipeline: Pipeline;
  /** The live venues (empty in a replay). */
  readonly venues: readonly VenueRuntime[];
  /** Resolves when a replay has finished and its final snapshots are published; never for live. */
  readonly done: Promise<void>;
  /** Idempotent: stops intake, flushes, closes every socket and timer. */
  close(): Promise<void>;
}

/** `/readyz` per role: a processor once its first snapshots reached the bus, a bot while Telegram answers. */
function readinessChecks(
  pipeline: Pipeline | null,
  telegram: (() => ReadinessCheck) | undefined,
): Record<string, () => ReadinessCheck> {
  return {
    ...(pipeline ? { publish: () => firstPublishCheck(pipeline.counters.snapshotsPublished) } : {}),
    ...(telegram ? { telegram } : {}),
  };
}

/**
 * REDIS_URL set: Redis, retried forever when unreachable. Unset: Redis at the default address
 * if it answers, else the in-process bus, so a first run needs nothing else installed.
 */
export async function chooseBus(
  config: Config,
  logger: Logger,
  defaultUrl = DEFAULT_REDIS_URL,
): Promise<Bus> {
  const prefix = config.redisPrefix;
  if (config.redisUrl)
    return new RedisBus({ url: config.redisUrl, prefix, logger: logger.child({ component: 'redis' }) });
  if (await redisAnswers(defaultUrl)) {
    return new RedisBus({ url: defaultUrl, prefix, logger: logger.child({ component: 'redis' }) });
  }
  logger.warn(
    `No Redis answers at ${defaultUrl}: using the in-process bus, so nothing is published outside this process ` +
      'and bot subscriptions last until restart. Start Redis or set REDIS_URL=redis://host:port to publish to Redis.',
  );
  return new MemoryBus();
}

/**
 * The composition root. One pipeline on one bus, and around it, by `ROLE` and run mode: a replay
 * of a recording; or the processor side (venues, recorder, checkpoints), the bot side (Telegram and
 * its stores) and the HTTP endpoints. `close()` takes them down in order: intake first, then the
 * pipeline's last publications, then what serves and delivers them, the bus last.
 * `demo`: settings of `--demo` that only tests change (see `DemoOptions`).
 */
export async function startApp(config: Config, logger: Logger, demo: DemoOptions = {}): Promise<App> {
  rxConfig.onUnhandledError = (err) => logger.error({ err }, 'unhandled error in a stream subscriber');
  const abort = new AbortController();
  const mode = config.mode;
  const processes = config.role !== 'bot';
  // A report is for tuning: it writes nothing to Redis (no alerts a bot would deliver, no rule state).
  const bus = mode.kind === 'replay' && mode.report ? new MemoryBus() : await chooseBus(config, logger);
  const redis = sharedRedis(bus);
  logger.info(
    { bus: bus.kind, ...(redis ? { url: redactUrl(redis.url), prefix: redis.prefix } : {}) },
    'bus ready',
  );

  let deliver: ((alert: AlertJson) => void) | undefined;
  let metrics: Metrics | undefined;
  const pipeline = new Pipeline({
    onPublished: (ms) => metrics?.observePublish(ms),
    bus,
    rules: ruleOptions(config),
    intel: intelOptions(config),
    publishIntervalMs: config.publishIntervalMs,
    // A replay's rule state must not overwrite the live processor's cooldowns in Redis.
    persistAlertState: mode.kind !== 'replay',
    markReplay: mode.kind === 'replay',
    // Rules wait for their saved state only where it outlives the process.
    awaitAlertState: mode.kind === 'live' && processes && redis !== null,
    logger: logger.child({ component: 'pipeline' }),
    onAlert: (alert) => {
      logger.info({ alertId: alert.id, symbol: alert.symbol, venue: alert.venue }, `ALERT ${alert.text}`);
      deliver?.(alert);
    },
  });
  if (processes) pipeline.start();

  let replay: ReplayRun | undefined;
  let processor: ProcessorSide | undefined;
  let bot: BotSide | undefined;
  let http: HttpServer | undefined;
  let closing: Promise<void> | undefined;
  const close = () => {
    closing ??= (async () => {
      abort.abort();
      replay?.close();
      await processor?.close();
      await pipeline.close();
      await http?.close();
      await bot?.close();
      await bus.close();
    })();
    return closing;
  };
  const app = (done: Promise<void>): App => ({
    bus,
    pipeline,
    venues: processor?.venues ?? [],
    done,
    close,
  });

  try {
    if (mode.kind === 'replay') {
      replay = await startReplay(config, mode, bus, pipeline, logger);
      return app(replay.done);
    }
    if (processes)
      processor = await openProcessorSide({
        config,
        mode,
        logger,
        bus,
        pipeline,
        signal: abort.signal,
        demo,
      });
    if (config.role === 'bot' && redis === null) {
      throw new ConfigError(
        'ROLE',
        'is bot, which reads alerts from Redis, but no Redis answers: set REDIS_URL',
      );
    }
    const token = config.telegramBotToken;
    if (token && config.role !== 'processor') {
      bot = openBotSide({
        config: { ...config, telegramBotToken: token },
        logger,
        bus,
        pipeline: processes ? pipeline : null,
        clock: processor?.clock ?? null,
      });
      deliver = bot.deliver;
    } else {
      logger.info('TELEGRAM_BOT_TOKEN is not set: no bot; alerts are logged and published only');
    }
    if (config.httpPort !== null) {
      const venues = () => processor?.venues ?? [];
      const delivery = bot?.deliveryStats;
      metrics = createMetrics({ bus, pipeline, venues, delivery: () => delivery?.() });
      http = await startHttp(
        config.httpPort,
        {
          bus,
          venues,
          staleAfterMs: config.staleAfterMs,
          metrics: metrics.registry,
          version: versionInfo(config.role),
          checks: readinessChecks(processes ? pipeline : null, bot?.readiness),
        },
        bot?.webhookRoute ? { routes: { [bot.webhookRoute.path]: bot.webhookRoute.handle } } : {},
      );
      logger.info({ port: http.port }, 'HTTP health endpoints listening');
      await bot?.startWebhook();
    }
    await processor?.start();
  } catch (err) {
    await close();
    throw err;
  }
  return app(new Promise(() => {}));
}
