import type { Context } from 'grammy';
import type { Logger } from 'pino';
import type { Bus, SubscriptionStore } from '../../bus/types.js';

/** What the feature composers read: our own small interfaces, never a Redis client. */
export interface FeatureDeps {
  readonly bus: Pick<Bus, 'latest' | 'trackedSymbols'>;
  readonly subscriptions: SubscriptionStore;
  readonly venues: readonly string[];
  readonly logger: Logger;
  readonly now: () => number;
}

/** Replies in HTML parse mode without link previews; every caller escapes its dynamic values. */
export function replyHtml(ctx: Context, html: string): Promise<unknown> {
  return ctx.reply(html, { parse_mode: 'HTML', link_preview_options: { is_disabled: true } });
}
