/**
 * How updates reach the bot: long polling (https://core.telegram.org/bots/api#getupdates) or a
 * webhook (https://core.telegram.org/bots/api#setwebhook), with the state machine around each
 * (409 Conflict, 401 Unauthorized, a refused setWebhook) and the liveness that `/readyz` reads.
 * The middleware stack, delivery and schedules are wired in `bot.ts`; this module only starts,
 * watches and stops the flow of updates into `bot`.
 */
import { type Api, type Bot, BotError, GrammyError } from 'grammy';
import type { Logger } from 'pino';
import { describeError } from './telegram-errors.js';
import { TelegramLiveness, type TelegramReadiness } from './telegram-liveness.js';
import { createWebhookRoute, originOf, settleWithin, type WebhookRoute } from './webhook-route.js';

/** The update kinds the features handle; the same list in both transports. */
export const ALLOWED_UPDATES = ['message', 'callback_query', 'my_chat_member'] as const;

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

// grammY types signals with the abort-controller polyfill; Node's AbortSignal works at runtime.
export type ApiSignal = Parameters<Api['setMyCommands']>[2];

export interface TelegramTransportOptions {
  /** The bot whose middleware handles the updates; the transport adds a transformer and `bot.catch`. */
  readonly bot: Bot;
  readonly log: Logger;
  /** Long-polling timeout in seconds. */
  readonly pollTimeoutSec: number;
  /** Wait before polling again after a 409, or before retrying a failed `setWebhook`. */
  readonly retryMs: number;
  /** Webhook mode when given (see `TelegramBotOptions.webhook`); default long polling. */
  readonly webhook?: { readonly url: string; readonly secret: string };
  /** Webhook mode: between `getWebhookInfo` liveness probes; default 60,000 ms. */
  readonly livenessProbeMs?: number;
  /** Readiness bound on the last Bot API answer; default `TELEGRAM_ANSWERED_WITHIN_MS`. */
  readonly answeredWithinMs?: number;
  /**
   * Runs once at start before polling or `setWebhook` (the bot registers its command menu). Its
   * signal aborts at `close()`; a rejection is the caller's to handle (it should not reject).
   */
  readonly beforeStart?: (signal: ApiSignal) => Promise<void>;
}

export interface TelegramTransport {
  readonly mode: 'polling' | 'webhook';
  /** In webhook mode, the route that receives Telegram's POSTs; null when polling. */
  readonly webhook: WebhookRoute | null;
  state(): TransportState;
  readiness(): TelegramReadiness;
  /** Starts polling, or sets the webhook (retried in the background); idempotent, never rejects. */
  start(): Promise<void>;
  /**
   * Stops polling (a set webhook stays, so Telegram keeps updates for the next start) and waits,
   * bounded, for the updates being handled; idempotent.
   */
  close(): Promise<void>;
}

/** Upper bound on each wait at close: grammY may be in a 3 s back-off or a stuck request. */
const POLLING_EXIT_WAIT_MS = 5000;

export function createTelegramTransport(opts: TelegramTransportOptions): TelegramTransport {
  const { bot, log, pollTimeoutSec, retryMs } = opts;
  const mode = opts.webhook ? 'webhook' : 'polling';
  let state: TransportState = 'starting';
  let conflictLogged = false;
  let closed = false;
  let starting: Promise<void> | undefined;
  let polling: Promise<void> | undefined;
  let webhookLoop: Promise<void> | undefined;
  let pollRetry: NodeJS.Timeout | undefined;
  let livenessProbe: NodeJS.Timeout | undefined;
  let closing: Promise<void> | undefined;
  const inFlight = new Set<Promise<void>>();
  const startAbort = new AbortController();
  const signal = startAbort.signal as unknown as ApiSignal;
  const liveness = new TelegramLiveness(Date.now, opts.answeredWithinMs);

  const logBotError = (err: BotError) =>
    log.error({ err: describeError(err.error), updateId: err.ctx.update.update_id }, 'bot middleware failed');
  bot.catch(logBotError);

  // Every call's outcome (polls, sends, getMe) tells whether Telegram answers;
  // only a getUpdates that answered proves polling works (after a 409 too).
  bot.api.config.use(async (prev, method, payload, callSignal) => {
    let result: Awaited<ReturnType<typeof prev>>;
    try {
      result = await prev(method, payload, callSignal);
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

  async function run(): Promise<void> {
    await opts.beforeStart?.(signal);
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
    mode,
    webhook,
    state: () => state,
    readiness: () => liveness.readiness(mode, state),
    start() {
      if (closed) return Promise.resolve();
      starting ??= run();
      return starting;
    },
    close() {
      closing ??= (async () => {
        closed = true;
        state = 'closed';
        startAbort.abort();
        clearTimeout(pollRetry);
        clearInterval(livenessProbe);
        await starting;
        await webhookLoop;
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
