/**
 * Delivery's sender: puts one batch on the wire, part by part, and acts on every Bot API answer
 * (https://core.telegram.org/bots/api#making-requests): 429 waits exactly retry_after, a network
 * error is resent once (sendMessage is not idempotent), a chat gone for good is removed, an
 * upgraded group is moved, anything else is our bug and dropped. Delivered alerts go to the ledger.
 */
import type { Logger } from 'pino';
import type { SubscriptionStore } from '../bus/types.js';
import type { AlertAgeLimit } from './alert-age.js';
import type { Pacer } from './delivery-pacer.js';
import { type Batch, type ChatQueue, type Item, itemId, settleAll } from './delivery-queue.js';
import {
  type ApiSignal,
  type DeliveryCounts,
  type DeliveryLedger,
  type MessageSender,
  SEND_OPTIONS,
  type SendOptions,
} from './delivery-types.js';
import { asTelegramError, classifyTelegramError, describeError } from './telegram-errors.js';

export interface SendingOptions {
  /**
   * Default 5000 ms before the single resend after a network error or a 5xx. The first attempt may
   * have arrived, so a second failure drops the message (counted `failed`) rather than risk a third copy.
   */
  readonly networkRetryDelayMs?: number;
  /**
   * Default 10 answers of 429 for one message, each waited out with its `retry_after`; one more
   * and the message is dropped (counted `failed`).
   */
  readonly maxRateLimitRetries?: number;
  /**
   * Default 3000 ms that close() lets sends already on the wire finish (and be recorded in the
   * ledger) before aborting them: an aborted request may still have reached Telegram.
   */
  readonly closeGraceMs?: number;
}

export interface SenderDeps {
  readonly api: MessageSender;
  readonly store: SubscriptionStore;
  readonly ledger: DeliveryLedger | undefined;
  readonly pacer: Pacer;
  /** Queues a message again (on an upgraded group's new id) and starts that chat's worker. */
  readonly requeue: (chatId: number, item: Item) => void;
  readonly age: AlertAgeLimit;
  readonly counts: DeliveryCounts;
  readonly log: Logger;
  /** Aborted when close() gives up waiting for sends on the wire. */
  readonly signal: AbortSignal;
  readonly isClosed: () => boolean;
}

export class Sender {
  private readonly networkRetryDelayMs: number;
  private readonly maxRateLimitRetries: number;

  constructor(
    opts: SendingOptions,
    private readonly deps: SenderDeps,
  ) {
    this.networkRetryDelayMs = opts.networkRetryDelayMs ?? 5000;
    this.maxRateLimitRetries = opts.maxRateLimitRetries ?? 10;
  }

  /** Sends a batch's parts in order (paced); the ledger records its alerts after the last part. */
  async send(q: ChatQueue, batch: Batch): Promise<void> {
    const { api, pacer, counts } = this.deps;
    const chatLog = this.deps.log.child({ chatId: q.chatId, alertIds: batch.items.map(itemId) });
    let part = 0;
    for (;;) {
      const last = part === batch.parts.length - 1;
      const other: SendOptions =
        last && batch.keyboard ? { ...SEND_OPTIONS, reply_markup: batch.keyboard } : SEND_OPTIONS;
      try {
        await api.sendMessage(q.chatId, batch.parts[part]!, other, this.deps.signal as unknown as ApiSignal);
        pacer.sent(q.chatId, q.pace);
        counts.sent++;
        if (last) return await this.delivered(q.chatId, batch, chatLog);
        part++;
      } catch (err) {
        pacer.failed(q.pace);
        if (this.deps.isClosed()) return settleAll(batch.items, 'closed');
        const waitMs = await this.afterFailure(q, batch, err, chatLog);
        if (waitMs === null) return;
        pacer.backOff(q.pace, waitMs);
      }
      if (!(await pacer.wait(q.chatId, q.pace))) return settleAll(batch.items, 'closed');
      // Waiting out 429s can take long: a message none of which went out yet is not sent stale.
      if (part === 0 && this.expired(batch)) return;
    }
  }

  /** Settles `expired` a batch of alerts only, every one of them too old by now; true when it did. */
  private expired(batch: Batch): boolean {
    const alerts = batch.items.flatMap((i) => (i.kind === 'alert' ? [i.alert] : []));
    if (alerts.length < batch.items.length || this.deps.age.expire(alerts, true).length === 0) return false;
    settleAll(batch.items, 'expired');
    return true;
  }

  private async delivered(chatId: number, batch: Batch, chatLog: Logger): Promise<void> {
    const alerts = batch.items.filter((i) => i.kind === 'alert');
    if (alerts.length > 1) this.deps.counts.merged += alerts.length;
    await Promise.all(
      alerts.map((i) =>
        this.deps.ledger
          ?.recordDelivered(i.alert.id, chatId)
          .catch((err) => chatLog.warn({ err: describeError(err) }, 'could not record the delivery')),
      ),
    );
    settleAll(batch.items, 'sent');
  }

  /** Acts on a failed send; returns how long to wait before resending, or null when done with it. */
  private async afterFailure(
    q: ChatQueue,
    batch: Batch,
    err: unknown,
    chatLog: Logger,
  ): Promise<number | null> {
    const { counts, store } = this.deps;
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
      if (++batch.rateLimited > this.maxRateLimitRetries) {
        return giveUp('rate limited too often: message dropped');
      }
      chatLog.warn({ retryAfterSec }, 'rate limited by Telegram: waiting retry_after');
      return retryAfterSec * 1000;
    }
    if (action === 'retry') {
      // sendMessage is not idempotent: the failed call may have arrived, so resend only once.
      if (batch.networkRetried) return giveUp('send failed twice: message dropped');
      batch.networkRetried = true;
      chatLog.warn(
        { err: describeError(err), retryInMs: this.networkRetryDelayMs },
        'send failed: retrying once',
      );
      return this.networkRetryDelayMs;
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
        .removeChat(q.chatId)
        .catch((e: unknown) => chatLog.error({ err: describeError(e) }, 'could not remove the chat'));
      return null;
    }
    if (action === 'migrate') {
      const newChatId = tg!.parameters!.migrate_to_chat_id!;
      const moved = [...batch.items, ...q.items.splice(0)];
      counts.migratedChats++;
      chatLog.info({ newChatId }, 'group upgraded to a supergroup: moving subscriptions');
      // The waiting messages move first: a store failure must not leave them unsettled forever.
      for (const m of moved) this.deps.requeue(newChatId, m);
      await store
        .migrateChat(q.chatId, newChatId)
        .catch((e: unknown) => chatLog.error({ err: describeError(e) }, 'could not move the subscriptions'));
      return null;
    }
    return giveUp('Telegram rejected the message (our bug): dropped');
  }
}
