import { describe, expect, it } from 'vitest';
import type { MarketEvent } from '../../../src/domain/types.js';
import { startOkxSimulator } from '../../../src/streams/sim/okx-sim.js';
import { createOkxAdapter } from '../../../src/streams/venues/okx.js';
import { tracker } from '../../support/track.js';
import { market, type OpenFeedOptions, openFeed, statuses, waitUntil } from '../feed-harness.js';

// Reconnect, stale, malformed, oversized and close: `lifecycle.test.ts`, for every venue.

const INSTRUMENTS = ['BTC-USDT-SWAP', 'ETH-USDT-SWAP'];
const CHANNELS = ['funding-rate', 'mark-price', 'open-interest', 'tickers'];
const ALL_SUBS = INSTRUMENTS.flatMap((i) => CHANNELS.map((c) => `${c}:${i}`)).sort();

const track = tracker();

async function setup(o: Pick<OpenFeedOptions, 'heartbeatMs'> & { instruments?: string[] } = {}) {
  const sim = track(await startOkxSimulator({ tickMs: 20 }));
  const instruments = o.instruments ?? INSTRUMENTS;
  const feed = openFeed(track, {
    adapter: createOkxAdapter({ wsUrl: sim.wsUrl }),
    instruments: () => instruments,
    ...(o.heartbeatMs ? { heartbeatMs: o.heartbeatMs } : {}),
  });
  return { sim, ...feed };
}

describe('okx feed against the simulator', () => {
  it('subscribes every channel, receives each channel’s fields, and pings with the text ping', async () => {
    const { sim, conn, events } = await setup({ heartbeatMs: 50 });
    const has = (symbol: string, key: keyof MarketEvent) =>
      market(events).some((e) => e.symbol === symbol && e[key] !== undefined);
    const keys = ['markPrice', 'lastPrice', 'oiBase', 'oiUsd', 'fundingRate', 'turnover24hUsd'] as const;
    await waitUntil(() => expect(['BTC', 'ETH'].every((s) => keys.every((k) => has(s, k)))).toBe(true));
    expect(sim.subscriptions()).toEqual(ALL_SUBS);
    const funding = market(events).find((e) => e.fundingRate !== undefined)!;
    expect(funding.fundingIntervalHours).toBe(8);
    expect(funding.nextFundingTs! % (8 * 3_600_000)).toBe(0);
    // Each event carries only its channel's fields: a mark-price push has no OI.
    expect(market(events).some((e) => e.markPrice !== undefined && e.oiBase === undefined)).toBe(true);
    await waitUntil(() => expect(sim.pingCount()).toBeGreaterThanOrEqual(2), 2000);
    // pongs are control frames: no parse error, no venue error
    expect(conn.counters.parseErrors).toBe(0);
    expect(conn.counters.venueErrors).toBe(0);
  });

  it('reconnects at once on the 64008 service-upgrade notice', async () => {
    const { sim, conn, events } = await setup();
    await waitUntil(() => expect(market(events).length).toBeGreaterThan(0));
    sim.sendNotice64008();
    await waitUntil(() => expect(conn.counters.venueReconnects).toBe(1), 2000);
    const before = market(events).length;
    await waitUntil(() => {
      expect(conn.counters.connects).toBe(2);
      expect(market(events).length).toBeGreaterThan(before);
    });
    expect(conn.counters.venueErrors).toBe(0);
    expect(sim.connectionCount()).toBe(1);
  });

  it('reports a rejected subscription as a venue error and keeps the rest', async () => {
    const { conn, events } = await setup({ instruments: ['BTC-USDT-SWAP', 'NOPE-USDT-SWAP'] });
    await waitUntil(() => expect(conn.counters.venueErrors).toBe(4), 2000);
    expect(statuses(events, 'venue_error')[0]).toMatchObject({ detail: expect.stringMatching(/^60018 /) });
    await waitUntil(() => expect(market(events).length).toBeGreaterThan(0));
    expect(new Set(market(events).map((e) => e.instrument))).toEqual(new Set(['BTC-USDT-SWAP']));
  });
});
