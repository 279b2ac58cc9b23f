import { Composer, type Context } from 'grammy';
import type { SnapshotJson } from '../../domain/types.js';
import { escapeHtml, formatFundingMessage, formatOiMessage, limitLength } from '../format.js';
import { type FeatureDeps, replyHtml } from './reply.js';
import {
  invalidSymbolReply,
  notTrackedReply,
  parseSymbolArg,
  trackedSymbols,
  usageReply,
} from './symbol-arg.js';

type SnapshotFormatter = (snapshot: SnapshotJson, nowMs: number) => string;

/** `/oi SYMBOL` and `/funding SYMBOL`: the latest snapshot of every venue that has one. */
export function queriesFeature(deps: FeatureDeps): Composer<Context> {
  const feature = new Composer<Context>();

  const query = (command: string, what: string, format: SnapshotFormatter) =>
    feature.command(command, async (ctx) => {
      const arg = parseSymbolArg(ctx.match);
      if (arg.kind === 'missing') return replyHtml(ctx, usageReply(command, what));
      if (arg.kind === 'invalid') return replyHtml(ctx, invalidSymbolReply(command, arg.raw));
      const snapshots = await Promise.all(deps.venues.map((venue) => deps.bus.latest(venue, arg.symbol)));
      const found = snapshots.filter((s): s is SnapshotJson => s !== null);
      if (found.length > 0) {
        const nowMs = deps.now();
        return replyHtml(ctx, limitLength(found.map((s) => format(s, nowMs)).join('\n\n')));
      }
      const tracked = await trackedSymbols(deps);
      if (tracked.includes(arg.symbol)) {
        return replyHtml(
          ctx,
          `${escapeHtml(arg.symbol)} is tracked but has no data yet. Try again in a minute.`,
        );
      }
      return replyHtml(ctx, notTrackedReply(arg.symbol, tracked));
    });

  query('oi', 'for open interest and its 15m/24h change', formatOiMessage);
  query('funding', 'for the funding rate, its APR and the next reset', formatFundingMessage);
  return feature;
}
