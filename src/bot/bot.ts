/**
 * The Telegram bot: one grammY middleware stack (one Composer per feature) fed by either long
 * polling or a webhook, and alert delivery. Bot API: https://core.telegram.org/bots/api
 */
import { type Api, Bot, BotError, type Context, GrammyError } from 'grammy';
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
import { marketFeature } from './features/market.js';
import { queriesFeature } from './features/queries.js';
import type { FeatureDeps } from './features/reply.js';
import { settingsFeature } from './features/settings.js';
import { muteFeature, subscriptionsFeature } from './features/subscriptions.js';
import { AlertLevelPublisher } from './level-publisher.js';
import { commandRateLimit } from './rate-limit.js';
import { ScheduleRunner } from './schedules.js';
import { describeError } from './telegram-errors.js';
import { TelegramLiveness, type TelegramReadiness } from './telegram-liveness.js';
import { createWebhookRoute, originOf, settleWithin, type WebhookRoute } from './webhook-route.js';

export type { WebhookRoute } from './webhook-route.js';

/** The update kinds the features handle; the same list in both transports. */
export const ALLOWED_UPDATES = ['message', 'callback_query', 'my_chat_member'] as const;

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

/**
 * `starting`; `polling` (a getUpdates answered) or `webhook` (setWebhook accepted); `conflict`
 * (409: another poller or webhook, retried every `retryMs`); `unauthorized` (401: token wrong,
 * not retried); `failed` (setWebhook refused so far, retried); `closed`.
 */
export type TransportState =
  | 'starting'
  | 'polling'
  | 'webhook'
  | 'conflict'
  | 'unauthorized'
  | 'failed'
  | 'closed';

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

// grammY types signals with the abort-controller polyfill; Node's AbortSignal works at runtime.
type ApiSignal = Parameters<Api['setMyCommands']>[2];

/** Upper bound on each wait at close: grammY may be in a 3 s back-off or a stuck request. */
const POLLING_EXIT_WAIT_MS = 5000;
export function createTelegramBot(opts: TelegramBotOptions): TelegramBot {
  const log = opts.logger.child({ component: 'telegram' });
  const now = opts.now ?? Date.now;
  const pollTimeoutSec = opts.pollTimeoutSec ?? 30;
  const retryMs = opts.retryMs ?? 60_000;
  const mode = opts.webhook ? 'webhook' : 'polling';
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
    marketFeature({ ...deps, bus: opts.bus }),
    muteFeature({ ...deps, settings }),
    unknownCommandFeature(),
  );
  const logBotError = (err: BotError) =>
    log.error({ err: describeError(err.error), updateId: err.ctx.update.update_id }, 'bot middleware failed');
  bot.catch(logBotError);

  let state: TransportState = 'starting';
  let conflictLogged = false;
  const liveness = new TelegramLiveness(Date.now, opts.answeredWithinMs);
  // Every call's outcome (polls, sends, getMe) tells whether Telegram answers;
  // only a getUpdates that answered proves polling works (after a 409 too).
  bot.api.config.use(async (prev, method, payload, signal) => {
    let result: Awaited<ReturnType<typeof prev>>;
    try {
      result = await prev(method, payload, signal);
    } catch (err) {
      if (!closed) liveness.failed(err, method);
      throw err;
    }
    liveness.answered(result, method);
    if (method === 'getUpdates' && result.ok && !closed && state !== 'polling') {
      if (state === 'conflict') log.info('polling resumed: this process is now the only poller');
      state = 'polling';
      conflictLogged = false;
    }
    return result;
  });

  const startAbort = new AbortController();
  const signal = startAbort.signal as unknown as ApiSignal;
  let closed = false;
  let starting: Promise<void> | undefined;
  let polling: Promise<void> | undefined;
  let webhookLoop: Promise<void> | undefined;
  let pollRetry: NodeJS.Timeout | undefined;
  let livenessProbe: NodeJS.Timeout | undefined;
  let closing: Promise<void> | undefined;
  const inFlight = new Set<Promise<void>>();

  function logUnauthorized(): void {
    state = 'unauthorized';
    log.error(
      'Telegram answered 401 Unauthorized: TELEGRAM_BOT_TOKEN is wrong or revoked; the bot stays off',
    );
  }

  function onPollingEnd(err: unknown): void {
    if (closed) {
      log.debug({ err: describeError(err) }, 'polling ended during close');
      return;
    }
    if (err instanceof GrammyError && err.error_code === 401) {
      logUnauthorized();
      return;
    }
    if (err instanceof GrammyError && err.error_code === 409) {
      state = 'conflict';
      if (!conflictLogged) {
        log.error(
          { description: err.description, retryInSec: Math.round(retryMs / 1000) },
          'Telegram answered 409 Conflict: another process is polling with this bot token, or set a webhook for it. ' +
            'Run one bot per token: stop the other instance (or use BOT_MODE=webhook everywhere). Polling again periodically.',
        );
        conflictLogged = true;
      } else {
        log.debug({ description: err.description }, 'still in conflict with another poller');
      }
    } else {
      log.error({ err: describeError(err) }, 'long polling stopped with an error; polling again later');
    }
    pollRetry = setTimeout(poll, retryMs);
  }

  function poll(): void {
    if (closed) return;
    polling = bot
      .start({
        timeout: pollTimeoutSec,
        allowed_updates: [...ALLOWED_UPDATES],
        onStart: (me) => {
          if (state !== 'starting') return; // a restart after a 409 is reported when a poll answers
          state = 'polling';
          log.info({ username: me.username }, 'telegram bot polling');
        },
      })
      .catch(onPollingEnd);
  }

  async function registerCommands(): Promise<void> {
    try {
      await bot.api.setMyCommands(menuOf(COMMANDS), {}, signal);
    } catch (err) {
      if (!closed) log.warn({ err: describeError(err) }, 'could not register the command menu; continuing');
    }
    // Operator commands show only in the admin chats' menus.
    for (const chatId of adminChatIds) {
      if (closed) return;
      const menu = menuOf([...COMMANDS, ...ADMIN_COMMANDS]);
      await bot.api.setMyCommands(menu, { scope: { type: 'chat', chat_id: chatId } }, signal).catch((err) => {
        if (!closed) log.warn({ chatId, err: describeError(err) }, 'could not set the admin command menu');
      });
    }
  }

  /** grammY's bot.start deletes any webhook; say so in one line, since another deployment may rely on it. */
  async function warnIfWebhookSet(): Promise<void> {
    try {
      const info = await bot.api.getWebhookInfo(signal);
      if (!info.url) return;
      log.warn(
        { webhookOrigin: originOf(info.url) },
        'A webhook is set for this bot token but BOT_MODE is polling: deleting it and polling. ' +
          'If another deployment serves that webhook, set BOT_MODE=webhook here (or stop that deployment).',
      );
    } catch (err) {
      if (!closed) log.debug({ err: describeError(err) }, 'getWebhookInfo failed');
    }
  }

  /** getMe (handleUpdate needs botInfo) and setWebhook, each retried every `retryMs` until accepted. */
  async function setWebhookUntilAccepted(url: string, secret: string, firstTried: () => void): Promise<void> {
    for (let attempt = 0; !closed; attempt++) {
      try {
        // Not bot.init(): its retries are unbounded and silent.
        if (!bot.isInited()) bot.botInfo = await bot.api.getMe(signal);
        await bot.api.setWebhook(
          url,
          { secret_token: secret, allowed_updates: [...ALLOWED_UPDATES] },
          signal,
        );
        state = 'webhook';
        log.info({ webhookOrigin: originOf(url) }, 'telegram webhook set');
        startLivenessProbe(url);
        break;
      } catch (err) {
        if (closed) break;
        if (err instanceof GrammyError && err.error_code === 401) {
          logUnauthorized();
          break;
        }
        state = 'failed';
        // describeError keeps message and description only: the payload (with the secret) is never logged.
        if (attempt === 0)
          log.error(
            { err: describeError(err), retryInSec: Math.round(retryMs / 1000) },
            'setWebhook failed: check WEBHOOK_URL (public https on port 443, 80, 88 or 8443); retrying periodically',
          );
        else log.debug({ err: describeError(err) }, 'setWebhook failed again');
      }
      firstTried();
      await sleep(retryMs, startAbort.signal);
    }
    firstTried();
  }

  /**
   * Webhook mode only (long polling is itself a call every poll timeout): one getWebhookInfo per
   * interval, even while sends succeed, since only it tells whether updates still reach us.
   */
  function startLivenessProbe(url: string): void {
    clearInterval(livenessProbe);
    livenessProbe = setInterval(() => {
      if (closed) return;
      // Whether Telegram answered is recorded by the transformer above.
      bot.api.getWebhookInfo(signal).then(
        (info) => {
          const problem = liveness.webhookInfo(info, url);
          if (problem) log.error({ problem }, 'webhook updates do not reach this bot');
        },
        (err) => log.debug({ err: describeError(err) }, 'liveness probe failed'),
      );
    }, opts.livenessProbeMs ?? 60_000);
    livenessProbe.unref();
  }

  async function startTransport(): Promise<void> {
    await registerCommands();
    if (closed) return;
    if (!opts.webhook) {
      await warnIfWebhookSet();
      return poll();
    }
    const { url, secret } = opts.webhook;
    // Resolves after the first attempt; a refused setWebhook is retried in the background.
    await new Promise<void>((firstTried) => {
      webhookLoop = setWebhookUntilAccepted(url, secret, firstTried);
    });
  }

  const webhook: WebhookRoute | null = opts.webhook
    ? createWebhookRoute({
        path: new URL(opts.webhook.url).pathname,
        secret: opts.webhook.secret,
        log,
        accepting: () => !closed && bot.isInited(),
        handleUpdate: (update) => {
          liveness.updateArrived();
          const task = bot.handleUpdate(update).catch((err: unknown) => {
            if (err instanceof BotError) logBotError(err);
            else log.error({ err: describeError(err), updateId: update.update_id }, 'update failed');
          });
          inFlight.add(task);
          void task.finally(() => inFlight.delete(task));
          return task;
        },
        inFlight: () => inFlight.size,
      })
    : null;

  return {
    bot,
    webhook,
    start() {
      if (closed) return Promise.resolve();
      schedules.start();
      void levels?.start();
      starting ??= startTransport();
      return starting;
    },
    deliverAlert: (alert) => delivery.deliver(alert),
    sendText: (chatId, html) => delivery.sendText(chatId, html),
    deliveryStats: () => delivery.stats(),
    transport: () => ({ mode, state }),
    readiness: () => liveness.readiness(mode, state),
    close() {
      closing ??= (async () => {
        closed = true;
        state = 'closed';
        startAbort.abort();
        clearTimeout(pollRetry);
        clearInterval(livenessProbe);
        await starting;
        await webhookLoop;
        await schedules.close();
        await levels?.close();
        await delivery.close();
        await ownSettings?.close();
        if (bot.isRunning()) {
          // stop() confirms the last offset with one more getUpdates that it cannot abort: bounded here.
          const stopped = bot
            .stop()
            .catch((err) => log.debug({ err: describeError(err) }, 'offset confirm failed'));
          await settleWithin(stopped, POLLING_EXIT_WAIT_MS);
        }
        if (polling) await settleWithin(polling, POLLING_EXIT_WAIT_MS);
        if (inFlight.size > 0) await settleWithin(Promise.allSettled([...inFlight]), POLLING_EXIT_WAIT_MS);
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

function sleep(ms: number, signal: AbortSignal): Promise<void> {
  return new Promise((resolve) => {
    if (signal.aborted) return resolve();
    const timer = setTimeout(done, ms);
    function done() {
      clearTimeout(timer);
      signal.removeEventListener('abort', done);
      resolve();
    }
    signal.addEventListener('abort', done);
  });
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
