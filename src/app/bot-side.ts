import type { Logger } from 'pino';
import { createTelegramBot, type WebhookRoute } from '../bot/bot.js';
import type { DeliveryStats } from '../bot/delivery.js';
import { createStores } from '../bus/stores.js';
import type { Bus } from '../bus/types.js';
import type { AlertLevels } from '../domain/alert-levels.js';
import type { AlertJson } from '../domain/types.js';
import type { Config } from './config.js';
import { DEMO_TIME_SCALE, type DemoClock } from './demo.js';
import type { Pipeline } from './pipeline.js';
import type { ReadinessCheck } from './readiness.js';

export interface BotContext {
  readonly config: Config & { readonly telegramBotToken: string };
  readonly logger: Logger;
  readonly bus: Bus;
  /** The processor in this process (ROLE=all), whose rules take the chats' thresholds at once; else null. */
  readonly pipeline: Pipeline | null;
  /** `--demo`: the simulators' event clock, on which the demo's alerts age; null live. */
  readonly clock: DemoClock | null;
}

/** The Telegram side: the bot, its stores, and where its alerts come from. */
export interface BotSide {
  /**
   * In-process bus: hands an alert of this process's pipeline to the bot. Undefined with Redis,
   * where alerts reach the bot through the `pulse:alerts` stream.
   */
  readonly deliver: ((alert: AlertJson) => void) | undefined;
  readonly deliveryStats: () => DeliveryStats;
  /** `/readyz` `checks.telegram`. */
  readonly readiness: () => ReadinessCheck;
  /** Webhook mode: the route to mount on the HTTP server; undefined when polling. */
  readonly webhookRoute: WebhookRoute | undefined;
  /**
   * Webhook mode: sets the webhook; call once the HTTP server that receives it listens. Polling
   * started already, not awaited: a Bot API that does not answer must not hold up the health
   * endpoints and, with ROLE=all, the market data.
   */
  startWebhook(): Promise<void>;
  /** Idempotent: the alert consumer first, then the bot, then its stores. */
  close(): Promise<void>;
}

/** Opens the bot's stores where the bus keeps its state, creates the bot and starts taking alerts. */
export function openBotSide(ctx: BotContext): BotSide {
  const { config, logger, bus, pipeline, clock } = ctx;
  const stores = createStores(bus, logger);
  // With the processor in this process, the levels the bot publishes reach the rules at once
  // instead of at the next 30 s read (and a replay, which has no bot, never gets any).
  const publishAlertLevels = pipeline
    ? async (levels: AlertLevels) => {
        await bus.publishAlertLevels(levels);
        pipeline.setAlertLevels(levels);
      }
    : (levels: AlertLevels) => bus.publishAlertLevels(levels);
  const ledger = stores.deliveryLedger;
  const createBot = () =>
    createTelegramBot({
      token: config.telegramBotToken,
      apiRoot: config.telegramApiRoot,
      bus: {
        latest: (venue, symbol) => bus.latest(venue, symbol),
        latestMany: (venue, symbols) => bus.latestMany(venue, symbols),
        trackedSymbols: (venue) => bus.trackedSymbols(venue),
        feedStatus: () => bus.feedStatus(),
        publishAlertLevels,
      },
      subscriptions: stores.subscriptions,
      settings: stores.chatSettings,
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
  let bot: ReturnType<typeof createTelegramBot>;
  try {
    bot = createBot();
  } catch (err) {
    // The caller never gets this side to close: close the stores' connections here.
    void stores.close();
    throw err;
  }
  // Alerts reach the bot through the pulse:alerts stream, acknowledged once delivered: the bot
  // can restart (or run as its own process) without losing or repeating an alert.
  const consumer = stores.alertConsumer({
    ...(config.botConsumer ? { consumer: config.botConsumer } : {}),
    handle: async (alert) => {
      const outcomes = await (await bot.deliverAlert(alert)).settled;
      return !outcomes.includes('closed');
    },
  });
  consumer?.start();
  const deliver = consumer
    ? undefined
    : (alert: AlertJson) => {
        bot
          .deliverAlert(alert)
          .catch((err: Error) => logger.error({ err, alertId: alert.id }, 'alert delivery failed'));
      };
  const webhookRoute = bot.webhook ?? undefined;
  // Not awaited (it never rejects, and close() waits for it).
  if (!webhookRoute) void bot.start();

  let closing: Promise<void> | undefined;
  return {
    deliver,
    deliveryStats: () => bot.deliveryStats(),
    readiness: () => bot.readiness(),
    webhookRoute,
    startWebhook: () => (webhookRoute ? bot.start() : Promise.resolve()),
    close: () => {
      closing ??= (async () => {
        await consumer?.close();
        await bot.close();
        await stores.close();
      })();
      return closing;
    },
  };
}
