import { Redis, ReplyError } from 'ioredis';
import type { Logger } from 'pino';
import { type AlertLevels, parseAlertLevels, stringifyAlertLevels } from '../domain/alert-levels.js';
import type { AlertJson, SnapshotJson } from '../domain/types.js';
import { defineAlertWrite, writeAlertOnce } from './alert-write.js';
import { DEFAULT_REDIS_PREFIX, type RedisNames, redactUrl, redisNames } from './keys.js';
import type { AlertStateEntry, Bus, FeedHealthJson } from './types.js';

export interface RedisBusOptions {
  readonly url: string;
  readonly logger: Logger;
  /** Alerts held while Redis is unreachable; past this the oldest is dropped (and counted). */
  readonly maxPendingAlerts?: number;
  /** `REDIS_PREFIX`: every key and channel is `{prefix}:…`; default `pulse`. */
  readonly prefix?: string;
}

export interface RedisBusCounters {
  snapshotsPublished: number;
  snapshotsDropped: number;
  alertsPublished: number;
  alertsDropped: number;
  /**
   * Alerts not written because their id was already in `{prefix}:alerts`: a replay of the same
   * recording, another processor (rolling deploy), or our own retry after a reply was lost.
   */
  alertsDuplicate: number;
}

/** Reconnect forever: 200 ms, 400 ms, … capped at 5 s. */
export const redisRetryStrategy = (times: number) => Math.min(200 * times, 5000);

/**
 * Publishes the contract to Redis. Snapshots are at-most-once: while Redis is down they are
 * dropped and counted (the next one supersedes them anyway). Alerts are held in a bounded
 * buffer and written, in order, when Redis is back. Each alert id enters `{prefix}:alerts` at most
 * once, whoever writes it (see `writeAlertOnce`), so retrying a write whose reply was lost is safe.
 */
export class RedisBus implements Bus {
  readonly kind = 'redis' as const;
  readonly counters: RedisBusCounters = {
    snapshotsPublished: 0,
    snapshotsDropped: 0,
    alertsPublished: 0,
    alertsDropped: 0,
    alertsDuplicate: 0,
  };
  readonly names: RedisNames;
  /** The server this bus writes to; the bot's stores open their own connections to it. */
  readonly url: string;
  private readonly redis: Redis;
  private readonly alertRedis: Redis;
  /** Alerts and alert-engine state, in the order they happened: a later state must win. */
  private readonly pending: {
    readonly alert: AlertJson | null;
    readonly state: readonly AlertStateEntry[];
  }[] = [];
  private readonly maxPending: number;
  private flushing: Promise<void> | null = null;
  private closed = false;
  private lastErrorLogTs = 0;
  /** Written again on every reconnect: Redis may have restarted empty. */
  private readonly trackedByVenue = new Map<string, readonly string[]>();

  constructor(private readonly opts: RedisBusOptions) {
    this.maxPending = opts.maxPendingAlerts ?? 10_000;
    this.url = opts.url;
    this.names = redisNames(opts.prefix ?? DEFAULT_REDIS_PREFIX);
    const connection = (name: string) =>
      new Redis(opts.url, {
        protocol: 2,
        enableOfflineQueue: false,
        maxRetriesPerRequest: 1,
        retryStrategy: redisRetryStrategy,
        connectionName: `perp-pulse:${name}`,
      });
    this.redis = connection('publisher');
    // Alerts get a connection of their own: they never wait behind a batch of snapshots.
    this.alertRedis = connection('alerts');
    defineAlertWrite(this.alertRedis);
    this.alertRedis.on('error', () => {}); // reported once, by the publisher connection
    this.alertRedis.on('ready', () => void this.flushPending());
    this.redis.on('error', (err: NodeJS.ErrnoException) => {
      const now = Date.now();
      if (now - this.lastErrorLogTs < 30_000) return;
      this.lastErrorLogTs = now;
      opts.logger.warn(
        {
          url: redactUrl(opts.url),
          code: err.code,
          message: err.message,
          pendingAlerts: this.pending.length,
        },
        'Redis unreachable; retrying every few seconds (snapshots are dropped, alerts are held until it is back)',
      );
    });
    this.redis.on('ready', () => {
      this.lastErrorLogTs = 0;
      opts.logger.info({ url: redactUrl(opts.url) }, 'Redis connected');
      void this.flushPending();
      for (const [venue, symbols] of this.trackedByVenue) {
        this.writeTrackedSymbols(venue, symbols).catch((err: Error) =>
          opts.logger.warn({ err, venue }, 'could not store the tracked symbol list'),
        );
      }
    });
  }

  get pendingAlerts(): number {
    return this.pending.length;
  }

  get isReady(): boolean {
    return this.redis.status === 'ready';
  }

  async publishSnapshots(snapshots: readonly SnapshotJson[]): Promise<number> {
    if (snapshots.length === 0) return 0;
    if (!this.isReady) {
      this.counters.snapshotsDropped += snapshots.length;
      return 0;
    }
    const pipe = this.redis.pipeline();
    for (const s of snapshots) {
      const json = JSON.stringify(s);
      pipe.set(this.names.latestKey(s.venue, s.symbol), json);
      pipe.publish(this.names.snapshotChannel(s.venue, s.symbol), json);
    }
    let written = 0;
    try {
      const results = (await pipe.exec()) ?? [];
      // results come in (SET, PUBLISH) pairs; a snapshot counts as written when its SET succeeded
      for (let i = 0; i < results.length; i += 2) if (!results[i]?.[0]) written++;
    } catch {
      written = 0;
    }
    this.counters.snapshotsDropped += snapshots.length - written;
    this.counters.snapshotsPublished += written;
    return written;
  }

  ready(timeoutMs: number): Promise<void> {
    const wait = (r: Redis) =>
      r.status === 'ready'
        ? Promise.resolve()
        : new Promise<void>((resolve, reject) => {
            const timer = setTimeout(() => {
              r.off('ready', onReady);
              reject(new Error(`Redis at ${redactUrl(this.opts.url)} not reachable within ${timeoutMs} ms`));
            }, timeoutMs);
            const onReady = () => {
              clearTimeout(timer);
              resolve();
            };
            r.once('ready', onReady);
          });
    return Promise.all([wait(this.redis), wait(this.alertRedis)]).then(() => undefined);
  }

  async publishAlert(alert: AlertJson, state: readonly AlertStateEntry[] = []): Promise<void> {
    this.enqueue({ alert, state });
    await this.flushPending();
  }

  async saveAlertState(state: readonly AlertStateEntry[]): Promise<void> {
    if (state.length === 0) return;
    this.enqueue({ alert: null, state });
    await this.flushPending();
  }

  /**
   * Bounded: when full, the oldest state-only entry is folded into the entry after it (whose newer
   * values win key by key), so no rule state is lost; with none, the oldest alert is dropped.
   */
  private enqueue(item: {
    readonly alert: AlertJson | null;
    readonly state: readonly AlertStateEntry[];
  }): void {
    if (this.pending.length >= this.maxPending) {
      const i = this.pending.findIndex((p) => p.alert === null);
      if (i >= 0) {
        const [older] = this.pending.splice(i, 1);
        const fold = (next: typeof item) => {
          const newer = new Set(next.state.map((e) => e.key));
          return {
            alert: next.alert,
            state: [...older!.state.filter((e) => !newer.has(e.key)), ...next.state],
          };
        };
        if (i < this.pending.length) this.pending[i] = fold(this.pending[i]!);
        else item = fold(item);
      } else {
        this.pending.shift();
        this.counters.alertsDropped++;
        this.opts.logger.error(
          { maxPending: this.maxPending },
          'alert buffer full while Redis is down; dropped the oldest alert',
        );
      }
    }
    this.pending.push(item);
  }

  async loadAlertState(): Promise<string[]> {
    return Object.values(await this.redis.hgetall(this.names.alertStateKey));
  }

  /** Writes held alerts in order; stops at the first failure and keeps the rest. */
  private flushPending(): Promise<void> {
    if (!this.flushing) {
      this.flushing = (async () => {
        while (this.pending.length > 0 && this.alertRedis.status === 'ready') {
          const { alert } = this.pending[0]!;
          // Consecutive state-only entries go out as one HSET (later values win key by key), so
          // a burst of re-arms costs one round trip, not one each; an alert goes in its own script call.
          let take = 1;
          let state = this.pending[0]!.state;
          let written = false;
          if (alert === null) {
            const merged = new Map<string, string>();
            for (const e of state) merged.set(e.key, e.json);
            while (take < this.pending.length && this.pending[take]!.alert === null && merged.size < 2000) {
              for (const e of this.pending[take]!.state) merged.set(e.key, e.json);
              take++;
            }
            state = [...merged].map(([key, json]) => ({ key, json }));
          }
          try {
            if (alert !== null)
              written = await writeAlertOnce(
                this.alertRedis,
                this.names,
                alert.id,
                JSON.stringify(alert),
                state,
              );
            else if (state.length > 0)
              await this.alertRedis.hset(this.names.alertStateKey, ...state.flatMap((e) => [e.key, e.json]));
          } catch (err) {
            if (!isPermanentReplyError(err)) {
              // Kept and retried on reconnect; the id marker stops a second copy if this one landed.
              break;
            }
            // Redis refused it for good (a foreign value under one of our keys): retrying would
            // block every alert behind it.
            this.opts.logger.error({ err, alertId: alert?.id }, 'Redis refused an alert write; dropped it');
            this.pending.splice(0, take);
            if (alert !== null) this.counters.alertsDropped++;
            continue;
          }
          this.pending.splice(0, take);
          if (alert !== null) {
            if (written) this.counters.alertsPublished++;
            else this.counters.alertsDuplicate++;
          }
        }
      })().finally(() => {
        this.flushing = null;
      });
    }
    return this.flushing;
  }

  async latest(venue: string, symbol: string): Promise<SnapshotJson | null> {
    const raw = await this.redis.get(this.names.latestKey(venue, symbol));
    return raw ? (JSON.parse(raw) as SnapshotJson) : null;
  }

  async latestMany(venue: string, symbols: readonly string[]): Promise<(SnapshotJson | null)[]> {
    if (symbols.length === 0) return [];
    const raws = await this.redis.mget(...symbols.map((s) => this.names.latestKey(venue, s)));
    return raws.map(parseSnapshot);
  }

  async publishFeedStatus(statuses: readonly FeedHealthJson[]): Promise<void> {
    if (statuses.length === 0) return;
    await this.redis.hset(
      this.names.statusKey,
      ...statuses.flatMap((s) => [`${s.venue}@${s.shard}`, JSON.stringify(s)]),
    );
  }

  async feedStatus(): Promise<FeedHealthJson[]> {
    const out: FeedHealthJson[] = [];
    for (const raw of Object.values(await this.redis.hgetall(this.names.statusKey))) {
      try {
        out.push(JSON.parse(raw) as FeedHealthJson);
      } catch {
        // a foreign or corrupt field: skipped
      }
    }
    return out.sort((a, b) => a.venue.localeCompare(b.venue) || a.shard.localeCompare(b.shard));
  }

  async trackedSymbols(venue: string): Promise<string[]> {
    return (await this.redis.smembers(this.names.symbolsKey(venue))).sort();
  }

  async saveCheckpoint(key: string, documents: readonly { id: string; json: string }[]): Promise<void> {
    const tx = this.redis.multi().del(key);
    if (documents.length > 0) tx.hset(key, ...documents.flatMap((d) => [d.id, d.json]));
    await tx.exec();
  }

  async loadCheckpoint(key: string): Promise<string[]> {
    return Object.values(await this.redis.hgetall(key));
  }

  async publishAlertLevels(levels: AlertLevels): Promise<void> {
    await this.redis.set(this.names.alertLevelsKey, stringifyAlertLevels(levels));
  }

  async alertLevels(): Promise<AlertLevels> {
    return parseAlertLevels(await this.redis.get(this.names.alertLevelsKey));
  }

  /** Stores the list now if Redis is up, and again after every reconnect. */
  async setTrackedSymbols(venue: string, symbols: readonly string[]): Promise<void> {
    this.trackedByVenue.set(venue, [...symbols]);
    if (this.isReady) await this.writeTrackedSymbols(venue, symbols);
  }

  private async writeTrackedSymbols(venue: string, symbols: readonly string[]): Promise<void> {
    const tx = this.redis.multi().del(this.names.symbolsKey(venue));
    if (symbols.length > 0) tx.sadd(this.names.symbolsKey(venue), ...symbols);
    await tx.exec();
  }

  /** Idempotent. Tries for up to `graceMs` to write held alerts, then disconnects. */
  async close(graceMs = 2000): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    const deadline = Date.now() + graceMs;
    while (this.pending.length > 0 && this.alertRedis.status === 'ready' && Date.now() < deadline) {
      await this.flushPending();
    }
    if (this.pending.length > 0) {
      this.opts.logger.error(
        { pendingAlerts: this.pending.length },
        'closing with alerts Redis never received',
      );
    }
    for (const r of [this.redis, this.alertRedis]) {
      try {
        if (r.status === 'ready') await r.quit();
        else r.disconnect();
      } catch {
        r.disconnect();
      }
    }
  }
}

/** A server answer that a retry cannot change, unlike OOM, BUSY, LOADING or a lost connection. */
function isPermanentReplyError(err: unknown): boolean {
  return err instanceof ReplyError && /^(WRONGTYPE|ERR) /.test((err as Error).message);
}

function parseSnapshot(raw: string | null): SnapshotJson | null {
  if (!raw) return null;
  try {
    return JSON.parse(raw) as SnapshotJson;
  } catch {
    return null;
  }
}

/** True when a Redis server answers PING at `url` within `timeoutMs`. Never retries. */
export async function redisAnswers(url: string, timeoutMs = 1000): Promise<boolean> {
  const probe = new Redis(url, {
    protocol: 2,
    lazyConnect: true,
    retryStrategy: () => null,
    maxRetriesPerRequest: 0,
    connectTimeout: timeoutMs,
    enableOfflineQueue: false,
  });
  probe.on('error', () => {});
  try {
    await probe.connect();
    return (await probe.ping()) === 'PONG';
  } catch {
    return false;
  } finally {
    probe.disconnect();
  }
}
