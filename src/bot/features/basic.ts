import { Composer, type Context } from 'grammy';
import { replyHtml } from './reply.js';

/** The command menu (`setMyCommands`) and the `/help` text come from this one list. */
export const COMMANDS: ReadonlyArray<{ readonly command: string; readonly description: string }> = [
  { command: 'oi', description: 'Open interest and its 15m/24h change, e.g. /oi BTC' },
  { command: 'funding', description: 'Funding rate, APR and time to reset, e.g. /funding ETH' },
  { command: 'subscribe', description: 'Get alerts when OI moves sharply, e.g. /subscribe BTC' },
  { command: 'unsubscribe', description: 'Stop alerts for a symbol, e.g. /unsubscribe BTC' },
  { command: 'list', description: 'Your subscriptions' },
  { command: 'help', description: 'What this bot can do' },
];

const HELP = [
  '<b>perp-pulse</b>: open interest and funding for crypto perpetual futures.',
  '',
  ...COMMANDS.map((c) => `/${c.command} · ${c.description}`),
  '',
  'Symbols are case-insensitive: <code>BTC</code>, <code>btcusdt</code> and <code>btc-usdt-swap</code> all work.',
].join('\n');

const WELCOME = `Hi! I watch open interest and funding on perpetual futures and alert you when open interest moves sharply.\n\n${HELP}`;

/** `/start` and `/help`. */
export function basicFeature(): Composer<Context> {
  const feature = new Composer<Context>();
  feature.command('start', (ctx) => replyHtml(ctx, WELCOME));
  feature.command('help', (ctx) => replyHtml(ctx, HELP));
  return feature;
}

/** Install last: any command no feature handled gets a pointer to `/help`. */
export function unknownCommandFeature(): Composer<Context> {
  const feature = new Composer<Context>();
  feature.on('message:entities:bot_command', async (ctx, next) => {
    const entity = ctx.message.entities.find((e) => e.type === 'bot_command' && e.offset === 0);
    if (entity === undefined) return next();
    const command = ctx.message.text.slice(entity.offset, entity.offset + entity.length);
    const [, target] = command.split('@');
    // In groups, commands meant for another bot are none of our business.
    if (target !== undefined && target.toLowerCase() !== ctx.me.username.toLowerCase()) return next();
    await replyHtml(ctx, 'Unknown command. /help lists what I can do.');
  });
  return feature;
}
