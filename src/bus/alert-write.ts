import type { Redis, Result } from 'ioredis';
import { ALERT_ID_TTL_SEC, ALERT_STREAM_MAXLEN, type RedisNames } from './keys.js';
import type { AlertStateEntry } from './types.js';

/**
 * One alert and its rule state, written atomically and at most once per alert id.
 *
 * The id marker is what makes a replay, a second processor in a rolling deploy, or a retry after a
 * lost reply harmless: whoever writes an id second finds the marker and adds nothing to the stream
 * or the channel. Rule state is written either way: it is idempotent, and the caller's cooldowns
 * must be stored even when another writer already sent the alert.
 *
 * A script rather than MULTI because the stream write depends on the marker check, which MULTI
 * cannot express. ioredis sends it with EVALSHA and falls back to EVAL when the server does not
 * know the script (first use on a connection, or a Redis that restarted empty).
 *
 * KEYS: id marker, stream, rule-state hash. ARGV: marker TTL (s), stream MAXLEN, channel, alert
 * JSON, then rule-state field/value pairs. Returns 1 when the alert was written, 0 for a duplicate.
 */
const WRITE_ALERT_ONCE_LUA = `
for i = 5, #ARGV, 1000 do
  redis.call('HSET', KEYS[3], unpack(ARGV, i, math.min(i + 999, #ARGV)))
end
if redis.call('EXISTS', KEYS[1]) == 1 then return 0 end
local entryId = redis.call('XADD', KEYS[2], 'MAXLEN', '~', ARGV[2], '*', 'json', ARGV[4])
redis.call('SET', KEYS[1], entryId, 'EX', ARGV[1])
redis.call('PUBLISH', ARGV[3], ARGV[4])
return 1
`;

declare module 'ioredis' {
  interface RedisCommander<Context> {
    pulseWriteAlertOnce(
      idKey: string,
      stream: string,
      stateKey: string,
      ttlSec: number,
      maxLen: number,
      channel: string,
      json: string,
      ...state: string[]
    ): Result<number, Context>;
  }
}

/** Registers the script on a connection; call once per connection, before `writeAlertOnce`. */
export function defineAlertWrite(redis: Redis): void {
  redis.defineCommand('pulseWriteAlertOnce', { numberOfKeys: 3, lua: WRITE_ALERT_ONCE_LUA });
}

/** True when the alert went into `{prefix}:alerts` and `{prefix}:alert`; false when its id was already there. */
export async function writeAlertOnce(
  redis: Redis,
  names: RedisNames,
  alertId: string,
  json: string,
  state: readonly AlertStateEntry[],
): Promise<boolean> {
  const written = await redis.pulseWriteAlertOnce(
    names.alertIdKey(alertId),
    names.alertStream,
    names.alertStateKey,
    ALERT_ID_TTL_SEC,
    ALERT_STREAM_MAXLEN,
    names.alertChannel,
    json,
    ...state.flatMap((e) => [e.key, e.json]),
  );
  return written === 1;
}
