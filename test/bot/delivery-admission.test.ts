import { describe, expect, it } from 'vitest';
import type { ChatPolicy } from '../../src/bot/policy.js';
import { alert, fakeTimeSetup, fastForward, memoryLedger, numbered, numbersIn } from './delivery-fixtures.js';

const setup = fakeTimeSetup();
const MIN = 60_000;
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

describe('admission', () => {
  it('skips an alert id it already delivered', async () => {
    const { store, delivery, sent } = await setup();
    await store.add(1, 'BTC');
    await delivery.deliver(alert('dup'));
    expect(await (await delivery.deliver(alert('dup'))).settled).toEqual([]);
    await fastForward(delivery.idle());
    expect(sent).toHaveLength(1);
  });

  it('remembers only the last recentAlertIds ids; the ledger covers older ones', async () => {
    const bare = await setup([], { admission: { recentAlertIds: 2 }, queue: { maxAlertsPerMessage: 1 } });
    await bare.store.add(1, 'BTC');
    for (const id of ['r1', 'r2', 'r3', 'r1']) await bare.delivery.deliver(alert(id));
    await fastForward(bare.delivery.idle());
    expect(bare.sent).toHaveLength(4); // r1 was forgotten when r3 came

    const { ledger } = memoryLedger(() => 0);
    const led = await setup([], {
      admission: { recentAlertIds: 2 },
      queue: { maxAlertsPerMessage: 1 },
      ledger,
    });
    await led.store.add(1, 'BTC');
    for (const id of ['r1', 'r2', 'r3', 'r1']) await led.delivery.deliver(alert(id));
    await fastForward(led.delivery.idle());
    expect(led.sent).toHaveLength(3);
  });

  it('queues concurrent deliver() calls in call order even when the store answers out of order', async () => {
    const { store, delivery, sent } = await setup([], { queue: { maxAlertsPerMessage: 1 } });
    await store.add(1, 'BTC');
    const chatsFor = store.chatsFor.bind(store);
    let delayMs = 60;
    store.chatsFor = async (symbol) => {
      const ms = delayMs;
      delayMs -= 30;
      await sleep(ms);
      return chatsFor(symbol);
    };
    await fastForward(Promise.all([1, 2, 3].map((n) => delivery.deliver(numbered(n)))));
    await fastForward(delivery.idle());
    expect(sent.map((s) => numbersIn(s.text))).toEqual([[1], [2], [3]]);
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
    const outcomes = await fastForward((await delivery.deliver(alert('p1'))).settled);
    await fastForward(delivery.idle());
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
    expect(await fastForward((await noHolder.delivery.deliver(alert('h2'))).settled)).toEqual(['sent']);
  });

  it('sends alerts only to chats whose subscription covers the alert venue', async () => {
    const { store, delivery, sent } = await setup();
    await store.add(1, 'BTC', 'bybit');
    await store.add(2, 'BTC', 'okx');
    await store.add(3, 'BTC');
    await delivery.deliver(alert('v1'));
    await fastForward(delivery.idle());
    expect(sent.map((s) => s.chatId).sort()).toEqual([1, 3]);
  });

  it('skips the chats the ledger says the alert already reached (a restart)', async () => {
    const { ledger, records } = memoryLedger(() => 0);
    records.push({ alertId: 'l1', chatId: 1, sentBefore: 0 });
    const { store, delivery, sent } = await setup([], { ledger });
    await store.add(1, 'BTC');
    await store.add(2, 'BTC');
    expect(await fastForward((await delivery.deliver(alert('l1'))).settled)).toEqual(['sent']);
    expect(sent.map((s) => s.chatId)).toEqual([2]);
  });

  it('sends an old alert to no chat: settled expired (so the stream acknowledges it) and counted', async () => {
    const { store, delivery, sent } = await setup([], { admission: { maxAlertAgeMs: 15 * MIN } });
    await store.add(1, 'BTC');
    const old = await delivery.deliver({ ...alert('old'), ts: Date.now() - 16 * MIN });
    expect(await old.settled).toEqual(['expired']);
    const fresh = await delivery.deliver({ ...alert('fresh'), ts: Date.now() - 14 * MIN });
    expect(await fastForward(fresh.settled)).toEqual(['sent']);
    // stamped ahead of this clock (another host's, the demo's): fresh
    const ahead = await delivery.deliver({ ...alert('ahead'), ts: Date.now() + 60 * MIN });
    expect(await fastForward(ahead.settled)).toEqual(['sent']);
    expect(sent.map((m) => m.text).join('\n')).not.toContain('old');
    expect(sent).toHaveLength(2);
    expect(delivery.stats()).toMatchObject({ expired: 1, sent: 2 });
  });
});
