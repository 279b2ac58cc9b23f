import { Composer, type Context, InlineKeyboard } from 'grammy';
import { ChatSettingsError, MAX_REMINDER_MIN, resetPatch } from '../../bus/chat-settings-store.js';
import type { ChatSettings, ChatSettingsStore } from '../../bus/types.js';
import { ALERT_KINDS, type AlertKind, VENUE_IDS } from '../../domain/types.js';
import { KIND_LABELS, THRESHOLD_FIGURES } from '../chat-policy.js';
import { formatLevelFloors, storedThreshold, thresholdConfirmation } from '../chat-thresholds.js';
import { escapeHtml, limitLength } from '../format.js';
import type { FeatureDeps } from '../kit/deps.js';
import { htmlOptions, replyHtml } from '../kit/html.js';
import { describeError, isNotModified } from '../telegram-errors.js';

/** Callback data of the kind toggles: `set:t:{kind}` (at most 29 bytes, under Telegram's 64). */
export const TOGGLE_PREFIX = 'set:t:';
export const NOT_ADMIN_TEXT = 'Only group admins can change settings';

/** What a `/settings …` text asks for; `invalid` carries a short HTML reply with the right form. */
export type SettingsCommand =
  | { readonly type: 'show' }
  | { readonly type: 'threshold'; readonly kind: AlertKind; readonly threshold: number | null }
  | { readonly type: 'toggle'; readonly kind: AlertKind; readonly enabled: boolean }
  | { readonly type: 'venues'; readonly venues: string[] | null }
  | { readonly type: 'quiet'; readonly quiet: { startHour: number; endHour: number } | null }
  | { readonly type: 'reminder'; readonly minutes: number | null }
  | { readonly type: 'reset' }
  | { readonly type: 'invalid'; readonly help: string };

const code = (s: string) => `<code>${escapeHtml(s)}</code>`;
const KIND_LIST = ALERT_KINDS.map(code).join(', ');

const FORMS = {
  threshold: `${code('/settings threshold oi_change_15m 5')} (a kind and a number above 0, or ${code('default')})`,
  toggle: `${code('/settings off funding_pressure')} or ${code('/settings on funding_pressure')}`,
  venues: `${code('/settings venues binance,okx')} or ${code('/settings venues all')} (venues: ${VENUE_IDS.join(', ')})`,
  quiet: `${code('/settings quiet 22-7')} (UTC hours 0–23) or ${code('/settings quiet off')}`,
  reminder: `${code('/settings reminder 15')} (minutes before funding settles, 1–${MAX_REMINDER_MIN}) or ${code('/settings reminder off')}`,
  reset: code('/settings reset'),
} as const;

/** Every text form, one per line. */
export const SETTINGS_HELP = [
  FORMS.threshold,
  FORMS.toggle,
  FORMS.venues,
  FORMS.quiet,
  FORMS.reminder,
  `${FORMS.reset} (back to the defaults)`,
].join('\n');

const usage = (problem: string, form: string): SettingsCommand => ({
  type: 'invalid',
  // What the user typed comes back in `problem`: cut, so a long word cannot bloat the reply.
  help: `${escapeHtml(problem.length > 120 ? `${problem.slice(0, 117)}…` : problem)}\nUse ${form}`,
});

function parseKind(raw: string | undefined): AlertKind | null {
  if (raw === undefined) return null;
  const name = raw.toLowerCase().replace(/-/g, '_');
  return ALERT_KINDS.includes(name as AlertKind) ? (name as AlertKind) : null;
}

const unknownKind = (raw: string | undefined, form: string): SettingsCommand => ({
  type: 'invalid',
  help: `${raw === undefined ? 'Which alert kind?' : `Unknown alert kind ${code(raw)}.`} Kinds: ${KIND_LIST}.\nUse ${form}`,
});

/** Parses what follows `/settings`. Pure. */
export function parseSettingsCommand(match: string): SettingsCommand {
  const words = match.trim().split(/\s+/).filter(Boolean);
  const [sub, ...rest] = words;
  if (sub === undefined) return { type: 'show' };
  switch (sub.toLowerCase()) {
    case 'threshold': {
      const kind = parseKind(rest[0]);
      if (kind === null) return unknownKind(rest[0], FORMS.threshold);
      if (THRESHOLD_FIGURES[kind] === null) {
        return usage(`${kind} has no threshold, only on or off.`, FORMS.toggle);
      }
      const raw = rest[1]?.toLowerCase();
      if (raw === 'default' || raw === 'reset') return { type: 'threshold', kind, threshold: null };
      const value = raw === undefined ? Number.NaN : Number(raw.replace(/(%|x|×)$/, ''));
      if (rest.length !== 2 || !Number.isFinite(value) || value <= 0 || value > 1e6) {
        return usage('The threshold must be a number above 0.', FORMS.threshold);
      }
      return { type: 'threshold', kind, threshold: value };
    }
    case 'on':
    case 'off': {
      const kind = parseKind(rest[0]);
      if (kind === null || rest.length !== 1) return unknownKind(rest[0], FORMS.toggle);
      return { type: 'toggle', kind, enabled: sub.toLowerCase() === 'on' };
    }
    case 'venues':
    case 'venue': {
      const names = rest
        .join(',')
        .toLowerCase()
        .split(',')
        .map((s) => s.trim())
        .filter(Boolean);
      if (names.length === 0) return usage('Which venues?', FORMS.venues);
      if (names.length === 1 && names[0] === 'all') return { type: 'venues', venues: null };
      const unknown = names.find((n) => !VENUE_IDS.includes(n as (typeof VENUE_IDS)[number]));
      if (unknown !== undefined) return usage(`Unknown venue ${unknown}.`, FORMS.venues);
      return { type: 'venues', venues: [...new Set(names)] };
    }
    case 'quiet': {
      const spec = rest.join('');
      if (spec.toLowerCase() === 'off') return { type: 'quiet', quiet: null };
      const m = /^(\d{1,2})(?::00)?[-–](\d{1,2})(?::00)?$/.exec(spec);
      const [startHour, endHour] = m === null ? [Number.NaN, Number.NaN] : [Number(m[1]), Number(m[2])];
      if (!(startHour <= 23 && endHour <= 23))
        return usage('Quiet hours are two UTC hours, 0–23.', FORMS.quiet);
      if (startHour === endHour)
        return usage('Quiet hours must start and end at different hours.', FORMS.quiet);
      return { type: 'quiet', quiet: { startHour, endHour } };
    }
    case 'reminder': {
      const raw = rest[0]?.toLowerCase().replace(/m(in)?$/, '');
      if (raw === 'off' && rest.length === 1) return { type: 'reminder', minutes: null };
      const minutes = raw !== undefined && /^\d+$/.test(raw) ? Number(raw) : Number.NaN;
      if (rest.length !== 1 || !(minutes >= 1 && minutes <= MAX_REMINDER_MIN)) {
        return usage(`The reminder is a number of minutes, 1–${MAX_REMINDER_MIN}.`, FORMS.reminder);
      }
      return { type: 'reminder', minutes };
    }
    case 'reset':
      return rest.length === 0 ? { type: 'reset' } : usage('reset takes nothing after it.', FORMS.reset);
    default:
      return {
        type: 'invalid',
        help: `Unknown setting ${code(sub)}. Send ${code('/settings')} to see this chat's settings, or:\n${SETTINGS_HELP}`,
      };
  }
}

type ChangeCommand = Exclude<SettingsCommand, { type: 'show' } | { type: 'invalid' }>;

/** The store patch for a change, given the chat's current settings. */
export function patchFor(cmd: ChangeCommand, current: ChatSettings): Partial<ChatSettings> {
  switch (cmd.type) {
    case 'threshold':
      // Setting a threshold turns the kind on; `default` keeps it on or off as it was.
      return {
        kinds: {
          [cmd.kind]:
            cmd.threshold === null
              ? { enabled: current.kinds[cmd.kind]?.enabled ?? true }
              : { enabled: true, threshold: storedThreshold(cmd.kind, cmd.threshold) },
        },
      };
    case 'toggle': {
      const threshold = current.kinds[cmd.kind]?.threshold;
      return {
        kinds: {
          [cmd.kind]:
            threshold === undefined ? { enabled: cmd.enabled } : { enabled: cmd.enabled, threshold },
        },
      };
    }
    case 'venues':
      return { venues: cmd.venues };
    case 'quiet':
      return { quietHours: cmd.quiet };
    case 'reminder':
      return { fundingReminderMin: cmd.minutes };
    case 'reset':
      return resetPatch();
  }
}

const hh = (h: number) => `${String(h).padStart(2, '0')}:00`;

function confirmation(cmd: ChangeCommand, levelsPublished: boolean): string {
  switch (cmd.type) {
    case 'threshold': {
      const label = escapeHtml(KIND_LABELS[cmd.kind]);
      if (cmd.threshold === null) return `${label}: back to the default threshold.`;
      return thresholdConfirmation(cmd.kind, cmd.threshold, levelsPublished);
    }
    case 'toggle':
      return `${escapeHtml(KIND_LABELS[cmd.kind])} alerts ${cmd.enabled ? 'on' : 'off'}.`;
    case 'venues':
      return cmd.venues === null
        ? 'Alerts from every venue.'
        : `Alerts only from ${escapeHtml(cmd.venues.join(', '))}.`;
    case 'quiet':
      return cmd.quiet === null
        ? 'Quiet hours off.'
        : `Quiet hours ${hh(cmd.quiet.startHour)}–${hh(cmd.quiet.endHour)} UTC: alerts are held and summarized after.`;
    case 'reminder':
      return cmd.minutes === null
        ? 'Funding reminders off.'
        : `I'll remind you ${cmd.minutes} min before funding settles on your subscribed symbols.`;
    case 'reset':
      return 'Settings back to the defaults.';
  }
}

/** The chat's settings as HTML (every value escaped). */
export function formatSettings(settings: ChatSettings): string {
  const lines = ['<b>⚙️ Alert settings for this chat</b>'];
  for (const kind of ALERT_KINDS) {
    const entry = settings.kinds[kind];
    const label = escapeHtml(KIND_LABELS[kind]);
    if (entry?.enabled === false) {
      lines.push(`🔕 ${label} · off`);
      continue;
    }
    const fig = THRESHOLD_FIGURES[kind];
    const threshold =
      entry?.threshold !== undefined
        ? `from ${escapeHtml(entry.threshold)}${escapeHtml(fig?.unit ?? '')}`
        : fig === null
          ? 'on'
          : 'default threshold';
    lines.push(`✅ ${label} · ${threshold}`);
  }
  const q = settings.quietHours;
  lines.push(
    '',
    `Venues: ${settings.venues === null ? 'every venue' : escapeHtml(settings.venues.join(', '))}`,
    `Quiet hours: ${q === null ? 'off' : `${hh(q.startHour)}–${hh(q.endHour)} UTC (alerts held, summarized after)`}`,
    `Funding reminder: ${settings.fundingReminderMin === null ? 'off' : `${settings.fundingReminderMin} min before settlement`}`,
    '',
    `Lowest thresholds: ${formatLevelFloors()}`,
    'Tap a kind to turn it on or off, or send:',
    SETTINGS_HELP,
    `Kinds: ${KIND_LIST}`,
  );
  return limitLength(lines.join('\n'));
}

/** One toggle per alert kind, two per row. */
export function settingsKeyboard(settings: ChatSettings): InlineKeyboard {
  const keyboard = new InlineKeyboard();
  ALERT_KINDS.forEach((kind, i) => {
    const on = settings.kinds[kind]?.enabled !== false;
    keyboard.text(`${on ? '✅' : '🔕'} ${KIND_LABELS[kind]}`, `${TOGGLE_PREFIX}${kind}`);
    if (i % 2 === 1) keyboard.row();
  });
  return keyboard;
}

/**
 * `/settings`: shows this chat's alert settings with a keyboard of kind toggles, and changes them
 * by text form. Anyone may look; in groups only administrators may change (anonymous admins, who
 * post as the group itself, count). Keeps the settings right when a chat moves or leaves.
 */
export function settingsFeature(
  deps: FeatureDeps & {
    readonly settings: ChatSettingsStore;
    /** The chats' levels are published for the processor (see `AlertLevelPublisher`); default false. */
    readonly levelsPublished?: boolean;
    /** Called after any change of a chat's settings (the bot publishes the levels again). */
    readonly onSettingsChanged?: () => void;
  },
): Composer<Context> {
  const feature = new Composer<Context>();
  const store = deps.settings;
  const log = deps.logger.child({ feature: 'settings' });

  feature.command('settings', async (ctx) => {
    const cmd = parseSettingsCommand(ctx.match);
    if (cmd.type === 'invalid') return replyHtml(ctx, cmd.help);
    if (cmd.type === 'show') {
      const settings = await store.get(ctx.chat.id);
      return replyHtml(ctx, formatSettings(settings), { reply_markup: settingsKeyboard(settings) });
    }
    if (!(await deps.mayChange(ctx))) return replyHtml(ctx, `${NOT_ADMIN_TEXT}.`);
    try {
      await store.update(ctx.chat.id, patchFor(cmd, await store.get(ctx.chat.id)));
      log.info({ chatId: ctx.chat.id, change: cmd.type }, 'chat settings changed');
    } catch (err) {
      if (err instanceof ChatSettingsError) return replyHtml(ctx, `Not changed: ${escapeHtml(err.message)}.`);
      throw err;
    }
    deps.onSettingsChanged?.();
    return replyHtml(
      ctx,
      `✅ ${confirmation(cmd, deps.levelsPublished === true)}\n${code('/settings')} shows everything.`,
    );
  });

  feature.callbackQuery(/^set:/, async (ctx) => {
    let answer: { text: string; show_alert?: boolean } | undefined;
    try {
      const kind = ctx.callbackQuery.data.startsWith(TOGGLE_PREFIX)
        ? parseKind(ctx.callbackQuery.data.slice(TOGGLE_PREFIX.length))
        : null;
      const chat = ctx.chat;
      if (kind === null || chat === undefined) {
        answer = { text: 'This button no longer works: send /settings again.' };
        return;
      }
      if (!(await deps.mayChange(ctx))) {
        answer = { text: NOT_ADMIN_TEXT, show_alert: true };
        return;
      }
      const current = await store.get(chat.id);
      const enabled = current.kinds[kind]?.enabled === false;
      const next = await store.update(chat.id, patchFor({ type: 'toggle', kind, enabled }, current));
      log.info({ chatId: chat.id, kind, enabled }, 'chat settings changed');
      deps.onSettingsChanged?.();
      answer = { text: `${KIND_LABELS[kind]}: ${enabled ? 'on' : 'off'}` };
      await ctx
        .editMessageText(formatSettings(next), htmlOptions({ reply_markup: settingsKeyboard(next) }))
        .catch((err: unknown) => {
          if (!isNotModified(err)) throw err;
        });
    } finally {
      await ctx.answerCallbackQuery(answer).catch((err: unknown) => {
        log.warn({ err: describeError(err) }, 'settings: answerCallbackQuery failed');
      });
    }
  });

  // Other features see these updates too (subscriptions moves or drops its own data): always next().
  feature.on('message:migrate_to_chat_id', async (ctx, next) => {
    try {
      await store.migrateChat(ctx.chat.id, ctx.message.migrate_to_chat_id);
    } catch (err) {
      log.warn({ err: describeError(err), chatId: ctx.chat.id }, 'settings: migrating the chat failed');
    }
    return next();
  });

  feature.on('my_chat_member', async (ctx, next) => {
    const status = ctx.myChatMember.new_chat_member.status;
    if (status === 'kicked' || status === 'left') {
      try {
        await store.removeChat(ctx.chat.id);
      } catch (err) {
        log.warn({ err: describeError(err), chatId: ctx.chat.id }, 'settings: removing the chat failed');
      }
    }
    return next();
  });

  return feature;
}
