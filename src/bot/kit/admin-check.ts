import type { Context } from 'grammy';
import { LRUCache } from 'lru-cache';
import type { Logger } from 'pino';
import { describeError } from '../telegram-errors.js';

/** The answer to a group member who is not an administrator. */
export const ONLY_ADMINS = 'Only group admins can change what this group receives';

/** Whether the sender of this update may change what the chat receives. */
export type AdminCheck = (ctx: Context) => Promise<boolean>;

export interface AdminCheckOptions {
  /** Epoch ms; the cache's TTL runs on it (tests pass a fixed or stepped clock). */
  readonly now: () => number;
  readonly logger: Logger;
  /**
   * How long a `getChatMember` answer is trusted; default 60,000 ms. A member promoted or demoted
   * in the group waits at most this long for the bot to notice.
   */
  readonly ttlMs?: number;
  /** (chat, user) answers kept; the least recently used goes first when full. Default 1,000. */
  readonly maxEntries?: number;
}

/**
 * Whether the sender may change what the chat receives: anyone in a private chat or channel; in a
 * group, its administrators (an anonymous admin posts as the group itself). Answers are cached per
 * chat and user for `ttlMs`; a failed check says no and is not cached. One check serves every
 * feature, so a group's admin is looked up once, whichever command or button came first.
 */
export function createAdminCheck(opts: AdminCheckOptions): AdminCheck {
  const log = opts.logger;
  // The TTL is checked on read against `perf.now()`, here our clock instead of performance.now();
  // `ttlResolution: 0` reads that clock every time rather than caching it behind a 1 ms timer.
  const admins = new LRUCache<string, boolean>({
    max: opts.maxEntries ?? 1_000,
    ttl: opts.ttlMs ?? 60_000,
    ttlResolution: 0,
    perf: { now: opts.now },
  });
  return async (ctx) => {
    const chat = ctx.chat;
    if (chat === undefined) return false;
    if (chat.type === 'private' || chat.type === 'channel') return true;
    if (ctx.message?.sender_chat?.id === chat.id) return true;
    const userId = ctx.from?.id;
    if (userId === undefined) return false;
    const key = `${chat.id}:${userId}`;
    const cached = admins.get(key);
    if (cached !== undefined) return cached;
    try {
      const member = await ctx.getChatMember(userId);
      const isAdmin = member.status === 'creator' || member.status === 'administrator';
      admins.set(key, isAdmin);
      return isAdmin;
    } catch (err) {
      log.warn({ err: describeError(err), chatId: chat.id }, 'admin check failed');
      return false;
    }
  };
}
