import { Composer, type Context } from 'grammy';
import { SubscriptionError } from '../../bus/subscription-store.js';
import { escapeHtml, formatSymbolList } from '../format.js';
import { type FeatureDeps, replyHtml } from './reply.js';
import {
  invalidSymbolReply,
  notTrackedReply,
  parseSymbolArg,
  trackedSymbols,
  usageReply,
} from './symbol-arg.js';

/** `/subscribe`, `/unsubscribe`, `/list`, and keeping subscriptions right when a chat moves or leaves. */
export function subscriptionsFeature(deps: FeatureDeps): Composer<Context> {
  const feature = new Composer<Context>();
  const store = deps.subscriptions;
  const log = deps.logger.child({ feature: 'subscriptions' });

  feature.command('subscribe', async (ctx) => {
    const arg = parseSymbolArg(ctx.match);
    if (arg.kind === 'missing')
      return replyHtml(ctx, usageReply('subscribe', 'to get OI alerts in this chat'));
    if (arg.kind === 'invalid') return replyHtml(ctx, invalidSymbolReply('subscribe', arg.raw));
    const tracked = await trackedSymbols(deps);
    // With no tracked list at all (processor not started yet) we accept and let alerts come later.
    if (tracked.length > 0 && !tracked.includes(arg.symbol)) {
      return replyHtml(ctx, notTrackedReply(arg.symbol, tracked));
    }
    const symbol = escapeHtml(arg.symbol);
    try {
      const added = await store.add(ctx.chat.id, arg.symbol);
      if (!added) return replyHtml(ctx, `Already subscribed to <b>${symbol}</b>.`);
    } catch (err) {
      if (err instanceof SubscriptionError && err.code === 'E_SUB_LIMIT') {
        return replyHtml(ctx, `Not subscribed: ${escapeHtml(err.message)}. /unsubscribe one first.`);
      }
      throw err;
    }
    log.info({ chatId: ctx.chat.id, symbol: arg.symbol }, 'chat subscribed');
    return replyHtml(
      ctx,
      `Subscribed to <b>${symbol}</b>. I'll post here when its open interest moves sharply.\n/list shows your subscriptions.`,
    );
  });

  feature.command('unsubscribe', async (ctx) => {
    const arg = parseSymbolArg(ctx.match);
    if (arg.kind === 'missing') return replyHtml(ctx, usageReply('unsubscribe', 'to stop its alerts'));
    if (arg.kind === 'invalid') return replyHtml(ctx, invalidSymbolReply('unsubscribe', arg.raw));
    const symbol = escapeHtml(arg.symbol);
    if (!(await store.remove(ctx.chat.id, arg.symbol))) {
      return replyHtml(ctx, `You were not subscribed to <b>${symbol}</b>. /list shows your subscriptions.`);
    }
    log.info({ chatId: ctx.chat.id, symbol: arg.symbol }, 'chat unsubscribed');
    return replyHtml(ctx, `Unsubscribed from <b>${symbol}</b>.`);
  });

  feature.command('list', async (ctx) => {
    const symbols = await store.listForChat(ctx.chat.id);
    if (symbols.length === 0) {
      return replyHtml(ctx, 'No subscriptions yet. Try <code>/subscribe BTC</code>.');
    }
    return replyHtml(ctx, `Subscribed (${symbols.length}): ${formatSymbolList(symbols, 100)}`);
  });

  // A group upgraded to a supergroup gets a new id; the old group receives this service message.
  feature.on('message:migrate_to_chat_id', async (ctx) => {
    const newChatId = ctx.message.migrate_to_chat_id;
    log.info({ chatId: ctx.chat.id, newChatId }, 'group upgraded to a supergroup: moving subscriptions');
    await store.migrateChat(ctx.chat.id, newChatId);
  });

  // Removed from a group or blocked in a private chat: alerts could never arrive again.
  feature.on('my_chat_member', async (ctx, next) => {
    const status = ctx.myChatMember.new_chat_member.status;
    if (status !== 'kicked' && status !== 'left') return next();
    log.info({ chatId: ctx.chat.id, status }, 'bot removed from chat: dropping its subscriptions');
    await store.removeChat(ctx.chat.id);
  });

  return feature;
}
