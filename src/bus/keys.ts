/**
 * Redis names of the public contract (README "Redis contract"), each under `{prefix}:` so several
 * instances can share one server (`REDIS_PREFIX`, default `pulse`). SYMBOL upper case, venue lower case.
 */

/** The default `REDIS_PREFIX`: names are exactly those of a deployment that predates the setting. */
export const DEFAULT_REDIS_PREFIX = 'pulse';

/**
 * What a prefix may be. No `:`, so one instance's SCAN pattern (`{prefix}:chat:*:settings`) can
 * never match another instance's keys; no glob characters (`* ? [ ] \`), which SCAN would read as
 * a pattern rather than literally.
 */
export const REDIS_PREFIX_PATTERN = /^[A-Za-z0-9_-]{1,32}$/;

/** Every Redis key, channel and SCAN pattern one instance uses, under one prefix. */
export interface RedisNames {
  readonly prefix: string;
  /** String: the newest snapshot of an instrument (venue `all`: the cross-venue aggregate). */
  latestKey(venue: string, symbol: string): string;
  /** Pub/sub channel: every snapshot as it is published. */
  snapshotChannel(venue: string, symbol: string): string;
  /** Set: the symbols the processor tracks on a venue. */
  symbolsKey(venue: string): string;
  /** Hash of feed health, field `{venue}@{shard}` → FeedHealthJson. */
  readonly statusKey: string;
  /** Hash of alert-engine rule states (hysteresis, cooldown), field `{venue}:{SYMBOL}:{kind}`. */
  readonly alertStateKey: string;
  /** String: the chat thresholds the processor evaluates besides its own (`{"v":1,"levels":{kind:[…]}}`), written by the bot. */
  readonly alertLevelsKey: string;
  /** Pub/sub channel: every alert, at most once. */
  readonly alertChannel: string;
  /** Stream of alerts (field `json`), read by the bots' consumer group. */
  readonly alertStream: string;
  /** Internal: marks an alert id already written to the stream (value: its stream entry id). */
  alertIdKey(alertId: string): string;
  /** Set: chat ids an alert reached (kept 3 days). */
  deliveredKey(alertId: string): string;
  /** Hash: a live processor's analytics checkpoint; `shard` is `{index}-{count}` or `all`. */
  checkpointKey(shard: string): string;
  /** Set: chat ids subscribed to a symbol. */
  subsKey(symbol: string): string;
  /** Set: the symbols a chat follows. */
  chatSubsKey(chatId: number): string;
  /** Hash SYMBOL → comma-separated venues, for symbols a chat limited to some venues. */
  chatSubVenuesKey(chatId: number): string;
  /** String: a chat's settings (JSON, `v: 1`). */
  chatSettingsKey(chatId: number): string;
  /** Hash SYMBOL → until (epoch ms). */
  chatMutesKey(chatId: number): string;
  /** List of alert JSON held during quiet hours. */
  chatHeldKey(chatId: number): string;
  /** Set: chat ids with quiet hours, a reminder or held alerts. */
  readonly schedulesKey: string;
  /** SCAN patterns over this instance's keys only (the prefix holds no glob character). */
  readonly patterns: {
    readonly subs: string;
    readonly chatSubs: string;
    readonly chatSettings: string;
  };
}

/** The names under `prefix`; throws on a prefix `REDIS_PREFIX_PATTERN` refuses. */
export function redisNames(prefix: string = DEFAULT_REDIS_PREFIX): RedisNames {
  if (!REDIS_PREFIX_PATTERN.test(prefix)) {
    throw new Error(`not a Redis prefix: ${JSON.stringify(prefix)} (1-32 of A-Z a-z 0-9 _ -)`);
  }
  const p = prefix;
  return {
    prefix: p,
    latestKey: (venue, symbol) => `${p}:latest:${venue}:${symbol}`,
    snapshotChannel: (venue, symbol) => `${p}:snapshot:${venue}:${symbol}`,
    symbolsKey: (venue) => `${p}:symbols:${venue}`,
    statusKey: `${p}:status`,
    alertStateKey: `${p}:alert-state`,
    alertLevelsKey: `${p}:alert-levels`,
    alertChannel: `${p}:alert`,
    alertStream: `${p}:alerts`,
    alertIdKey: (alertId) => `${p}:alert-id:${alertId}`,
    deliveredKey: (alertId) => `${p}:delivered:${alertId}`,
    checkpointKey: (shard) => `${p}:checkpoint:${shard}`,
    subsKey: (symbol) => `${p}:subs:${symbol}`,
    chatSubsKey: (chatId) => `${p}:chat:${chatId}:subs`,
    chatSubVenuesKey: (chatId) => `${p}:chat:${chatId}:subvenues`,
    chatSettingsKey: (chatId) => `${p}:chat:${chatId}:settings`,
    chatMutesKey: (chatId) => `${p}:chat:${chatId}:mutes`,
    chatHeldKey: (chatId) => `${p}:chat:${chatId}:held`,
    schedulesKey: `${p}:schedules`,
    patterns: {
      subs: `${p}:subs:*`,
      chatSubs: `${p}:chat:*:subs`,
      chatSettings: `${p}:chat:*:settings`,
    },
  };
}

/** The names under the default prefix (`pulse:…`), as documented in the README. */
export const DEFAULT_REDIS_NAMES = redisNames();

// The default-prefix names one by one, for tools and tests that read a default deployment.
export const latestKey = DEFAULT_REDIS_NAMES.latestKey;
export const snapshotChannel = DEFAULT_REDIS_NAMES.snapshotChannel;
export const symbolsKey = DEFAULT_REDIS_NAMES.symbolsKey;
export const STATUS_KEY = DEFAULT_REDIS_NAMES.statusKey;
export const ALERT_STATE_KEY = DEFAULT_REDIS_NAMES.alertStateKey;
export const ALERT_LEVELS_KEY = DEFAULT_REDIS_NAMES.alertLevelsKey;
export const ALERT_CHANNEL = DEFAULT_REDIS_NAMES.alertChannel;
export const ALERT_STREAM = DEFAULT_REDIS_NAMES.alertStream;
export const alertIdKey = DEFAULT_REDIS_NAMES.alertIdKey;

/** `XADD ... MAXLEN ~ 10000`: the stream keeps about the last ten thousand alerts. */
export const ALERT_STREAM_MAXLEN = 10_000;
/**
 * How long an alert-id marker (`{prefix}:alert-id:{id}`) lives: 3 days, as long as the bot
 * remembers which chats an alert reached (`{prefix}:delivered:{id}`), so a re-sent alert is refused
 * in that span by both. Ten thousand stream entries last 3 days at about 2.3 alerts a minute:
 * busier, the marker outlives the entry; quieter, an id written again more than 3 days after its
 * first write (a replay of the same recording days later into the same Redis) enters the stream a
 * second time. Markers cost about 100 bytes each.
 */
export const ALERT_ID_TTL_SEC = 3 * 24 * 3600;

/** `redis://:secret@host` → `redis://:***@host`, for logs. */
export function redactUrl(url: string): string {
  try {
    const u = new URL(url);
    if (u.password) u.password = '***';
    return u.toString();
  } catch {
    return '(unparseable url)';
  }
}
