import { describe, expect, it, vi } from 'vitest';
import { DeliveryError } from '../../src/bot/delivery.js';
import type { AlertJson } from '../../src/domain/types.js';
import {
  alert,
  fakeTimeSetup,
  fastForward,
  memoryLedger,
  numbered,
  numbersIn,
  type Sent,
  snapshot,
  stripTags,
  tgError,
} from './delivery-fixtures.js';

const setup = fakeTimeSetup();
const MIN = 60_000;

describe('per-chat queues', () => {
  it('bounds each chat queue, dropping the oldest waiting message', async () => {
    const { store, delivery, attempts } = await setup(['hang'], { queue: { maxQueuePerChat: 2 } });
    await store.add(1, 'BTC');
    const handles = [];
    for (const id of ['a1', 'a2', 'a3', 'a4', 'a5']) handles.push(await delivery.deliver(alert(id)));
    await vi.advanceTimersByTimeAsync(20);
    expect(attempts).toEqual([1]);
    expect(delivery.stats()).toMatchObject({ queued: 2, dropped: 2 });
    expect(await handles[1]!.settled).toEqual(['dropped']);
    expect(await handles[2]!.settled).toEqual(['dropped']);
  });

  it('sends a burst waiting in one chat as one message of at most 10 alerts, with the mute buttons when all are about one symbol', async () => {
    const box: { sent: Sent[] } = { sent: [] };
    const { ledger, records } = memoryLedger(() => box.sent.length);
    const { store, delivery, sent } = await setup([], { pacing: { minIntervalPerChatMs: 300 }, ledger });
    box.sent = sent;
    await store.add(1, 'BTC');
    const handles = [await delivery.deliver(numbered(1))];
    await vi.advanceTimersByTimeAsync(0);
    expect(sent).toHaveLength(1);
    for (let n = 2; n <= 14; n++) handles.push(await delivery.deliver(numbered(n)));
    await fastForward(delivery.idle());

    expect(sent.map((s) => numbersIn(s.text))).toEqual([[1], [2, 3, 4, 5, 6, 7, 8, 9, 10, 11], [12, 13, 14]]);
    expect(sent[1]!.text.split('\n')[0]).toBe('<b>📬 10 alerts</b>');
    for (const message of sent) {
      expect(
        message.keyboard?.inline_keyboard.flat().map((b) => 'callback_data' in b && b.callback_data),
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
    const { store, delivery, sent } = await setup([], { pacing: { minIntervalPerChatMs: 300 } });
    await store.add(1, 'BTC');
    await store.add(1, 'ETH');
    await delivery.deliver(alert('first'));
    await vi.advanceTimersByTimeAsync(0);
    expect(sent).toHaveLength(1);
    await delivery.deliver(alert('b', 'BTC'));
    await delivery.deliver(alert('e', 'ETH'));
    await fastForward(delivery.idle());
    expect(sent).toHaveLength(2);
    expect(sent[1]!.text).toContain('2 alerts');
    expect(sent[1]!.keyboard).toBeUndefined();
  });

  it('holds an alert reaching an idle chat for coalesceMs, so the rest of the burst joins it', async () => {
    const { store, delivery, sent } = await setup([], { queue: { coalesceMs: 1000 } });
    await store.add(1, 'BTC');
    const t0 = Date.now();
    await delivery.deliver(numbered(1));
    await vi.advanceTimersByTimeAsync(600);
    expect(sent).toHaveLength(0);
    await delivery.deliver(numbered(2));
    await delivery.deliver(numbered(3));
    await fastForward(delivery.idle());
    expect(sent.map((s) => numbersIn(s.text))).toEqual([[1, 2, 3]]);
    expect(sent[0]!.atMs - t0).toBe(1000);
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
    await fastForward(delivery.idle());

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
    for (let i = 1; i < sent.length; i++) expect(sent[i]!.atMs - sent[i - 1]!.atMs).toBe(50);
  });

  it('queues texts on the same paced queue, never merged with alerts; rejects when the chat is gone', async () => {
    const { store, delivery, sent } = await setup([], { pacing: { minIntervalPerChatMs: 100 } });
    await store.add(1, 'BTC');
    await delivery.deliver(numbered(1));
    const text = delivery.sendText(1, '<b>Summary</b> &amp; more');
    await delivery.deliver(numbered(2));
    await delivery.deliver(numbered(3));
    await fastForward(text);
    await fastForward(delivery.idle());
    expect(sent.map((s) => (numbersIn(s.text).length > 0 ? numbersIn(s.text) : s.text))).toEqual([
      [1],
      '<b>Summary</b> &amp; more',
      [2, 3],
    ]);
    expect(sent[1]!.keyboard).toBeUndefined();
    for (let i = 1; i < sent.length; i++) expect(sent[i]!.atMs - sent[i - 1]!.atMs).toBe(100);

    const gone = await setup([tgError(403, 'Forbidden: bot was blocked by the user')]);
    const err = await fastForward(gone.delivery.sendText(5, 'hello').catch((e: unknown) => e));
    expect(err).toBeInstanceOf(DeliveryError);
    expect((err as DeliveryError).outcome).toBe('dropped');
  });

  it('drops an alert that aged out waiting in a chat queue, or waiting out a 429', async () => {
    let clockMs = Date.now();
    const rateLimited = tgError(429, 'Too Many Requests: retry after 0.2', { retry_after: 0.2 });
    const { store, delivery, sent, attempts } = await setup([150, rateLimited], {
      admission: { maxAlertAgeMs: 15 * MIN, ageClock: () => clockMs },
      queue: { maxAlertsPerMessage: 1 },
    });
    await store.add(1, 'BTC');
    await store.add(2, 'ETH');
    const first = await delivery.deliver({ ...alert('first'), ts: clockMs });
    await vi.advanceTimersByTimeAsync(0); // on the wire for 150 ms
    expect(attempts).toHaveLength(1);
    const queued = await delivery.deliver({ ...alert('queued'), ts: clockMs });
    const retried = await delivery.deliver({ ...alert('retried', 'ETH'), ts: clockMs });
    await vi.advanceTimersByTimeAsync(10); // chat 2 answered 429: waits 200 ms
    expect(attempts).toHaveLength(2);
    clockMs += 16 * MIN;
    expect(await fastForward(first.settled)).toEqual(['sent']);
    expect(await queued.settled).toEqual(['expired']);
    expect(await retried.settled).toEqual(['expired']);
    expect(sent.map((m) => m.chatId)).toEqual([1]);
    expect(attempts).toHaveLength(2);
    expect(delivery.stats().expired).toBe(2);
  });
});
