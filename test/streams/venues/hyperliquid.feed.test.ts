import { describe, expect, it } from 'vitest';
import { startHyperliquidSimulator } from '../../../src/streams/sim/hyperliquid-sim.js';
import { createHyperliquidAdapter } from '../../../src/streams/venues/hyperliquid.js';
import { tracker } from '../../support/track.js';
import { market, openFeed, waitUntil } from '../feed-harness.js';

// Reconnect, stale, malformed, oversized and close: `lifecycle.test.ts`, for every venue.

const COINS = ['BTC', 'ETH'];

const track = tracker();

async function setup(heartbeatMs?: number) {
  const sim = track(await startHyperliquidSimulator({ tickMs: 20 }));
  const feed = openFeed(track, {
    adapter: createHyperliquidAdapter({ wsUrl: sim.wsUrl }),
    instruments: () => COINS,
    ...(heartbeatMs ? { heartbeatMs } : {}),
  });
  return { sim, ...feed };
}

describe('hyperliquid feed against the simulator', () => {
  it('skips the greeting, subscribes one message per coin, gets full events, pings', async () => {
    const { sim, conn, events } = await setup(50);
    await waitUntil(() => expect(market(events).length).toBeGreaterThanOrEqual(10));
    expect(sim.subscriptions()).toEqual(COINS);
    expect(new Set(market(events).map((e) => e.symbol))).toEqual(new Set(COINS));
    for (const e of market(events)) {
      expect(e).toMatchObject({ venue: 'hyperliquid', fundingIntervalHours: 1, eventTs: e.receiveTs });
      expect(e.oiBase).toBeGreaterThan(0);
      expect(e.markPrice).toBeGreaterThan(0);
      expect(e.fundingRate).toBeTypeOf('number');
      expect(e.nextFundingTs! % 3_600_000).toBe(0);
    }
    await waitUntil(() => expect(sim.pingCount()).toBeGreaterThanOrEqual(2), 2000);
    // the greeting, acks and pongs are control frames, not parse or venue errors
    expect(conn.counters.parseErrors).toBe(0);
    expect(conn.counters.venueErrors).toBe(0);
  });

  it('counts a venue error without dropping the connection', async () => {
    const { sim, conn, events } = await setup();
    await waitUntil(() => expect(market(events).length).toBeGreaterThan(0));
    sim.sendFrame({ channel: 'error', data: 'Cannot send more than 2000 messages per minute.' });
    await waitUntil(() => expect(conn.counters.venueErrors).toBe(1), 2000);
    const before = market(events).length;
    await waitUntil(() => expect(market(events).length).toBeGreaterThan(before), 2000);
    expect(conn.counters.connects).toBe(1);
  });
});
