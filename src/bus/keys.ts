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
