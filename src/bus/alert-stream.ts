import { hostname } from 'node:os';
import { setTimeout as sleep } from 'node:timers/promises';
import { Redis } from 'ioredis';
import type { Logger } from 'pino';
import type { AlertJson } from '../domain/types.js';
import { DEFAULT_REDIS_NAMES, DEFAULT_REDIS_PREFIX, type RedisNames, redactUrl, redisNames } from './keys.js';
import { redisRetryStrategy } from './redis-bus.js';

/**
 * The consumer group bot instances share: each alert goes to one of them. Not prefixed: a group
 * belongs to one stream, and the stream is `{prefix}:alerts` already.
 */
export const BOT_CONSUMER_GROUP = 'perp-pulse-bot';
/** `pulse:delivered:{alertId}` (default prefix): chat ids the alert reached (kept 3 days). */
export const deliveredKey = DEFAULT_REDIS_NAMES.deliveredKey;
const DELIVERED_TTL_SEC = 3 * 24 * 3600;

/** Which chats an alert reached, in Redis: a restarted bot sends nothing twice. */
export class RedisDeliveryLedger {
  private readonly redis: Redis;
  private readonly names: RedisNames;

  /** `prefix`: `REDIS_PREFIX`, default `pulse`. */
  constructor(url: string, logger: Logger, prefix: string = DEFAULT_REDIS_PREFIX) {
    this.names = redisNames(prefix);
    this.redis = new Redis(url, {
      protocol: 2,
      retryStrategy: redisRetryStrategy,
      connectionName: 'perp-pulse:ledger',
    });
    this.redis.on('error', (err: Error) => logger.debug({ message: err.message }, 'ledger connection error'));
  }

  async wasDelivered(alertId: string, chatId: number): Promise<boolean> {
    return (await this.redis.sismember(this.names.deliveredKey(alertId), String(chatId))) === 1;
  }

  async recordDelivered(alertId: string, chatId: number): Promise<void> {
    await this.redis
      .multi()
      .sadd(this.names.deliveredKey(alertId), String(chatId))
      .expire(this.names.deliveredKey(alertId), DELIVERED_TTL_SEC)
      .exec();
  }

  async close(): Promise<void> {
    await this.redis.quit().catch(() => this.redis.disconnect());
  }
}

export interface AlertStreamConsumerOptions {
  readonly url: string;
  readonly logger: Logger;
  /**
   * Resolves true when the alert is done with for every chat (sent, or failed for good), false
   * when it was interrupted (shutdown): then it is not acknowledged and comes back after a restart.
   */
  readonly handle: (alert: AlertJson) => Promise<boolean>;
  /** Stable across restarts so a restarted bot picks up what it had read but not acknowledged. */
  readonly consumer?: string;
  readonly group?: string;
  readonly blockMs?: number;
  /**
   * Entries another consumer read but did not acknowledge for this long are taken over; default
   * 5 min, well above the longest fan-out, so a live bot's delivery is never taken from it.
   */
  readonly claimIdleMs?: number;
  /** Alerts being delivered at once (new entries are read meanwhile); default 200. */
  readonly maxInFlight?: number;
  /** An entry whose handling failed this many times is acknowledged and skipped (logged); default 5. */
  readonly maxAttempts?: number;
  /** `REDIS_PREFIX`: the stream read is `{prefix}:alerts`; default `pulse`. */
  readonly prefix?: string;
}

type Entry = [id: string, fields: string[]];

/**
 * Reads `{prefix}:alerts` through a consumer group and acknowledges an entry only once its alert
 * was handled, so a bot restart loses no alert; pending entries of a crashed consumer are claimed.
 */
export class AlertStreamConsumer {
  readonly counters = { read: 0, acked: 0, claimed: 0, malformed: 0, errors: 0, poisoned: 0 };
  /** Entry ids being handled in this process, each with its promise (resolves when acked or left). */
  private readonly inFlight = new Map<string, Promise<void>>();
  /** Failed attempts per entry id (bounded by the stream's length in practice; cleared on ack). */
  private readonly failures = new Map<string, number>();
  private readonly redis: Redis;
  private readonly abort = new AbortController();
  private running: Promise<void> | undefined;
  private readonly group: string;
  private readonly consumer: string;
  private readonly stream: string;

  constructor(private readonly opts: AlertStreamConsumerOptions) {
    this.group = opts.group ?? BOT_CONSUMER_GROUP;
    this.consumer = opts.consumer ?? `bot-${hostname()}`;
    this.stream = redisNames(opts.prefix ?? DEFAULT_REDIS_PREFIX).alertStream;
    // Its own connection: XREADGROUP BLOCK holds it.
    this.redis = new Redis(opts.url, {
      protocol: 2,
      retryStrategy: redisRetryStrategy,
      maxRetriesPerRequest: null,
      connectionName: `perp-pulse:${this.consumer}`,
    });
    this.redis.on('error', (err: Error) =>
      opts.logger.debug({ message: err.message }, 'alert stream connection error'),
    );
  }

  start(): void {
    this.running ??= this.loop();
  }

  private async ensureGroup(): Promise<void> {
    try {
      // `0`: a group created now also takes alerts written before the first bot started.
      await this.redis.xgroup('CREATE', this.stream, this.group, '0', 'MKSTREAM');
      this.opts.logger.info({ group: this.group }, 'created the alert consumer group');
    } catch (err) {
      if (!String((err as Error).message).includes('BUSYGROUP')) throw err;
    }
  }

  private async loop(): Promise<void> {
    const { logger } = this.opts;
    const signal = this.abort.signal;
    let claimAt = 0;
    let ownPendingDone = false;
    while (!signal.aborted) {
      try {
        await this.ensureGroup();
        // First what this consumer read before a restart and never acknowledged, then new entries.
        if (!ownPendingDone) {
          const mine = (await this.read('0', 0)).filter(([id]) => !this.inFlight.has(id));
          if (mine.length === 0) {
            ownPendingDone = true;
            continue;
          }
          this.startAll(mine);
          await Promise.all(mine.map(([id]) => this.inFlight.get(id)));
          // Some left unacknowledged (a failing handler): do not spin on them.
          if (!signal.aborted && (await this.read('0', 0)).length > 0) {
            await sleep(1000, undefined, { signal }).catch(() => {});
          }
          continue;
        }
        if (Date.now() >= claimAt) {
          claimAt = Date.now() + (this.opts.claimIdleMs ?? 300_000);
          await this.claimAbandoned();
        }
        // Bounded: while this many alerts are still being delivered, wait for one to finish.
        while (this.inFlight.size >= (this.opts.maxInFlight ?? 200) && !signal.aborted) {
          await Promise.race(this.inFlight.values());
        }
        const fresh = await this.read('>', this.opts.blockMs ?? 5000);
        this.startAll(fresh);
      } catch (err) {
        if (signal.aborted) break;
        this.counters.errors++;
        logger.warn(
          { url: redactUrl(this.opts.url), message: (err as Error).message },
          'alert stream read failed; retrying',
        );
        await sleep(1000, undefined, { signal }).catch(() => {});
      }
    }
  }

  private async read(from: '0' | '>', blockMs: number): Promise<Entry[]> {
    const args: (string | number)[] = ['GROUP', this.group, this.consumer, 'COUNT', 50];
    if (blockMs > 0) args.push('BLOCK', blockMs);
    args.push('STREAMS', this.stream, from);
    const reply = (await this.redis.call('XREADGROUP', ...args)) as [string, Entry[]][] | null;
    return reply?.[0]?.[1] ?? [];
  }

  private async claimAbandoned(): Promise<void> {
    const idle = this.opts.claimIdleMs ?? 300_000;
    const reply = (await this.redis.call(
      'XAUTOCLAIM',
      this.stream,
      this.group,
      this.consumer,
      idle,
      '0-0',
      'COUNT',
      50,
    )) as [string, Entry[]];
    // Entries this process is still delivering are ours already (a long fan-out): not again.
    const entries = (reply?.[1] ?? []).filter((e) => e && Array.isArray(e[1]) && !this.inFlight.has(e[0]));
    if (entries.length > 0) {
      this.counters.claimed += entries.length;
      this.opts.logger.info(
        { count: entries.length },
        'took over alerts another bot read but never acknowledged',
      );
      this.startAll(entries);
    }
  }

  /**
   * Hands every entry to the handler at once, in stream order (delivery admits them in call order,
   * so a burst reaches each chat's queue together and can be merged into one message), and
   * acknowledges each as soon as it is done: one slow chat never holds back the others' alerts.
   */
  private startAll(entries: Entry[]): void {
    for (const [id, fields] of entries) {
      if (this.abort.signal.aborted) return;
      if (this.inFlight.has(id)) continue;
      const done = this.handleOne(id, fields)
        .catch((err: Error) => {
          this.counters.errors++;
          this.opts.logger.warn({ id, message: err.message }, 'alert handling failed; left pending');
          return false;
        })
        .then(async (ok) => {
          if (!ok && !this.abort.signal.aborted) ok = this.giveUpAfterRepeatedFailures(id);
          if (!ok || this.abort.signal.aborted) return;
          // Not acknowledged when interrupted: the next start (or another bot) handles it again.
          await this.redis.xack(this.stream, this.group, id);
          this.failures.delete(id);
          this.counters.acked++;
        })
        .catch((err: Error) =>
          this.opts.logger.warn({ id, message: err.message }, 'ack failed; entry stays pending'),
        )
        .finally(() => this.inFlight.delete(id));
      this.inFlight.set(id, done);
    }
  }

  /** True (acknowledge and skip) once an entry failed `maxAttempts` times: it must not block the stream. */
  private giveUpAfterRepeatedFailures(id: string): boolean {
    const failures = (this.failures.get(id) ?? 0) + 1;
    this.failures.set(id, failures);
    if (failures < (this.opts.maxAttempts ?? 5)) return false;
    this.failures.delete(id);
    this.counters.poisoned++;
    this.opts.logger.error({ id, failures }, 'alert failed every attempt: acknowledged and skipped');
    return true;
  }

  /** True when the entry may be acknowledged: delivered, or malformed (skipped for good). */
  private async handleOne(id: string, fields: string[]): Promise<boolean> {
    this.counters.read++;
    const jsonAt = fields.indexOf('json');
    let alert: AlertJson | undefined;
    try {
      alert = jsonAt >= 0 ? (JSON.parse(fields[jsonAt + 1] ?? '') as AlertJson) : undefined;
    } catch {
      alert = undefined;
    }
    if (
      alert &&
      typeof alert.id === 'string' &&
      typeof alert.symbol === 'string' &&
      typeof alert.kind === 'string'
    ) {
      return this.opts.handle(alert);
    }
    this.counters.malformed++;
    this.opts.logger.warn({ id }, 'alert stream entry without valid json: acknowledged and skipped');
    return true;
  }

  /** Idempotent: stops reading; an alert being handled is not acknowledged and comes back on restart. */
  async close(): Promise<void> {
    this.abort.abort();
    this.failures.clear();
    this.redis.disconnect();
    // A handler waiting on delivery ends when delivery closes; never wait on it for long here.
    await Promise.race([this.running?.catch(() => {}), sleep(2000)]);
  }
}
