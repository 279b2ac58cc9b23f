/**
 * Alert delivery: one FIFO per chat, paced to Telegram's limits (global, per chat, per group),
 * a burst waiting in one chat merged into one message, every Bot API answer mapped to what to
 * do next, and a ledger so a restart sends nothing twice. Limits and permanent errors:
 * https://core.telegram.org/bots/faq#my-bot-is-hitting-limits-how-do-i-avoid-this and
 * https://core.telegram.org/bots/api#making-requests.
 */
import { performance } from 'node:perf_hooks';
import type { Api } from 'grammy';
import type { InlineKeyboardMarkup } from 'grammy/types';
import type { Logger } from 'pino';
import type { SubscriptionStore } from '../bus/types.js';
import type { AlertJson } from '../domain/types.js';
import { alertTooOld, DEFAULT_ALERT_MAX_AGE_MS, expiredAlerts } from './alert-age.js';
import { alertKeyboard, formatAlert, formatMergedAlerts, splitMessage } from './alert-format.js';
import { MAX_MESSAGE_CHARS } from './format.js';
import { type ChatDecision, type ChatPolicy, SEND_ALL } from './policy.js';
import { asTelegramError, classifyTelegramError, describeError } from './telegram-errors.js';

const SEND_OPTIONS = { parse_mode: 'HTML', link_preview_options: { is_disabled: true } } as const;

/** What every message is sent with; single alerts add the mute keyboard. */
export type SendOptions = typeof SEND_OPTIONS & { readonly reply_markup?: InlineKeyboardMarkup };

// grammY types its signal with the abort-controller polyfill; Node's AbortSignal works at runtime.
type ApiSignal = Parameters<Api['sendMessage']>[3];

/** The one Bot API method delivery needs; grammY's `Api` satisfies it. */
export interface MessageSender {
  sendMessage(chatId: number, text: string, other: SendOptions, signal?: ApiSignal): Promise<unknown>;
}

export interface AlertDeliveryOptions {
  readonly api: MessageSender;
  readonly store: SubscriptionStore;
  /** Skips chats an alert already reached (across restarts); none = in-memory only. */
  readonly ledger?: DeliveryLedger;
  readonly logger: Logger;
  /** Per chat: send now, hold for the quiet-hours summary, or skip. Default: send every alert. */
  readonly policy?: ChatPolicy;
  /**
   * Takes an alert the policy held for a chat (stored for the summary); a throw counts it as
   * failed. Without it a held alert is sent (there is nowhere to hold it).
   */
  readonly onHold?: (chatId: number, alert: AlertJson) => Promise<void> | void;
  /** Default 50. When a chat's queue is full the oldest waiting message is dropped and counted. */
  readonly maxQueuePerChat?: number;
  /** Default 10: waiting alerts of one chat sent as one merged message when its turn comes. */
  readonly maxAlertsPerMessage?: number;
  /**
   * Default 0. An alert reaching an idle chat waits this long before it is sent, so the rest of a
   * burst (other rules, venues, symbols firing together) joins it in one message.
   */
  readonly coalesceMs?: number;
  /** Default 1000 ms between two messages to one chat (Telegram: about 1 message/s per chat). */
  readonly minIntervalPerChatMs?: number;
  /** Default 35 ms between any two messages (Telegram: about 30 messages/s per bot). */
  readonly minIntervalGlobalMs?: number;
  /** Default 20 messages per `groupWindowMs` to one group (negative chat id; Telegram: 20/min). */
  readonly maxPerMinutePerGroup?: number;
  /** Default 60000 ms: the rolling window of `maxPerMinutePerGroup`. */
  readonly groupWindowMs?: number;
  /** Default 5000 ms before the single resend after a network error (the first may have arrived). */
  readonly networkRetryDelayMs?: number;
  /** Default 10 answers of 429 for one message before it is dropped. */
  readonly maxRateLimitRetries?: number;
  /**
   * Default 3000 ms that close() lets sends already on the wire finish (and be recorded in the
   * ledger) before aborting them: an aborted request may still have reached Telegram.
   */
  readonly closeGraceMs?: number;
  /** Default 4000 (`MAX_MESSAGE_CHARS`): longer messages are split into parts. */
  readonly maxMessageChars?: number;
  /** Wall clock for message text and the policy; pacing uses a monotonic clock. */
  readonly now?: () => number;
  /**
   * Default 15 min (`ALERT_MAX_AGE_MIN`). An alert whose `ts` is older than this is sent to no chat:
   * on arrival it is settled `expired` (so the stream acknowledges it) and counted; one that ages
   * out waiting in a chat's queue is settled `expired` for that chat. A replay, a bot back after an
   * outage, or a backlog then never pages subscribers about the past. `Infinity` turns it off.
   */
  readonly maxAlertAgeMs?: number;
  /** The clock alert ages are measured on; default `now`. The demo passes its accelerated event clock. */
  readonly ageClock?: () => number;
}

export interface DeliveryStats {
  readonly queued: number;
  /** Bot API messages sent (each part of a split message counts). */
  readonly sent: number;
  /** Messages dropped because a chat's queue was full. */
  readonly dropped: number;
  /** Messages given up on: a `bug` answer, a second network error, too many 429s, a failed hold. */
  readonly failed: number;
  readonly removedChats: number;
  readonly migratedChats: number;
  /** 429 answers from Telegram (each waited out with its retry_after). */
  readonly rateLimited: number;
  /** Alerts that reached a chat inside a merged message rather than alone. */
  readonly merged: number;
  /** (alert, chat) pairs the policy skipped. */
  readonly skipped: number;
  /** (alert, chat) pairs the policy held for the quiet-hours summary. */
  readonly held: number;
  /**
   * Alerts older than `maxAlertAgeMs`, sent to no chat: one per alert refused on arrival, one per
   * chat for an alert that aged out in that chat's queue.
   */
  readonly expired: number;
}

export interface AlertDelivery {
  /**
   * Queues the alert for every chat subscribed to its symbol, as the policy decides; resolves once
   * queued, not sent. Concurrent calls are queued in call order.
   */
  deliver(alert: AlertJson): Promise<DeliveryHandle>;
  /**
   * Queues an HTML message (a summary, a reminder) on the chat's paced queue; it is split when
   * too long and never merged. Resolves once sent; rejects with `DeliveryError` when it was not.
   */
  sendText(chatId: number, html: string): Promise<void>;
  /** Resolves when every queue is empty. */
  idle(): Promise<void>;
  stats(): DeliveryStats;
  /**
   * Stops timers; sends on the wire get `closeGraceMs` to finish, then are aborted; waiting
   * messages are discarded (settled `closed`). Idempotent.
   */
  close(): Promise<void>;
}

/** `held`/`skipped`: the policy's decision, final for that chat. */
export type SettleOutcome =
  | 'sent'
  | 'failed'
  | 'dropped'
  | 'duplicate'
  | 'closed'
  | 'held'
  | 'skipped'
  | 'expired';

/** Resolves when every chat's message of one alert is done with (see `SettleOutcome`). */
export interface DeliveryHandle {
  readonly settled: Promise<readonly SettleOutcome[]>;
}

/** `sendText` could not deliver: `outcome` says why. */
export class DeliveryError extends Error {
  constructor(readonly outcome: SettleOutcome) {
    super(`message not delivered: ${outcome}`);
    this.name = 'DeliveryError';
  }
}

/**
 * What was delivered, per alert and chat, kept outside the process so a restarted bot that
 * receives an alert again (a stream consumer is at-least-once) sends it to no chat twice.
 */
export interface DeliveryLedger {
  wasDelivered(alertId: string, chatId: number): Promise<boolean>;
  recordDelivered(alertId: string, chatId: number): Promise<void>;
}

/** One waiting message of a chat; `settle` is called once when it is done with. */
type Item =
  | { readonly kind: 'alert'; readonly alert: AlertJson; readonly settle: (o: SettleOutcome) => void }
  | { readonly kind: 'text'; readonly html: string; readonly settle: (o: SettleOutcome) => void };

/** What one turn of a chat sends: one or more items as one message, in one or more parts. */
type Batch = {
  readonly items: readonly Item[];
  readonly parts: readonly string[];
  readonly keyboard: InlineKeyboardMarkup | null;
  rateLimited: number;
  networkRetried: boolean;
};

/** Waiting messages of one chat (those being sent are not in `items`) and its worker. */
type ChatQueue = { readonly items: Item[]; nextSendAtMs: number; running: Promise<void> | undefined };

/** The venue choice of a subscription (src/bus/subscription-store.ts); null = every venue. */
type VenueFilter = { venuesFor(chatId: number, symbol: string): Promise<readonly string[] | null> };

/** Alert ids remembered to skip re-deliveries (a stream consumer is at-least-once). */
const RECENT_ALERT_IDS = 1000;

const itemId = (i: Item) => (i.kind === 'alert' ? i.alert.id : 'text');

export function createAlertDelivery(opts: AlertDeliveryOptions): AlertDelivery {
  const { api, store } = opts;
  const log = opts.logger.child({ component: 'alert-delivery' });
  const policy = opts.policy ?? SEND_ALL;
  const maxQueue = Math.max(1, opts.maxQueuePerChat ?? 50);
  const maxMerge = Math.max(1, opts.maxAlertsPerMessage ?? 10);
  const coalesceMs = Math.max(0, opts.coalesceMs ?? 0);
  const perChatMs = opts.minIntervalPerChatMs ?? 1000;
  const globalMs = opts.minIntervalGlobalMs ?? 35;
  const perGroup = Math.max(1, opts.maxPerMinutePerGroup ?? 20);
  const groupWindowMs = opts.groupWindowMs ?? 60_000;
  const networkRetryDelayMs = opts.networkRetryDelayMs ?? 5000;
  const maxRateLimitRetries = opts.maxRateLimitRetries ?? 10;
  const closeGraceMs = opts.closeGraceMs ?? 3000;
  const maxChars = opts.maxMessageChars ?? MAX_MESSAGE_CHARS;
  const now = opts.now ?? Date.now;
  const mono = () => performance.now();
  const maxAgeMs = opts.maxAlertAgeMs ?? DEFAULT_ALERT_MAX_AGE_MS;
  const ageNow = opts.ageClock ?? now;
  const expired = expiredAlerts(log, maxAgeMs);

  const queues = new Map<number, ChatQueue>();
  /** Per group: when its last `perGroup` messages were answered (monotonic ms), oldest first. */
  const groupSends = new Map<number, number[]>();
  const recent = new Set<string>();
  const timers = new Set<{ handle: NodeJS.Timeout; resolve: (ok: boolean) => void }>();
  const abort = new AbortController();
  const counts = {
    sent: 0,
    dropped: 0,
    failed: 0,
    removedChats: 0,
    migratedChats: 0,
    rateLimited: 0,
    merged: 0,
    skipped: 0,
    held: 0,
  };
  let admitting: Promise<unknown> = Promise.resolve();
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

  // Global pacing: one FIFO of chats waiting for a slot, released one per `globalMs` of real time
  // (a late timer only widens the gap), so the whole bot stays under ~30 messages/s.
  const slotWaiters: Array<(ok: boolean) => void> = [];
  let lastSlotAtMs = Number.NEGATIVE_INFINITY;
  let slotTimer: NodeJS.Timeout | undefined;
  function releaseSlots(): void {
    while (slotTimer === undefined && slotWaiters.length > 0) {
      const waitMs = lastSlotAtMs + globalMs - mono();
      if (waitMs > 0) {
        slotTimer = setTimeout(() => {
          slotTimer = undefined;
          releaseSlots();
        }, Math.ceil(waitMs));
        return;
      }
      lastSlotAtMs = mono();
      slotWaiters.shift()?.(true);
    }
  }
  function globalSlot(): Promise<boolean> {
    if (closed) return Promise.resolve(false);
    return new Promise((resolve) => {
      slotWaiters.push(resolve);
      releaseSlots();
    });
  }

  /** How long a group must wait before its next message (0 for a private chat). */
  function groupWaitMs(chatId: number): number {
    const sends = chatId < 0 ? groupSends.get(chatId) : undefined;
    if (sends === undefined || sends.length < perGroup) return 0;
    return sends[sends.length - perGroup]! + groupWindowMs - mono();
  }

  function noteSent(chatId: number, q: ChatQueue): void {
    const atMs = mono();
    q.nextSendAtMs = atMs + perChatMs;
    counts.sent++;
    if (chatId >= 0) return;
    const sends = groupSends.get(chatId) ?? [];
    sends.push(atMs);
    if (sends.length > perGroup) sends.shift();
    groupSends.delete(chatId);
    groupSends.set(chatId, sends); // most recent last: the sweep below stops at the first fresh one
    for (const [id, s] of groupSends) {
      if (s[s.length - 1]! + groupWindowMs > atMs) break;
      groupSends.delete(id);
    }
  }

  /** Waits for the chat's interval, its group window and a global slot; false when closed. */
  async function pace(chatId: number, q: ChatQueue, stopWhenEmpty: boolean): Promise<boolean> {
    for (;;) {
      const waitMs = q.nextSendAtMs - mono();
      if (waitMs > 0) {
        if (!(await sleep(waitMs))) return false;
        continue;
      }
      if (stopWhenEmpty && q.items.length === 0) return false;
      const groupMs = groupWaitMs(chatId);
      if (groupMs <= 0) break;
      if (!(await sleep(groupMs))) return false;
    }
    return globalSlot();
  }

  function enqueue(chatId: number, item: Item): void {
    let q = queues.get(chatId);
    if (q === undefined) {
      const idleStartMs = item.kind === 'alert' && coalesceMs > 0 ? mono() + coalesceMs : 0;
      q = { items: [], nextSendAtMs: idleStartMs, running: undefined };
      queues.set(chatId, q);
    }
    if (item.kind === 'alert' && q.items.some((i) => i.kind === 'alert' && i.alert.id === item.alert.id)) {
      item.settle('duplicate');
      return;
    }
    q.items.push(item);
    while (q.items.length > maxQueue) {
      const dropped = q.items.shift()!;
      dropped.settle('dropped');
      counts.dropped++;
      log.warn({ chatId, alertId: itemId(dropped) }, 'chat queue full: dropped the oldest message');
    }
    if (q.running === undefined) q.running = run(chatId, q);
  }

  /** The chat's next message: a text alone, or up to `maxMerge` waiting alerts as one. */
  function takeBatch(q: ChatQueue): Batch {
    const first = q.items[0]!;
    const batch = { rateLimited: 0, networkRetried: false };
    if (first.kind === 'text') {
      const parts = splitMessage(first.html, maxChars);
      return { ...batch, items: q.items.splice(0, 1), parts, keyboard: null };
    }
    const alerts = [first.alert];
    for (let i = 1; alerts.length < maxMerge; i++) {
      const next = q.items[i];
      if (next?.kind !== 'alert') break;
      alerts.push(next.alert);
    }
    // Formatted before taking the items off the queue: a throw leaves them for the error path.
    const html = alerts.length === 1 ? formatAlert(first.alert, now()) : formatMergedAlerts(alerts, now());
    // The mute buttons fit a merged message too when every line is about the same symbol.
    const keyboard = alerts.every((a) => a.symbol === first.alert.symbol)
      ? alertKeyboard(first.alert.symbol)
      : null;
    const parts = splitMessage(html, maxChars);
    return { ...batch, items: q.items.splice(0, alerts.length), parts, keyboard };
  }

  const settleAll = (items: readonly Item[], outcome: SettleOutcome) => {
    for (const i of items) i.settle(outcome);
  };

  /** Settles `expired` the chat's waiting alerts that aged out in the queue; true when there were any. */
  function dropExpired(q: ChatQueue): boolean {
    const nowMs = ageNow();
    const stale = q.items.filter((i) => i.kind === 'alert' && alertTooOld(i.alert, nowMs, maxAgeMs));
    if (stale.length === 0) return false;
    for (const item of stale) {
      q.items.splice(q.items.indexOf(item), 1);
      if (item.kind === 'alert') expired.report(item.alert, nowMs);
      item.settle('expired');
    }
    return true;
  }

  async function run(chatId: number, q: ChatQueue): Promise<void> {
    // The trailing wait keeps the queue (and its interval) until the per-chat interval has passed.
    while (await pace(chatId, q, true)) {
      if (dropExpired(q) && q.items.length === 0) continue;
      let batch: Batch | undefined;
      try {
        batch = takeBatch(q);
        await send(chatId, q, batch);
      } catch (err) {
        // A batch that could not even be formatted: its first item goes, the rest get another turn.
        const items = batch?.items ?? q.items.splice(0, 1);
        counts.failed++;
        settleAll(items, 'failed');
        log.error(
          { err: describeError(err), chatId, alertIds: items.map(itemId) },
          'alert delivery failed unexpectedly',
        );
      }
    }
    if (closed) settleAll(q.items.splice(0), 'closed');
    q.running = undefined;
    if (queues.get(chatId) === q) queues.delete(chatId);
  }

  /** Sends a batch's parts in order (paced); the ledger records its alerts after the last part. */
  async function send(chatId: number, q: ChatQueue, batch: Batch): Promise<void> {
    const chatLog = log.child({ chatId, alertIds: batch.items.map(itemId) });
    let part = 0;
    for (;;) {
      const last = part === batch.parts.length - 1;
      const other: SendOptions =
        last && batch.keyboard ? { ...SEND_OPTIONS, reply_markup: batch.keyboard } : SEND_OPTIONS;
      try {
        await api.sendMessage(chatId, batch.parts[part]!, other, abort.signal as unknown as ApiSignal);
        noteSent(chatId, q);
        if (last) return await delivered(chatId, batch, chatLog);
        part++;
      } catch (err) {
        q.nextSendAtMs = mono() + perChatMs;
        if (closed) return settleAll(batch.items, 'closed');
        const waitMs = await afterFailure(chatId, q, batch, err, chatLog);
        if (waitMs === null) return;
        q.nextSendAtMs = Math.max(q.nextSendAtMs, mono() + waitMs);
      }
      if (!(await pace(chatId, q, false))) return settleAll(batch.items, 'closed');
      // Waiting out 429s can take long: a message none of which went out yet is not sent stale.
      if (part === 0 && batchExpired(batch)) return;
    }
  }

  /** Settles `expired` a batch of alerts only, every one of them too old by now; true when it did. */
  function batchExpired(batch: Batch): boolean {
    const nowMs = ageNow();
    const alerts = batch.items.flatMap((i) => (i.kind === 'alert' ? [i.alert] : []));
    if (alerts.length < batch.items.length || !alerts.every((a) => alertTooOld(a, nowMs, maxAgeMs))) {
      return false;
    }
    for (const a of alerts) expired.report(a, nowMs);
    settleAll(batch.items, 'expired');
    return true;
  }

  async function delivered(chatId: number, batch: Batch, chatLog: Logger): Promise<void> {
    const alerts = batch.items.filter((i) => i.kind === 'alert');
    if (alerts.length > 1) counts.merged += alerts.length;
    await Promise.all(
      alerts.map((i) =>
        opts.ledger
          ?.recordDelivered(i.alert.id, chatId)
          .catch((err) => chatLog.warn({ err: describeError(err) }, 'could not record the delivery')),
      ),
    );
    settleAll(batch.items, 'sent');
  }

  /** Acts on a failed send; returns how long to wait before resending, or null when done with it. */
  async function afterFailure(
    chatId: number,
    q: ChatQueue,
    batch: Batch,
    err: unknown,
    chatLog: Logger,
  ): Promise<number | null> {
    const action = classifyTelegramError(err);
    const tg = asTelegramError(err);
    const giveUp = (why: string) => {
      counts.failed++;
      settleAll(batch.items, 'failed');
      chatLog.error({ err: describeError(err) }, why);
      return null;
    };
    if (action === 'retry' && tg?.error_code === 429) {
      const retryAfterSec = tg.parameters?.retry_after ?? 1;
      counts.rateLimited++;
      if (++batch.rateLimited > maxRateLimitRetries) return giveUp('rate limited too often: message dropped');
      chatLog.warn({ retryAfterSec }, 'rate limited by Telegram: waiting retry_after');
      return retryAfterSec * 1000;
    }
    if (action === 'retry') {
      // sendMessage is not idempotent: the failed call may have arrived, so resend only once.
      if (batch.networkRetried) return giveUp('send failed twice: message dropped');
      batch.networkRetried = true;
      chatLog.warn({ err: describeError(err), retryInMs: networkRetryDelayMs }, 'send failed: retrying once');
      return networkRetryDelayMs;
    }
    if (action === 'drop-chat') {
      const waiting = q.items.splice(0);
      settleAll([...batch.items, ...waiting], 'dropped');
      counts.removedChats++;
      chatLog.info(
        { err: describeError(err), discarded: waiting.length },
        'chat unreachable for good: removing it',
      );
      await store
        .removeChat(chatId)
        .catch((e: unknown) => chatLog.error({ err: describeError(e) }, 'could not remove the chat'));
      return null;
    }
    if (action === 'migrate') {
      const newChatId = tg!.parameters!.migrate_to_chat_id!;
      const moved = [...batch.items, ...q.items.splice(0)];
      counts.migratedChats++;
      chatLog.info({ newChatId }, 'group upgraded to a supergroup: moving subscriptions');
      // The waiting messages move first: a store failure must not leave them unsettled forever.
      for (const m of moved) enqueue(newChatId, m);
      await store
        .migrateChat(chatId, newChatId)
        .catch((e: unknown) => chatLog.error({ err: describeError(e) }, 'could not move the subscriptions'));
      return null;
    }
    return giveUp('Telegram rejected the message (our bug): dropped');
  }

  function remember(alertId: string): void {
    recent.add(alertId);
    if (recent.size > RECENT_ALERT_IDS) recent.delete(recent.values().next().value!);
  }

  /** One chat's decision; a policy that throws lets the alert through (better sent than lost). */
  async function decide(chatId: number, alert: AlertJson): Promise<ChatDecision> {
    try {
      return await policy.decide(chatId, alert, now());
    } catch (err) {
      log.warn({ err: describeError(err), chatId, alertId: alert.id }, 'chat policy failed: sending');
      return 'send';
    }
  }

  async function hold(chatId: number, alert: AlertJson): Promise<SettleOutcome> {
    try {
      await opts.onHold?.(chatId, alert);
    } catch (err) {
      counts.failed++;
      log.error({ err: describeError(err), chatId, alertId: alert.id }, 'could not hold the alert');
      return 'failed';
    }
    counts.held++;
    await opts.ledger
      ?.recordDelivered(alert.id, chatId)
      .catch((err) => log.warn({ err: describeError(err), chatId }, 'could not record the hold'));
    return 'held';
  }

  /** A subscription limited to some venues (`venuesFor`, where the store has it) passes only theirs. */
  async function wantsVenue(chatId: number, alert: AlertJson): Promise<boolean> {
    const venuesFor = (store as Partial<VenueFilter>).venuesFor;
    if (typeof venuesFor !== 'function') return true;
    const venues = await venuesFor.call(store, chatId, alert.symbol);
    return venues === null || venues.includes(alert.venue);
  }

  async function admit(alert: AlertJson): Promise<DeliveryHandle> {
    const nothing: DeliveryHandle = { settled: Promise.resolve([]) };
    if (closed) return { settled: Promise.resolve(['closed']) };
    const nowMs = ageNow();
    if (alertTooOld(alert, nowMs, maxAgeMs)) {
      expired.report(alert, nowMs);
      return { settled: Promise.resolve(['expired']) };
    }
    if (recent.has(alert.id)) {
      log.debug({ alertId: alert.id }, 'alert already delivered: skipped');
      return nothing;
    }
    const subscribed = await store.chatsFor(alert.symbol);
    const ledger = opts.ledger;
    const decided = await Promise.all(
      subscribed.map(async (chatId) => {
        if (!(await wantsVenue(chatId, alert))) return null;
        if (ledger && (await ledger.wasDelivered(alert.id, chatId))) return null;
        return { chatId, decision: await decide(chatId, alert) };
      }),
    );
    if (closed) return { settled: Promise.resolve(['closed']) };
    remember(alert.id);
    const outcomes: Promise<SettleOutcome>[] = [];
    for (const d of decided) {
      if (d === null) continue;
      if (d.decision === 'skip') {
        counts.skipped++;
        outcomes.push(Promise.resolve('skipped'));
      } else if (d.decision === 'hold' && opts.onHold) {
        outcomes.push(hold(d.chatId, alert));
      } else {
        outcomes.push(
          new Promise<SettleOutcome>((resolve) => {
            let done = false;
            const settle = (outcome: SettleOutcome) => {
              if (done) return;
              done = true;
              resolve(outcome);
            };
            enqueue(d.chatId, { kind: 'alert', alert, settle });
          }),
        );
      }
    }
    return outcomes.length === 0 ? nothing : { settled: Promise.all(outcomes) };
  }

  return {
    deliver(alert) {
      const admitted = admitting.then(() => admit(alert));
      admitting = admitted.catch(() => {});
      return admitted;
    },

    sendText(chatId, html) {
      if (closed) return Promise.reject(new DeliveryError('closed'));
      return new Promise<void>((resolve, reject) => {
        let done = false;
        const settle = (outcome: SettleOutcome) => {
          if (done) return;
          done = true;
          if (outcome === 'sent') resolve();
          else reject(new DeliveryError(outcome));
        };
        enqueue(chatId, { kind: 'text', html, settle });
      });
    },

    async idle() {
      while (queues.size > 0 && !closed) {
        await Promise.all([...queues.values()].map((q) => q.running));
      }
    },

    stats() {
      let queued = 0;
      for (const q of queues.values()) queued += q.items.length;
      return { queued, ...counts, expired: expired.count };
    },

    close() {
      closing ??= (async () => {
        closed = true;
        expired.flush();
        for (const t of timers) {
          clearTimeout(t.handle);
          t.resolve(false);
        }
        timers.clear();
        clearTimeout(slotTimer);
        for (const w of slotWaiters.splice(0)) w(false);
        const running = Promise.all([...queues.values()].map((q) => q.running));
        let grace: NodeJS.Timeout | undefined;
        await Promise.race([running, new Promise((r) => (grace = setTimeout(r, closeGraceMs)))]);
        clearTimeout(grace);
        abort.abort();
        await running;
        for (const q of queues.values()) settleAll(q.items.splice(0), 'closed');
        queues.clear();
        groupSends.clear();
      })();
      return closing;
    },
  };
}
