/**
 * The Telegram bot's wiring: one grammY middleware stack (one Composer per feature, sharing one
 * `FeatureDeps`), fed by the transport (`transport.ts`: long polling or a webhook), plus alert
 * delivery, the quiet-hour and reminder schedules and the alert-level publisher.
 * Bot API: https://core.telegram.org/bots/api
 */
import { Bot, type Context } from 'grammy';
import type { UserFromGetMe } from 'grammy/types';
import type { Logger } from 'pino';
import { MemoryChatSettingsStore } from '../bus/chat-settings-store.js';
import type { Bus, ChatSettingsStore, SubscriptionStore } from '../bus/types.js';
import type { AlertJson } from '../domain/types.js';
import { createChatPolicy } from './chat-policy.js';
import {
  type AlertDeliveryOptions,
  createAlertDelivery,
  type DeliveryHandle,
  type DeliveryLedger,
  type DeliveryStats,
} from './delivery.js';
import { ADMIN_COMMANDS, type AdminStats, adminFeature } from './features/admin.js';
import { basicFeature, COMMANDS, menuOf, unknownCommandFeature } from './features/basic.js';
import { liquidationsFeature } from './features/liquidations.js';
import { marketFeature } from './features/market.js';
import { muteFeature } from './features/mute.js';
import { queriesFeature } from './features/queries.js';
import { settingsFeature } from './features/settings.js';
import { subscriptionsFeature } from './features/subscriptions.js';
import { createAdminCheck } from './kit/admin-check.js';
import type { FeatureDeps } from './kit/deps.js';
import { AlertLevelPublisher } from './level-publisher.js';
import { commandRateLimit } from './rate-limit.js';
import { ScheduleRunner } from './schedules.js';
import { describeError } from './telegram-errors.js';
import type { TelegramReadiness } from './telegram-liveness.js';
import { type ApiSignal, createTelegramTransport, type TransportState } from './transport.js';
import type { WebhookRoute } from './webhook-route.js';

export { ALLOWED_UPDATES, type TransportState } from './transport.js';
export type { WebhookRoute } from './webhook-route.js';

export interface TelegramBotOptions {
  readonly token: string;
  /** Default `https://api.telegram.org`; tests point it at a local stand-in. */
  readonly apiRoot?: string;
  /**
   * Snapshots and feed health for the commands. With `publishAlertLevels` the chats' thresholds on
   * level kinds are published for the processor (`pulse:alert-levels`) and routed by level;
   * without it every chat threshold filters the server's alerts.
   */
  readonly bus: Pick<Bus, 'latest' | 'latestMany' | 'trackedSymbols' | 'feedStatus'> &
    Partial<Pick<Bus, 'publishAlertLevels'>>;
  readonly subscriptions: SubscriptionStore;
  /** Per-chat settings, mutes and quiet-hour holds; default in memory (lost at restart). */
  readonly settings?: ChatSettingsStore;
  /** After an alert of a kind for a symbol, the same kind from another venue is skipped this long; default 30 min. */
  readonly crossVenueQuietMs?: number;
  /** Between quiet-hour summary and funding-reminder sweeps; default 60,000 ms. */
  readonly scheduleIntervalMs?: number;
  /** Between periodic publications of the chat alert levels; default 60,000 ms. */
  readonly levelsIntervalMs?: number;
  /** Venues `/oi` and `/funding` look at, in reply order. */
  readonly venues: string[];
  readonly logger: Logger;
  /** Skips `getMe` at start when given. */
  readonly botInfo?: UserFromGetMe;
  /** Wall clock for message text and the rate limit; default `Date.now`. */
  readonly now?: () => number;
  /** Long-polling timeout in seconds; default 30. */
  readonly pollTimeoutSec?: number;
  /** Records delivered (alert, chat) pairs outside the process, so a restart sends nothing twice. */
  readonly ledger?: DeliveryLedger;
  /** Delivery pacing and bounds; the defaults suit the real Bot API. */
  readonly delivery?: Omit<AlertDeliveryOptions, 'api' | 'store' | 'logger' | 'now' | 'policy' | 'onHold'>;
  /**
   * Webhook mode when given: `start()` calls `setWebhook(url, { secret_token })` and updates arrive
   * through `TelegramBot.webhook`, mounted on the HTTP server at the URL's path. Default: long polling.
   */
  readonly webhook?: { readonly url: string; readonly secret: string };
  /** Chats allowed to run `/stats` (`ADMIN_CHAT_IDS`); default none. */
  readonly adminChatIds?: readonly number[];
  /** `/stats` numbers the bot does not own (chats, subscriptions); alerts sent and failures default to delivery's. */
  readonly stats?: () => Promise<Partial<AdminStats>> | Partial<AdminStats>;
  /** Commands and button presses per chat per minute; default 20. */
  readonly commandRatePerMin?: number;
  /** Wait before polling again after a 409, or before retrying a failed `setWebhook`; default 60,000. */
  readonly retryMs?: number;
  /**
   * Webhook mode: every this often a `getWebhookInfo` checks that the Bot API answers (a quiet
   * webhook bot has no other traffic) and that the webhook is still ours and delivered to. Default
   * 60,000 ms: half of `TELEGRAM_ANSWERED_WITHIN_MS`, so a healthy quiet bot never reads as unready.
   */
  readonly livenessProbeMs?: number;
  /** `readiness()` is ok only if the Bot API answered within this; default `TELEGRAM_ANSWERED_WITHIN_MS` (2 min). */
  readonly answeredWithinMs?: number;
}

export interface TelegramBot {
  readonly bot: Bot;
  /** In webhook mode, the route that receives Telegram's POSTs; null when polling. */
  readonly webhook: WebhookRoute | null;
  /** Registers the command menu and starts polling, or sets the webhook. Never rejects. */
  start(): Promise<void>;
  /** Queues the alert for every chat subscribed to its symbol. */
  deliverAlert(alert: AlertJson): Promise<DeliveryHandle>;
  /** Queues a plain message on the chat's paced queue (summaries, reminders). */
  sendText(chatId: number, html: string): Promise<void>;
  /** Delivery counters and queue lengths, for /metrics. */
  deliveryStats(): DeliveryStats;
  transport(): { readonly mode: 'polling' | 'webhook'; readonly state: TransportState };
  /** Ready when updates reach the bot and the Bot API answered recently (`/readyz` `checks.telegram`). */
  readiness(): TelegramReadiness;
  /** Stops polling (the webhook stays set, so Telegram keeps updates for the next start) and delivery; idempotent. */
  close(): Promise<void>;
}

export function createTelegramBot(opts: TelegramBotOptions): TelegramBot {
  const log = opts.logger.child({ component: 'telegram' });
  const now = opts.now ?? Date.now;
  const pollTimeoutSec = opts.pollTimeoutSec ?? 30;
  const bot = new Bot(opts.token, {
    ...(opts.botInfo ? { botInfo: opts.botInfo } : {}),
    // grammY's default of 500 s would let one unanswered sendMessage stall a chat's queue for minutes.
    client: { timeoutSeconds: pollTimeoutSec + 30, ...(opts.apiRoot ? { apiRoot: opts.apiRoot } : {}) },
  });
  const deps: FeatureDeps = {
    bus: opts.bus,
    subscriptions: opts.subscriptions,
    venues: opts.venues,
    logger: log,
    now,
    // One cache of getChatMember answers for every feature's commands and buttons.
    mayChange: createAdminCheck({ now, logger: log.child({ feature: 'admin-check' }) }),
  };
  const adminChatIds = [...new Set(opts.adminChatIds ?? [])];
  const ownSettings = opts.settings ? null : new MemoryChatSettingsStore();
  const settings: ChatSettingsStore = opts.settings ?? (ownSettings as ChatSettingsStore);

  const publishLevels = opts.bus.publishAlertLevels?.bind(opts.bus);
  const levels = publishLevels
    ? new AlertLevelPublisher({
        store: settings,
        publish: publishLevels,
        logger: log,
        ...(opts.levelsIntervalMs ? { intervalMs: opts.levelsIntervalMs } : {}),
      })
    : null;

  const delivery = createAlertDelivery({
    ...opts.delivery,
    // A second for a burst (rules, venues, symbols firing together) to become one message.
    queue: { coalesceMs: 1000, ...opts.delivery?.queue },
    api: bot.api,
    // A chat that blocked the bot or became a supergroup takes its settings along.
    store: withSettings(opts.subscriptions, settings),
    policy: createChatPolicy(settings, {
      ...(opts.crossVenueQuietMs !== undefined ? { crossVenueQuietMs: opts.crossVenueQuietMs } : {}),
      ...(levels ? { levels: () => levels.current() } : {}),
    }),
    onHold: (chatId, alert) => settings.hold(chatId, alert),
    logger: log,
    now,
    ...(opts.ledger ? { ledger: opts.ledger } : {}),
  });
  const schedules = new ScheduleRunner({
    store: settings,
    subscriptions: opts.subscriptions,
    latest: (venue, symbol) => opts.bus.latest(venue, symbol),
    send: (chatId, html) => delivery.sendText(chatId, html),
    venues: opts.venues,
    now,
    logger: log,
    ...(opts.scheduleIntervalMs ? { intervalMs: opts.scheduleIntervalMs } : {}),
  });
  const stats = async (): Promise<AdminStats> => {
    const d = delivery.stats();
    const counts = await opts.subscriptions.counts?.().catch(() => null);
    return {
      chats: counts?.chats ?? null,
      subscriptions: counts?.subscriptions ?? null,
      alertsSent: d.sent,
      failures: d.failed,
      ...(await opts.stats?.()),
    };
  };

  bot.use(replyOnFailure(log));
  bot.use(commandRateLimit({ perMin: opts.commandRatePerMin ?? 20, now }));
  bot.use(
    basicFeature(),
    adminFeature({ adminChatIds, stats }),
    // before subscriptions: its migrate and my_chat_member handlers do not call next()
    settingsFeature({
      ...deps,
      settings,
      levelsPublished: levels !== null,
      ...(levels ? { onSettingsChanged: () => void levels.publishNow() } : {}),
    }),
    subscriptionsFeature(deps),
    queriesFeature(deps),
    liquidationsFeature(deps),
    marketFeature({ ...deps, bus: opts.bus }),
    muteFeature({ ...deps, settings }),
    unknownCommandFeature(),
  );
  const transport = createTelegramTransport({
    bot,
    log,
    pollTimeoutSec,
    retryMs: opts.retryMs ?? 60_000,
    ...(opts.webhook ? { webhook: opts.webhook } : {}),
    ...(opts.livenessProbeMs !== undefined ? { livenessProbeMs: opts.livenessProbeMs } : {}),
    ...(opts.answeredWithinMs !== undefined ? { answeredWithinMs: opts.answeredWithinMs } : {}),
    beforeStart: (signal) => registerCommandMenus(bot, adminChatIds, log, signal),
  });
  let closed = false;
  let closing: Promise<void> | undefined;

  return {
    bot,
    webhook: transport.webhook,
    start() {
      if (closed) return Promise.resolve();
      schedules.start();
      void levels?.start();
      return transport.start();
    },
    deliverAlert: (alert) => delivery.deliver(alert),
    sendText: (chatId, html) => delivery.sendText(chatId, html),
    deliveryStats: () => delivery.stats(),
    transport: () => ({ mode: transport.mode, state: transport.state() }),
    readiness: () => transport.readiness(),
    close() {
      closing ??= (async () => {
        closed = true;
        // Updates stop first (and the ones being handled finish), then what they feed.
        await transport.close();
        await schedules.close();
        await levels?.close();
        await delivery.close();
        await ownSettings?.close();
      })();
      return closing;
    },
  };
}

/** Tells the user when a handler failed (Redis down, say) instead of staying silent. */
function replyOnFailure(log: Logger) {
  return async (ctx: Context, next: () => Promise<void>): Promise<void> => {
    try {
      await next();
    } catch (err) {
      log.error(
        { err: describeError(err), chatId: ctx.chat?.id, updateId: ctx.update.update_id },
        'command failed',
      );
      if (ctx.chat) {
        await ctx.reply('Something went wrong on our side. Please try again in a minute.').catch(() => {});
      }
    }
  };
}

/** The subscription store, with settings removed or migrated together with the chat. */
function withSettings(store: SubscriptionStore, settings: ChatSettingsStore): SubscriptionStore {
  return {
    add: (chatId, symbol, venue) => store.add(chatId, symbol, venue),
    venuesFor: (chatId, symbol) => store.venuesFor(chatId, symbol),
    remove: (chatId, symbol) => store.remove(chatId, symbol),
    listForChat: (chatId) => store.listForChat(chatId),
    ...(store.counts ? { counts: () => store.counts!() } : {}),
    chatsFor: (symbol) => store.chatsFor(symbol),
    removeChat: async (chatId) => {
      await store.removeChat(chatId);
      await settings.removeChat(chatId);
    },
    migrateChat: async (oldChatId, newChatId) => {
      await store.migrateChat(oldChatId, newChatId);
      await settings.migrateChat(oldChatId, newChatId);
    },
    close: () => store.close(),
  };
}

/** The command menu for everyone, and with the operator commands in the admin chats; never rejects. */
async function registerCommandMenus(
  bot: Bot,
  adminChatIds: readonly number[],
  log: Logger,
  signal: ApiSignal,
): Promise<void> {
  const closed = () => signal?.aborted === true;
  try {
    await bot.api.setMyCommands(menuOf(COMMANDS), {}, signal);
  } catch (err) {
    if (!closed()) log.warn({ err: describeError(err) }, 'could not register the command menu; continuing');
  }
  // Operator commands show only in the admin chats' menus.
  for (const chatId of adminChatIds) {
    if (closed()) return;
    const menu = menuOf([...COMMANDS, ...ADMIN_COMMANDS]);
    await bot.api.setMyCommands(menu, { scope: { type: 'chat', chat_id: chatId } }, signal).catch((err) => {
      if (!closed()) log.warn({ chatId, err: describeError(err) }, 'could not set the admin command menu');
    });
  }
}
