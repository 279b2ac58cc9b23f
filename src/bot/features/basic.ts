import { Composer, type Context } from 'grammy';
import { escapeHtml } from '../format.js';
import { replyHtml } from '../kit/html.js';

export interface BotCommandInfo {
  /** 1–32 of a-z, 0-9 and _, as Telegram requires. */
  readonly command: string;
  /** One line, at most 256 characters (Telegram's limit). */
  readonly description: string;
}

/**
 * The command menu (`setMyCommands`) and the `/help` text come from this one list, in menu order:
 * queries first, then alerts, then this chat's own things. Operator commands (`/stats`) are not
 * here: they are shown only in the admin chats' menus (see `features/admin.ts`).
 */
export const COMMANDS: readonly BotCommandInfo[] = [
  { command: 'oi', description: 'Open interest and its 15m/24h change on every venue, e.g. /oi BTC' },
  { command: 'funding', description: 'Funding rate, APR, who pays and time to reset, e.g. /funding ETH' },
  {
    command: 'market',
    description: 'Who is in control, momentum, activity and funding pressure, e.g. /market SOL',
  },
  { command: 'top', description: 'Biggest open-interest movers over 15m and 24h' },
  {
    command: 'liq',
    description: 'Liquidations of longs and shorts over 15m and 24h on every venue, e.g. /liq BTC',
  },
  {
    command: 'subscribe',
    description: 'Alerts when OI moves sharply, e.g. /subscribe BTC or /subscribe BTC bybit',
  },
  {
    command: 'unsubscribe',
    description: 'Stop alerts for a symbol, or for all: /unsubscribe BTC, /unsubscribe all',
  },
  { command: 'list', description: 'Your subscriptions' },
  { command: 'settings', description: "This chat's thresholds, alert kinds, venues and quiet hours" },
  { command: 'status', description: 'How fresh the data is on each venue' },
  { command: 'help', description: 'What this bot can do' },
  { command: 'start', description: 'Welcome and a short tour' },
];

/** What `setMyCommands` takes: exactly the two fields Telegram knows. */
export function menuOf(commands: readonly BotCommandInfo[]): { command: string; description: string }[] {
  return commands.map(({ command, description }) => ({ command, description }));
}

const HELP = [
  '<b>perp-pulse</b>: open interest and funding for crypto perpetual futures on Binance, Bybit, OKX and Hyperliquid.',
  '',
  ...COMMANDS.filter((c) => c.command !== 'start').map((c) => `/${c.command} · ${c.description}`),
  '',
  'Symbols are case-insensitive: <code>BTC</code>, <code>btcusdt</code> and <code>btc-usdt-swap</code> all work.',
  'In groups, only chat administrators change /settings.',
].join('\n');

const WELCOME = `Hi! I watch open interest and funding on perpetual futures and alert you when open interest moves sharply.\n\nStart with <code>/oi BTC</code>, or <code>/subscribe BTC</code> to get alerts here.\n\n${HELP}`;

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
    const guess = closestCommand(command.split('@')[0]?.slice(1) ?? '');
    await replyHtml(
      ctx,
      guess === null
        ? 'Unknown command. /help lists what I can do.'
        : `Unknown command. Did you mean /${guess}? /help lists what I can do.`,
    );
  });
  // Plain text in a private chat (a symbol typed alone, say): point to the commands.
  feature.chatType('private').on('message:text', async (ctx, next) => {
    if (ctx.message.text.startsWith('/')) return next();
    const word = /^[A-Za-z0-9-]{1,20}$/.test(ctx.message.text.trim())
      ? ctx.message.text.trim().toUpperCase()
      : 'BTC';
    await replyHtml(
      ctx,
      `I answer commands: <code>/market ${escapeHtml(word)}</code>, <code>/oi ${escapeHtml(word)}</code>, <code>/funding ${escapeHtml(word)}</code>. /help lists them all.`,
    );
  });
  // A button no handler knows (an old message, a forged press): answered, so the client stops waiting.
  feature.on('callback_query', (ctx) =>
    ctx.answerCallbackQuery({ text: 'This button is no longer active.' }).catch(() => {}),
  );
  return feature;
}

/** The menu command within two edits of `typed` (a typo), or null. */
export function closestCommand(typed: string): string | null {
  const word = typed.toLowerCase().slice(0, 32);
  let best: { command: string; distance: number } | null = null;
  for (const { command } of COMMANDS) {
    const distance = editDistance(word, command);
    if (distance <= 2 && distance < command.length && (best === null || distance < best.distance)) {
      best = { command, distance };
    }
  }
  return best?.command ?? null;
}

function editDistance(a: string, b: string): number {
  let previous = Array.from({ length: b.length + 1 }, (_, j) => j);
  for (let i = 1; i <= a.length; i++) {
    const current = [i];
    for (let j = 1; j <= b.length; j++) {
      const substitution = (previous[j - 1] ?? 0) + (a[i - 1] === b[j - 1] ? 0 : 1);
      current[j] = Math.min((previous[j] ?? 0) + 1, (current[j - 1] ?? 0) + 1, substitution);
    }
    previous = current;
  }
  return previous[b.length] ?? 0;
}
