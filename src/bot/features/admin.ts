import { Composer, type Context } from 'grammy';
import { replyHtml } from '../kit/html.js';

/** What `/stats` shows; null = not known to this process. */
export interface AdminStats {
  /** Chats with at least one subscription. */
  readonly chats: number | null;
  /** (chat, symbol) subscriptions. */
  readonly subscriptions: number | null;
  /** Alert messages delivered since start. */
  readonly alertsSent: number | null;
  /** Alert messages given up on since start. */
  readonly failures: number | null;
}

export interface AdminFeatureOptions {
  /** Chats allowed to run operator commands (`ADMIN_CHAT_IDS`). */
  readonly adminChatIds: readonly number[];
  readonly stats: () => Promise<AdminStats> | AdminStats;
}

/** Operator commands shown in the admin chats' own command menus. */
export const ADMIN_COMMANDS = [
  { command: 'stats', description: 'Operator: chats, subscriptions, alerts sent, failures' },
] as const;

const fmt = (n: number | null) => (n === null ? 'unknown' : n.toLocaleString('en-US'));

/** The `/stats` message (HTML; numbers only, nothing to escape). */
export function formatAdminStats(s: AdminStats): string {
  return [
    '<b>perp-pulse stats</b>',
    `Chats: ${fmt(s.chats)}`,
    `Subscriptions: ${fmt(s.subscriptions)}`,
    `Alerts sent: ${fmt(s.alertsSent)}`,
    `Failures: ${fmt(s.failures)}`,
  ].join('\n');
}

/**
 * `/stats` for the chats in ADMIN_CHAT_IDS. Anywhere else the command falls through, so the
 * unknown-command reply answers it and nothing reveals that operator commands exist.
 */
export function adminFeature(opts: AdminFeatureOptions): Composer<Context> {
  const admins = new Set(opts.adminChatIds);
  const feature = new Composer<Context>();
  feature.command('stats', async (ctx, next) => {
    if (!admins.has(ctx.chat.id)) return next();
    await replyHtml(ctx, formatAdminStats(await opts.stats()));
  });
  return feature;
}
