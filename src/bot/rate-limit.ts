/**
 * Per-chat command rate limit: a token bucket per chat, in a bounded LRU (lru-cache). Commands
 * and button presses (callback queries) spend a token; plain text passes free. Over the limit a
 * chat gets one short "Slow down" answer, then silence until its bucket holds a token again.
 */
import type { Context, MiddlewareFn } from 'grammy';
import { LRUCache } from 'lru-cache';

export interface CommandRateLimitOptions {
  /** Commands per minute per chat, also the burst size. */
  readonly perMin: number;
  /** Chats remembered at once; the least recently seen is forgotten first (its bucket starts full). Default 10,000. */
  readonly maxChats?: number;
  /** Clock in epoch ms; default `Date.now`. */
  readonly now?: () => number;
}

interface Bucket {
  tokens: number;
  atMs: number;
  /** The chat was told to slow down and has not had a token since. */
  warned: boolean;
}

export interface CommandRateLimiter {
  /** `ok`: go ahead; `warn`: first refusal, tell the chat; `silent`: refused again, say nothing. */
  take(key: number): { readonly verdict: 'ok' | 'warn' | 'silent'; readonly waitMs: number };
  /** Chats currently remembered. */
  size(): number;
}

/** The bucket bookkeeping alone, so it can be tested without Telegram. */
export function createCommandRateLimiter(opts: CommandRateLimitOptions): CommandRateLimiter {
  if (!(opts.perMin > 0)) throw new RangeError('perMin must be greater than 0');
  const capacity = opts.perMin;
  const refillPerMs = opts.perMin / 60_000;
  const maxChats = Math.max(1, opts.maxChats ?? 10_000);
  const now = opts.now ?? Date.now;
  // No TTL: a forgotten chat would start full anyway, so only the bound matters. `get` marks the
  // chat as recently seen; `set` of a new chat evicts the least recently seen when full.
  const buckets = new LRUCache<number, Bucket>({ max: maxChats });

  return {
    take(key) {
      const nowMs = now();
      let bucket = buckets.get(key);
      if (bucket === undefined) {
        bucket = { tokens: capacity, atMs: nowMs, warned: false };
        buckets.set(key, bucket);
      } else {
        const elapsedMs = Math.max(0, nowMs - bucket.atMs);
        bucket.tokens = Math.min(capacity, bucket.tokens + elapsedMs * refillPerMs);
        bucket.atMs = nowMs;
      }
      if (bucket.tokens >= 1) {
        bucket.tokens -= 1;
        bucket.warned = false;
        return { verdict: 'ok', waitMs: 0 };
      }
      const waitMs = Math.ceil((1 - bucket.tokens) / refillPerMs);
      if (bucket.warned) return { verdict: 'silent', waitMs };
      bucket.warned = true;
      return { verdict: 'warn', waitMs };
    },
    size: () => buckets.size,
  };
}

function isCommand(ctx: Context): boolean {
  const entity = ctx.message?.entities?.[0];
  return entity?.type === 'bot_command' && entity.offset === 0;
}

/** grammY middleware: install before the features. */
export function commandRateLimit(opts: CommandRateLimitOptions): MiddlewareFn<Context> {
  const limiter = createCommandRateLimiter(opts);
  return async (ctx, next) => {
    const counted = ctx.callbackQuery !== undefined || isCommand(ctx);
    const key = ctx.chat?.id ?? ctx.from?.id;
    if (!counted || key === undefined) return next();
    const { verdict, waitMs } = limiter.take(key);
    if (verdict === 'ok') return next();
    if (ctx.callbackQuery !== undefined) {
      // A button press must be answered either way, or the client shows a spinner.
      const text = verdict === 'warn' ? slowDown(opts.perMin, waitMs) : undefined;
      await ctx.answerCallbackQuery(text === undefined ? undefined : { text }).catch(() => {});
      return;
    }
    if (verdict === 'warn') await ctx.reply(slowDown(opts.perMin, waitMs));
  };
}

function slowDown(perMin: number, waitMs: number): string {
  const waitSec = Math.max(1, Math.ceil(waitMs / 1000));
  return `Slow down: at most ${perMin} commands a minute per chat. Try again in ${waitSec} s.`;
}
