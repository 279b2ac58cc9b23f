/**
 * Delivery against the Bot API stand-in over real HTTP and real time: grammY's own errors, the
 * group window and the global pace measured where Telegram would see them.
 */
import { Api } from 'grammy';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createAlertDelivery } from '../../src/bot/delivery.js';
import { MemorySubscriptionStore } from '../../src/bus/subscription-store.js';
import { startTelegramStandIn, type TelegramStandIn } from '../support/telegram-stand-in.js';
import { tracker } from '../support/track.js';
import {
  alert,
  logger,
  maxInWindow,
  mergeOptions,
  numbered,
  numbersIn,
  type Options,
} from './delivery-fixtures.js';

const track = tracker();

describe('against the Bot API stand-in', () => {
  let telegram: TelegramStandIn;
  beforeAll(async () => {
    telegram = await startTelegramStandIn('123456:DELIVERY-test-token');
  });
  afterAll(async () => {
    await telegram.close();
  });

  function setupApi(options: Options = {}) {
    const store = new MemorySubscriptionStore();
    const api = new Api(telegram.token, { apiRoot: telegram.apiRoot });
    const delivery = track(
      createAlertDelivery({
        api,
        store,
        logger,
        ...mergeOptions({ sending: { closeGraceMs: 100 } }, options),
      }),
    );
    return { store, delivery };
  }
  const atOf = (chatId: number) => telegram.sent(chatId).map((c) => c.atMs);

  it('keeps each group under its per-window limit while private chats go on', async () => {
    const windowMs = 400;
    const { store, delivery } = setupApi({
      pacing: {
        maxPerMinutePerGroup: 3,
        groupWindowMs: windowMs,
        minIntervalPerChatMs: 20,
        minIntervalGlobalMs: 0,
      },
      queue: { maxAlertsPerMessage: 1 },
    });
    await store.add(-2001, 'BTC');
    await store.add(2002, 'BTC');
    for (let n = 1; n <= 8; n++) await delivery.deliver(numbered(n));
    await delivery.idle();
    const group = atOf(-2001);
    expect(group).toHaveLength(8);
    expect(atOf(2002)).toHaveLength(8);
    // 1 ms of slack: the stand-in stamps arrivals with Date.now(), whole milliseconds
    expect(maxInWindow(group, windowMs - 1)).toBeLessThanOrEqual(3);
    expect(telegram.sent(-2001).map((c) => numbersIn(String(c.params.text))[0])).toEqual([
      1, 2, 3, 4, 5, 6, 7, 8,
    ]);
  });

  it('waits out retry_after on a 429 and then sends exactly once', async () => {
    const { store, delivery } = setupApi({ pacing: { minIntervalGlobalMs: 0 } });
    await store.add(3001, 'BTC');
    telegram.failNext('sendMessage', {
      status: 429,
      body: {
        ok: false,
        error_code: 429,
        description: 'Too Many Requests: retry after 1',
        parameters: { retry_after: 1 },
      },
    });
    await delivery.deliver(alert('r1'));
    await delivery.idle();
    const calls = telegram.calls('sendMessage').filter((c) => c.params.chat_id === 3001);
    expect(calls.map((c) => c.status)).toEqual([429, 200]);
    expect(calls[1]!.atMs - calls[0]!.atMs).toBeGreaterThanOrEqual(999);
    expect(delivery.stats()).toMatchObject({ rateLimited: 1, sent: 1 });
  });

  it('delivers a burst to 1,000 chats within the limits: each alert once per chat, in order', async () => {
    const globalMs = 4;
    const { store, delivery } = setupApi({ pacing: { minIntervalGlobalMs: globalMs } });
    const chats: number[] = [];
    for (let i = 1; i <= 500; i++) chats.push(10_000 + i, -(10_000 + i));
    for (const chatId of chats) await store.add(chatId, 'SOL');
    const handles = [];
    for (let n = 1; n <= 3; n++) handles.push(await delivery.deliver(numbered(n, 'SOL')));
    const outcomes = (await Promise.all(handles.map((h) => h.settled))).flat();
    await delivery.idle();

    expect(outcomes).toHaveLength(3 * chats.length);
    expect(new Set(outcomes)).toEqual(new Set(['sent']));
    const mine = new Set(chats);
    const calls = telegram.sent().filter((c) => mine.has(Number(c.params.chat_id)));
    for (const chatId of chats) {
      const texts = calls.filter((c) => c.params.chat_id === chatId).map((c) => String(c.params.text));
      expect(texts.flatMap(numbersIn)).toEqual([1, 2, 3]);
      const at = atOf(chatId);
      for (let i = 1; i < at.length; i++) expect(at[i]! - at[i - 1]!).toBeGreaterThanOrEqual(999);
    }
    // starts are ≥ 4 ms apart; arrivals may jitter by a request or two
    expect(
      maxInWindow(
        calls.map((c) => c.atMs),
        1000,
      ),
    ).toBeLessThanOrEqual(1000 / globalMs + 2);
    const mergedAlerts = calls
      .map((c) => numbersIn(String(c.params.text)).length)
      .filter((n) => n > 1)
      .reduce((a, b) => a + b, 0);
    expect(calls.length).toBeLessThan(2 * chats.length); // bursts were merged, not sent one by one
    expect(delivery.stats()).toMatchObject({ sent: calls.length, merged: mergedAlerts, queued: 0 });
  }, 60_000);
});
