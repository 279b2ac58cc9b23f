/**
 * Whether the Bot API answers this bot: the readiness of everything that talks to Telegram. A bot
 * that cannot reach Telegram delivers nothing, so it must not report ready (Docker's HEALTHCHECK
 * and any orchestrator read `/readyz`).
 */
import { describeError } from './telegram-errors.js';
import { originOf } from './webhook-route.js';

/**
 * The Bot API must have answered within this much wall time. Long polling answers at least every
 * poll timeout (30 s) plus the HTTP margin (30 s); in webhook mode a probe keeps it fresh. Two
 * minutes is one missed poll of slack on top, and fits the image HEALTHCHECK (30 s × 3 retries).
 */
export const TELEGRAM_ANSWERED_WITHIN_MS = 120_000;

const WORKING_API_REFUSALS: ReadonlySet<number> = new Set([400, 403, 409, 429]);

/** Transport states in which updates reach the bot; every other state is not ready. */
const SERVING_STATES: ReadonlySet<string> = new Set(['polling', 'webhook']);

/** What `/readyz` shows under `checks.telegram`. */
export interface TelegramReadiness {
  readonly ok: boolean;
  readonly mode: 'polling' | 'webhook';
  /** The bot's `TransportState`. */
  readonly state: string;
  /** Wall time since the Bot API last answered (an update arriving counts); null: never. */
  readonly lastAnswerAgeMs: number | null;
  readonly answeredWithinMs: number;
  /** The last failed call, redacted (no token); absent when none failed since the last answer. */
  readonly lastError?: string;
  /** Why not ready; absent when ready. */
  readonly reason?: string;
}

/** The part of a Bot API answer that says whether Telegram accepted the call. */
export interface ApiAnswer {
  readonly ok: boolean;
  readonly error_code?: number;
  readonly description?: string;
}

/** What `getWebhookInfo` says about the webhook (the fields readiness reads). */
export interface WebhookInfoLike {
  readonly url?: string;
  /** Unix seconds of Telegram's last failed attempt to deliver an update to the webhook. */
  readonly last_error_date?: number;
  readonly last_error_message?: string;
}

export class TelegramLiveness {
  private lastAnswerMs: number | null = null;
  private lastError: string | undefined;
  /** Webhook mode: why Telegram's updates do not reach us, from the last `getWebhookInfo`. */
  private webhookProblem: string | undefined;

  constructor(
    private readonly now: () => number = Date.now,
    readonly answeredWithinMs = TELEGRAM_ANSWERED_WITHIN_MS,
  ) {}

  /**
   * Success, or a refusal only a working Bot API gives for a valid token: 400 or 403 about a chat
   * (blocked, not found), 409 (judged by the transport state), 429 (flood control). A 401 or 404
   * (wrong token, wrong TELEGRAM_API_ROOT) and server errors are failures.
   */
  answered(answer: ApiAnswer, method: string): void {
    if (answer.ok || WORKING_API_REFUSALS.has(answer.error_code ?? 0)) {
      this.lastAnswerMs = this.now();
      this.lastError = undefined;
    } else {
      this.lastError = `${method}: ${answer.error_code ?? '?'} ${answer.description ?? ''}`.trim();
    }
  }

  /** A call that got no answer (network error, timeout). */
  failed(err: unknown, method: string): void {
    const d = describeError(err);
    this.lastError = `${method}: ${[d.message, d.cause].filter(Boolean).join(': ')}`;
  }

  /** A webhook update arrived with the right secret: Telegram reaches us. */
  updateArrived(): void {
    this.lastAnswerMs = this.now();
    this.webhookProblem = undefined;
  }

  /**
   * Telegram answering is not enough in webhook mode: another deployment may have replaced or
   * deleted the webhook (a poller with the same token deletes it), or Telegram may fail to deliver
   * to it (a proxy that drops the path answers 404). Either way no update reaches this bot.
   * Returns the problem when it is new (to log once), else undefined.
   */
  webhookInfo(info: WebhookInfoLike, expectedUrl: string): string | undefined {
    const before = this.webhookProblem;
    const url = info.url ?? '';
    const errorAgeMs = info.last_error_date === undefined ? null : this.now() - info.last_error_date * 1000;
    this.webhookProblem =
      url === ''
        ? 'no webhook is set at Telegram: another deployment deleted it (one polling with this token does)'
        : url !== expectedUrl
          ? `the webhook set at Telegram (${originOf(url)}) is not WEBHOOK_URL: another deployment replaced it`
          : errorAgeMs !== null && errorAgeMs <= this.answeredWithinMs
            ? `Telegram could not deliver to the webhook ${Math.round(errorAgeMs / 1000)} s ago: ${info.last_error_message ?? 'no detail'}`
            : undefined;
    return this.webhookProblem !== before ? this.webhookProblem : undefined;
  }

  /** Wall time since the last answer; null when none. */
  ageMs(): number | null {
    return this.lastAnswerMs === null ? null : Math.max(0, this.now() - this.lastAnswerMs);
  }

  readiness(mode: 'polling' | 'webhook', state: string): TelegramReadiness {
    const age = this.ageMs();
    const fresh = age !== null && age <= this.answeredWithinMs;
    const serving = SERVING_STATES.has(state);
    const reason = serving
      ? fresh
        ? this.webhookProblem
        : age === null
          ? 'the Bot API has not answered yet'
          : `the Bot API has not answered for ${Math.round(age / 1000)} s (bound ${this.answeredWithinMs / 1000} s)`
      : stateReason(mode, state);
    return {
      ok: serving && fresh && this.webhookProblem === undefined,
      mode,
      state,
      lastAnswerAgeMs: age,
      answeredWithinMs: this.answeredWithinMs,
      ...(this.lastError !== undefined ? { lastError: this.lastError } : {}),
      ...(reason !== undefined ? { reason } : {}),
    };
  }
}

function stateReason(mode: 'polling' | 'webhook', state: string): string {
  switch (state) {
    case 'starting':
      return mode === 'polling' ? 'long polling has not started yet' : 'the webhook is not set yet';
    case 'conflict':
      return '409 Conflict: another process polls with this token or a webhook is set';
    case 'unauthorized':
      return '401 Unauthorized: TELEGRAM_BOT_TOKEN is wrong or revoked';
    case 'failed':
      return 'setWebhook was refused; retrying';
    case 'closed':
      return 'the bot is shutting down';
    default:
      return `transport state ${state}`;
  }
}
