import { Api, GrammyError, HttpError } from 'grammy';
import type { InlineKeyboardMarkup } from 'grammy/types';
import { pino } from 'pino';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import {
  type AlertDelivery,
  type AlertDeliveryOptions,
  createAlertDelivery,
  DeliveryError,
  type DeliveryLedger,
  type MessageSender,
} from '../../src/bot/delivery.js';
import type { ChatPolicy } from '../../src/bot/policy.js';
import { MemorySubscriptionStore } from '../../src/bus/subscription-store.js';
import type { AlertJson, SnapshotJson } from '../../src/domain/types.js';
import { startTelegramStandIn, type TelegramStandIn } from '../support/telegram-stand-in.js';

const logger = pino({ level: 'silent' });

function tgError(error_code: number, description: string, parameters = {}): GrammyError {
  return new GrammyError(
    'Call to sendMessage failed!',
    { ok: false, error_code, description, parameters },
    'sendMessage',
    {},
  );
}
const networkError = () =>
  new HttpError("Network request for 'sendMessage' failed!", new Error('ECONNRESET'));

const snapshot: SnapshotJson = {
  v: 1,
  venue: 'bybit',
  symbol: 'BTC',
  instrument: 'BTCUSDT',
  ts: 0,
  price: { mark: 85_200 },
  oi: { base: 52_000, usd: 4.43e9, delta15m: null, delta24h: null },
  funding: { rate: 0.0001, intervalHours: 8, hourly: null, aprPct: 10.95, nextFundingTime: null },
};
const alert = (id: string, symbol = 'BTC'): AlertJson => ({
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

interface Sent {
  readonly chatId: number;
  readonly text: string;
  readonly parseMode: string;
  readonly keyboard: InlineKeyboardMarkup | undefined;
  readonly atMs: number;
}

/** Our own sender: answers from a script of errors, else succeeds; honours the abort signal. */
function fakeSender(script: Array<Error | 'hang' | number> = []) {
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
        atMs: performance.now(),
      });
      return {};
    },
  };
  return { api, sent, attempts };
}

const open: AlertDelivery[] = [];
afterEach(async () => {
  await Promise.all(open.splice(0).map((d) => d.close()));
});

type Options = Partial<Omit<AlertDeliveryOptions, 'api' | 'logger'>>;

async function setup(script: Array<Error | 'hang' | number> = [], options: Options = {}) {
  const store = new MemorySubscriptionStore();
  const sender = fakeSender(script);
  const delivery = createAlertDelivery({
    api: sender.api,
    store,
    logger,
    minIntervalPerChatMs: 50,
    minIntervalGlobalMs: 0,
    networkRetryDelayMs: 50,
    closeGraceMs: 100,
    ...options,
  });
  open.push(delivery);
  return { store, delivery, ...sender };
}

describe('createAlertDelivery', () => {
  it('sends the alert in HTML mode to every subscribed chat and no other', async () => {
    const { store, delivery, sent } = await setup();
    await store.add(1, 'BTC');
    await store.add(2, 'BTC');
    await store.add(3, 'ETH');
    await delivery.deliver(alert('a1'));
    await delivery.idle();
    expect(sent.map((s) => s.chatId).sort()).toEqual([1, 2]);
    expect(sent[0]?.parseMode).toBe('HTML');
    expect(sent[0]?.text).toMatch(/^<b>🚨 BTC OI surge · bybit<\/b>\n🟢 \+2,500 BTC/);
  });

  it('keeps per-chat order and spaces messages to one chat', async () => {
    const { store, delivery, sent } = await setup([], { maxAlertsPerMessage: 1 });
    await store.add(1, 'BTC');
    for (const id of ['a1', 'a2', 'a3'])
      await delivery.deliver({ ...alert(id), delta: { base: 1, usd: 1, pct: Number(id[1]) } });
    await delivery.idle();
    expect(sent.map((s) => s.text.match(/\+(\d)\.00%/)?.[1])).toEqual(['1', '2', '3']);
    expect(sent[1]!.atMs - sent[0]!.atMs).toBeGreaterThanOrEqual(45);
    expect(sent[2]!.atMs - sent[1]!.atMs).toBeGreaterThanOrEqual(45);
  });

  it('skips an alert id it already delivered', async () => {
    const { store, delivery, sent } = await setup();
    await store.add(1, 'BTC');
    await delivery.deliver(alert('dup'));
    await delivery.deliver(alert('dup'));
    await delivery.idle();
    expect(sent).toHaveLength(1);
  });

  it('waits exactly retry_after on 429, then sends once', async () => {
    const { store, delivery, sent, attempts } = await setup([
      tgError(429, 'Too Many Requests', { retry_after: 1 }),
    ]);
    await store.add(1, 'BTC');
    const t0 = performance.now();
    await delivery.deliver(alert('a1'));
    await delivery.idle();
    expect(attempts).toEqual([1, 1]);
    expect(sent).toHaveLength(1);
    expect(sent[0]!.atMs - t0).toBeGreaterThanOrEqual(1000);
    // exactly retry_after, not a fixed long back-off (generous bound: machines under load are slow)
    expect(sent[0]!.atMs - t0).toBeLessThan(5000);
  });

  it('removes a chat that blocked the bot and drops what was waiting for it', async () => {
    const { store, delivery, sent, attempts } = await setup([
      tgError(403, 'Forbidden: bot was blocked by the user'),
    ]);
    await store.add(1, 'BTC');
    await store.add(1, 'ETH');
    await delivery.deliver(alert('a1'));
    await delivery.deliver(alert('a2', 'ETH'));
    await delivery.idle();
    expect(attempts).toEqual([1]);
    expect(sent).toHaveLength(0);
    expect(await store.listForChat(1)).toEqual([]);
    expect(delivery.stats().removedChats).toBe(1);
  });

  it('moves an upgraded group to its supergroup id and resends there', async () => {
    const migrated = tgError(400, 'Bad Request: group chat was upgraded to a supergroup chat', {
      migrate_to_chat_id: -1_009_999,
    });
    const { store, delivery, sent } = await setup([migrated]);
    await store.add(-77, 'BTC');
    await delivery.deliver(alert('a1'));
    await delivery.idle();
    expect(sent.map((s) => s.chatId)).toEqual([-1_009_999]);
    expect(await store.chatsFor('BTC')).toEqual([-1_009_999]);
  });

  it('retries a network error once, and gives up after the second', async () => {
    const once = await setup([networkError()]);
    await once.store.add(1, 'BTC');
    await once.delivery.deliver(alert('a1'));
    await once.delivery.idle();
    expect(once.attempts).toEqual([1, 1]);
    expect(once.sent).toHaveLength(1);

    const twice = await setup([networkError(), networkError()]);
    await twice.store.add(1, 'BTC');
    await twice.delivery.deliver(alert('a1'));
    await twice.delivery.idle();
    expect(twice.attempts).toEqual([1, 1]);
    expect(twice.sent).toHaveLength(0);
    expect(twice.delivery.stats().failed).toBe(1);
  });

  it('drops a message Telegram calls our bug and carries on with the next', async () => {
    const { store, delivery, sent } = await setup([tgError(400, "Bad Request: can't parse entities")]);
    await store.add(1, 'BTC');
    await delivery.deliver(alert('a1'));
    await delivery.deliver(alert('a2'));
    await delivery.idle();
    expect(sent).toHaveLength(1);
    expect(delivery.stats()).toMatchObject({ sent: 1, failed: 1 });
  });

  it('bounds each chat queue, dropping the oldest waiting message', async () => {
    const { store, delivery, attempts } = await setup(['hang'], { maxQueuePerChat: 2 });
    await store.add(1, 'BTC');
    for (const id of ['a1', 'a2', 'a3', 'a4', 'a5']) await delivery.deliver(alert(id));
    await new Promise((r) => setTimeout(r, 20));
    expect(attempts).toEqual([1]);
    expect(delivery.stats()).toMatchObject({ queued: 2, dropped: 2 });
  });

  it('close() aborts in-flight sends and pending waits, and is idempotent', async () => {
    const { store, delivery, attempts } = await setup([
      tgError(429, 'Too Many Requests', { retry_after: 30 }),
    ]);
    await store.add(1, 'BTC');
    await delivery.deliver(alert('a1'));
    await new Promise((r) => setTimeout(r, 20));
    const t0 = performance.now();
    await Promise.all([delivery.close(), delivery.close()]);
    // close() does not sit out the 30 s retry_after
    expect(performance.now() - t0).toBeLessThan(5000);
    await delivery.deliver(alert('a2'));
    await new Promise((r) => setTimeout(r, 50));
    expect(attempts).toEqual([1]);
  });
});

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

async function waitUntil(predicate: () => boolean, timeoutMs = 5000): Promise<void> {
  const deadline = performance.now() + timeoutMs;
  while (!predicate()) {
    if (performance.now() > deadline) throw new Error('waitUntil timed out');
    await sleep(5);
  }
}

/** Alert number `n`: its OI change is `+n.00% in 15m`, which both message layouts show once. */
const numbered = (n: number, symbol = 'BTC'): AlertJson => ({
  ...alert(`${symbol}-n${n}`, symbol),
  ts: Date.now() + n,
  delta: { base: n, usd: n * 1e6, pct: n },
});
/** The alert numbers a message carries, in message order. */
const numbersIn = (text: string) => [...text.matchAll(/\+(\d+)\.00% in 15m/g)].map((m) => Number(m[1]));

/** An in-memory ledger that notes how many messages had been sent when each record was written. */
function memoryLedger(sentCount: () => number) {
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

const stripTags = (html: string) => html.replace(/<[^<>]+>/g, '');

describe('bursts, long messages, policy and texts', () => {
  it('sends a burst waiting in one chat as one message of at most 10 alerts, with the mute buttons when all are about one symbol', async () => {
    const box: { sent: Sent[] } = { sent: [] };
    const { ledger, records } = memoryLedger(() => box.sent.length);
    const { store, delivery, sent } = await setup([], { minIntervalPerChatMs: 300, ledger });
    box.sent = sent;
    await store.add(1, 'BTC');
    const handles = [await delivery.deliver(numbered(1))];
    await waitUntil(() => sent.length === 1);
    for (let n = 2; n <= 14; n++) handles.push(await delivery.deliver(numbered(n)));
    await delivery.idle();

    expect(sent.map((s) => numbersIn(s.text))).toEqual([[1], [2, 3, 4, 5, 6, 7, 8, 9, 10, 11], [12, 13, 14]]);
    expect(sent[1]!.text.split('\n')[0]).toBe('<b>📬 10 alerts</b>');
    expect(
      sent[0]!.keyboard?.inline_keyboard.flat().map((b) => 'callback_data' in b && b.callback_data),
    ).toEqual(['mute:BTC:1h', 'mute:BTC:24h']);
    for (const merged of [sent[1]!, sent[2]!]) {
      expect(
        merged.keyboard?.inline_keyboard.flat().map((b) => 'callback_data' in b && b.callback_data),
      ).toEqual(['mute:BTC:1h', 'mute:BTC:24h']);
    }
    for (const h of handles) expect(await h.settled).toEqual(['sent']);
    // every merged alert is in the ledger for the chat, written after the message that carried it
    expect(records.map((r) => r.alertId).sort()).toEqual(handles.map((_, i) => `BTC-n${i + 1}`).sort());
    for (const r of records) {
      const carriedBy = sent.findIndex((s) => numbersIn(s.text).includes(Number(r.alertId.split('-n')[1])));
      expect(r.sentBefore).toBeGreaterThan(carriedBy);
    }
    expect(delivery.stats()).toMatchObject({ sent: 3, merged: 13 });
  });

  it('leaves the mute buttons off a merged message about several symbols', async () => {
    const { store, delivery, sent } = await setup([], { minIntervalPerChatMs: 300 });
    await store.add(1, 'BTC');
    await store.add(1, 'ETH');
    await delivery.deliver(alert('first'));
    await waitUntil(() => sent.length === 1);
    await delivery.deliver(alert('b', 'BTC'));
    await delivery.deliver(alert('e', 'ETH'));
    await delivery.idle();
    expect(sent).toHaveLength(2);
    expect(sent[1]!.text).toContain('2 alerts');
    expect(sent[1]!.keyboard).toBeUndefined();
  });

  it('queues concurrent deliver() calls in call order even when the store answers out of order', async () => {
    const { store, delivery, sent } = await setup([], { maxAlertsPerMessage: 1 });
    await store.add(1, 'BTC');
    const chatsFor = store.chatsFor.bind(store);
    let delayMs = 60;
    store.chatsFor = async (symbol) => {
      const ms = delayMs;
      delayMs -= 30;
      await sleep(ms);
      return chatsFor(symbol);
    };
    await Promise.all([1, 2, 3].map((n) => delivery.deliver(numbered(n))));
    await delivery.idle();
    expect(sent.map((s) => numbersIn(s.text))).toEqual([[1], [2], [3]]);
  });

  it('splits a message over the limit into parts sent in order, and records the alert after the last', async () => {
    const box: { sent: Sent[] } = { sent: [] };
    const { ledger, records } = memoryLedger(() => box.sent.length);
    const { store, delivery, sent } = await setup([], { ledger });
    box.sent = sent;
    await store.add(1, 'BTC');
    const hint = `start ${'x<b>&y '.repeat(1200)} end`;
    const long: AlertJson = {
      ...alert('long'),
      snapshot: { ...snapshot, funding: { ...snapshot.funding, hint } },
    };
    const handle = await delivery.deliver(long);
    await delivery.idle();

    expect(await handle.settled).toEqual(['sent']);
    expect(sent.length).toBeGreaterThanOrEqual(3);
    for (const part of sent) {
      expect(part.text.length).toBeLessThanOrEqual(4000);
      expect(part.text.match(/<i>/g)?.length ?? 0).toBe(part.text.match(/<\/i>/g)?.length ?? 0);
      expect(stripTags(part.text)).not.toMatch(/[<>]|&(?!(amp|lt|gt|quot);)/);
    }
    const joined = sent.map((s) => stripTags(s.text)).join('');
    expect(joined.replace(/\n/g, '')).toContain(stripTags(`start ${'x&lt;b&gt;&amp;y '.repeat(1200)} end`));
    expect(sent.map((s) => s.keyboard === undefined)).toEqual(sent.map((_, i) => i < sent.length - 1));
    expect(records).toEqual([{ alertId: 'long', chatId: 1, sentBefore: sent.length }]);
    for (let i = 1; i < sent.length; i++)
      expect(sent[i]!.atMs - sent[i - 1]!.atMs).toBeGreaterThanOrEqual(45);
  });

  it('asks the policy per chat: skip settles without a message, hold goes to onHold', async () => {
    const held: [number, string][] = [];
    const policy: ChatPolicy = {
      async decide(chatId, a, nowMs) {
        expect(a.id).toBe('p1');
        expect(Number.isFinite(nowMs)).toBe(true);
        if (chatId === 4) throw new Error('settings unreadable'); // fails open: sent
        return chatId === 2 ? 'skip' : chatId === 3 ? 'hold' : 'send';
      },
    };
    const { store, delivery, sent } = await setup([], {
      policy,
      onHold: (chatId, a) => {
        held.push([chatId, a.id]);
      },
    });
    for (const chatId of [1, 2, 3, 4]) await store.add(chatId, 'BTC');
    const outcomes = await (await delivery.deliver(alert('p1'))).settled;
    await delivery.idle();
    expect([...outcomes].sort()).toEqual(['held', 'sent', 'sent', 'skipped']);
    expect(sent.map((s) => s.chatId).sort()).toEqual([1, 4]);
    expect(held).toEqual([[3, 'p1']]);
    expect(delivery.stats()).toMatchObject({ skipped: 1, held: 1, sent: 2 });
  });

  it('counts a hold that could not be stored as failed, and sends when nobody takes holds', async () => {
    const hold: ChatPolicy = { decide: async () => 'hold' };
    const broken = await setup([], {
      policy: hold,
      onHold: () => Promise.reject(new Error('redis down')),
    });
    await broken.store.add(1, 'BTC');
    expect(await (await broken.delivery.deliver(alert('h1'))).settled).toEqual(['failed']);
    expect(broken.delivery.stats()).toMatchObject({ failed: 1, held: 0 });

    const noHolder = await setup([], { policy: hold });
    await noHolder.store.add(1, 'BTC');
    expect(await (await noHolder.delivery.deliver(alert('h2'))).settled).toEqual(['sent']);
  });

  it('sends alerts only to chats whose subscription covers the alert venue', async () => {
    const { store, delivery, sent } = await setup();
    await store.add(1, 'BTC', 'bybit');
    await store.add(2, 'BTC', 'okx');
    await store.add(3, 'BTC');
    await delivery.deliver(alert('v1'));
    await delivery.idle();
    expect(sent.map((s) => s.chatId).sort()).toEqual([1, 3]);
  });

  it('queues texts on the same paced queue, never merged with alerts; rejects when the chat is gone', async () => {
    const { store, delivery, sent } = await setup([], { minIntervalPerChatMs: 100 });
    await store.add(1, 'BTC');
    await delivery.deliver(numbered(1));
    const text = delivery.sendText(1, '<b>Summary</b> &amp; more');
    await delivery.deliver(numbered(2));
    await delivery.deliver(numbered(3));
    await text;
    await delivery.idle();
    expect(sent.map((s) => (numbersIn(s.text).length > 0 ? numbersIn(s.text) : s.text))).toEqual([
      [1],
      '<b>Summary</b> &amp; more',
      [2, 3],
    ]);
    expect(sent[1]!.keyboard).toBeUndefined();
    for (let i = 1; i < sent.length; i++)
      expect(sent[i]!.atMs - sent[i - 1]!.atMs).toBeGreaterThanOrEqual(95);

    const gone = await setup([tgError(403, 'Forbidden: bot was blocked by the user')]);
    const err = await gone.delivery.sendText(5, 'hello').catch((e: unknown) => e);
    expect(err).toBeInstanceOf(DeliveryError);
    expect((err as DeliveryError).outcome).toBe('dropped');
  });

  it('close() lets a send already on the wire finish and records it, and aborts one past the grace', async () => {
    const box: { sent: Sent[] } = { sent: [] };
    const { ledger, records } = memoryLedger(() => box.sent.length);
    const slow = await setup([200], { ledger, closeGraceMs: 3000 });
    box.sent = slow.sent;
    await slow.store.add(1, 'BTC');
    const handle = await slow.delivery.deliver(alert('w1'));
    await waitUntil(() => slow.attempts.length === 1);
    await slow.delivery.close();
    expect(await handle.settled).toEqual(['sent']);
    expect(records).toEqual([{ alertId: 'w1', chatId: 1, sentBefore: 1 }]);

    const stuck = await setup(['hang'], { closeGraceMs: 50 });
    await stuck.store.add(1, 'BTC');
    const stuckHandle = await stuck.delivery.deliver(alert('w2'));
    await waitUntil(() => stuck.attempts.length === 1);
    await stuck.delivery.close();
    expect(await stuckHandle.settled).toEqual(['closed']);
  });
});

/** The largest number of `atMs` values within any span shorter than `windowMs`. */
function maxInWindow(atMs: readonly number[], windowMs: number): number {
  const sorted = [...atMs].sort((a, b) => a - b);
  let best = 0;
  for (let i = 0, j = 0; j < sorted.length; j++) {
    while (sorted[j]! - sorted[i]! >= windowMs) i++;
    best = Math.max(best, j - i + 1);
  }
  return best;
}

describe('alerts older than maxAlertAgeMs', () => {
  const MIN = 60_000;

  it('sends an old alert to no chat: settled expired (so the stream acknowledges it) and counted', async () => {
    const { store, delivery, sent } = await setup([], { maxAlertAgeMs: 15 * MIN });
    await store.add(1, 'BTC');
    const old = await delivery.deliver({ ...alert('old'), ts: Date.now() - 16 * MIN });
    expect(await old.settled).toEqual(['expired']);
    const fresh = await delivery.deliver({ ...alert('fresh'), ts: Date.now() - 14 * MIN });
    expect(await fresh.settled).toEqual(['sent']);
    // stamped ahead of this clock (another host's, the demo's): fresh
    const ahead = await delivery.deliver({ ...alert('ahead'), ts: Date.now() + 60 * MIN });
    expect(await ahead.settled).toEqual(['sent']);
    expect(sent.map((m) => m.text).join('\n')).not.toContain('old');
    expect(sent).toHaveLength(2);
    expect(delivery.stats()).toMatchObject({ expired: 1, sent: 2 });
  });

  it('drops an alert that aged out waiting in a chat queue, or waiting out a 429', async () => {
    let clockMs = Date.now();
    const rateLimited = tgError(429, 'Too Many Requests: retry after 0.2', { retry_after: 0.2 });
    const { store, delivery, sent, attempts } = await setup([150, rateLimited], {
      maxAlertAgeMs: 15 * MIN,
      maxAlertsPerMessage: 1,
      ageClock: () => clockMs,
    });
    await store.add(1, 'BTC');
    await store.add(2, 'ETH');
    const first = await delivery.deliver({ ...alert('first'), ts: clockMs });
    await waitUntil(() => attempts.length === 1); // on the wire for 150 ms
    const queued = await delivery.deliver({ ...alert('queued'), ts: clockMs });
    const retried = await delivery.deliver({ ...alert('retried', 'ETH'), ts: clockMs });
    await waitUntil(() => attempts.length === 2); // chat 2 answered 429: waits 200 ms
    clockMs += 16 * MIN;
    expect(await first.settled).toEqual(['sent']);
    expect(await queued.settled).toEqual(['expired']);
    expect(await retried.settled).toEqual(['expired']);
    expect(sent.map((m) => m.chatId)).toEqual([1]);
    expect(attempts).toHaveLength(2);
    expect(delivery.stats().expired).toBe(2);
  });
});

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
    const delivery = createAlertDelivery({ api, store, logger, closeGraceMs: 100, ...options });
    open.push(delivery);
    return { store, delivery };
  }
  const atOf = (chatId: number) => telegram.sent(chatId).map((c) => c.atMs);

  it('keeps each group under its per-window limit while private chats go on', async () => {
    const windowMs = 400;
    const { store, delivery } = setupApi({
      maxPerMinutePerGroup: 3,
      groupWindowMs: windowMs,
      minIntervalPerChatMs: 20,
      minIntervalGlobalMs: 0,
      maxAlertsPerMessage: 1,
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
    const { store, delivery } = setupApi({ minIntervalGlobalMs: 0 });
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
    const { store, delivery } = setupApi({ minIntervalGlobalMs: globalMs });
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
