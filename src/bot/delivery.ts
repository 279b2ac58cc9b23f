/**
 * Alert delivery: one FIFO per chat, paced to Telegram's limits (global, per chat, per group),
 * a burst waiting in one chat merged into one message, every Bot API answer mapped to what to
 * do next, and a ledger so a restart sends nothing twice. Limits and permanent errors:
 * https://core.telegram.org/bots/faq#my-bot-is-hitting-limits-how-do-i-avoid-this and
 * https://core.telegram.org/bots/api#making-requests.
 *
 * Split by stage, as grammY's runner splits source, queue and sink: admission decides which chats
 * an alert goes to (`delivery-admission.ts`), each chat's queue bounds and merges what waits
 * (`delivery-queue.ts`), the pacer says when a chat may send (`delivery-pacer.ts`), and the sender
 * puts a message on the wire and acts on the answer (`delivery-sender.ts`). This file wires them.
 */
import type { Logger } from 'pino';
import type { SubscriptionStore } from '../bus/types.js';
import type { AlertJson } from '../domain/types.js';
import { alertAgeLimit, DEFAULT_ALERT_MAX_AGE_MS } from './alert-age.js';
import { Admission, type AdmissionOptions } from './delivery-admission.js';
import { Pacer, type PacingOptions } from './delivery-pacer.js';
import {
  type Batch,
  type ChatQueue,
  ChatQueues,
  type Item,
  itemId,
  type QueueOptions,
  settleAll,
} from './delivery-queue.js';
import { Sender, type SendingOptions } from './delivery-sender.js';
import {
  DeliveryError,
  type DeliveryHandle,
  type DeliveryLedger,
  type DeliveryStats,
  type MessageSender,
  type SettleOutcome,
  zeroCounts,
} from './delivery-types.js';
import type { ChatPolicy } from './policy.js';
import { describeError } from './telegram-errors.js';

export type { AdmissionOptions } from './delivery-admission.js';
export type { PacingClock, PacingOptions } from './delivery-pacer.js';
export type { QueueOptions } from './delivery-queue.js';
export type { SendingOptions } from './delivery-sender.js';
export {
  DeliveryError,
  type DeliveryHandle,
  type DeliveryLedger,
  type DeliveryStats,
  type MessageSender,
  type SendOptions,
  type SettleOutcome,
} from './delivery-types.js';

/**
 * What delivery talks to (top level) and how each stage behaves (one group per stage). Every
 * group and field is optional; the defaults suit the real Bot API.
 */
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
  /** Wall clock for message text and the policy; default `Date.now`. Pacing has its own clock. */
  readonly now?: () => number;
  /** Which alerts reach which chats: age limit, recent ids. */
  readonly admission?: AdmissionOptions;
  /** Per-chat queues: bound, merging a burst, message length. */
  readonly queue?: QueueOptions;
  /** Telegram's rate limits: per chat, global, per group; the monotonic clock they run on. */
  readonly pacing?: PacingOptions;
  /** Resends after errors, and how long close() waits for sends on the wire. */
  readonly sending?: SendingOptions;
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
   * Stops timers; sends on the wire get `sending.closeGraceMs` to finish, then are aborted; waiting
   * messages are discarded (settled `closed`). Idempotent.
   */
  close(): Promise<void>;
}

/** An outcome resolved once, by the first stage that settles the message. */
function settleOnce(): { promise: Promise<SettleOutcome>; settle: (o: SettleOutcome) => void } {
  let resolve!: (o: SettleOutcome) => void;
  const promise = new Promise<SettleOutcome>((r) => (resolve = r));
  let done = false;
  const settle = (outcome: SettleOutcome) => {
    if (done) return;
    done = true;
    resolve(outcome);
  };
  return { promise, settle };
}

export function createAlertDelivery(opts: AlertDeliveryOptions): AlertDelivery {
  const log = opts.logger.child({ component: 'alert-delivery' });
  const now = opts.now ?? Date.now;
  const counts = zeroCounts();
  const abort = new AbortController();
  let closed = false;
  const isClosed = () => closed;
  const age = alertAgeLimit(
    log,
    opts.admission?.maxAlertAgeMs ?? DEFAULT_ALERT_MAX_AGE_MS,
    opts.admission?.ageClock ?? now,
  );
  const pacer = new Pacer(opts.pacing);
  const queues = new ChatQueues(opts.queue ?? {}, {
    now,
    startPace: (delayMs) => pacer.startPace(delayMs),
    counts,
    log,
  });
  const admission = new Admission(opts.admission ?? {}, {
    store: opts.store,
    ledger: opts.ledger,
    policy: opts.policy,
    onHold: opts.onHold,
    now,
    age,
    counts,
    log,
    isClosed,
  });
  const sender = new Sender(opts.sending ?? {}, {
    api: opts.api,
    store: opts.store,
    ledger: opts.ledger,
    pacer,
    requeue: enqueue,
    age,
    counts,
    log,
    signal: abort.signal,
    isClosed,
  });
  const closeGraceMs = opts.sending?.closeGraceMs ?? 3000;
  let admitting: Promise<unknown> = Promise.resolve();
  let closing: Promise<void> | undefined;

  function enqueue(chatId: number, item: Item): void {
    const q = queues.push(chatId, item);
    if (q.running === undefined) q.running = run(q);
  }

  /** Settles `expired` the chat's waiting alerts that aged out in the queue; true when there were any. */
  function dropExpired(q: ChatQueue): boolean {
    const stale = age.expire(queues.waitingAlerts(q));
    if (stale.length === 0) return false;
    settleAll(queues.remove(q, stale), 'expired');
    return true;
  }

  /** One chat's worker: waits its turn, sends its next batch, until its queue stays empty. */
  async function run(q: ChatQueue): Promise<void> {
    // The trailing wait keeps the queue (and its interval) until the per-chat interval has passed.
    while (await pacer.wait(q.chatId, q.pace, () => q.items.length === 0)) {
      if (dropExpired(q) && q.items.length === 0) continue;
      let batch: Batch | undefined;
      try {
        batch = queues.takeBatch(q);
        await sender.send(q, batch);
      } catch (err) {
        // A batch that could not even be formatted: its first item goes, the rest get another turn.
        const items = batch?.items ?? q.items.splice(0, 1);
        counts.failed++;
        settleAll(items, 'failed');
        log.error(
          { err: describeError(err), chatId: q.chatId, alertIds: items.map(itemId) },
          'alert delivery failed unexpectedly',
        );
      }
    }
    if (closed) settleAll(q.items.splice(0), 'closed');
    queues.retire(q);
  }

  async function admit(alert: AlertJson): Promise<DeliveryHandle> {
    const admitted = await admission.admit(alert);
    if (admitted.verdict === 'closed' || admitted.verdict === 'expired') {
      return { settled: Promise.resolve([admitted.verdict]) };
    }
    const outcomes: Promise<SettleOutcome>[] = [];
    for (const { chatId, decision } of admitted.verdict === 'chats' ? admitted.chats : []) {
      if (decision === 'skip') {
        counts.skipped++;
        outcomes.push(Promise.resolve('skipped'));
      } else if (decision === 'hold' && admission.holds) {
        outcomes.push(admission.hold(chatId, alert));
      } else {
        const { promise, settle } = settleOnce();
        enqueue(chatId, { kind: 'alert', alert, settle });
        outcomes.push(promise);
      }
    }
    return { settled: Promise.all(outcomes) };
  }

  return {
    deliver(alert) {
      const admitted = admitting.then(() => admit(alert));
      admitting = admitted.catch(() => {});
      return admitted;
    },

    sendText(chatId, html) {
      if (closed) return Promise.reject(new DeliveryError('closed'));
      const { promise, settle } = settleOnce();
      enqueue(chatId, { kind: 'text', html, settle });
      return promise.then((outcome) => {
        if (outcome !== 'sent') throw new DeliveryError(outcome);
      });
    },

    async idle() {
      while (queues.size > 0 && !closed) await Promise.all(queues.workers());
    },

    stats() {
      return { queued: queues.waiting(), ...counts, expired: age.count };
    },

    close() {
      closing ??= (async () => {
        closed = true;
        age.flush();
        pacer.close();
        const running = Promise.all(queues.workers());
        let cancelGrace: (() => void) | undefined;
        await Promise.race([
          running,
          new Promise((r) => (cancelGrace = pacer.clock.after(closeGraceMs, () => r(0)))),
        ]);
        cancelGrace?.();
        abort.abort();
        await running;
        queues.closeAll();
      })();
      return closing;
    },
  };
}
