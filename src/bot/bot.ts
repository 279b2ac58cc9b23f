/**
 * The Telegram bot: grammY long polling, one Composer per feature, and alert delivery.
 * Bot API: https://core.telegram.org/bots/api
 */
import { type Api, Bot, type Context, GrammyError } from 'grammy';
import type { UserFromGetMe } from 'grammy/types';
import type { Logger } from 'pino';
import type { Bus, SubscriptionStore } from '../bus/types.js';
import type { AlertJson } from '../domain/types.js';
import {
  type AlertDeliveryOptions,
  createAlertDelivery,
  type DeliveryHandle,
  type DeliveryLedger,
  type DeliveryStats,
  describeError,
} from './delivery.js';
import { basicFeature, COMMANDS, unknownCommandFeature } from './features/basic.js';
import { queriesFeature } from './features/queries.js';
import type { FeatureDeps } from './features/reply.js';
import { subscriptionsFeature } from './features/subscriptions.js';

export interface TelegramBotOptions {
  readonly token: string;
  /** Default `https://api.telegram.org`; tests point it at a local stand-in. */
  readonly apiRoot?: string;
  readonly bus: Pick<Bus, 'latest' | 'trackedSymbols'>;
  readonly subscriptions: SubscriptionStore;
  /** Venues `/oi` and `/funding` look at, in reply order. */
  readonly venues: string[];
  readonly logger: Logger;
  /** Skips `getMe` at start when given. */
  readonly botInfo?: UserFromGetMe;
  /** Wall clock for message text; default `Date.now`. */
  readonly now?: () => number;
  /** Long-polling timeout in seconds; default 30. */
  readonly pollTimeoutSec?: number;
  /** Records delivered (alert, chat) pairs outside the process, so a restart sends nothing twice. */
  readonly ledger?: DeliveryLedger;
  /** Delivery pacing and bounds; the defaults suit the real Bot API. */
  readonly delivery?: Omit<AlertDeliveryOptions, 'api' | 'store' | 'logger' | 'now'>;
}

export interface TelegramBot {
  readonly bot: Bot;
  /** Registers the command menu and starts long polling in the background. Never rejects. */
  start(): Promise<void>;
  /** Queues the alert for every chat subscribed to its symbol. */
  deliverAlert(alert: AlertJson): Promise<DeliveryHandle>;
  /** Delivery counters and queue lengths, for /metrics. */
  deliveryStats(): DeliveryStats;
  /** Stops polling and delivery; idempotent. */
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

  bot.use(replyOnFailure(log));
  bot.use(basicFeature(), subscriptionsFeature(deps), queriesFeature(deps), unknownCommandFeature());
  bot.catch((err) => {
    log.error({ err: describeError(err.error), updateId: err.ctx.update.update_id }, 'bot middleware failed');
  });

  const delivery = createAlertDelivery({
    ...opts.delivery,
    api: bot.api,
    store: opts.subscriptions,
    logger: log,
    now,
    ...(opts.ledger ? { ledger: opts.ledger } : {}),
  });

  const startAbort = new AbortController();
  let closed = false;
  let starting: Promise<void> | undefined;
  let polling: Promise<void> | undefined;
  let closing: Promise<void> | undefined;

  function onPollingEnd(err: unknown): void {
    if (closed) {
      log.debug({ err: describeError(err) }, 'polling ended during close');
    } else if (err instanceof GrammyError && err.error_code === 409) {
      log.error(
        'Telegram answered 409 Conflict: another bot instance or a webhook uses this token; polling stopped',
      );
    } else if (err instanceof GrammyError && err.error_code === 401) {
      log.error('Telegram answered 401 Unauthorized: the bot token is wrong or revoked; polling stopped');
    } else {
      log.error({ err: describeError(err) }, 'long polling stopped with an error');
    }
  }

  async function registerAndPoll(): Promise<void> {
    try {
      await bot.api.setMyCommands(COMMANDS, {}, startAbort.signal as unknown as ApiSignal);
    } catch (err) {
      log.warn({ err: describeError(err) }, 'could not register the command menu; continuing');
    }
    if (closed) return;
    polling = bot
      .start({
        timeout: pollTimeoutSec,
        onStart: (me) => log.info({ username: me.username }, 'telegram bot polling'),
      })
      .catch(onPollingEnd);
  }

  return {
    bot,
    start() {
      if (closed) return Promise.resolve();
      starting ??= registerAndPoll();
      return starting;
    },
    deliverAlert: (alert) => delivery.deliver(alert),
    deliveryStats: () => delivery.stats(),
    close() {
      closing ??= (async () => {
        closed = true;
        startAbort.abort();
        await starting;
        await delivery.close();
        if (bot.isRunning()) {
          // stop() confirms the last offset with one more getUpdates that it cannot abort: bounded here.
          const stopped = bot
            .stop()
            .catch((err) => log.debug({ err: describeError(err) }, 'offset confirm failed'));
          await settleWithin(stopped, POLLING_EXIT_WAIT_MS);
        }
        if (polling) await settleWithin(polling, POLLING_EXIT_WAIT_MS);
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

async function settleWithin(promise: Promise<unknown>, ms: number): Promise<void> {
  let timer: NodeJS.Timeout | undefined;
  await Promise.race([promise, new Promise((resolve) => (timer = setTimeout(resolve, ms)))]);
  clearTimeout(timer);
}
