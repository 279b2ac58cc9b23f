import { Composer, type Context } from 'grammy';
import { SubscriptionError } from '../../bus/subscription-store.js';
import { escapeHtml, limitLength } from '../format.js';
import { ONLY_ADMINS } from '../kit/admin-check.js';
import type { FeatureDeps } from '../kit/deps.js';
import { replyHtml } from '../kit/html.js';
import {
  invalidSymbolReply,
  notTrackedReply,
  parseSymbolArg,
  parseVenueArg,
  splitArgs,
  unknownVenueReply,
  usageReply,
} from '../kit/symbol-arg.js';

/** How many symbols `/list` shows before `… and N more` (a chat may follow 100). */
const LIST_MAX = 100;

/** `bybit`, or `the all-venue view` for the aggregate; escaped. */
function venueWords(venue: string): string {
  return venue === 'all' ? 'the all-venue view' : `<b>${escapeHtml(venue)}</b>`;
}

function venueListWords(venues: readonly string[]): string {
  return venues.map(venueWords).join(', ');
}

/**
 * `/subscribe SYMBOL [VENUE]`, `/unsubscribe SYMBOL|all`, `/list`, and keeping subscriptions right
 * when a chat moves or leaves.
 */
export function subscriptionsFeature(deps: FeatureDeps): Composer<Context> {
  const feature = new Composer<Context>();
  const store = deps.subscriptions;
  const log = deps.logger.child({ feature: 'subscriptions' });
  // In a group, what everyone there receives is for its administrators to decide.

  feature.command('subscribe', async (ctx) => {
    if (!(await deps.mayChange(ctx))) return replyHtml(ctx, `${ONLY_ADMINS}.`);
    const arg = parseSymbolArg(ctx.match);
    if (arg.kind === 'missing') {
      return replyHtml(ctx, usageReply('subscribe', 'to get OI alerts in this chat', ['SYMBOL VENUE']));
    }
    if (arg.kind === 'invalid') return replyHtml(ctx, invalidSymbolReply('subscribe', arg.raw));
    const venueRaw = splitArgs(ctx.match)[1];
    const venue = venueRaw === undefined ? undefined : parseVenueArg(venueRaw, deps.venues);
    if (venue === null) return replyHtml(ctx, unknownVenueReply(venueRaw ?? '', deps.venues));

    const lists = await Promise.all(deps.venues.map((v) => deps.bus.trackedSymbols(v)));
    const tracked = [...new Set(lists.flat())].sort();
    // With no tracked list at all (processor not started yet) we accept and let alerts come later.
    if (tracked.length > 0 && !tracked.includes(arg.symbol)) {
      return replyHtml(ctx, notTrackedReply(arg.symbol, tracked));
    }
    const symbol = escapeHtml(arg.symbol);
    if (venue !== undefined && venue !== 'all') {
      const onVenue = lists[deps.venues.indexOf(venue)] ?? [];
      if (onVenue.length > 0 && !onVenue.includes(arg.symbol)) {
        const where = deps.venues.filter((_, i) => lists[i]?.includes(arg.symbol));
        return replyHtml(
          ctx,
          `<b>${symbol}</b> is not tracked on ${venueWords(venue)}. It is on ${venueListWords(where)}.`,
        );
      }
    }

    let changed: boolean;
    try {
      changed = await store.add(ctx.chat.id, arg.symbol, venue);
    } catch (err) {
      if (err instanceof SubscriptionError && err.code === 'E_SUB_LIMIT') {
        return replyHtml(ctx, `Not subscribed: ${escapeHtml(err.message)}. /unsubscribe one first.`);
      }
      throw err;
    }
    const venues = await store.venuesFor(ctx.chat.id, arg.symbol);
    if (!changed) {
      if (venue === undefined) return replyHtml(ctx, `Already subscribed to <b>${symbol}</b>.`);
      if (venues === null) {
        return replyHtml(
          ctx,
          `Already subscribed to <b>${symbol}</b> on every venue. To get only ${venueWords(venue)}: /unsubscribe ${symbol}, then /subscribe ${symbol} ${escapeHtml(venue)}.`,
        );
      }
      return replyHtml(ctx, `Already subscribed to <b>${symbol}</b> on ${venueListWords(venues)}.`);
    }
    log.info({ chatId: ctx.chat.id, symbol: arg.symbol, venues }, 'chat subscribed');
    if (venues === null) {
      return replyHtml(
        ctx,
        `Subscribed to <b>${symbol}</b>. I'll post here when its open interest moves sharply on any venue.\n/list shows your subscriptions.`,
      );
    }
    return replyHtml(
      ctx,
      `Subscribed to <b>${symbol}</b> on ${venueListWords(venues)}. I'll post here when its open interest moves sharply there.\n/list shows your subscriptions.`,
    );
  });

  feature.command('unsubscribe', async (ctx) => {
    if (!(await deps.mayChange(ctx))) return replyHtml(ctx, `${ONLY_ADMINS}.`);
    const raw = splitArgs(ctx.match, 1)[0];
    if (raw?.toLowerCase() === 'all') {
      const symbols = await store.listForChat(ctx.chat.id);
      if (symbols.length === 0) return replyHtml(ctx, 'You had no subscriptions.');
      await store.removeChat(ctx.chat.id);
      log.info({ chatId: ctx.chat.id, count: symbols.length }, 'chat unsubscribed from everything');
      return replyHtml(
        ctx,
        `Unsubscribed from all ${symbols.length} symbol${symbols.length === 1 ? '' : 's'}. No more alerts here.`,
      );
    }
    const arg = parseSymbolArg(ctx.match);
    if (arg.kind === 'missing') {
      return replyHtml(ctx, usageReply('unsubscribe', 'to stop its alerts', ['all']));
    }
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
    const shown = symbols.slice(0, LIST_MAX);
    const venues = await Promise.all(shown.map((s) => store.venuesFor(ctx.chat.id, s)));
    const entries = shown.map((s, i) => {
      const v = venues[i];
      return v === null || v === undefined || v.length === 0
        ? escapeHtml(s)
        : `${escapeHtml(s)} (${v.map(escapeHtml).join(', ')})`;
    });
    const more = symbols.length > LIST_MAX ? `\n… and ${symbols.length - LIST_MAX} more` : '';
    // One per line, cut at a line if a hundred venue lists would pass Telegram's limit.
    return replyHtml(ctx, limitLength(`Subscribed (${symbols.length}):\n${entries.join('\n')}${more}`));
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
