/**
 * What a failed Bot API call means and how to log it without the bot token. Shared by delivery,
 * the schedules and every feature, so none of them imports another for it. Error codes:
 * https://core.telegram.org/bots/api#making-requests.
 */
import { GrammyError, HttpError } from 'grammy';

export type TelegramErrorAction = 'retry' | 'drop-chat' | 'migrate' | 'bug';

/** Telegram's answer when it said no (grammY `GrammyError`), else null: no answer, or our own throw. */
export function asTelegramError(err: unknown): GrammyError | null {
  return err instanceof GrammyError ? err : null;
}

// 400s that mean the chat is gone or closed to us for good, from the Bot API server's source.
const GONE_CHAT_400 = /chat not found|user not found|not enough rights to send|have no rights to send/i;

/**
 * What to do after a failed Bot API call. `retry`: 429, 5xx or no answer (grammY `HttpError`);
 * `drop-chat`: 403 (blocked, kicked, deactivated) or a 400 saying the chat is gone;
 * `migrate`: 400 with `parameters.migrate_to_chat_id`; `bug`: anything else (bad HTML, too long).
 */
export function classifyTelegramError(err: unknown): TelegramErrorAction {
  if (err instanceof HttpError) return 'retry';
  if (!(err instanceof GrammyError)) return 'bug';
  if (err.error_code === 429 || err.error_code >= 500) return 'retry';
  if (err.error_code === 403) return 'drop-chat';
  if (err.error_code === 400 && typeof err.parameters?.migrate_to_chat_id === 'number') return 'migrate';
  if (err.error_code === 400 && GONE_CHAT_400.test(err.description ?? '')) return 'drop-chat';
  return 'bug';
}

const redact = (text: string) => text.replace(/\/bot[^/\s]*\//g, '/bot<redacted>/');

/**
 * A loggable view of an error. node-fetch puts the request URL, bot token included, into its
 * messages, so every string is passed through a redaction of `/bot<token>/`.
 */
export function describeError(err: unknown): Record<string, unknown> {
  if (!(err instanceof Error)) return { message: redact(String(err)) };
  // Read by shape, not class: a log line should show whatever code or cause any library attached.
  const e = err as Error &
    Partial<Pick<GrammyError, 'error_code' | 'description' | 'parameters'>> & {
      error?: unknown;
    };
  const out: Record<string, unknown> = { type: e.name, message: redact(e.message) };
  if (e.error_code !== undefined)
    Object.assign(out, { error_code: e.error_code, description: e.description });
  if (e.parameters !== undefined && Object.keys(e.parameters).length > 0) out.parameters = e.parameters;
  if (e.error !== undefined) out.cause = redact(e.error instanceof Error ? e.error.message : String(e.error));
  if (e.error_code === undefined && e.stack) out.stack = redact(e.stack);
  return out;
}

/** Telegram answers 400 to an edit that changes nothing; for a button press that is not an error. */
export function isNotModified(err: unknown): boolean {
  return err instanceof GrammyError && err.error_code === 400 && /not modified/i.test(err.description);
}
