/**
 * Shared by the delivery test files: alerts, a scripted sender, and a delivery under fake time.
 * Pacing runs on an injected clock over vitest's fake timers, so a 1 s interval or a 30 s
 * retry_after costs no real time and gaps are asserted exactly.
 */
import { GrammyError, HttpError } from 'grammy';
import type { InlineKeyboardMarkup } from 'grammy/types';
import { pino } from 'pino';
import { afterEach, beforeEach, vi } from 'vitest';
import {
  type AlertDelivery,
  type AlertDeliveryOptions,
  createAlertDelivery,
  type DeliveryLedger,
  type MessageSender,
  type PacingClock,
} from '../../src/bot/delivery.js';
import { MemorySubscriptionStore } from '../../src/bus/subscription-store.js';
import type { AlertJson, SnapshotJson } from '../../src/domain/types.js';
import { tracker } from '../support/track.js';

export const logger = pino({ level: 'silent' });

export function tgError(error_code: number, description: string, parameters = {}): GrammyError {
  return new GrammyError(
    'Call to sendMessage failed!',
    { ok: false, error_code, description, parameters },
    'sendMessage',
    {},
  );
}
export const networkError = () =>
  new HttpError("Network request for 'sendMessage' failed!", new Error('ECONNRESET'));

export const snapshot: SnapshotJson = {
  v: 1,
  venue: 'bybit',
  symbol: 'BTC',
  instrument: 'BTCUSDT',
  ts: 0,
  price: { mark: 85_200 },
  oi: { base: 52_000, usd: 4.43e9, delta15m: null, delta24h: null },
  funding: { rate: 0.0001, intervalHours: 8, hourly: null, aprPct: 10.95, nextFundingTime: null },
};
export const alert = (id: string, symbol = 'BTC'): AlertJson => ({
  v: 1,
  id,
  kind: 'oi_change_15m',
  venue: 'bybit',
  symbol,
  // Fresh: delivery sends nothing older than ALERT_MAX_AGE_MIN.
  ts: Date.now(),
  text: id,
  thresholdPct: 3,
  delta: { base: 2_500, usd: 213e6, pct: 5 },
  windowMs: 900_000,
  snapshot: { ...snapshot, symbol },
});

/** Alert number `n`: its OI change is `+n.00% in 15m`, which both message layouts show once. */
export const numbered = (n: number, symbol = 'BTC'): AlertJson => ({
  ...alert(`${symbol}-n${n}`, symbol),
  ts: Date.now() + n,
  delta: { base: n, usd: n * 1e6, pct: n },
});
/** The alert numbers a message carries, in message order. */
export const numbersIn = (text: string) =>
  [...text.matchAll(/\+(\d+)\.00% in 15m/g)].map((m) => Number(m[1]));

export const stripTags = (html: string) => html.replace(/<[^<>]+>/g, '');

/** The pacing clock on vitest's fake timers: `Date.now()` is the fake monotonic time. */
export const fakeClock: PacingClock = {
  now: () => Date.now(),
  after(ms, fn) {
    const handle = setTimeout(fn, ms);
    return () => clearTimeout(handle);
  },
};

/** Fake `setTimeout` and `Date` around each test of the calling file (microtasks stay real). */
export function useFakeTime(): void {
  beforeEach(() => {
    vi.useFakeTimers({ toFake: ['setTimeout', 'clearTimeout', 'Date'] });
  });
  afterEach(() => {
    vi.useRealTimers();
  });
}

/** Runs fake time until nothing is scheduled, then resolves what `work` resolves. */
export async function fastForward<T>(work: Promise<T>): Promise<T> {
  await vi.runAllTimersAsync();
  return work;
}

export interface Sent {
  readonly chatId: number;
  readonly text: string;
  readonly parseMode: string;
  readonly keyboard: InlineKeyboardMarkup | undefined;
  /** `Date.now()` when sent: fake time in fake-time tests. */
  readonly atMs: number;
}

/** A scripted answer: an error, a send that hangs until aborted, or a success after `number` ms. */
export type Step = Error | 'hang' | number;

/** Our own sender: answers from a script, else succeeds at once; honours the abort signal. */
export function fakeSender(script: Step[] = []) {
  const sent: Sent[] = [];
  const attempts: number[] = [];
  const api: MessageSender = {
    async sendMessage(chatId, text, other, signal) {
      attempts.push(chatId);
      const next = script.shift();
      if (typeof next === 'number') await new Promise((r) => setTimeout(r, next)); // a slow answer
      if (next === 'hang') {
        await new Promise((_, reject) =>
          (signal as AbortSignal | undefined)?.addEventListener('abort', () => reject(networkError())),
        );
      }
      if (next instanceof Error) {
        await new Promise((r) => setTimeout(r, 5)); // a round trip, so later alerts queue up behind
        throw next;
      }
      sent.push({
        chatId,
        text,
        parseMode: other.parse_mode,
        keyboard: other.reply_markup,
        atMs: Date.now(),
      });
      return {};
    },
  };
  return { api, sent, attempts };
}

type Groups = 'admission' | 'queue' | 'pacing' | 'sending';
export type Options = Partial<Omit<AlertDeliveryOptions, 'api' | 'logger' | 'store'>>;

/** Overrides merged group by group over `base`. */
export function mergeOptions(base: Options, over: Options): Options {
  const out: Record<string, unknown> = { ...base, ...over };
  for (const g of ['admission', 'queue', 'pacing', 'sending'] satisfies Groups[]) {
    out[g] = { ...base[g], ...over[g] };
  }
  return out as Options;
}

/**
 * A delivery test file's `setup`: deliveries closed after each test (fake time run on so
 * close() does not wait for a grace timer nobody advances).
 */
export function deliverySetup(base: Options) {
  const track = tracker();
  return async (script: Step[] = [], options: Options = {}) => {
    const store = new MemorySubscriptionStore();
    const sender = fakeSender(script);
    const delivery: AlertDelivery = createAlertDelivery({
      api: sender.api,
      store,
      logger,
      ...mergeOptions(base, options),
    });
    track({
      close: async () => {
        const closing = delivery.close();
        if (vi.isFakeTimers()) await vi.runAllTimersAsync();
        await closing;
      },
    });
    return { store, delivery, ...sender };
  };
}

/**
 * `setup` for a test file on fake time: pacing on `fakeClock` (50 ms per chat, no global pace),
 * a 50 ms network retry and a 100 ms close grace unless a test overrides them.
 */
export function fakeTimeSetup() {
  useFakeTime();
  return deliverySetup({
    pacing: { minIntervalPerChatMs: 50, minIntervalGlobalMs: 0, clock: fakeClock },
    sending: { networkRetryDelayMs: 50, closeGraceMs: 100 },
  });
}

/** An in-memory ledger that notes how many messages had been sent when each record was written. */
export function memoryLedger(sentCount: () => number) {
  const records: { alertId: string; chatId: number; sentBefore: number }[] = [];
  const ledger: DeliveryLedger = {
    wasDelivered: async (alertId, chatId) =>
      records.some((r) => r.alertId === alertId && r.chatId === chatId),
    recordDelivered: async (alertId, chatId) => {
      records.push({ alertId, chatId, sentBefore: sentCount() });
    },
  };
  return { ledger, records };
}

/** The largest number of `atMs` values within any span shorter than `windowMs`. */
export function maxInWindow(atMs: readonly number[], windowMs: number): number {
  const sorted = [...atMs].sort((a, b) => a - b);
  let best = 0;
  for (let i = 0, j = 0; j < sorted.length; j++) {
    while (sorted[j]! - sorted[i]! >= windowMs) i++;
    best = Math.max(best, j - i + 1);
  }
  return best;
}
