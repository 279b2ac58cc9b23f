import { Composer, type Context, InlineKeyboard } from 'grammy';
import { LRUCache } from 'lru-cache';
import type { Bus } from '../../bus/types.js';
import type { SnapshotJson } from '../../domain/types.js';
import { escapeHtml, formatStatusMessage } from '../format.js';
import {
  formatMarketMessage,
  formatTopMessage,
  MARKET_TIMEFRAMES,
  type MarketTimeframe,
  rankedSnapshots,
} from '../format-market.js';
import type { FeatureDeps } from '../kit/deps.js';
import { htmlOptions, replyHtml } from '../kit/html.js';
import {
  invalidSymbolReply,
  noDataReply,
  parseSymbolArg,
  parseVenueArg,
  splitArgs,
  trackedSymbols,
  unknownVenueReply,
  usageReply,
} from '../kit/symbol-arg.js';
import { isNotModified } from '../telegram-errors.js';

/** `/market`, `/top` and `/status` read more of the bus than the other features. */
export type MarketDeps = Omit<FeatureDeps, 'bus'> & {
  readonly bus: Pick<Bus, 'latest' | 'latestMany' | 'trackedSymbols' | 'feedStatus'>;
};

/** One `/market` view: the aggregate (`all`) or a venue, and the windows shown. */
export interface MarketView {
  readonly symbol: string;
  readonly venue: string;
  readonly tf: MarketTimeframe;
}

/** Messages whose current view we remember, so pressing the shown view costs no edit. */
const MAX_REMEMBERED_VIEWS = 10_000;
const VENUES_PER_ROW = 3;
const TF_LABELS: Readonly<Record<MarketTimeframe, string>> = {
  '15m': '15m',
  '24h': '24h',
  both: '15m + 24h',
};
const SELECTED = '• ';

/** `mkt:{SYMBOL}:{venue}:{tf}`; at most 6 + 20 + 1 + 20 + 5 = 52 bytes, within Telegram's 64. */
export function marketCallbackData(view: MarketView): string {
  return `mkt:${view.symbol}:${view.venue}:${view.tf}`;
}

const CALLBACK_RE = /^mkt:([A-Z0-9]{1,20}):([a-z0-9_-]{1,20}):(15m|24h|both)$/;

export function parseMarketCallbackData(data: string): MarketView | null {
  const m = CALLBACK_RE.exec(data);
  if (m === null) return null;
  return { symbol: m[1] as string, venue: m[2] as string, tf: m[3] as MarketTimeframe };
}

/**
 * Venue buttons (`All` and each venue with data, rows of three) and timeframe buttons; the shown
 * view's buttons are marked `• ` and carry the shown view's data.
 */
export function marketKeyboard(view: MarketView, venuesWithData: readonly string[]): InlineKeyboard {
  const keyboard = new InlineKeyboard();
  venuesWithData.forEach((venue, i) => {
    if (i > 0 && i % VENUES_PER_ROW === 0) keyboard.row();
    const label = venue === 'all' ? 'All' : venue;
    keyboard.text(`${venue === view.venue ? SELECTED : ''}${label}`, marketCallbackData({ ...view, venue }));
  });
  keyboard.row();
  for (const tf of MARKET_TIMEFRAMES) {
    keyboard.text(`${tf === view.tf ? SELECTED : ''}${TF_LABELS[tf]}`, marketCallbackData({ ...view, tf }));
  }
  return keyboard;
}

/** The view a keyboard shows: the data of its marked buttons (how a restarted bot still knows it). */
function shownViewOf(markup: unknown): string | null {
  const rows = (markup as { inline_keyboard?: { text?: string; callback_data?: string }[][] } | undefined)
    ?.inline_keyboard;
  for (const row of rows ?? []) {
    for (const button of row) {
      if (button.text?.startsWith(SELECTED) && button.callback_data) return button.callback_data;
    }
  }
  return null;
}

/** `/market SYMBOL [VENUE] [15m|24h|both]` with in-place switching, `/top`, `/status`. */
export function marketFeature(deps: MarketDeps): Composer<Context> {
  const feature = new Composer<Context>();
  const log = deps.logger.child({ feature: 'market' });
  const allVenues = ['all', ...deps.venues];
  // chatId:messageId → callback data of the shown view; a forgotten one is read from its keyboard.
  const shown = new LRUCache<string, string>({ max: MAX_REMEMBERED_VIEWS });
  const remember = (chatId: number, messageId: number, data: string) => {
    shown.set(`${chatId}:${messageId}`, data);
  };

  async function snapshotsOf(symbol: string): Promise<Map<string, SnapshotJson>> {
    const found = await Promise.all(allVenues.map((v) => deps.bus.latest(v, symbol)));
    const byVenue = new Map<string, SnapshotJson>();
    allVenues.forEach((v, i) => {
      const s = found[i];
      if (s) byVenue.set(v, s);
    });
    return byVenue;
  }

  const render = (view: MarketView, byVenue: Map<string, SnapshotJson>, snapshot: SnapshotJson) => ({
    text: formatMarketMessage(snapshot, view.tf, deps.now()),
    options: htmlOptions({ reply_markup: marketKeyboard(view, [...byVenue.keys()]) }),
  });

  feature.command('market', async (ctx) => {
    const arg = parseSymbolArg(ctx.match);
    if (arg.kind === 'missing') {
      return replyHtml(
        ctx,
        usageReply('market', 'for who is in control, momentum, activity and funding pressure', [
          'SYMBOL VENUE 15m|24h',
        ]),
      );
    }
    if (arg.kind === 'invalid') return replyHtml(ctx, invalidSymbolReply('market', arg.raw));
    let venue: string | undefined;
    let tf: MarketTimeframe = 'both';
    for (const word of splitArgs(ctx.match).slice(1)) {
      const asTf = MARKET_TIMEFRAMES.find((t) => t === word.toLowerCase());
      if (asTf !== undefined) {
        tf = asTf;
        continue;
      }
      const asVenue = parseVenueArg(word, deps.venues);
      if (asVenue === null) return replyHtml(ctx, unknownVenueReply(word, deps.venues));
      venue = asVenue;
    }
    const byVenue = await snapshotsOf(arg.symbol);
    const symbol = escapeHtml(arg.symbol);
    if (byVenue.size === 0) return replyHtml(ctx, await noDataReply(deps, arg.symbol));
    const chosen = venue ?? [...byVenue.keys()][0] ?? 'all';
    const snapshot = byVenue.get(chosen);
    if (snapshot === undefined) {
      const have = [...byVenue.keys()].map((v) => `<code>${escapeHtml(v)}</code>`).join(', ');
      return replyHtml(
        ctx,
        `No data for <b>${symbol}</b> on ${escapeHtml(chosen)} yet. Data is on: ${have}.`,
      );
    }
    const view: MarketView = { symbol: arg.symbol, venue: chosen, tf };
    const { text, options } = render(view, byVenue, snapshot);
    const sent = await ctx.reply(text, options);
    remember(ctx.chat.id, sent.message_id, marketCallbackData(view));
  });

  feature.callbackQuery(CALLBACK_RE, async (ctx) => {
    const data = ctx.callbackQuery.data;
    const view = parseMarketCallbackData(data);
    const message = ctx.callbackQuery.message;
    const chatId = ctx.chat?.id;
    if (view === null || chatId === undefined || message === undefined) return ctx.answerCallbackQuery();
    if (!allVenues.includes(view.venue))
      return ctx.answerCallbackQuery({ text: 'That venue is not followed.' });
    const current = shown.get(`${chatId}:${message.message_id}`) ?? shownViewOf(message.reply_markup);
    if (current === data) return ctx.answerCallbackQuery();
    const byVenue = await snapshotsOf(view.symbol);
    const snapshot = byVenue.get(view.venue);
    if (snapshot === undefined) {
      return ctx.answerCallbackQuery({ text: `No data for ${view.symbol} on ${view.venue} right now.` });
    }
    const { text, options } = render(view, byVenue, snapshot);
    try {
      await ctx.editMessageText(text, options);
    } catch (err) {
      if (!isNotModified(err)) throw err;
    }
    remember(chatId, message.message_id, data);
    log.debug({ chatId, view }, 'market view switched');
    return ctx.answerCallbackQuery();
  });

  feature.command('top', async (ctx) => {
    const symbols = await trackedSymbols(deps);
    if (symbols.length === 0) {
      return replyHtml(ctx, 'No symbols are tracked yet: the processor is not running or still starting.');
    }
    const aggregates = await deps.bus.latestMany('all', symbols);
    // A symbol without an aggregate (one venue lists it, or one venue is followed) is ranked on
    // its venue: read the venues only for those.
    const missing = symbols.filter((_, i) => aggregates[i] === null);
    const perVenue =
      missing.length === 0 ? [] : await Promise.all(deps.venues.map((v) => deps.bus.latestMany(v, missing)));
    const venueAligned = perVenue.map((list) => {
      const bySymbol = new Map(missing.map((symbol, i) => [symbol, list[i] ?? null]));
      return symbols.map((symbol) => bySymbol.get(symbol) ?? null);
    });
    return replyHtml(ctx, formatTopMessage(rankedSnapshots(symbols, aggregates, venueAligned)));
  });

  feature.command('status', async (ctx) => {
    const [statuses, newest] = await Promise.all([deps.bus.feedStatus(), newestSnapshotTs(deps)]);
    return replyHtml(
      ctx,
      formatStatusMessage({ statuses, venues: deps.venues, newestSnapshotTs: newest }, deps.now()),
    );
  });

  return feature;
}

/** Per venue (and `all`), the `ts` of its newest snapshot among the symbols it tracks. */
async function newestSnapshotTs(deps: MarketDeps): Promise<Record<string, number | null>> {
  const lists = await Promise.all(deps.venues.map((v) => deps.bus.trackedSymbols(v)));
  const union = [...new Set(lists.flat())].sort();
  const venues = [...deps.venues, 'all'];
  const snapshots = await Promise.all(
    venues.map((v, i) => {
      const symbols = v === 'all' ? union : (lists[i] ?? []);
      return symbols.length === 0 ? Promise.resolve([]) : deps.bus.latestMany(v, symbols);
    }),
  );
  const newest: Record<string, number | null> = {};
  venues.forEach((v, i) => {
    let max: number | null = null;
    for (const s of snapshots[i] ?? [])
      if (s && Number.isFinite(s.ts) && (max === null || s.ts > max)) max = s.ts;
    if (max !== null || v !== 'all') newest[v] = max;
  });
  return newest;
}
