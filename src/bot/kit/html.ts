/**
 * The one set of send options for every HTML message the bot writes: Bot API `parse_mode: HTML`
 * (https://core.telegram.org/bots/api#html-style) and no link previews, so a link in a message
 * never adds a preview card under the numbers.
 */
import type { Context } from 'grammy';

type ReplyOptions = NonNullable<Parameters<Context['reply']>[1]>;

/** Every caller escapes its dynamic values (`escapeHtml`): Telegram rejects a stray `<` or `&`. */
export const HTML_SEND_OPTIONS = Object.freeze({
  parse_mode: 'HTML',
  link_preview_options: Object.freeze({ is_disabled: true }),
} as const);

/** The HTML send options plus per-message extras (`reply_markup`), for `reply` and `editMessageText`. */
export function htmlOptions<T extends object>(extra: T): typeof HTML_SEND_OPTIONS & T {
  return { ...HTML_SEND_OPTIONS, ...extra };
}

/** Replies in HTML parse mode without link previews; `extra` adds e.g. a keyboard. */
export function replyHtml(
  ctx: Context,
  html: string,
  extra: Omit<ReplyOptions, keyof typeof HTML_SEND_OPTIONS> = {},
): Promise<unknown> {
  return ctx.reply(html, htmlOptions(extra));
}
