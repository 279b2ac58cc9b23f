import { Composer, type Context, InlineKeyboard } from 'grammy';
import { SubscriptionError } from '../../bus/subscription-store.js';
import type { SnapshotJson } from '../../domain/types.js';
import { formatFundingMessage, formatOiMessage, limitLength } from '../format.js';
import { ONLY_ADMINS } from '../kit/admin-check.js';
import type { FeatureDeps } from '../kit/deps.js';
import { replyHtml } from '../kit/html.js';
import { invalidSymbolReply, noDataReply, parseSymbolArg, usageReply } from '../kit/symbol-arg.js';
import { describeError, isNotModified } from '../telegram-errors.js';

type SnapshotFormatter = (snapshot: SnapshotJson, nowMs: number) => string;

/** One button: `🔔 Subscribe` (data `sub:{SYMBOL}`) or, once subscribed, `🔕 Unsubscribe` (`unsub:{SYMBOL}`). */
export function subscribeKeyboard(symbol: string, subscribed: boolean): InlineKeyboard {
  return subscribed
    ? new InlineKeyboard().text('🔕 Unsubscribe', `unsub:${symbol}`)
    : new InlineKeyboard().text('🔔 Subscribe', `sub:${symbol}`);
}

/**
 * `/oi SYMBOL` and `/funding SYMBOL`: the latest snapshot of every venue that has one, with a
 * subscribe/unsubscribe button that flips in place when pressed.
 */
export function queriesFeature(deps: FeatureDeps): Composer<Context> {
  const feature = new Composer<Context>();
  const store = deps.subscriptions;
  const log = deps.logger.child({ feature: 'queries' });

  const query = (command: string, what: string, format: SnapshotFormatter) =>
    feature.command(command, async (ctx) => {
      const arg = parseSymbolArg(ctx.match);
      if (arg.kind === 'missing') return replyHtml(ctx, usageReply(command, what));
      if (arg.kind === 'invalid') return replyHtml(ctx, invalidSymbolReply(command, arg.raw));
      const snapshots = await Promise.all(deps.venues.map((venue) => deps.bus.latest(venue, arg.symbol)));
      const found = snapshots.filter((s): s is SnapshotJson => s !== null);
      if (found.length > 0) {
        const nowMs = deps.now();
        const subscribed = (await store.listForChat(ctx.chat.id)).includes(arg.symbol);
        return replyHtml(ctx, limitLength(found.map((s) => format(s, nowMs)).join('\n\n')), {
          reply_markup: subscribeKeyboard(arg.symbol, subscribed),
        });
      }
      return replyHtml(ctx, await noDataReply(deps, arg.symbol));
    });

  query('oi', 'for open interest and its 15m/24h change', formatOiMessage);
  query('funding', 'for the funding rate, its APR, its cost and the next reset', formatFundingMessage);

  feature.callbackQuery(/^(sub|unsub):([A-Z0-9]{1,20})$/, async (ctx) => {
    const [, action, symbol = ''] = ctx.match;
    const chatId = ctx.chat?.id;
    if (chatId === undefined) return ctx.answerCallbackQuery({ text: 'This button only works in a chat.' });
    if (!(await deps.mayChange(ctx))) return ctx.answerCallbackQuery({ text: ONLY_ADMINS, show_alert: true });
    let toast: string;
    let subscribed: boolean;
    if (action === 'sub') {
      try {
        toast = (await store.add(chatId, symbol))
          ? `Subscribed to ${symbol}: alerts will come here`
          : `Already subscribed to ${symbol}`;
      } catch (err) {
        if (err instanceof SubscriptionError && err.code === 'E_SUB_LIMIT') {
          return ctx.answerCallbackQuery({ text: `Not subscribed: ${err.message}`, show_alert: true });
        }
        throw err;
      }
      subscribed = true;
    } else {
      toast = (await store.remove(chatId, symbol))
        ? `Unsubscribed from ${symbol}`
        : `You were not subscribed to ${symbol}`;
      subscribed = false;
    }
    log.info({ chatId, symbol, subscribed }, 'subscription changed by button');
    try {
      await ctx.editMessageReplyMarkup({ reply_markup: subscribeKeyboard(symbol, subscribed) });
    } catch (err) {
      if (!isNotModified(err))
        log.warn({ err: describeError(err), chatId }, 'could not update the subscribe button');
    }
    return ctx.answerCallbackQuery({ text: toast });
  });

  return feature;
}
