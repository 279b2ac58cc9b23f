import type { Logger } from 'pino';
import { config as rxConfig, type Subscription } from 'rxjs';
import { createTelegramBot } from '../bot/bot.js';
import { redactUrl } from '../bus/keys.js';
import { MemoryBus } from '../bus/memory-bus.js';
import { RedisBus, redisAnswers } from '../bus/redis-bus.js';
import { MemorySubscriptionStore, RedisSubscriptionStore } from '../bus/subscription-store.js';
import type { Bus, SubscriptionStore } from '../bus/types.js';
import type { AlertJson, RawFrame, VenueId } from '../domain/types.js';
import type { FeedConnection } from '../streams/core/connection.js';
import { feed$ } from '../streams/feed.js';
import { Recorder } from '../streams/recorder.js';
import { newReplayCounters, replay$ } from '../streams/replay.js';
import { type BybitSimulator, startBybitSimulator } from '../streams/sim/bybit-sim.js';
import { createBybitAdapter } from '../streams/venues/bybit.js';
import { type Config, ConfigError, DEFAULT_REDIS_URL } from './config.js';
import { demoMarket } from './demo.js';
import { type HttpServer, startHttp } from './http.js';
import { Pipeline } from './pipeline.js';
import { resolveUniverse } from './universe.js';

export interface App {
  readonly bus: Bus;
  readonly pipeline: Pipeline;
  /** Resolves when a replay has finished and its final snapshots are published; never for live. */
  readonly done: Promise<void>;
  /** Idempotent: stops intake, flushes, closes every socket and timer. */
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
 * REDIS_URL set: Redis, retried forever when unreachable. Unset: Redis at the default address
 * if it answers, else the in-process bus, so a first run needs nothing else installed.
 */
export async function chooseBus(
  config: Config,
  logger: Logger,
  defaultUrl = DEFAULT_REDIS_URL,
): Promise<Bus> {
  if (config.redisUrl)
    return new RedisBus({ url: config.redisUrl, logger: logger.child({ component: 'redis' }) });
  if (await redisAnswers(defaultUrl)) {
    return new RedisBus({ url: defaultUrl, logger: logger.child({ component: 'redis' }) });
  }
  logger.warn(
    `No Redis answers at ${defaultUrl}: using the in-process bus, so nothing is published outside this process ` +
      'and bot subscriptions last until restart. Start Redis or set REDIS_URL=redis://host:port to publish to Redis.',
  );
  return new MemoryBus();
}

export async function startApp(config: Config, logger: Logger): Promise<App> {
  rxConfig.onUnhandledError = (err) => logger.error({ err }, 'unhandled error in a stream subscriber');
  const closers: (() => Promise<void> | void)[] = [];
  const subscriptions: Subscription[] = [];
  const connections: FeedConnection[] = [];
  const abort = new AbortController();
  const bus = await chooseBus(config, logger);
  logger.info(
    {
      bus: bus.kind,
      ...(bus.kind === 'redis' ? { url: redactUrl(config.redisUrl ?? DEFAULT_REDIS_URL) } : {}),
    },
    'bus ready',
  );

  let deliver: ((alert: AlertJson) => void) | undefined;
  const pipeline = new Pipeline({
    bus,
    alertRule: { oiAlertPct15m: config.oiAlertPct15m, cooldownMs: config.alertCooldownMs },
    publishIntervalMs: config.publishIntervalMs,
    logger: logger.child({ component: 'pipeline' }),
    onAlert: (alert) => {
      logger.info({ alertId: alert.id, symbol: alert.symbol, venue: alert.venue }, `ALERT ${alert.text}`);
      deliver?.(alert);
    },
  });
  pipeline.start();

  let closed = false;
  const close = async () => {
    if (closed) return;
    closed = true;
    abort.abort();
    for (const s of subscriptions) s.unsubscribe();
    await Promise.all(connections.map((c) => c.close()));
    await pipeline.close();
    for (const c of closers.reverse()) await c();
    await bus.close();
  };

  const mode = config.mode;
  if (mode.kind === 'replay') {
    // A replay's whole point is what it publishes: wait for Redis rather than drop everything.
    try {
      await bus.ready(10_000);
    } catch (err) {
      await close();
      throw err;
    }
    const counters = newReplayCounters();
    const adapters = new Map<VenueId, ReturnType<typeof createBybitAdapter>>([
      ['bybit', createBybitAdapter()],
    ]);
    const done = new Promise<void>((resolve, reject) => {
      subscriptions.push(
        replay$({ path: mode.path, speed: mode.speed, adapters }, counters).subscribe({
          next: (ev) => pipeline.handle(ev),
          error: reject,
          complete: () => {
            void pipeline.flush().then(() => {
              logger.info(
                { ...counters, instruments: pipeline.instrumentCount(), ...pipeline.counters },
                'replay finished',
              );
              resolve();
            }, reject);
          },
        }),
      );
    });
    return { bus, pipeline, done, close };
  }

  let bybitWsUrl = config.bybitWsUrl;
  let bybitRestUrl = config.bybitRestUrl;
  if (mode.kind === 'demo') {
    const sim: BybitSimulator = await startBybitSimulator({
      market: demoMarket(),
      timeScale: 60,
      tickMs: 250,
    });
    closers.push(() => sim.close());
    bybitWsUrl = sim.wsUrl;
    bybitRestUrl = sim.restUrl;
    logger.info(
      { wsUrl: sim.wsUrl },
      'demo: a local Bybit simulator runs at 60x event time (a 15m window fills in 15 s)',
    );
  }

  if (config.telegramBotToken) {
    const store: SubscriptionStore =
      bus.kind === 'redis'
        ? new RedisSubscriptionStore(
            config.redisUrl ?? DEFAULT_REDIS_URL,
            logger.child({ component: 'subscriptions' }),
          )
        : new MemorySubscriptionStore();
    const bot = createTelegramBot({
      token: config.telegramBotToken,
      apiRoot: config.telegramApiRoot,
      bus,
      subscriptions: store,
      venues: ['bybit'],
      logger,
    });
    closers.push(async () => {
      await bot.close();
      await store.close();
    });
    deliver = (alert) => {
      bot
        .deliverAlert(alert)
        .catch((err: Error) => logger.error({ err, alertId: alert.id }, 'alert delivery failed'));
    };
    await bot.start();
  } else {
    logger.info('TELEGRAM_BOT_TOKEN is not set: no bot; alerts are logged and published only');
  }

  if (config.httpPort !== null) {
    const http: HttpServer = await startHttp(config.httpPort, {
      bus,
      pipeline,
      connections: () => connections,
      staleAfterMs: config.staleAfterMs,
    });
    closers.push(() => http.close());
    logger.info({ port: http.port }, 'HTTP health endpoints listening');
  }

  let recorder: Recorder | undefined;
  if (mode.recordPath) {
    try {
      recorder = await Recorder.open(mode.recordPath, logger.child({ component: 'recorder' }));
    } catch (err) {
      await close();
      throw new ConfigError('--record', `cannot write ${mode.recordPath}: ${(err as Error).message}`);
    }
  }
  if (recorder) {
    closers.push(() => recorder.close());
    logger.info({ path: recorder.path }, 'recording every received frame');
  }

  const universe = await resolveUniverse(
    bybitRestUrl,
    { symbols: config.symbols, topN: config.topN },
    logger.child({ venue: 'bybit' }),
    abort.signal,
  );
  if (closed) return { bus, pipeline, done: new Promise(() => {}), close };
  await bus
    .setTrackedSymbols(
      'bybit',
      universe.map((e) => e.symbol),
    )
    .catch((err: Error) => logger.warn({ err }, 'could not store the tracked symbol list'));
  const adapter = createBybitAdapter({
    wsUrl: bybitWsUrl,
    fundingIntervalHours: new Map(
      universe.flatMap((e) =>
        e.fundingIntervalHours ? [[e.instrument, e.fundingIntervalHours] as const] : [],
      ),
    ),
  });
  const feedLogger = logger.child({ venue: 'bybit' });
  const parseErrors = throttledReporter(feedLogger, 'malformed frames skipped', 10_000);
  subscriptions.push(
    feed$(
      {
        adapter,
        instruments: () => universe.map((e) => e.instrument),
        staleAfterMs: config.staleAfterMs,
        logger: feedLogger,
        ...(recorder ? { onRawFrame: (f: RawFrame) => recorder?.write(f) } : {}),
      },
      (c) => connections.push(c),
    ).subscribe((ev) => {
      if (ev.type === 'status' && ev.kind === 'parse_error') parseErrors.report(ev.detail);
      pipeline.handle(ev);
    }),
  );
  return { bus, pipeline, done: new Promise(() => {}), close };
}
