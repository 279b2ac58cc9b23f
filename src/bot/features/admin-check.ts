import type { Context } from 'grammy';
import type { Logger } from 'pino';
import { describeError } from '../telegram-errors.js';

const ADMIN_CACHE_TTL_MS = 60_000;
const ADMIN_CACHE_MAX = 1_000;

/** Admin answers per chat and user for a minute; the oldest entry goes first when full. */
class AdminCache {
  private readonly entries = new Map<string, { readonly isAdmin: boolean; readonly expiresAtMs: number }>();

  constructor(private readonly now: () => number) {}

  get(key: string): boolean | undefined {
    const hit = this.entries.get(key);
    if (hit === undefined) return undefined;
    if (hit.expiresAtMs > this.now()) return hit.isAdmin;
    this.entries.delete(key);
    return undefined;
  }

  set(key: string, isAdmin: boolean): void {
    this.entries.delete(key);
    this.entries.set(key, { isAdmin, expiresAtMs: this.now() + ADMIN_CACHE_TTL_MS });
    while (this.entries.size > ADMIN_CACHE_MAX) {
      const oldest = this.entries.keys().next().value;
      if (oldest === undefined) break;
      this.entries.delete(oldest);
    }
  }
}

/**
 * Whether the sender may change what the chat receives: anyone in a private chat or channel; in a
 * group, its administrators (an anonymous admin posts as the group itself). Answers are cached
 * for a minute per chat and user; a failed check says no.
 */
export function createAdminCheck(now: () => number, log: Logger): (ctx: Context) => Promise<boolean> {
  const admins = new AdminCache(now);
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
