import { Composer, type Context } from 'grammy';
import type { SnapshotJson } from '../../domain/types.js';
import { formatLiqMessage } from '../format-liq.js';
import type { FeatureDeps } from '../kit/deps.js';
import { replyHtml } from '../kit/html.js';
import { invalidSymbolReply, noDataReply, parseSymbolArg, usageReply } from '../kit/symbol-arg.js';

/**
 * `/liq SYMBOL`: liquidations by side over 15m and 24h, the aggregate first, then each venue with
 * a snapshot (a venue without a public feed says so). Reads the latest snapshots only.
 */
export function liquidationsFeature(deps: FeatureDeps): Composer<Context> {
  const feature = new Composer<Context>();
  const views = ['all', ...deps.venues];
  feature.command('liq', async (ctx) => {
    const arg = parseSymbolArg(ctx.match);
    if (arg.kind === 'missing') {
      return replyHtml(ctx, usageReply('liq', 'for liquidations by side over 15m and 24h on every venue'));
    }
    if (arg.kind === 'invalid') return replyHtml(ctx, invalidSymbolReply('liq', arg.raw));
    const snapshots = await Promise.all(views.map((venue) => deps.bus.latest(venue, arg.symbol)));
    const found = snapshots.filter((s): s is SnapshotJson => s !== null);
    if (found.length > 0) return replyHtml(ctx, formatLiqMessage(arg.symbol, found));
    return replyHtml(ctx, await noDataReply(deps, arg.symbol));
  });
  return feature;
}
