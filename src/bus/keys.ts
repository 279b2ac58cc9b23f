/** Redis names of the public contract (README "Redis contract"). SYMBOL upper case, venue lower case. */
export const latestKey = (venue: string, symbol: string) => `pulse:latest:${venue}:${symbol}`;
export const snapshotChannel = (venue: string, symbol: string) => `pulse:snapshot:${venue}:${symbol}`;
export const symbolsKey = (venue: string) => `pulse:symbols:${venue}`;
/** Hash of feed health, field `{venue}@{shard}` → FeedHealthJson. */
export const STATUS_KEY = 'pulse:status';
/** Hash of alert-engine rule states (hysteresis, cooldown), field `{venue}:{SYMBOL}:{kind}`. */
export const ALERT_STATE_KEY = 'pulse:alert-state';
/** String: the chat thresholds the processor evaluates besides its own (`{"v":1,"levels":{kind:[…]}}`), written by the bot. */
export const ALERT_LEVELS_KEY = 'pulse:alert-levels';
export const ALERT_CHANNEL = 'pulse:alert';
export const ALERT_STREAM = 'pulse:alerts';
/** `XADD ... MAXLEN ~ 10000`: the stream keeps about the last ten thousand alerts. */
export const ALERT_STREAM_MAXLEN = 10_000;
/**
 * Internal: `pulse:alert-id:{id}` marks an alert id already written to `pulse:alerts` (value: its
 * stream entry id). A writer that finds it adds nothing, so each id enters the stream at most once.
 */
export const alertIdKey = (alertId: string) => `pulse:alert-id:${alertId}`;
/**
 * How long an id marker lives: 3 days, as long as the bot remembers which chats an alert reached
 * (`pulse:delivered:{id}`), so a re-sent alert is refused in that span by both. Ten thousand stream
 * entries last 3 days at about 2.3 alerts a minute: busier, the marker outlives the entry; quieter,
 * an id written again more than 3 days after its first write (a replay of the same recording days
 * later into the same Redis) enters the stream a second time. Markers cost about 100 bytes each.
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
