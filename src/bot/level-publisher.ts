/**
 * Publishes the chat levels (per-chat thresholds the processor evaluates itself) from every chat's
 * settings to `pulse:alert-levels`: at start, after a chat's settings change, and once a minute
 * (so levels of chats changed through another bot process, or removed, are picked up too).
 */
import type { Logger } from 'pino';
import type { ChatSettingsStore } from '../bus/types.js';
import type { AlertLevels } from '../domain/alert-levels.js';
import { describeError } from './telegram-errors.js';

export interface AlertLevelPublisherOptions {
  readonly store: Pick<ChatSettingsStore, 'requestedLevels'>;
  /** Writes the levels for the processor (`bus.publishAlertLevels`). */
  readonly publish: (levels: AlertLevels) => Promise<void>;
  /** Between periodic publications. Default 60,000 ms. */
  readonly intervalMs?: number;
  /** After a failed publication (Redis not reachable yet), one retry this much later. Default 5,000 ms. */
  readonly retryMs?: number;
  readonly logger?: Logger;
}

export class AlertLevelPublisher {
  private readonly intervalMs: number;
  private published: AlertLevels = {};
  private readonly retryMs: number;
  private timer: NodeJS.Timeout | undefined;
  private retry: NodeJS.Timeout | undefined;
  /** Publications run one after another, so the last settings read is the last written. */
  private chain: Promise<unknown> = Promise.resolve();
  private closed = false;

  constructor(private readonly opts: AlertLevelPublisherOptions) {
    this.intervalMs = opts.intervalMs ?? 60_000;
    this.retryMs = opts.retryMs ?? 5_000;
  }

  /**
   * The levels last written. The chat policy routes by them: a chat whose level is here gets that
   * level's alerts instead of the server's. {} until the first publication succeeds; a failed one
   * keeps the previous (the processor keeps evaluating what it last read).
   */
  current(): AlertLevels {
    return this.published;
  }

  /** Publishes now and every `intervalMs` (timer unref'd); idempotent, a no-op after `close()`. */
  start(): Promise<void> {
    if (this.timer !== undefined || this.closed) return Promise.resolve();
    this.timer = setInterval(() => void this.publishNow(), this.intervalMs);
    this.timer.unref();
    return this.publishNow();
  }

  /** Reads every chat's levels and writes them. Never rejects: a failure is logged and retried (`retryMs`). */
  publishNow(): Promise<void> {
    if (this.closed) return Promise.resolve();
    const run = this.chain.then(async () => {
      if (this.closed) return;
      try {
        const levels = await this.opts.store.requestedLevels();
        await this.opts.publish(levels);
        this.published = levels;
      } catch (err) {
        this.opts.logger?.warn({ err: describeError(err) }, 'could not publish the chat alert levels');
        // A threshold just set should not wait a minute for Redis to come back.
        if (this.retry === undefined && !this.closed) {
          this.retry = setTimeout(() => {
            this.retry = undefined;
            void this.publishNow();
          }, this.retryMs);
          this.retry.unref();
        }
      }
    });
    this.chain = run;
    return run;
  }

  /** Stops the timer and waits for a publication in progress; idempotent. */
  async close(): Promise<void> {
    this.closed = true;
    clearInterval(this.timer);
    clearTimeout(this.retry);
    this.timer = undefined;
    this.retry = undefined;
    await this.chain;
  }
}
