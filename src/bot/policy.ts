import type { AlertJson } from '../domain/types.js';

/** What delivery does with one alert for one chat. */
export type ChatDecision = 'send' | 'hold' | 'skip';

/**
 * Decides per chat whether an alert is sent now, held for the summary after quiet hours, or
 * skipped (kind off, below the chat's threshold, venue not wanted, symbol muted). Delivery asks
 * it once per (alert, chat) before queueing.
 */
export interface ChatPolicy {
  decide(chatId: number, alert: AlertJson, nowMs: number): Promise<ChatDecision>;
}

/** Every alert to every subscribed chat: the behaviour before per-chat settings. */
export const SEND_ALL: ChatPolicy = { decide: async () => 'send' };
