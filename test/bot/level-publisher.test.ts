import { describe, expect, it, vi } from 'vitest';
import { AlertLevelPublisher } from '../../src/bot/level-publisher.js';
import { MemoryChatSettingsStore } from '../../src/bus/chat-settings-store.js';
import type { AlertLevels } from '../../src/domain/alert-levels.js';

const timers = () => process.getActiveResourcesInfo().filter((r) => r === 'Timeout').length;

describe('AlertLevelPublisher', () => {
  it('publishes at start, on demand and every interval; current() is what was last written', async () => {
    const store = new MemoryChatSettingsStore();
    const written: AlertLevels[] = [];
    const publisher = new AlertLevelPublisher({
      store,
      publish: async (levels) => void written.push(levels),
      intervalMs: 50,
    });
    const before = timers();
    await publisher.start();
    expect(written).toEqual([{}]);
    await store.update(1, { kinds: { momentum_spike: { enabled: true, threshold: 2 } } });
    await publisher.publishNow();
    expect(publisher.current()).toEqual({ momentum_spike: [2] });
    await store.update(2, { kinds: { oi_change_24h: { enabled: true, threshold: 6 } } });
    await vi.waitFor(() => expect(publisher.current()).toEqual({ oi_change_24h: [6], momentum_spike: [2] }));
    await publisher.close();
    await publisher.close();
    expect(timers()).toBeLessThanOrEqual(before);
    const count = written.length;
    await publisher.publishNow();
    expect(written).toHaveLength(count);
  });

  it('keeps the last levels when a publication fails, and retries soon', async () => {
    const store = new MemoryChatSettingsStore();
    await store.update(1, { kinds: { oi_change_15m: { enabled: true, threshold: 2 } } });
    let failing = true;
    const publisher = new AlertLevelPublisher({
      store,
      publish: async () => {
        if (failing) throw new Error('redis down');
      },
      intervalMs: 60_000,
      retryMs: 30,
    });
    await publisher.start();
    expect(publisher.current()).toEqual({});
    failing = false;
    await vi.waitFor(() => expect(publisher.current()).toEqual({ oi_change_15m: [2] }));
    await publisher.close();
  });
});
