/**
 * Delivery's admission: which chats an alert goes to, and what each does with it. An alert too
 * old, or one seen recently (a stream consumer is at-least-once), goes nowhere; otherwise every
 * chat subscribed to its symbol and venue that the ledger has not seen it reach gets the policy's
 * decision.
 */
import { LRUCache } from 'lru-cache';
import type { Logger } from 'pino';
import type { SubscriptionStore } from '../bus/types.js';
import type { AlertJson } from '../domain/types.js';
import type { AlertAgeLimit } from './alert-age.js';
import type { DeliveryCounts, DeliveryLedger, SettleOutcome } from './delivery-types.js';
import { type ChatDecision, type ChatPolicy, SEND_ALL } from './policy.js';
import { describeError } from './telegram-errors.js';

export interface AdmissionOptions {
  /**
   * Default 15 min (`ALERT_MAX_AGE_MIN`). An alert whose `ts` is older than this is sent to no chat:
   * on arrival it is settled `expired` (so the stream acknowledges it) and counted; one that ages
   * out waiting in a chat's queue is settled `expired` for that chat. A replay, a bot back after an
   * outage, or a backlog then never pages subscribers about the past. `Infinity` turns it off.
   */
  readonly maxAlertAgeMs?: number;
  /** The clock alert ages are measured on; default `now`. The demo passes its accelerated event clock. */
  readonly ageClock?: () => number;
  /**
   * Default 1000. How many of the last admitted alert ids are remembered, so an alert delivered
   * again (a stream redelivery) is skipped without asking the store or the ledger. An id older
   * than that is checked against the ledger per chat; without a ledger it is delivered again.
   */
  readonly recentAlertIds?: number;
}

/** Where an alert goes: nowhere (`closed`, `expired`, `seen`), or to these chats with these decisions. */
export type Admitted =
  | { readonly verdict: 'closed' | 'expired' | 'seen' }
  | { readonly verdict: 'chats'; readonly chats: readonly { chatId: number; decision: ChatDecision }[] };

/** The venue choice of a subscription (the Redis store has it); null = every venue. */
type VenueFilter = { venuesFor(chatId: number, symbol: string): Promise<readonly string[] | null> };

export interface AdmissionDeps {
  readonly store: SubscriptionStore;
  readonly ledger: DeliveryLedger | undefined;
  readonly policy: ChatPolicy | undefined;
  readonly onHold: ((chatId: number, alert: AlertJson) => Promise<void> | void) | undefined;
  /** Wall clock passed to the policy. */
  readonly now: () => number;
  readonly age: AlertAgeLimit;
  readonly counts: DeliveryCounts;
  readonly log: Logger;
  readonly isClosed: () => boolean;
}

export class Admission {
  private readonly recent: LRUCache<string, true>;
  private readonly policy: ChatPolicy;

  constructor(
    opts: AdmissionOptions,
    private readonly deps: AdmissionDeps,
  ) {
    this.recent = new LRUCache({ max: Math.max(1, opts.recentAlertIds ?? 1000) });
    this.policy = deps.policy ?? SEND_ALL;
  }

  /** Whether held alerts have somewhere to go; without `onHold` a held alert is sent. */
  get holds(): boolean {
    return this.deps.onHold !== undefined;
  }

  async admit(alert: AlertJson): Promise<Admitted> {
    const { store, ledger, age, log, isClosed } = this.deps;
    if (isClosed()) return { verdict: 'closed' };
    if (age.expire([alert]).length > 0) return { verdict: 'expired' };
    if (this.recent.has(alert.id)) {
      log.debug({ alertId: alert.id }, 'alert already delivered: skipped');
      return { verdict: 'seen' };
    }
    const subscribed = await store.chatsFor(alert.symbol);
    const decided = await Promise.all(
      subscribed.map(async (chatId) => {
        if (!(await this.wantsVenue(chatId, alert))) return null;
        if (ledger && (await ledger.wasDelivered(alert.id, chatId))) return null;
        return { chatId, decision: await this.decide(chatId, alert) };
      }),
    );
    if (isClosed()) return { verdict: 'closed' };
    this.recent.set(alert.id, true);
    return { verdict: 'chats', chats: decided.filter((d) => d !== null) };
  }

  /** Hands a held alert to `onHold` and records it in the ledger; a throw counts it as failed. */
  async hold(chatId: number, alert: AlertJson): Promise<SettleOutcome> {
    const { counts, log, ledger } = this.deps;
    try {
      await this.deps.onHold?.(chatId, alert);
    } catch (err) {
      counts.failed++;
      log.error({ err: describeError(err), chatId, alertId: alert.id }, 'could not hold the alert');
      return 'failed';
    }
    counts.held++;
    await ledger
      ?.recordDelivered(alert.id, chatId)
      .catch((err) => log.warn({ err: describeError(err), chatId }, 'could not record the hold'));
    return 'held';
  }

  /** One chat's decision; a policy that throws lets the alert through (better sent than lost). */
  private async decide(chatId: number, alert: AlertJson): Promise<ChatDecision> {
    try {
      return await this.policy.decide(chatId, alert, this.deps.now());
    } catch (err) {
      this.deps.log.warn(
        { err: describeError(err), chatId, alertId: alert.id },
        'chat policy failed: sending',
      );
      return 'send';
    }
  }

  /** A subscription limited to some venues (`venuesFor`, where the store has it) passes only theirs. */
  private async wantsVenue(chatId: number, alert: AlertJson): Promise<boolean> {
    const { store } = this.deps;
    const venuesFor = (store as Partial<VenueFilter>).venuesFor;
    if (typeof venuesFor !== 'function') return true;
    const venues = await venuesFor.call(store, chatId, alert.symbol);
    return venues === null || venues.includes(alert.venue);
  }
}
