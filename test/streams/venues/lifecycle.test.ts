/**
 * The connection lifecycle, once per venue: each venue's adapter against its simulator, through the
 * one `FeedConnection`. Reconnect, stale, malformed, oversized and close are the same scenarios
 * for every venue; what differs is data (how the venue subscribes, what a malformed or oversized
 * frame of it looks like, which way its heartbeats go). Venue-specific behaviour stays in
 * `<venue>.feed.test.ts` and `core/connection.test.ts`.
 */
import { describe, expect, it } from 'vitest';
import type { VenueAdapter } from '../../../src/streams/core/adapter.js';
import { type BinanceSimulator, startBinanceSimulator } from '../../../src/streams/sim/binance-sim.js';
import { startBybitSimulator } from '../../../src/streams/sim/bybit-sim.js';
import { startHyperliquidSimulator } from '../../../src/streams/sim/hyperliquid-sim.js';
import { startOkxSimulator } from '../../../src/streams/sim/okx-sim.js';
import type { SimulatorControls } from '../../../src/streams/sim/options.js';
import { createBinanceAdapter } from '../../../src/streams/venues/binance.js';
import { fetchBinanceUniverse } from '../../../src/streams/venues/binance-universe.js';
import { createBybitAdapter } from '../../../src/streams/venues/bybit.js';
import { createHyperliquidAdapter } from '../../../src/streams/venues/hyperliquid.js';
import { createOkxAdapter } from '../../../src/streams/venues/okx.js';
import { tracker } from '../../support/track.js';
import { market, openFeed, sleep, statuses, waitUntil } from '../feed-harness.js';

interface VenueCase {
  readonly venue: string;
  /** A simulator ticking every 20 ms. */
  start(): Promise<SimulatorControls>;
  /** The adapter on the simulator, and the instruments to subscribe. */
  feed(sim: SimulatorControls): Promise<{ adapter: VenueAdapter; instruments: readonly string[] }>;
  /** What the simulator reports as subscribed once the feed is. */
  readonly subscriptions: readonly string[];
  /** Frames each counted as one parse error, after which data keeps flowing on the same socket. */
  readonly malformed: readonly string[];
  /** A payload limit that passes the venue's frames, and a frame over it. */
  readonly oversized: { readonly maxPayloadBytes: number; readonly frame: string };
  /** Heartbeat traffic the simulator counts (our pings, or our pongs to its pings). */
  heartbeats(sim: SimulatorControls): number;
}

const OKX_INSTRUMENTS = ['BTC-USDT-SWAP', 'ETH-USDT-SWAP'];
const OKX_CHANNELS = ['funding-rate', 'mark-price', 'open-interest', 'tickers'];

const VENUES: readonly VenueCase[] = [
  {
    venue: 'binance',
    start: () => startBinanceSimulator({ tickMs: 20, pingIntervalMs: 30 }),
    async feed(sim) {
      const want = { symbols: ['BTC', 'ETH', 'SOL'], topN: 0 };
      const { entries } = await fetchBinanceUniverse(sim.restUrl, want);
      return {
        adapter: createBinanceAdapter({ wsUrl: sim.wsUrl, universe: () => entries }),
        instruments: entries.map((e) => e.instrument),
      };
    },
    subscriptions: ['!forceOrder@arr', '!markPrice@arr@1s', '!ticker@arr'],
    malformed: [
      '{"stream":"!markPrice@arr@1s","data":[',
      '{"stream":"!markPrice@arr@1s","data":[{"e":"markPriceUpdate","s":"BTCUSDT","p":"x"}]}',
    ],
    // every tick's ticker array is ~2 KB: a 64 KB limit passes it and rejects the 100 KB frame
    oversized: {
      maxPayloadBytes: 64 * 1024,
      frame: JSON.stringify({ stream: '!ticker@arr', data: [], pad: 'x'.repeat(100_000) }),
    },
    // Binance pings us with ping frames; ws answers each with a pong
    heartbeats: (sim) => (sim as BinanceSimulator).pongCount(),
  },
  {
    venue: 'bybit',
    start: () => startBybitSimulator({ tickMs: 20 }),
    feed: async (sim) => ({
      adapter: createBybitAdapter({ wsUrl: sim.wsUrl }),
      instruments: ['BTCUSDT', 'ETHUSDT'],
    }),
    subscriptions: ['tickers.BTCUSDT', 'tickers.ETHUSDT'],
    malformed: ['{"topic":"tickers.BTCUSDT","type":"delta","data":', 'not json at all'],
    oversized: { maxPayloadBytes: 64 * 1024, frame: `{"pad":"${'x'.repeat(100 * 1024)}"}` },
    heartbeats: (sim) => sim.pingCount(),
  },
  {
    venue: 'okx',
    start: () => startOkxSimulator({ tickMs: 20 }),
    feed: async (sim) => ({ adapter: createOkxAdapter({ wsUrl: sim.wsUrl }), instruments: OKX_INSTRUMENTS }),
    subscriptions: OKX_INSTRUMENTS.flatMap((i) => OKX_CHANNELS.map((c) => `${c}:${i}`)).sort(),
    malformed: ['{"arg":{"channel":"tickers","instId":"BTC-USDT-SWAP"},"data":', 'not json at all'],
    oversized: {
      maxPayloadBytes: 4096,
      frame: JSON.stringify({
        arg: { channel: 'tickers', instId: 'BTC-USDT-SWAP' },
        pad: 'x'.repeat(10_000),
      }),
    },
    heartbeats: (sim) => sim.pingCount(),
  },
  {
    venue: 'hyperliquid',
    start: () => startHyperliquidSimulator({ tickMs: 20 }),
    feed: async (sim) => ({
      adapter: createHyperliquidAdapter({ wsUrl: sim.wsUrl }),
      instruments: ['BTC', 'ETH'],
    }),
    subscriptions: ['BTC', 'ETH'],
    malformed: [
      '{"channel":"activeAssetCtx","data":',
      'not json at all',
      '{"channel":"activeAssetCtx","data":{"coin":"BTC","ctx":{"markPx":"abc"}}}',
    ],
    oversized: {
      maxPayloadBytes: 4096,
      frame: `{"channel":"activeAssetCtx","data":"${'x'.repeat(8192)}"}`,
    },
    heartbeats: (sim) => sim.pingCount(),
  },
];

describe.each(VENUES)('$venue feed lifecycle against the simulator', (v) => {
  const track = tracker();

  async function setup(o: { staleAfterMs?: number; heartbeatMs?: number; maxPayloadBytes?: number } = {}) {
    const sim = track(await v.start());
    const { adapter, instruments } = await v.feed(sim);
    const { conn, events } = openFeed(track, { adapter, instruments: () => instruments, ...o });
    await waitUntil(() => expect(market(events).length).toBeGreaterThan(0));
    return { sim, conn, events };
  }

  it('reconnects and resubscribes after the server drops the connection', async () => {
    const { sim, conn, events } = await setup();
    sim.dropAll();
    await waitUntil(() => expect(statuses(events, 'disconnected')).toHaveLength(1), 2000);
    const before = market(events).length;
    await waitUntil(() => {
      expect(conn.counters.connects).toBe(2);
      expect(market(events).length).toBeGreaterThan(before + 5);
    });
    expect(sim.subscriptions()).toEqual(v.subscriptions);
    expect(sim.connectionCount()).toBe(1);
    expect(conn.counters.subscribes).toBe(2);
    expect(conn.counters.venueErrors).toBe(0);
  });

  it('replaces a connection that stays open but sends no data', async () => {
    const { sim, conn, events } = await setup({ staleAfterMs: 300, heartbeatMs: 50 });
    sim.setSilent(true);
    await waitUntil(() => expect(conn.counters.staleTimeouts).toBeGreaterThanOrEqual(1), 3000);
    expect(statuses(events, 'stale').length).toBeGreaterThanOrEqual(1);
    sim.setSilent(false);
    const before = market(events).length;
    await waitUntil(() => expect(market(events).length).toBeGreaterThan(before));
    expect(conn.counters.connects).toBeGreaterThanOrEqual(2);
  });

  it('counts and skips malformed frames, then keeps going on the same connection', async () => {
    const { sim, conn, events } = await setup();
    for (const frame of v.malformed) sim.broadcastRaw(frame);
    await waitUntil(() => expect(conn.counters.parseErrors).toBe(v.malformed.length), 2000);
    const before = market(events).length;
    await waitUntil(() => expect(market(events).length).toBeGreaterThan(before + 3), 2000);
    expect(conn.counters.connects).toBe(1);
    const errors = statuses(events, 'parse_error');
    expect(errors).toHaveLength(v.malformed.length);
    // the detail carries an excerpt of the frame it rejects
    expect(errors.map((e) => e.type === 'status' && e.detail)).toEqual(
      v.malformed.map((frame) => expect.stringContaining(frame.slice(0, 20))),
    );
  });

  it('counts an oversized frame, drops it and replaces the connection', async () => {
    const { sim, conn, events } = await setup({ maxPayloadBytes: v.oversized.maxPayloadBytes });
    sim.broadcastRaw(v.oversized.frame);
    await waitUntil(() => expect(conn.counters.oversized).toBe(1), 2000);
    expect(statuses(events, 'oversized')).toHaveLength(1);
    const before = market(events).length;
    await waitUntil(() => {
      expect(conn.counters.connects).toBe(2);
      expect(market(events).length).toBeGreaterThan(before);
    });
    expect(conn.counters.parseErrors).toBe(0);
    expect(sim.connectionCount()).toBe(1);
    expect(sim.subscriptions()).toEqual(v.subscriptions);
  });

  it('close() is idempotent and nothing outlives it', async () => {
    const { sim, conn, events } = await setup({ heartbeatMs: 30 });
    await waitUntil(() => expect(v.heartbeats(sim)).toBeGreaterThan(0), 2000);
    await Promise.all([conn.close(), conn.close()]);
    await conn.close();
    await waitUntil(() => expect(sim.connectionCount()).toBe(0), 2000);
    const count = events.length;
    const heartbeats = v.heartbeats(sim);
    await sleep(200);
    expect(events.length).toBe(count);
    expect(v.heartbeats(sim)).toBe(heartbeats);
    expect(sim.connectionCount()).toBe(0);
    expect(sim.subscriptions()).toEqual([]);
    expect(conn.isOpen).toBe(false);
  });
});
