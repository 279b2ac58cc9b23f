import { Redis } from 'ioredis';
import { BOT_CONSUMER_GROUP } from '../bus/alert-stream.js';
import { redactUrl, redisNames } from '../bus/keys.js';

/**
 * A replay refused because a bot reads alerts from the target Redis: its subscribers would be
 * paged with the recording's alerts and the latest snapshots overwritten with old ones.
 */
export class ReplayRefusedError extends Error {
  readonly code = 'E_REPLAY_REFUSED';
  constructor(
    readonly url: string,
    readonly stream: string,
  ) {
    super(
      `refusing to replay into ${redactUrl(url)}: ${stream} has the bot consumer group ` +
        `${BOT_CONSUMER_GROUP}, so its subscribers would get these alerts; replay into a database or ` +
        'server of its own (e.g. REDIS_URL=redis://127.0.0.1:6379/15), or a REDIS_PREFIX of its own, or add --force',
    );
    this.name = 'ReplayRefusedError';
  }
}

/**
 * Whether a bot reads alerts from this Redis under this prefix (`XINFO GROUPS` of the alert stream
 * lists the bot's consumer group). A plain connection of its own: one question, then closed.
 */
export async function botReadsAlerts(url: string, prefix: string): Promise<boolean> {
  const redis = new Redis(url, {
    // RESP2: XINFO answers a flat list of name/value pairs per group.
    protocol: 2,
    lazyConnect: true,
    maxRetriesPerRequest: 1,
    connectTimeout: 5000,
    retryStrategy: () => null,
    connectionName: 'perp-pulse:replay-guard',
  });
  try {
    await redis.connect();
    const groups = (await redis.xinfo('GROUPS', redisNames(prefix).alertStream)) as unknown[][];
    return groups.some((fields) => {
      const at = fields.indexOf('name');
      return at >= 0 && String(fields[at + 1]) === BOT_CONSUMER_GROUP;
    });
  } catch (err) {
    // No stream yet: no bot has ever read from it.
    if (/no such key/i.test((err as Error).message)) return false;
    throw err;
  } finally {
    redis.disconnect();
  }
}
