import type { Logger } from 'pino';
import type { Bus, SubscriptionStore } from '../../bus/types.js';
import type { AdminCheck } from './admin-check.js';

/**
 * What the feature composers read: our own small interfaces, never a Redis client. Built once in
 * `bot.ts`, so every feature shares the same stores, clock and admin check (one cache of
 * `getChatMember` answers for the whole bot).
 */
export interface FeatureDeps {
  readonly bus: Pick<Bus, 'latest' | 'trackedSymbols'>;
  readonly subscriptions: SubscriptionStore;
  readonly venues: readonly string[];
  readonly logger: Logger;
  readonly now: () => number;
  /** Whether the sender may change what the chat receives (see `createAdminCheck`). */
  readonly mayChange: AdminCheck;
}
