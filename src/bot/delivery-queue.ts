/**
 * Delivery's per-chat queues: one FIFO per chat, bounded (the oldest waiting message goes first),
 * an alert already waiting not queued twice, and a burst of waiting alerts taken as one merged
 * message when the chat's turn comes.
 */
import type { InlineKeyboardMarkup } from 'grammy/types';
import type { Logger } from 'pino';
import type { AlertJson } from '../domain/types.js';
import { alertKeyboard, formatAlert, formatMergedAlerts, splitMessage } from './alert-format.js';
import type { ChatPace } from './delivery-pacer.js';
import type { DeliveryCounts, SettleOutcome } from './delivery-types.js';
import { MAX_MESSAGE_CHARS } from './format.js';

export interface QueueOptions {
  /**
   * Default 50. Messages one chat may have waiting; when a new one would exceed it the oldest
   * waiting message is dropped (settled `dropped`, counted in `dropped`).
   */
  readonly maxQueuePerChat?: number;
  /**
   * Default 10. Waiting alerts of one chat sent as one merged message when its turn comes; 1
   * sends every alert alone. Texts (`sendText`) are never merged.
   */
  readonly maxAlertsPerMessage?: number;
  /**
   * Default 0. An alert reaching an idle chat waits this long before it is sent, so the rest of a
   * burst (other rules, venues, symbols firing together) joins it in one message.
   */
  readonly coalesceMs?: number;
  /** Default 4000 (`MAX_MESSAGE_CHARS`): longer messages are split into parts, sent in order. */
  readonly maxMessageChars?: number;
}

/** One waiting message of a chat; `settle` is called once when it is done with. */
export type Item =
  | { readonly kind: 'alert'; readonly alert: AlertJson; readonly settle: (o: SettleOutcome) => void }
  | { readonly kind: 'text'; readonly html: string; readonly settle: (o: SettleOutcome) => void };

/** What one turn of a chat sends: one or more items as one message, in one or more parts. */
export type Batch = {
  readonly items: readonly Item[];
  readonly parts: readonly string[];
  readonly keyboard: InlineKeyboardMarkup | null;
  rateLimited: number;
  networkRetried: boolean;
};

/** Waiting messages of one chat (those being sent are not in `items`), its pace and its worker. */
export interface ChatQueue {
  readonly chatId: number;
  readonly items: Item[];
  readonly pace: ChatPace;
  running: Promise<void> | undefined;
}

export const itemId = (i: Item) => (i.kind === 'alert' ? i.alert.id : 'text');

export function settleAll(items: readonly Item[], outcome: SettleOutcome): void {
  for (const i of items) i.settle(outcome);
}

export interface ChatQueuesDeps {
  /** Wall clock for message text. */
  readonly now: () => number;
  /** A new chat's pace, first send after `delayMs`. */
  readonly startPace: (delayMs: number) => ChatPace;
  readonly counts: DeliveryCounts;
  readonly log: Logger;
}

export class ChatQueues {
  private readonly queues = new Map<number, ChatQueue>();
  private readonly maxQueue: number;
  private readonly maxMerge: number;
  private readonly coalesceMs: number;
  private readonly maxChars: number;

  constructor(
    opts: QueueOptions,
    private readonly deps: ChatQueuesDeps,
  ) {
    this.maxQueue = Math.max(1, opts.maxQueuePerChat ?? 50);
    this.maxMerge = Math.max(1, opts.maxAlertsPerMessage ?? 10);
    this.coalesceMs = Math.max(0, opts.coalesceMs ?? 0);
    this.maxChars = opts.maxMessageChars ?? MAX_MESSAGE_CHARS;
  }

  /**
   * Appends the item to its chat's queue (an alert already waiting there settles `duplicate`,
   * an overflow drops the oldest) and returns the queue; the caller starts its worker.
   */
  push(chatId: number, item: Item): ChatQueue {
    let q = this.queues.get(chatId);
    if (q === undefined) {
      const pace = this.deps.startPace(item.kind === 'alert' ? this.coalesceMs : 0);
      q = { chatId, items: [], pace, running: undefined };
      this.queues.set(chatId, q);
    }
    if (item.kind === 'alert' && q.items.some((i) => i.kind === 'alert' && i.alert.id === item.alert.id)) {
      item.settle('duplicate');
      return q;
    }
    q.items.push(item);
    while (q.items.length > this.maxQueue) {
      const dropped = q.items.shift()!;
      dropped.settle('dropped');
      this.deps.counts.dropped++;
      this.deps.log.warn({ chatId, alertId: itemId(dropped) }, 'chat queue full: dropped the oldest message');
    }
    return q;
  }

  /** The chat's next message: a text alone, or up to `maxAlertsPerMessage` waiting alerts as one. */
  takeBatch(q: ChatQueue): Batch {
    const first = q.items[0]!;
    const batch = { rateLimited: 0, networkRetried: false };
    if (first.kind === 'text') {
      const parts = splitMessage(first.html, this.maxChars);
      return { ...batch, items: q.items.splice(0, 1), parts, keyboard: null };
    }
    const alerts = [first.alert];
    for (let i = 1; alerts.length < this.maxMerge; i++) {
      const next = q.items[i];
      if (next?.kind !== 'alert') break;
      alerts.push(next.alert);
    }
    // Formatted before taking the items off the queue: a throw leaves them for the error path.
    const nowMs = this.deps.now();
    const html = alerts.length === 1 ? formatAlert(first.alert, nowMs) : formatMergedAlerts(alerts, nowMs);
    // The mute buttons fit a merged message too when every line is about the same symbol.
    const keyboard = alerts.every((a) => a.symbol === first.alert.symbol)
      ? alertKeyboard(first.alert.symbol)
      : null;
    const parts = splitMessage(html, this.maxChars);
    return { ...batch, items: q.items.splice(0, alerts.length), parts, keyboard };
  }

  /** Takes the chat's waiting alerts among `alerts` off its queue (they aged out) and returns them. */
  remove(q: ChatQueue, alerts: readonly AlertJson[]): Item[] {
    const gone = new Set(alerts);
    const removed = q.items.filter((i) => i.kind === 'alert' && gone.has(i.alert));
    for (const item of removed) q.items.splice(q.items.indexOf(item), 1);
    return removed;
  }

  waitingAlerts(q: ChatQueue): AlertJson[] {
    return q.items.flatMap((i) => (i.kind === 'alert' ? [i.alert] : []));
  }

  /** Forgets the chat's queue once its worker has stopped (a later message starts a new one). */
  retire(q: ChatQueue): void {
    q.running = undefined;
    if (this.queues.get(q.chatId) === q) this.queues.delete(q.chatId);
  }

  get size(): number {
    return this.queues.size;
  }

  /** Messages waiting in every chat (those on the wire not counted). */
  waiting(): number {
    let queued = 0;
    for (const q of this.queues.values()) queued += q.items.length;
    return queued;
  }

  workers(): Promise<void>[] {
    return [...this.queues.values()].map((q) => q.running ?? Promise.resolve());
  }

  /** Settles every waiting message `closed` and forgets every queue. */
  closeAll(): void {
    for (const q of this.queues.values()) settleAll(q.items.splice(0), 'closed');
    this.queues.clear();
  }
}
