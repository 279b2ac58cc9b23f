/**
 * What alert delivery promises its callers and needs from its collaborators; the stages
 * (admission, per-chat queue, pacer, sender) and `delivery.ts` share these. Callers import them
 * from `./delivery.js`.
 */
import type { Api } from 'grammy';
import type { InlineKeyboardMarkup } from 'grammy/types';
import { HTML_SEND_OPTIONS } from './kit/html.js';

/** Alerts go out with the same HTML options as every other message of the bot. */
export const SEND_OPTIONS = HTML_SEND_OPTIONS;

/** What every message is sent with; single alerts add the mute keyboard. */
export type SendOptions = typeof SEND_OPTIONS & { readonly reply_markup?: InlineKeyboardMarkup };

// grammY types its signal with the abort-controller polyfill; Node's AbortSignal works at runtime.
export type ApiSignal = Parameters<Api['sendMessage']>[3];

/** The one Bot API method delivery needs; grammY's `Api` satisfies it. */
export interface MessageSender {
  sendMessage(chatId: number, text: string, other: SendOptions, signal?: ApiSignal): Promise<unknown>;
}

/**
 * What was delivered, per alert and chat, kept outside the process so a restarted bot that
 * receives an alert again (a stream consumer is at-least-once) sends it to no chat twice.
 */
export interface DeliveryLedger {
  wasDelivered(alertId: string, chatId: number): Promise<boolean>;
  recordDelivered(alertId: string, chatId: number): Promise<void>;
}

/** `held`/`skipped`: the policy's decision, final for that chat. */
export type SettleOutcome =
  | 'sent'
  | 'failed'
  | 'dropped'
  | 'duplicate'
  | 'closed'
  | 'held'
  | 'skipped'
  | 'expired';

/** Resolves when every chat's message of one alert is done with (see `SettleOutcome`). */
export interface DeliveryHandle {
  readonly settled: Promise<readonly SettleOutcome[]>;
}

/** `sendText` could not deliver: `outcome` says why. */
export class DeliveryError extends Error {
  constructor(readonly outcome: SettleOutcome) {
    super(`message not delivered: ${outcome}`);
    this.name = 'DeliveryError';
  }
}

export interface DeliveryStats {
  readonly queued: number;
  /** Bot API messages sent (each part of a split message counts). */
  readonly sent: number;
  /** Messages dropped because a chat's queue was full. */
  readonly dropped: number;
  /** Messages given up on: a `bug` answer, a second network error, too many 429s, a failed hold. */
  readonly failed: number;
  readonly removedChats: number;
  readonly migratedChats: number;
  /** 429 answers from Telegram (each waited out with its retry_after). */
  readonly rateLimited: number;
  /** Alerts that reached a chat inside a merged message rather than alone. */
  readonly merged: number;
  /** (alert, chat) pairs the policy skipped. */
  readonly skipped: number;
  /** (alert, chat) pairs the policy held for the quiet-hours summary. */
  readonly held: number;
  /**
   * Alerts older than `maxAlertAgeMs`, sent to no chat: one per alert refused on arrival, one per
   * chat for an alert that aged out in that chat's queue.
   */
  readonly expired: number;
}

/** The counters the stages add to; `queued` and `expired` are read from the queue and the age check. */
export type DeliveryCounts = { -readonly [K in Exclude<keyof DeliveryStats, 'queued' | 'expired'>]: number };

export function zeroCounts(): DeliveryCounts {
  return {
    sent: 0,
    dropped: 0,
    failed: 0,
    removedChats: 0,
    migratedChats: 0,
    rateLimited: 0,
    merged: 0,
    skipped: 0,
    held: 0,
  };
}
