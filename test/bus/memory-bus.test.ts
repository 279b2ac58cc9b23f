import { describe, expect, it } from 'vitest';
import { MemoryBus } from '../../src/bus/memory-bus.js';
import type { AlertJson } from '../../src/domain/types.js';

const alert = (ts: number) =>
  ({
    v: 1,
    id: `oi_change_15m:bybit:BTC:${ts}`,
    kind: 'oi_change_15m',
    venue: 'bybit',
    symbol: 'BTC',
    ts,
  }) as AlertJson;

describe('MemoryBus takes each alert id once', () => {
  it('skips an id already published and counts it, but stores the rule state either way', async () => {
    const bus = new MemoryBus();
    await bus.publishAlert(alert(1), [{ key: 'k', json: '1' }]);
    await bus.publishAlert(alert(1), [{ key: 'k', json: '2' }]);
    await bus.publishAlert(alert(2));
    expect(bus.recentAlerts().map((a) => a.ts)).toEqual([1, 2]);
    expect(bus.counters.alertsDuplicate).toBe(1);
    expect(await bus.loadAlertState()).toEqual(['2']);
  });

  it('remembers a bounded number of ids: one older than the last maxRecentIds is taken again', async () => {
    const bus = new MemoryBus(100, 3);
    for (const ts of [1, 2, 3, 4]) await bus.publishAlert(alert(ts));
    await bus.publishAlert(alert(4)); // still remembered
    await bus.publishAlert(alert(1)); // forgotten: the memory holds 2, 3, 4
    expect(bus.recentAlerts().map((a) => a.ts)).toEqual([1, 2, 3, 4, 1]);
    expect(bus.counters.alertsDuplicate).toBe(1);
  });
});
