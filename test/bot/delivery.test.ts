import { GrammyError, HttpError } from 'grammy';
import { pino } from 'pino';
import { afterEach, describe, expect, it } from 'vitest';
import {
  type AlertDelivery,
  classifyTelegramError,
  createAlertDelivery,
  describeError,
  type MessageSender,
} from '../../src/bot/delivery.js';
import { MemorySubscriptionStore } from '../../src/bus/subscription-store.js';
import type { AlertJson, SnapshotJson } from '../../src/domain/types.js';

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
  ts: 0,
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
  readonly atMs: number;
}

/** Our own sender: answers from a script of errors, else succeeds; honours the abort signal. */
function fakeSender(script: Array<Error | 'hang'> = []) {
  const sent: Sent[] = [];
  const attempts: number[] = [];
  const api: MessageSender = {
    async sendMessage(chatId, text, other, signal) {
      attempts.push(chatId);
      const next = script.shift();
      if (next === 'hang') {
        await new Promise((_, reject) =>
          (signal as AbortSignal | undefined)?.addEventListener('abort', () => reject(networkError())),
        );
      }
      if (next instanceof Error) {
        await new Promise((r) => setTimeout(r, 5)); // a round trip, so later alerts queue up behind
        throw next;
      }
      sent.push({ chatId, text, parseMode: other.parse_mode, atMs: performance.now() });
      return {};
    },
  };
  return { api, sent, attempts };
}

const open: AlertDelivery[] = [];
afterEach(async () => {
  await Promise.all(open.splice(0).map((d) => d.close()));
});

async function setup(script: Array<Error | 'hang'> = [], options = {}) {
  const store = new MemorySubscriptionStore();
  const sender = fakeSender(script);
  const delivery = createAlertDelivery({
    api: sender.api,
    store,
    logger,
    minIntervalPerChatMs: 50,
    minIntervalGlobalMs: 0,
    networkRetryDelayMs: 50,
    ...options,
  });
  open.push(delivery);
  return { store, delivery, ...sender };
}

describe('classifyTelegramError', () => {
  it.each([
    [tgError(429, 'Too Many Requests: retry after 5', { retry_after: 5 }), 'retry'],
    [tgError(502, 'Bad Gateway'), 'retry'],
    [networkError(), 'retry'],
    [tgError(403, 'Forbidden: bot was blocked by the user'), 'drop-chat'],
    [tgError(403, 'Forbidden: user is deactivated'), 'drop-chat'],
    [tgError(403, 'Forbidden: bot was kicked from the supergroup chat'), 'drop-chat'],
    [tgError(400, 'Bad Request: chat not found'), 'drop-chat'],
    [
      tgError(400, 'Bad Request: group chat was upgraded to a supergroup chat', {
        migrate_to_chat_id: -1001,
      }),
      'migrate',
    ],
    [tgError(400, "Bad Request: can't parse entities: unsupported start tag"), 'bug'],
    [tgError(400, 'Bad Request: message is too long'), 'bug'],
    [tgError(401, 'Unauthorized'), 'bug'],
    [new TypeError('x is undefined'), 'bug'],
  ] as const)('%s → %s', (err, action) => {
    expect(classifyTelegramError(err)).toBe(action);
  });

  it('redacts the bot token from logged errors', () => {
    const err = new HttpError('failed', new Error('request to http://x/bot123:SECRET/sendMessage failed'));
    expect(JSON.stringify(describeError(err))).not.toContain('SECRET');
  });
});

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
    expect(sent[0]?.text).toMatch(/^<b>🚨 BTC OI surge · bybit<\/b>/);
  });

  it('keeps per-chat order and spaces messages to one chat', async () => {
    const { store, delivery, sent } = await setup();
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
