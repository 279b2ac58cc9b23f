import { describe, expect, it } from 'vitest';
import type { VenueAdapter } from '../../../src/streams/core/adapter.js';
import { backoffDelayMs } from '../../../src/streams/core/backoff.js';
import { startBybitSimulator } from '../../../src/streams/sim/bybit-sim.js';
import { createBybitAdapter } from '../../../src/streams/venues/bybit.js';
import { tracker } from '../../support/track.js';
import { market, type OpenFeedOptions, openFeed, sleep, statuses, waitUntil } from '../feed-harness.js';

// Reconnect, stale, malformed, oversized and close run for every venue in
// `venues/lifecycle.test.ts`; these are the core's other rules, on the Bybit adapter.

const track = tracker();

function open(
  url: string,
  o: Omit<OpenFeedOptions, 'adapter' | 'instruments'> & {
    adapter?: Partial<VenueAdapter>;
    instruments?: () => readonly string[];
  } = {},
) {
  const { adapter, instruments, ...rest } = o;
  return openFeed(track, {
    adapter: { ...createBybitAdapter({ wsUrl: url }), ...adapter },
    instruments: instruments ?? (() => ['BTCUSDT', 'ETHUSDT']),
    ...rest,
  });
}

const startSim = async () => track(await startBybitSimulator({ tickMs: 20 }));

describe('feed connection core', () => {
  it('subscribes, merges into full events, and pings on the adapter heartbeat', async () => {
    const sim = await startSim();
    const { events } = open(sim.wsUrl, { heartbeatMs: 50 });
    await waitUntil(() => expect(market(events).length).toBeGreaterThanOrEqual(10));
    expect(sim.subscriptions()).toEqual(['tickers.BTCUSDT', 'tickers.ETHUSDT']);
    expect(new Set(market(events).map((e) => e.symbol))).toEqual(new Set(['BTC', 'ETH']));
    // every event, delta or not, carries the merged OI and funding
    expect(market(events).every((e) => e.oiBase !== undefined && e.fundingRate !== undefined)).toBe(true);
    await waitUntil(() => expect(sim.pingCount()).toBeGreaterThanOrEqual(2), 2000);
  });

  it('ignores a Bybit delta that arrives before its snapshot, without calling it malformed', async () => {
    const sim = await startSim();
    const { conn, events } = open(sim.wsUrl);
    await waitUntil(() => expect(market(events).length).toBeGreaterThan(0));
    sim.sendFrame({
      topic: 'tickers.XRPUSDT',
      type: 'delta',
      data: { symbol: 'XRPUSDT', openInterest: '1' },
      cs: 1,
      ts: Date.now(),
    });
    const before = market(events).length;
    await waitUntil(() => expect(market(events).length).toBeGreaterThan(before + 3), 2000);
    expect(market(events).some((e) => e.symbol === 'XRP')).toBe(false);
    expect(conn.counters.parseErrors).toBe(0);
  });

  it('keeps retrying with backoff while nothing listens', async () => {
    const { conn, events } = open('ws://127.0.0.1:1/v5/public/linear');
    await waitUntil(() => expect(conn.counters.disconnects).toBeGreaterThanOrEqual(3));
    expect(conn.counters.connects).toBe(0);
    expect(statuses(events, 'connecting').length).toBeGreaterThanOrEqual(3);
  });
});

describe('feed connection core: venue lifecycle rules', () => {
  it('reconnects at once when the parser reports that the venue will close the connection', async () => {
    const sim = await startSim();
    const base = createBybitAdapter({ wsUrl: sim.wsUrl });
    const { conn, events } = open(sim.wsUrl, {
      adapter: {
        createParser: () => {
          const inner = base.createParser();
          return {
            reset: () => inner.reset(),
            parse: (text, t) =>
              text === 'closing soon' ? { events: [], control: 'reconnect' } : inner.parse(text, t),
          };
        },
      },
    });
    await waitUntil(() => expect(market(events).length).toBeGreaterThan(0));
    sim.broadcastRaw('closing soon');
    await waitUntil(() => {
      expect(conn.counters.venueReconnects).toBe(1);
      expect(conn.counters.connects).toBe(2);
    });
  });

  it('replaces a connection proactively at its maximum age', async () => {
    const sim = await startSim();
    const { conn } = open(sim.wsUrl, { adapter: { maxConnectionAgeMs: 150 } });
    await waitUntil(() => {
      expect(conn.counters.ageReconnects).toBeGreaterThanOrEqual(2);
      expect(conn.counters.connects).toBeGreaterThanOrEqual(3);
    });
  });

  it('reports a gap when data resumes after a silence longer than gapAfterMs', async () => {
    const sim = await startSim();
    const { events } = open(sim.wsUrl, { gapAfterMs: 150 });
    await waitUntil(() => expect(market(events).length).toBeGreaterThan(0));
    sim.dropAll();
    // a quick reconnect (well under 150 ms of silence) is not a gap
    await waitUntil(() => expect(statuses(events, 'connected')).toHaveLength(2), 3000);
    await sleep(100);
    expect(statuses(events, 'gap')).toHaveLength(0);
    sim.setSilent(true);
    sim.dropAll();
    await sleep(300);
    sim.setSilent(false);
    await waitUntil(() => expect(statuses(events, 'gap')).toHaveLength(1), 3000);
    const gap = statuses(events, 'gap')[0]!;
    expect(gap.type === 'status' && gap.gap?.instruments).toEqual(['BTCUSDT', 'ETHUSDT']);
    expect(gap.type === 'status' && gap.gap!.toTs - gap.gap!.fromTs).toBeGreaterThanOrEqual(150);
  });

  it('reports a gap after a stale timeout even when the reconnect itself is quick', async () => {
    const sim = await startSim();
    const { conn, events } = open(sim.wsUrl, { staleAfterMs: 300, gapAfterMs: 250 });
    await waitUntil(() => expect(market(events).length).toBeGreaterThan(0));
    sim.setSilent(true);
    await waitUntil(() => expect(conn.counters.staleTimeouts).toBeGreaterThanOrEqual(1), 3000);
    sim.setSilent(false);
    await waitUntil(() => expect(statuses(events, 'gap').length).toBeGreaterThanOrEqual(1), 3000);
    const gap = statuses(events, 'gap')[0]!;
    expect(gap.type === 'status' && gap.gap!.toTs - gap.gap!.fromTs).toBeGreaterThanOrEqual(300);
  });

  it('follows a universe change on the open socket without reconnecting', async () => {
    const sim = await startSim();
    let instruments = ['BTCUSDT', 'ETHUSDT'];
    const { conn, events } = open(sim.wsUrl, { instruments: () => instruments });
    await waitUntil(() => expect(sim.subscriptions()).toHaveLength(2), 3000);
    instruments = ['ETHUSDT', 'SOLUSDT'];
    conn.syncSubscriptions();
    await waitUntil(() => expect(sim.subscriptions()).toEqual(['tickers.ETHUSDT', 'tickers.SOLUSDT']), 3000);
    await waitUntil(() => expect(market(events).some((e) => e.symbol === 'SOL')).toBe(true), 3000);
    expect(conn.counters.connects).toBe(1);
  });
});

describe('backoff', () => {
  it('grows exponentially to the cap, with jitter inside [1 - jitter, 1] of the ceiling', () => {
    const opts = { initialMs: 500, maxMs: 30_000, jitter: 0.5 };
    expect([0, 1, 2, 3, 10].map((a) => backoffDelayMs(a, opts, () => 0))).toEqual([
      500, 1000, 2000, 4000, 30_000,
    ]);
    expect(backoffDelayMs(3, opts, () => 1)).toBe(2000);
    expect(backoffDelayMs(100, opts, () => 0.999)).toBeGreaterThanOrEqual(15_000);
  });
});
