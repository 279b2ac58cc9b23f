import { describe, expect, it } from 'vitest';
import { feedHealth } from '../../src/app/feed-status.js';

const conn = (isOpen: boolean, lastDataAt: number) => ({ isOpen, lastDataAt }) as never;

function runtime(conns: { isOpen: boolean; lastDataAt: number }[], instruments = 3) {
  return {
    venue: 'okx' as const,
    connections: () => conns.map((c) => conn(c.isOpen, c.lastDataAt)),
    universe: () => Array.from({ length: instruments }, () => ({}) as never),
  };
}

describe('feed health for pulse:status', () => {
  const now = 1_800_000_000_000;
  it('is ok when every connection is open with data inside the bound', () => {
    const h = feedHealth(runtime([{ isOpen: true, lastDataAt: now - 1000 }]), null, 5000, now);
    expect(h).toEqual({
      v: 1,
      venue: 'okx',
      shard: 'all',
      ts: now,
      ok: true,
      connections: 1,
      open: 1,
      lastDataTs: now - 1000,
      staleAfterMs: 5000,
      instruments: 3,
    });
  });

  it('is not ok when one connection is silent, closed, or none exists; names the shard', () => {
    const stale = runtime([
      { isOpen: true, lastDataAt: now - 1000 },
      { isOpen: true, lastDataAt: now - 9000 },
    ]);
    expect(feedHealth(stale, { index: 1, count: 4 }, 5000, now)).toMatchObject({
      ok: false,
      lastDataTs: now - 1000,
      shard: '1/4',
    });
    expect(feedHealth(runtime([{ isOpen: false, lastDataAt: now }]), null, 5000, now).ok).toBe(false);
    expect(feedHealth(runtime([]), null, 5000, now)).toMatchObject({ ok: false, lastDataTs: null });
    expect(feedHealth(runtime([{ isOpen: true, lastDataAt: 0 }]), null, 5000, now).ok).toBe(false);
  });
});
