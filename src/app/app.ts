import { setTimeout as sleep } from 'node:timers/promises';
import type { Logger } from 'pino';
import { config as rxConfig, type Subscription } from 'rxjs';
import { DEFAULT_INTEL_CONFIG } from '../analytics/intel-config.js';
import { createTelegramBot, type WebhookRoute } from '../bot/bot.js';
import type { DeliveryStats } from '../bot/delivery.js';
import { AlertStreamConsumer, RedisDeliveryLedger } from '../bus/alert-stream.js';
import { MemoryChatSettingsStore, RedisChatSettingsStore } from '../bus/chat-settings-store.js';
import { redactUrl, redisNames } from '../bus/keys.js';
import { MemoryBus } from '../bus/memory-bus.js';
import { RedisBus, redisAnswers } from '../bus/redis-bus.js';
import { MemorySubscriptionStore, RedisSubscriptionStore } from '../bus/subscription-store.js';
import type { Bus, ChatSettingsStore, SubscriptionStore } from '../bus/types.js';
import type { AlertLevels } from '../domain/alert-levels.js';
import { ALERT_KINDS, type AlertJson, type AlertKind, type RawFrame, type VenueId } from '../domain/types.js';
import { BACKFILL_REQUESTS_PER_SEC, oiHistoryFetcher, runBackfill } from '../streams/history.js';
import { Recorder } from '../streams/recorder.js';
import { GAP_SOURCE, newReplayCounters, replay$ } from '../streams/replay.js';
import { VENUES } from '../streams/venues/registry.js';
import { type Config, ConfigError, DEFAULT_REDIS_URL } from './config.js';
import {
  DEMO_TIME_SCALE,
  type DemoOptions,
  demoClock,
  demoMarket,
  demoVenueModule,
  startDemoVenue,
} from './demo.js';
import { demoHistory } from './demo-history.js';
import { feedHealth } from './feed-status.js';
import { type HttpServer, startHttp } from './http.js';
import { createMetrics, type Metrics } from './metrics.js';
import { Pipeline } from './pipeline.js';
import { firstPublishCheck, type ReadinessCheck } from './readiness.js';
import { botReadsAlerts, ReplayRefusedError } from './replay-guard.js';
import { VenueRuntime } from './venue-runtime.js';
import { versionInfo } from './version.js';

/** How far back the warm start asks the venues' OI history: the 24 h window and a margin. */
const BACKFILL_SPAN_MS = 24 * 3_600_000 + 30 * 60_000;

/** How often a live processor writes its feed health to `pulse:status`. */
const FEED_STATUS_INTERVAL_MS = 5_000;

/** How often a live processor checkpoints its analytics state. */
const CHECKPOINT_INTERVAL_MS = 5 * 60_000;

/** How often a live processor reads the chat thresholds (`pulse:alert-levels`) the bot publishes. */
const ALERT_LEVELS_POLL_MS = 30_000;

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

/** `--report`: alerts per rule, with the thresholds that produced them, for tuning before subscribing. */
export function alertReport(byKind: Partial<Record<AlertKind, number>>, config: Config): string {
  const threshold: Record<AlertKind, string> = {
    oi_change_15m: `|OI change 15m| >= ${config.oiAlertPct15m}% (OI_ALERT_PCT_15M)`,
    oi_change_24h: `|OI change 24h| >= ${config.oiAlertPct24h}% (OI_ALERT_PCT_24H)`,
    funding_pressure: `|APR| level high >= ${config.fundingPressureAprPct.high}% (FUNDING_PRESSURE_APR_PCT)`,
    funding_interval_change: 'a venue changes the funding interval',
    funding_at_bound: "funding rate at the venue's cap or floor",
    control_flip: 'aggregate 15m control changes side, held 1 min',
    momentum_spike: `OI acceleration >= ${config.momentumAlertAccel}x (MOMENTUM_ALERT_ACCEL)`,
  };
  const rows = ALERT_KINDS.map((kind) => {
    const on = config.alertKinds.includes(kind);
    const count = on ? String(byKind[kind] ?? 0) : 'off';
    return `${kind.padEnd(24)} ${count.padStart(7)}  ${threshold[kind]}`;
  });
  const total = ALERT_KINDS.reduce((n, k) => n + (byKind[k] ?? 0), 0);
  return [
    `Alerts this recording would have produced (cooldown ${config.alertCooldownMs / 60_000} min, ALERT_COOLDOWN_MIN):`,
    `${'rule'.padEnd(24)} ${'alerts'.padStart(7)}  fires when`,
    ...rows,
    `${'total'.padEnd(24)} ${String(total).padStart(7)}`,
    '',
  ].join('\n');
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
 * A replay writes alerts to the alert stream and overwrites the latest snapshots: into a Redis a bot
 * reads, it would page subscribers. Refused unless `--force`.
 */
async function guardReplayTarget(
  url: string,
  prefix: string,
  mode: Extract<Config['mode'], { kind: 'replay' }>,
  logger: Logger,
): Promise<void> {
  if (!(await botReadsAlerts(url, prefix))) return;
  if (!mode.force) throw new ReplayRefusedError(url, redisNames(prefix).alertStream);
  logger.warn(
    { url: redactUrl(url) },
    '--force: replaying into a Redis a bot reads; its alerts are marked replay, and the bot sends none older than ALERT_MAX_AGE_MIN',
  );
}

/** `demo`: settings of `--demo` that only tests change (see `DemoOptions`). */
export async function startApp(config: Config, logger: Logger, demo: DemoOptions = {}): Promise<App> {
  rxConfig.onUnhandledError = (err) => logger.error({ err }, 'unhandled error in a stream subscriber');
  const closers: (() => Promise<void> | void)[] = [];
  const subscriptions: Subscription[] = [];
  const runtimes: VenueRuntime[] = [];
  const abort = new AbortController();
  // A report is for tuning: it writes nothing to Redis (no alerts a bot would deliver, no rule state).
  const bus =
    config.mode.kind === 'replay' && config.mode.report ? new MemoryBus() : await chooseBus(config, logger);
  logger.info(
    {
      bus: bus.kind,
      ...(bus.kind === 'redis'
        ? { url: redactUrl(config.redisUrl ?? DEFAULT_REDIS_URL), prefix: config.redisPrefix }
        : {}),
    },
    'bus ready',
  );

  let deliver: ((alert: AlertJson) => void) | undefined;
  let deliveryStats: (() => DeliveryStats) | undefined;
  let webhookRoute: WebhookRoute | undefined;
  let startWebhookBot: (() => Promise<void>) | undefined;
  let telegramReadiness: (() => ReadinessCheck) | undefined;
  let metrics: Metrics | undefined;
  const pipeline = new Pipeline({
    onPublished: (ms) => metrics?.observePublish(ms),
    bus,
    rules: {
      oiChange15mPct: config.oiAlertPct15m,
      cooldownMs: config.alertCooldownMs,
      oiChange24hPct: config.oiAlertPct24h,
      momentumAccel: config.momentumAlertAccel,
      fundingPressureMin: 'high',
      enabled: Object.fromEntries(ALERT_KINDS.map((k) => [k, config.alertKinds.includes(k)])),
    },
    intel: {
      ...DEFAULT_INTEL_CONFIG,
      pressureAprPct: config.fundingPressureAprPct,
      staleAfterMs: config.inputStaleAfterMs,
    },
    publishIntervalMs: config.publishIntervalMs,
    // A replay's rule state must not overwrite the live processor's cooldowns in Redis.
    persistAlertState: config.mode.kind !== 'replay',
    markReplay: config.mode.kind === 'replay',
    awaitAlertState: config.mode.kind === 'live' && config.role !== 'bot' && bus.kind === 'redis',
    logger: logger.child({ component: 'pipeline' }),
    onAlert: (alert) => {
      logger.info({ alertId: alert.id, symbol: alert.symbol, venue: alert.venue }, `ALERT ${alert.text}`);
      deliver?.(alert);
    },
  });
  const mode = config.mode;
  const processes = config.role !== 'bot';
  if (processes) pipeline.start();

  // Live processors checkpoint their windows (every 5 min and at shutdown) and resume from them.
  const checkpointKey =
    processes && mode.kind === 'live'
      ? redisNames(config.redisPrefix).checkpointKey(
          config.shard ? `${config.shard.index}-${config.shard.count}` : 'all',
        )
      : null;
  let checkpointTimer: NodeJS.Timeout | undefined;
  const saveCheckpoint = async (key: string) => {
    const documents = pipeline.checkpoint();
    // Never replace a good checkpoint with nothing (a stop before any data arrived).
    if (documents.length === 0) return;
    await bus
      .saveCheckpoint(key, documents)
      .then(() => logger.debug({ instruments: documents.length }, 'analytics checkpoint saved'))
      .catch((err: Error) => logger.warn({ err }, 'could not save the analytics checkpoint'));
  };

  let closed = false;
  const close = async () => {
    if (closed) return;
    closed = true;
    abort.abort();
    for (const s of subscriptions) s.unsubscribe();
    await Promise.all(runtimes.map((r) => r.close()));
    clearInterval(checkpointTimer);
    if (checkpointKey) await saveCheckpoint(checkpointKey);
    await pipeline.close();
    for (const c of closers.reverse()) await c();
    await bus.close();
  };

  if (mode.kind === 'replay') {
    // A replay's whole point is what it publishes: wait for Redis rather than drop everything.
    try {
      await bus.ready(10_000);
      if (bus.kind === 'redis')
        await guardReplayTarget(config.redisUrl ?? DEFAULT_REDIS_URL, config.redisPrefix, mode, logger);
    } catch (err) {
      await close();
      throw err;
    }
    const counters = newReplayCounters();
    // No universe in a replay: adapters keep every linear USDT perpetual the recording holds.
    const adapters = new Map(
      config.venues.map((id) => [id, VENUES[id].createAdapter({ ...config.endpoints[id] })]),
    );
    const done = new Promise<void>((resolve, reject) => {
      subscriptions.push(
        replay$(
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
        }),
      );
    });
    return { bus, pipeline, venues: runtimes, done, close };
  }

  const endpoints = { ...config.endpoints };
  const clock =
    mode.kind === 'demo' && processes
      ? demoClock(undefined, undefined, demo.timeScale ?? DEMO_TIME_SCALE)
      : null;
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
        signal: abort.signal,
      });
      logger.info(
        { instruments: pipeline.restore(documents) },
        "demo: a day of OI history from the simulators' REST endpoints, resumed as this processor's own past",
      );
    }
  }

  if (config.role === 'bot' && bus.kind !== 'redis') {
    await close();
    throw new ConfigError(
      'ROLE',
      'is bot, which reads alerts from Redis, but no Redis answers: set REDIS_URL',
    );
  }
  if (config.telegramBotToken && config.role !== 'processor') {
    const store: SubscriptionStore =
      bus.kind === 'redis'
        ? new RedisSubscriptionStore(
            config.redisUrl ?? DEFAULT_REDIS_URL,
            logger.child({ component: 'subscriptions' }),
            { prefix: config.redisPrefix },
          )
        : new MemorySubscriptionStore();
    const redisUrl = config.redisUrl ?? DEFAULT_REDIS_URL;
    const ledger =
      bus.kind === 'redis' ? new RedisDeliveryLedger(redisUrl, logger, config.redisPrefix) : undefined;
    const settings: ChatSettingsStore =
      bus.kind === 'redis'
        ? new RedisChatSettingsStore(redisUrl, logger.child({ component: 'chat-settings' }), {
            prefix: config.redisPrefix,
          })
        : new MemoryChatSettingsStore();
    // With the processor in this process, the levels the bot publishes reach the rules at once
    // instead of at the next 30 s read (and a replay, which has no bot, never gets any).
    const publishAlertLevels = processes
      ? async (levels: AlertLevels) => {
          await bus.publishAlertLevels(levels);
          pipeline.setAlertLevels(levels);
        }
      : (levels: AlertLevels) => bus.publishAlertLevels(levels);
    const bot = createTelegramBot({
      token: config.telegramBotToken,
      apiRoot: config.telegramApiRoot,
      bus: {
        latest: (venue, symbol) => bus.latest(venue, symbol),
        latestMany: (venue, symbols) => bus.latestMany(venue, symbols),
        trackedSymbols: (venue) => bus.trackedSymbols(venue),
        feedStatus: () => bus.feedStatus(),
        publishAlertLevels,
      },
      subscriptions: store,
      settings,
      crossVenueQuietMs: config.alertCooldownMs,
      venues: [...config.venues],
      logger,
      ...(ledger ? { ledger } : {}),
      ...(config.webhook ? { webhook: { url: config.webhook.url, secret: config.webhook.secret } } : {}),
      adminChatIds: config.adminChatIds,
      commandRatePerMin: config.commandRatePerMin,
      // The demo's alerts carry its accelerated event time: aged on that clock, by as many event
      // minutes as ALERT_MAX_AGE_MIN wall minutes are there.
      delivery: clock
        ? { admission: { maxAlertAgeMs: config.alertMaxAgeMs * DEMO_TIME_SCALE, ageClock: clock.now } }
        : { admission: { maxAlertAgeMs: config.alertMaxAgeMs } },
    });
    closers.push(async () => {
      await bot.close();
      await ledger?.close();
      await settings.close();
      await store.close();
    });
    deliveryStats = () => bot.deliveryStats();
    telegramReadiness = () => bot.readiness();
    if (bus.kind === 'redis') {
      // Alerts reach the bot through the pulse:alerts stream, acknowledged once delivered: the
      // bot can restart (or run as its own process) without losing or repeating an alert.
      const consumer = new AlertStreamConsumer({
        url: redisUrl,
        prefix: config.redisPrefix,
        logger: logger.child({ component: 'alert-stream' }),
        ...(config.botConsumer ? { consumer: config.botConsumer } : {}),
        handle: async (alert) => {
          const outcomes = await (await bot.deliverAlert(alert)).settled;
          return !outcomes.includes('closed');
        },
      });
      closers.push(() => consumer.close());
      consumer.start();
    } else {
      deliver = (alert) => {
        bot
          .deliverAlert(alert)
          .catch((err: Error) => logger.error({ err, alertId: alert.id }, 'alert delivery failed'));
      };
    }
    // A webhook is set only once the HTTP server that receives it listens (below).
    if (bot.webhook) {
      webhookRoute = bot.webhook;
      startWebhookBot = () => bot.start();
    } else {
      // Not awaited (it never rejects, and close() waits for it): a Bot API that does not answer
      // must not hold up the health endpoints and, with ROLE=all, the market data.
      void bot.start();
    }
  } else {
    logger.info('TELEGRAM_BOT_TOKEN is not set: no bot; alerts are logged and published only');
  }

  let recorder: Recorder | undefined;
  if (mode.recordPath && processes) {
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

  if (config.httpPort !== null) {
    metrics = createMetrics({ bus, pipeline, venues: () => runtimes, delivery: () => deliveryStats?.() });
    const http: HttpServer = await startHttp(
      config.httpPort,
      {
        bus,
        venues: () => runtimes,
        staleAfterMs: config.staleAfterMs,
        metrics: metrics.registry,
        version: versionInfo(config.role),
        checks: readinessChecks(processes ? pipeline : null, telegramReadiness),
      },
      webhookRoute ? { routes: { [webhookRoute.path]: webhookRoute.handle } } : {},
    );
    closers.push(() => http.close());
    logger.info({ port: http.port }, 'HTTP health endpoints listening');
    await startWebhookBot?.();
  }

  // Chat thresholds the bot published: read before the rules start (waited for at most 3 s), then
  // every 30 s. A replay never gets here: it evaluates the server's thresholds only.
  if (processes) {
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
    const levelsTimer = setInterval(() => void readLevels(), ALERT_LEVELS_POLL_MS);
    closers.push(() => clearInterval(levelsTimer));
  }

  if (checkpointKey) {
    const key = checkpointKey;
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
    // Hysteresis and cooldowns survive the restart: nothing repeats, nothing is forgotten. Rules
    // wait until the state is back (retried while Redis is unreachable) rather than re-fire.
    if (bus.kind === 'redis') {
      const loadRules = async (): Promise<void> => {
        while (!abort.signal.aborted) {
          try {
            const rules = pipeline.restoreAlertState(await bus.loadAlertState());
            logger.info({ rules }, 'alert rules resumed from pulse:alert-state; rules running');
            return;
          } catch (err) {
            logger.warn(
              { message: (err as Error).message },
              'alert rule state not loaded yet; rules wait, retrying in 5 s',
            );
            await sleep(5000, undefined, { signal: abort.signal }).catch(() => {});
          }
        }
      };
      // Start-up goes on after 3 s; the rules start whenever the state arrives.
      const waited = new AbortController();
      await Promise.race([
        loadRules().finally(() => waited.abort()),
        sleep(3000, undefined, { signal: waited.signal }).catch(() => {}),
      ]);
    }
    checkpointTimer = setInterval(() => void saveCheckpoint(key), CHECKPOINT_INTERVAL_MS);
  }

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
      signal: abort.signal,
      onPoints: (instrument, points) =>
        pipeline.backfill(id, symbolOf.get(instrument) ?? instrument, instrument, points),
    });
    venueLogger.info(result, 'OI history backfilled from the venue (windows marked backfilled)');
  };

  for (const id of processes ? config.venues : []) {
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
  }
  if (processes && runtimes.length > 0) {
    // Feed health for /status in a bot that may run as its own process.
    const publishStatus = () =>
      bus
        .publishFeedStatus(runtimes.map((r) => feedHealth(r, config.shard, config.staleAfterMs, Date.now())))
        .catch((err: Error) => logger.debug({ err }, 'feed status not published'));
    const statusTimer = setInterval(publishStatus, FEED_STATUS_INTERVAL_MS);
    closers.push(() => clearInterval(statusTimer));
  }
  return { bus, pipeline, venues: runtimes, done: new Promise(() => {}), close };
}
