import { describe, expect, it, vi } from 'vitest';
import {
  alert,
  fakeTimeSetup,
  fastForward,
  memoryLedger,
  networkError,
  type Sent,
  tgError,
} from './delivery-fixtures.js';

const setup = fakeTimeSetup();

describe('createAlertDelivery', () => {
  it('sends the alert in HTML mode to every subscribed chat and no other', async () => {
    const { store, delivery, sent } = await setup();
    await store.add(1, 'BTC');
    await store.add(2, 'BTC');
    await store.add(3, 'ETH');
    await delivery.deliver(alert('a1'));
    await fastForward(delivery.idle());
    expect(sent.map((s) => s.chatId).sort()).toEqual([1, 2]);
    expect(sent[0]?.parseMode).toBe('HTML');
    expect(sent[0]?.text).toMatch(/^<b>🚨 BTC OI surge · bybit<\/b>\n🟢 \+2,500 BTC/);
  });

  it('keeps per-chat order and spaces messages to one chat by exactly its interval', async () => {
    const { store, delivery, sent } = await setup([], { queue: { maxAlertsPerMessage: 1 } });
    await store.add(1, 'BTC');
    for (const id of ['a1', 'a2', 'a3'])
      await delivery.deliver({ ...alert(id), delta: { base: 1, usd: 1, pct: Number(id[1]) } });
    await fastForward(delivery.idle());
    expect(sent.map((s) => s.text.match(/\+(\d)\.00%/)?.[1])).toEqual(['1', '2', '3']);
    expect(sent[1]!.atMs - sent[0]!.atMs).toBe(50);
    expect(sent[2]!.atMs - sent[1]!.atMs).toBe(50);
  });

  it('waits exactly retry_after on 429, then sends once', async () => {
    const { store, delivery, sent, attempts } = await setup([
      tgError(429, 'Too Many Requests', { retry_after: 1 }),
    ]);
    await store.add(1, 'BTC');
    const t0 = Date.now();
    await delivery.deliver(alert('a1'));
    await fastForward(delivery.idle());
    expect(attempts).toEqual([1, 1]);
    expect(sent).toHaveLength(1);
    // the scripted 429 answers after a 5 ms round trip; then exactly retry_after, no fixed back-off
    expect(sent[0]!.atMs - t0).toBe(5 + 1000);
    expect(delivery.stats()).toMatchObject({ rateLimited: 1, sent: 1 });
  });

  it('gives a message up after maxRateLimitRetries answers of 429', async () => {
    const limited = () => tgError(429, 'Too Many Requests', { retry_after: 2 });
    const { store, delivery, attempts } = await setup([limited(), limited(), limited()], {
      sending: { maxRateLimitRetries: 2 },
    });
    await store.add(1, 'BTC');
    const handle = await delivery.deliver(alert('a1'));
    expect(await fastForward(handle.settled)).toEqual(['failed']);
    expect(attempts).toEqual([1, 1, 1]);
    expect(delivery.stats()).toMatchObject({ rateLimited: 3, failed: 1, sent: 0 });
  });

  it('removes a chat that blocked the bot and drops what was waiting for it', async () => {
    const { store, delivery, sent, attempts } = await setup([
      tgError(403, 'Forbidden: bot was blocked by the user'),
    ]);
    await store.add(1, 'BTC');
    await store.add(1, 'ETH');
    await delivery.deliver(alert('a1'));
    await delivery.deliver(alert('a2', 'ETH'));
    await fastForward(delivery.idle());
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
    await fastForward(delivery.idle());
    expect(sent.map((s) => s.chatId)).toEqual([-1_009_999]);
    expect(await store.chatsFor('BTC')).toEqual([-1_009_999]);
    expect(delivery.stats().migratedChats).toBe(1);
  });

  it('retries a network error once, after networkRetryDelayMs, and gives up after the second', async () => {
    const once = await setup([networkError()]);
    await once.store.add(1, 'BTC');
    const t0 = Date.now();
    await once.delivery.deliver(alert('a1'));
    await fastForward(once.delivery.idle());
    expect(once.attempts).toEqual([1, 1]);
    expect(once.sent).toHaveLength(1);
    expect(once.sent[0]!.atMs - t0).toBe(5 + 50);

    const twice = await setup([networkError(), networkError()]);
    await twice.store.add(1, 'BTC');
    await twice.delivery.deliver(alert('a1'));
    await fastForward(twice.delivery.idle());
    expect(twice.attempts).toEqual([1, 1]);
    expect(twice.sent).toHaveLength(0);
    expect(twice.delivery.stats().failed).toBe(1);
  });

  it('drops a message Telegram calls our bug and carries on with the next', async () => {
    const { store, delivery, sent } = await setup([tgError(400, "Bad Request: can't parse entities")]);
    await store.add(1, 'BTC');
    await delivery.deliver(alert('a1'));
    await delivery.deliver(alert('a2'));
    await fastForward(delivery.idle());
    expect(sent).toHaveLength(1);
    expect(delivery.stats()).toMatchObject({ sent: 1, failed: 1 });
  });
});

describe('close()', () => {
  it('aborts pending waits without sitting them out, and is idempotent', async () => {
    const { store, delivery, attempts } = await setup([
      tgError(429, 'Too Many Requests', { retry_after: 30 }),
    ]);
    await store.add(1, 'BTC');
    const handle = await delivery.deliver(alert('a1'));
    await vi.advanceTimersByTimeAsync(20); // the 429 is in: the chat waits 30 s
    const t0 = Date.now();
    // resolves with the fake clock standing still: close() does not sit out the 30 s retry_after
    await Promise.all([delivery.close(), delivery.close()]);
    expect(Date.now() - t0).toBe(0);
    expect(await handle.settled).toEqual(['closed']);
    await delivery.deliver(alert('a2'));
    await vi.advanceTimersByTimeAsync(60_000);
    expect(attempts).toEqual([1]);
  });

  it('lets a send already on the wire finish and records it, and aborts one past the grace', async () => {
    const box: { sent: Sent[] } = { sent: [] };
    const { ledger, records } = memoryLedger(() => box.sent.length);
    const slow = await setup([200], { ledger, sending: { closeGraceMs: 3000 } });
    box.sent = slow.sent;
    await slow.store.add(1, 'BTC');
    const handle = await slow.delivery.deliver(alert('w1'));
    await vi.advanceTimersByTimeAsync(0);
    expect(slow.attempts).toHaveLength(1);
    await fastForward(slow.delivery.close());
    expect(await handle.settled).toEqual(['sent']);
    expect(records).toEqual([{ alertId: 'w1', chatId: 1, sentBefore: 1 }]);

    const stuck = await setup(['hang'], { sending: { closeGraceMs: 50 } });
    await stuck.store.add(1, 'BTC');
    const stuckHandle = await stuck.delivery.deliver(alert('w2'));
    await vi.advanceTimersByTimeAsync(0);
    expect(stuck.attempts).toHaveLength(1);
    const t0 = Date.now();
    await fastForward(stuck.delivery.close());
    expect(Date.now() - t0).toBe(50); // exactly the grace, then aborted
    expect(await stuckHandle.settled).toEqual(['closed']);
  });
});
