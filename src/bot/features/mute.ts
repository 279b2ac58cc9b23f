import { Composer, type Context } from 'grammy';
import type { ChatSettingsStore } from '../../bus/types.js';
import { ONLY_ADMINS } from '../kit/admin-check.js';
import type { FeatureDeps } from '../kit/deps.js';
import { describeError } from '../telegram-errors.js';

/** How long each mute button mutes, by the suffix of its callback data. */
export const MUTE_DURATIONS_MS = { '1h': 3_600_000, '24h': 86_400_000 } as const;

export type MuteFeatureDeps = Pick<FeatureDeps, 'logger' | 'now' | 'mayChange'> & {
  readonly settings: Pick<ChatSettingsStore, 'mute'>;
};

/**
 * The mute buttons under an alert (callback data `mute:{SYMBOL}:1h` / `mute:{SYMBOL}:24h`): mutes
 * the symbol in this chat until now + 1h/24h and answers with a toast.
 */
export function muteFeature(deps: MuteFeatureDeps): Composer<Context> {
  const feature = new Composer<Context>();
  const log = deps.logger.child({ feature: 'mute' });
  feature.callbackQuery(/^mute:([A-Z0-9]{1,20}):(1h|24h)$/, async (ctx) => {
    const [, symbol = '', duration = '1h'] = ctx.match;
    const chatId = ctx.chat?.id;
    if (chatId === undefined) return ctx.answerCallbackQuery({ text: 'This button only works in a chat.' });
    if (!(await deps.mayChange(ctx))) return ctx.answerCallbackQuery({ text: ONLY_ADMINS, show_alert: true });
    const untilMs = deps.now() + MUTE_DURATIONS_MS[duration as keyof typeof MUTE_DURATIONS_MS];
    try {
      await deps.settings.mute(chatId, symbol, untilMs);
    } catch (err) {
      log.error({ err: describeError(err), chatId, symbol }, 'mute failed');
      return ctx.answerCallbackQuery({ text: 'Could not mute right now. Please try again in a minute.' });
    }
    log.info({ chatId, symbol, untilMs }, 'chat muted a symbol');
    return ctx.answerCallbackQuery({ text: `Muted ${symbol} for ${duration}` });
  });
  return feature;
}
