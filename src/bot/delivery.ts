/**
 * Alert delivery: one FIFO per chat, paced to Telegram's limits, with every Bot API answer
 * mapped to what to do next. Limits and permanent errors: https://core.telegram.org/bots/faq
 * and /work/shared/reliability.md ("Telegram Bot API").
 */
import { performance } from 'node:perf_hooks';
import type { Api } from 'grammy';
import type { Logger } from 'pino';
import type { SubscriptionStore } from '../bus/types.js';
import type { AlertJson } from '../domain/types.js';
import { formatAlertMessage } from './format.js';

export type TelegramErrorAction = 'retry' | 'drop-chat' | 'migrate' | 'bug';

interface TelegramErrorLike {
  readonly error_code: number;
  readonly description?: string;
  readonly parameters?: { readonly retry_after?: number; readonly migrate_to_chat_id?: number };
}

function asTelegramError(err: unknown): TelegramErrorLike | null {
  const e = err as Partial<TelegramErrorLike> | null;
  return typeof e === 'object' && e !== null && typeof e.error_code === 'number'
    ? (e as TelegramErrorLike)
    : null;
}

// 400s that mean the chat is gone or closed to us for good, from the Bot API server's source.
const GONE_CHAT_400 = /chat not found|user not found|not enough rights to send|have no rights to send/i;

/**
 * What to do after a failed Bot API call. `retry`: 429, 5xx or no answer (grammY `HttpError`);
 * `drop-chat`: 403 (blocked, kicked, deactivated) or a 400 saying the chat is gone;
 * `migrate`: 400 with `parameters.migrate_to_chat_id`; `bug`: anything else (bad HTML, too long).
 */
export function classifyTelegramError(err: unknown): TelegramErrorAction {
  const e = asTelegramError(err);
  if (e === null) return (err as Error | null)?.name === 'HttpError' ? 'retry' : 'bug';
  if (e.error_code === 429 || e.error_code >= 500) return 'retry';
  if (e.error_code === 403) return 'drop-chat';
  if (e.error_code === 400 && typeof e.parameters?.migrate_to_chat_id === 'number') return 'migrate';
  if (e.error_code === 400 && GONE_CHAT_400.test(e.description ?? '')) return 'drop-chat';
  return 'bug';
}

const redact = (text: string) => text.replace(/\/bot[^/\s]*\//g, '/bot<redacted>/');

/**
 * A loggable view of an error. node-fetch puts the request URL, bot token included, into its
 * messages, so every string is passed through a redaction of `/bot<token>/`.
 */
export function describeError(err: unknown): Record<string, unknown> {
  if (!(err instanceof Error)) return { message: redact(String(err)) };
  const e = err as Error & Partial<TelegramErrorLike> & { error?: unknown };
  const out: Record<string, unknown> = { type: e.name, message: redact(e.message) };
  if (e.error_code !== undefined)
    Object.assign(out, { error_code: e.error_code, description: e.description });
  if (e.parameters !== undefined && Object.keys(e.parameters).length > 0) out.parameters = e.parameters;
  if (e.error !== undefined) out.cause = redact(e.error instanceof Error ? e.error.message : String(e.error));
  if (e.error_code === undefined && e.stack) out.stack = redact(e.stack);
  return out;
}

const SEND_OPTIONS = { parse_mode: 'HTML', link_preview_options: { is_disabled: true } } as const;

// grammY types its signal with the abort-controller polyfill; Node's AbortSignal works at runtime.
type ApiSignal = Parameters<Api['sendMessage']>[3];

/** The one Bot API method delivery needs; grammY's `Api` satisfies it. */
export interface MessageSender {
  sendMessage(chatId: number, text: string, other: typeof SEND_OPTIONS, signal?: ApiSignal): Promise<unknown>;
}

export interface AlertDeliveryOptions {
  readonly api: MessageSender;
  readonly store: SubscriptionStore;
  /** Skips chats an alert already reached (across restarts); none = in-memory only. */
  readonly ledger?: DeliveryLedger;
  readonly logger: Logger;
  /** Default 50. When a chat's queue is full the oldest waiting message is dropped and counted. */
  readonly maxQueuePerChat?: number;
  /** Default 1000 ms between two messages to one chat (Telegram: about 1 message/s per chat). */
  readonly minIntervalPerChatMs?: number;
  /** Default 35 ms between any two messages (Telegram: about 30 messages/s per bot). */
  readonly minIntervalGlobalMs?: number;
  /** Default 5000 ms before the single resend after a network error (the first may have arrived). */
  readonly networkRetryDelayMs?: number;
  /** Default 10 answers of 429 for one message before it is dropped. */
  readonly maxRateLimitRetries?: number;
  /** Wall clock for message text (time to funding reset); pacing uses a monotonic clock. */
  readonly now?: () => number;
}

export interface DeliveryStats {
  readonly queued: number;
  readonly sent: number;
  /** Messages dropped because a chat's queue was full. */
  readonly dropped: number;
  /** Messages given up on: a `bug` answer, a second network error, too many 429s. */
  readonly failed: number;
  readonly removedChats: number;
  readonly migratedChats: number;
  /** 429 answers from Telegram (each waited out with its retry_after). */
  readonly rateLimited: number;
}

export interface AlertDelivery {
  /** Queues the alert for every chat subscribed to its symbol; resolves once queued, not sent. */
  deliver(alert: AlertJson): Promise<DeliveryHandle>;
  /** Resolves when every queue is empty. */
  idle(): Promise<void>;
  stats(): DeliveryStats;
  /** Stops timers and aborts in-flight sends; waiting messages are discarded. Idempotent. */
  close(): Promise<void>;
}

type Pending = {
  readonly alertId: string;
  readonly text: string;
  rateLimited: number;
  networkRetried: boolean;
  /** Called once when this chat's message is done with: sent, given up, dropped or closed. */
  readonly settle: (outcome: SettleOutcome) => void;
};

export type SettleOutcome = 'sent' | 'failed' | 'dropped' | 'duplicate' | 'closed';

/** Resolves when every chat's message of one alert is done with (see `SettleOutcome`). */
export interface DeliveryHandle {
  readonly settled: Promise<readonly SettleOutcome[]>;
}

/**
 * What was delivered, per alert and chat, kept outside the process so a restarted bot that
 * receives an alert again (a stream consumer is at-least-once) sends it to no chat twice.
 */
export interface DeliveryLedger {
  wasDelivered(alertId: string, chatId: number): Promise<boolean>;
  recordDelivered(alertId: string, chatId: number): Promise<void>;
}
/** Waiting messages of one chat (the one being sent is not in `items`) and its worker. */
type ChatQueue = { readonly items: Pending[]; nextSendAtMs: number; running: Promise<void> | undefined };

/** Alert ids remembered to skip re-deliveries (a stream consumer is at-least-once). */
const RECENT_ALERT_IDS = 1000;

export function createAlertDelivery(opts: AlertDeliveryOptions): AlertDelivery {
  const { api, store } = opts;
  const log = opts.logger.child({ component: 'alert-delivery' });
  const maxQueue = Math.max(1, opts.maxQueuePerChat ?? 50);
  const perChatMs = opts.minIntervalPerChatMs ?? 1000;
  const globalMs = opts.minIntervalGlobalMs ?? 35;
  const networkRetryDelayMs = opts.networkRetryDelayMs ?? 5000;
  const maxRateLimitRetries = opts.maxRateLimitRetries ?? 10;
  const now = opts.now ?? Date.now;
  const mono = () => performance.now();

  const queues = new Map<number, ChatQueue>();
  const recent = new Set<string>();
  const timers = new Set<{ handle: NodeJS.Timeout; resolve: (ok: boolean) => void }>();
  const abort = new AbortController();
  const counts = { sent: 0, dropped: 0, failed: 0, removedChats: 0, migratedChats: 0, rateLimited: 0 };
  let nextGlobalAtMs = 0;
  let closed = false;
  let closing: Promise<void> | undefined;

  /** Resolves true after `ms`, or false at once when delivery is closed. */
  function sleep(ms: number): Promise<boolean> {
    if (closed) return Promise.resolve(false);
    if (ms <= 0) return Promise.resolve(true);
    return new Promise((resolve) => {
      const done = () => timers.delete(timer) && resolve(true);
      const timer = { handle: setTimeout(done, ms), resolve };
      timers.add(timer);
    });
  }

  function enqueue(chatId: number, item: Pending): void {
    const q = queues.get(chatId) ?? { items: [], nextSendAtMs: 0, running: undefined };
    queues.set(chatId, q);
    if (q.items.some((i) => i.alertId === item.alertId)) {
      item.settle('duplicate');
      return;
    }
    q.items.push(item);
    while (q.items.length > maxQueue) {
      const dropped = q.items.shift();
      dropped?.settle('dropped');
      counts.dropped++;
      log.warn({ chatId, alertId: dropped?.alertId }, 'chat queue full: dropped the oldest alert');
    }
    if (q.running === undefined) q.running = run(chatId, q);
  }

  async function run(chatId: number, q: ChatQueue): Promise<void> {
    while (!closed) {
      const waitMs = q.nextSendAtMs - mono();
      if (waitMs > 0) {
        if (!(await sleep(waitMs))) break;
        continue;
      }
      const item = q.items.shift();
      if (item === undefined) break;
      await send(chatId, q, item).catch((err) => {
        counts.failed++;
        item.settle('failed');
        log.error(
          { err: describeError(err), chatId, alertId: item.alertId },
          'alert delivery failed unexpectedly',
        );
      });
    }
    if (closed) for (const left of q.items.splice(0)) left.settle('closed');
    // Kept until the per-chat interval has passed (the wait above), so pacing survives bursts.
    q.running = undefined;
    if (queues.get(chatId) === q) queues.delete(chatId);
  }

  async function send(chatId: number, q: ChatQueue, item: Pending): Promise<void> {
    const chatLog = log.child({ chatId, alertId: item.alertId });
    for (;;) {
      const slotMs = Math.max(mono(), nextGlobalAtMs);
      nextGlobalAtMs = slotMs + globalMs;
      if (!(await sleep(slotMs - mono()))) return item.settle('closed');
      try {
        await api.sendMessage(chatId, item.text, SEND_OPTIONS, abort.signal as unknown as ApiSignal);
        q.nextSendAtMs = mono() + perChatMs;
        counts.sent++;
        await opts.ledger
          ?.recordDelivered(item.alertId, chatId)
          .catch((err) => chatLog.warn({ err: describeError(err) }, 'could not record the delivery'));
        return item.settle('sent');
      } catch (err) {
        if (closed) return item.settle('closed');
        q.nextSendAtMs = mono() + perChatMs;
        const waitMs = await afterFailure(chatId, q, item, err, chatLog);
        if (waitMs === null) return;
        if (!(await sleep(waitMs))) return item.settle('closed');
      }
    }
  }

  /** Acts on a failed send; returns how long to wait before resending, or null when done with it. */
  async function afterFailure(
    chatId: number,
    q: ChatQueue,
    item: Pending,
    err: unknown,
    chatLog: Logger,
  ): Promise<number | null> {
    const action = classifyTelegramError(err);
    const tg = asTelegramError(err);
    const giveUp = (why: string) => {
      counts.failed++;
      item.settle('failed');
      chatLog.error({ err: describeError(err) }, why);
      return null;
    };
    if (action === 'retry' && tg?.error_code === 429) {
      const retryAfterSec = tg.parameters?.retry_after ?? 1;
      counts.rateLimited++;
      if (++item.rateLimited > maxRateLimitRetries) return giveUp('rate limited too often: alert dropped');
      chatLog.warn({ retryAfterSec }, 'rate limited by Telegram: waiting retry_after');
      return retryAfterSec * 1000;
    }
    if (action === 'retry') {
      // sendMessage is not idempotent: the failed call may have arrived, so resend only once.
      if (item.networkRetried) return giveUp('send failed twice: alert dropped');
      item.networkRetried = true;
      chatLog.warn({ err: describeError(err), retryInMs: networkRetryDelayMs }, 'send failed: retrying once');
      return networkRetryDelayMs;
    }
    if (action === 'drop-chat') {
      const waiting = q.items.splice(0);
      for (const w of [item, ...waiting]) w.settle('dropped');
      const discarded = waiting.length;
      counts.removedChats++;
      chatLog.info({ err: describeError(err), discarded }, 'chat unreachable for good: removing it');
      await store.removeChat(chatId);
      return null;
    }
    if (action === 'migrate') {
      const newChatId = tg!.parameters!.migrate_to_chat_id!;
      const moved = [item, ...q.items.splice(0)];
      counts.migratedChats++;
      chatLog.info({ newChatId }, 'group upgraded to a supergroup: moving subscriptions');
      await store.migrateChat(chatId, newChatId);
      for (const m of moved) enqueue(newChatId, m);
      return null;
    }
    return giveUp('Telegram rejected the alert (our bug): dropped');
  }

  function remember(alertId: string): void {
    recent.add(alertId);
    if (recent.size > RECENT_ALERT_IDS) recent.delete(recent.values().next().value!);
  }

  return {
    async deliver(alert) {
      const nothing: DeliveryHandle = { settled: Promise.resolve([]) };
      if (closed) return { settled: Promise.resolve(['closed']) };
      if (recent.has(alert.id)) {
        log.debug({ alertId: alert.id }, 'alert already delivered: skipped');
        return nothing;
      }
      const subscribed = await store.chatsFor(alert.symbol);
      const ledger = opts.ledger;
      const chats = ledger
        ? (
            await Promise.all(
              subscribed.map(async (c) => ((await ledger.wasDelivered(alert.id, c)) ? null : c)),
            )
          ).filter((c): c is number => c !== null)
        : subscribed;
      if (closed) return { settled: Promise.resolve(['closed']) };
      remember(alert.id);
      if (chats.length === 0) return nothing;
      const text = formatAlertMessage(alert, now());
      const outcomes = chats.map((chatId) => {
        return new Promise<SettleOutcome>((resolve) => {
          let done = false;
          const settle = (outcome: SettleOutcome) => {
            if (done) return;
            done = true;
            resolve(outcome);
          };
          enqueue(chatId, { alertId: alert.id, text, rateLimited: 0, networkRetried: false, settle });
        });
      });
      return { settled: Promise.all(outcomes) };
    },

    async idle() {
      while (queues.size > 0 && !closed) {
        await Promise.all([...queues.values()].map((q) => q.running));
      }
    },

    stats() {
      let queued = 0;
      for (const q of queues.values()) queued += q.items.length;
      return { queued, ...counts };
    },

    close() {
      closing ??= (async () => {
        closed = true;
        abort.abort();
        for (const t of timers) {
          clearTimeout(t.handle);
          t.resolve(false);
        }
        timers.clear();
        await Promise.all([...queues.values()].map((q) => q.running));
        for (const q of queues.values()) for (const left of q.items.splice(0)) left.settle('closed');
        queues.clear();
      })();
      return closing;
    },
  };
}
