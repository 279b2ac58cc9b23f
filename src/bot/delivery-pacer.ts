/**
 * Delivery's pacer: when a chat may send its next message, under Telegram's limits of about
 * 30 messages/s per bot, 1 message/s per chat and 20 messages/min per group
 * (https://core.telegram.org/bots/faq#my-bot-is-hitting-limits-how-do-i-avoid-this).
 * Every wait runs on an injectable monotonic clock, so tests drive it with fake time.
 */
import { performance } from 'node:perf_hooks';

/** Monotonic time and timers on it; pacing never reads the wall clock (it can jump). */
export interface PacingClock {
  /** Milliseconds that never go back. Default `performance.now()`. */
  now(): number;
  /** Calls `fn` once after `ms` on this clock; the returned function cancels it. Default `setTimeout`. */
  after(ms: number, fn: () => void): () => void;
}

/** `performance.now()` and `setTimeout`, both looked up at call time (so fake timers apply). */
const SYSTEM_CLOCK: PacingClock = {
  now: () => performance.now(),
  after(ms, fn) {
    const handle = setTimeout(fn, ms);
    return () => clearTimeout(handle);
  },
};

export interface PacingOptions {
  /**
   * Default 1000 ms (Telegram: about 1 message/s per chat). The least time between two messages
   * to one chat, also after a failed send; the parts of a split message are spaced by it too.
   */
  readonly minIntervalPerChatMs?: number;
  /**
   * Default 35 ms (Telegram: about 30 messages/s per bot). The least time between any two sends
   * of the bot; chats waiting for a send get turns in arrival order. 0 turns the global pace off.
   */
  readonly minIntervalGlobalMs?: number;
  /**
   * Default 20 (Telegram: 20 messages/min per group). Messages one group (a negative chat id)
   * gets within any `groupWindowMs`; more wait. Private chats are not limited by it.
   */
  readonly maxPerMinutePerGroup?: number;
  /** Default 60000 ms: the rolling window of `maxPerMinutePerGroup`. */
  readonly groupWindowMs?: number;
  /** Default `SYSTEM_CLOCK`. Tests pass a fake clock to pace without sleeping in real time. */
  readonly clock?: PacingClock;
}

/** One chat's pace: the earliest time (pacing clock) it may send again. */
export interface ChatPace {
  nextSendAtMs: number;
}

export class Pacer {
  readonly clock: PacingClock;
  private readonly perChatMs: number;
  private readonly globalMs: number;
  private readonly perGroup: number;
  private readonly groupWindowMs: number;
  /** Per group: when its last `perGroup` messages were answered, oldest first; most recent group last. */
  private readonly groupSends = new Map<number, number[]>();
  private readonly sleeps = new Set<{ cancel: () => void; resolve: (ok: boolean) => void }>();
  private readonly slotWaiters: Array<(ok: boolean) => void> = [];
  private lastSlotAtMs = Number.NEGATIVE_INFINITY;
  private cancelSlotTimer: (() => void) | undefined;
  private closed = false;

  constructor(opts: PacingOptions = {}) {
    this.clock = opts.clock ?? SYSTEM_CLOCK;
    this.perChatMs = opts.minIntervalPerChatMs ?? 1000;
    this.globalMs = opts.minIntervalGlobalMs ?? 35;
    this.perGroup = Math.max(1, opts.maxPerMinutePerGroup ?? 20);
    this.groupWindowMs = opts.groupWindowMs ?? 60_000;
  }

  /** A new chat's pace: it may send after `delayMs` (0: at once). */
  startPace(delayMs: number): ChatPace {
    return { nextSendAtMs: delayMs > 0 ? this.clock.now() + delayMs : 0 };
  }

  /**
   * Waits for the chat's interval, its group's window and a global slot. False when the pacer is
   * closed, or when `stop()` is true once the chat's interval has passed (nothing left to send).
   */
  async wait(chatId: number, pace: ChatPace, stop?: () => boolean): Promise<boolean> {
    for (;;) {
      const waitMs = pace.nextSendAtMs - this.clock.now();
      if (waitMs > 0) {
        if (!(await this.sleep(waitMs))) return false;
        continue;
      }
      if (stop?.()) return false;
      const groupMs = this.groupWaitMs(chatId);
      if (groupMs <= 0) break;
      if (!(await this.sleep(groupMs))) return false;
    }
    return this.globalSlot();
  }

  /** Notes a message the chat got: its interval starts now, and it counts toward its group's window. */
  sent(chatId: number, pace: ChatPace): void {
    const atMs = this.clock.now();
    pace.nextSendAtMs = atMs + this.perChatMs;
    if (chatId >= 0) return;
    const sends = this.groupSends.get(chatId) ?? [];
    sends.push(atMs);
    if (sends.length > this.perGroup) sends.shift();
    this.groupSends.delete(chatId);
    this.groupSends.set(chatId, sends); // most recent last: the sweep below stops at the first fresh one
    for (const [id, s] of this.groupSends) {
      if (s[s.length - 1]! + this.groupWindowMs > atMs) break;
      this.groupSends.delete(id);
    }
  }

  /** A send failed: the chat waits its interval before trying again. */
  failed(pace: ChatPace): void {
    pace.nextSendAtMs = this.clock.now() + this.perChatMs;
  }

  /** The chat waits at least `waitMs` from now (a 429's retry_after, a network error's delay). */
  backOff(pace: ChatPace, waitMs: number): void {
    pace.nextSendAtMs = Math.max(pace.nextSendAtMs, this.clock.now() + waitMs);
  }

  /** Ends every wait (they resolve false) and refuses new ones; idempotent. */
  close(): void {
    this.closed = true;
    for (const s of this.sleeps) {
      s.cancel();
      s.resolve(false);
    }
    this.sleeps.clear();
    this.cancelSlotTimer?.();
    this.cancelSlotTimer = undefined;
    for (const w of this.slotWaiters.splice(0)) w(false);
    this.groupSends.clear();
  }

  /** How long a group must wait before its next message (0 for a private chat). */
  private groupWaitMs(chatId: number): number {
    const sends = chatId < 0 ? this.groupSends.get(chatId) : undefined;
    if (sends === undefined || sends.length < this.perGroup) return 0;
    return sends[sends.length - this.perGroup]! + this.groupWindowMs - this.clock.now();
  }

  /** Resolves true after `ms`, or false at once when the pacer is closed. */
  private sleep(ms: number): Promise<boolean> {
    if (this.closed) return Promise.resolve(false);
    if (ms <= 0) return Promise.resolve(true);
    return new Promise((resolve) => {
      const sleeping = {
        resolve,
        cancel: this.clock.after(ms, () => this.sleeps.delete(sleeping) && resolve(true)),
      };
      this.sleeps.add(sleeping);
    });
  }

  // Global pacing: one FIFO of chats waiting for a slot, released one per `globalMs` (a late timer
  // only widens the gap), so the whole bot stays under ~30 messages/s.
  private globalSlot(): Promise<boolean> {
    if (this.closed) return Promise.resolve(false);
    return new Promise((resolve) => {
      this.slotWaiters.push(resolve);
      this.releaseSlots();
    });
  }

  private releaseSlots(): void {
    while (this.cancelSlotTimer === undefined && this.slotWaiters.length > 0) {
      const waitMs = this.lastSlotAtMs + this.globalMs - this.clock.now();
      if (waitMs > 0) {
        this.cancelSlotTimer = this.clock.after(Math.ceil(waitMs), () => {
          this.cancelSlotTimer = undefined;
          this.releaseSlots();
        });
        return;
      }
      this.lastSlotAtMs = this.clock.now();
      this.slotWaiters.shift()?.(true);
    }
  }
}
