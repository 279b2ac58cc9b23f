import { pino } from 'pino';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { VenueRuntime } from '../../src/app/venue-runtime.js';
import { MemoryBus } from '../../src/bus/memory-bus.js';
import type { FeedEvent } from '../../src/domain/types.js';
import { inShard, selectUniverse, stableHash, type UniverseEntry } from '../../src/streams/core/universe.js';
import { type BybitSimulator, startBybitSimulator } from '../../src/streams/sim/bybit-sim.js';
import { DEFAULT_MARKET_SYMBOLS } from '../../src/streams/sim/market.js';
import { fetchBybitUniverse } from '../../src/streams/venues/bybit-universe.js';
import { VENUES, type VenueModule } from '../../src/streams/venues/registry.js';

const logger = pino({ level: 'silent' });
const entry = (symbol: string): UniverseEntry => ({ symbol, instrument: `${symbol}USDT`, turnover24hUsd: 1 });

let sim: BybitSimulator | undefined;
let runtime: VenueRuntime | undefined;
afterEach(async () => {
  await runtime?.close();
  await sim?.close();
  runtime = undefined;
  sim = undefined;
});

/** Bybit against the simulator, with a listing the test controls and a small per-connection limit. */
function module(listing: () => UniverseEntry[], perConnection = 500): VenueModule {
  return {
    ...VENUES.bybit,
    fetchUniverse: async (_url, want) => selectUniverse(listing(), want),
    createAdapter: (ctx) => ({
      ...VENUES.bybit.createAdapter(ctx),
      maxInstrumentsPerConnection: perConnection,
    }),
  };
}

function start(
  mod: VenueModule,
  bus = new MemoryBus(),
  events: FeedEvent[] = [],
  shard: { index: number; count: number } | null = null,
): VenueRuntime {
  runtime = new VenueRuntime({
    shard,
    module: mod,
    wsUrl: sim!.wsUrl,
    restUrl: sim!.restUrl,
    want: { symbols: null, topN: 100 },
    universeRefreshMs: 3_600_000,
    staleAfterMs: 5000,
    bus,
    logger,
    onEvent: (e) => events.push(e),
  });
  void runtime.start();
  return runtime;
}

describe('venue runtime', () => {
  it('follows listings and delistings on the open connection and republishes the tracked list', async () => {
    sim = await startBybitSimulator({ tickMs: 20 });
    let listing = [entry('BTC'), entry('ETH')];
    const bus = new MemoryBus();
    const events: FeedEvent[] = [];
    const rt = start(
      module(() => listing),
      bus,
      events,
    );
    await vi.waitFor(() => expect(sim!.subscriptions(), 'subscriptions').toHaveLength(2), {
      timeout: 5000,
      interval: 10,
    });
    expect(await bus.trackedSymbols('bybit')).toEqual(['BTC', 'ETH']);
    listing = [entry('ETH'), entry('SOL')];
    await rt.refresh();
    await vi.waitFor(
      () => expect(sim!.subscriptions().join(), 'new subscriptions').toBe('tickers.ETHUSDT,tickers.SOLUSDT'),
      { timeout: 5000, interval: 10 },
    );
    await vi.waitFor(
      () =>
        expect(
          events.some((e) => e.type === 'market' && e.symbol === 'SOL'),
          'SOL data',
        ).toBe(true),
      { timeout: 5000, interval: 10 },
    );
    expect(rt.connections()).toHaveLength(1);
    expect(rt.connections()[0]!.counters.connects).toBe(1);
    expect(await bus.trackedSymbols('bybit')).toEqual(['ETH', 'SOL']);
  });

  it('opens as many connections as the per-connection limit needs, also when the universe grows', async () => {
    sim = await startBybitSimulator({ tickMs: 50 });
    const all = DEFAULT_MARKET_SYMBOLS.map((s) => entry(s.symbol));
    let listing = all.slice(0, 3);
    const rt = start(module(() => listing, 2));
    await vi.waitFor(
      () => expect([sim!.connectionCount(), sim!.subscriptions().length], 'two connections').toEqual([2, 3]),
      { timeout: 5000, interval: 10 },
    );
    listing = all;
    await rt.refresh();
    await vi.waitFor(
      () =>
        expect([sim!.connectionCount(), sim!.subscriptions().length], 'three connections').toEqual([3, 5]),
      { timeout: 5000, interval: 10 },
    );
    expect(rt.connections()).toHaveLength(3);
    // delisting everything one connection carried closes it instead of leaving it to reconnect to silence
    listing = all.slice(0, 4);
    await rt.refresh();
    await vi.waitFor(
      () =>
        expect([sim!.connectionCount(), sim!.subscriptions().length], 'emptied one closed').toEqual([2, 4]),
      { timeout: 5000, interval: 10 },
    );
    expect(rt.connections()).toHaveLength(2);
    await rt.close();
    await vi.waitFor(() => expect(sim!.connectionCount(), 'all closed').toBe(0), {
      timeout: 3000,
      interval: 10,
    });
  });

  it('splits the universe between shards: every instrument in exactly one, stably', async () => {
    sim = await startBybitSimulator({ tickMs: 50 });
    const listing = DEFAULT_MARKET_SYMBOLS.map((s) => entry(s.symbol));
    const parts: string[][] = [];
    for (const index of [0, 1]) {
      const rt = start(
        module(() => listing),
        new MemoryBus(),
        [],
        { index, count: 2 },
      );
      await vi.waitFor(
        () => expect(rt.universe().length > 0 || rt.connections().length > 0, 'universe').toBe(true),
        { timeout: 3000, interval: 10 },
      );
      parts.push(rt.universe().map((e) => e.symbol));
      await rt.close();
    }
    expect([...parts[0]!, ...parts[1]!].sort()).toEqual(listing.map((e) => e.symbol).sort());
    expect(parts[0]!.filter((s) => parts[1]!.includes(s))).toEqual([]);
    // the hash is fixed: the same split on every machine and release
    expect(inShard({ index: stableHash('ETH') % 3, count: 3 }, 'okx', 'ETH')).toBe(true);
    // Every venue of a symbol in one shard: the aggregate needs them together.
    for (const venue of ['binance', 'bybit', 'okx', 'hyperliquid']) {
      expect(inShard({ index: stableHash('ETH') % 3, count: 3 }, venue, 'ETH')).toBe(true);
      expect(inShard({ index: (stableHash('ETH') + 1) % 3, count: 3 }, venue, 'ETH')).toBe(false);
    }
    expect(stableHash('bybit:BTC').toString(16)).toBe('4908571e'); // FNV-1a of "bybit:BTC", computed independently;
  });

  it('retries the listing until the venue answers', async () => {
    sim = await startBybitSimulator({ tickMs: 50 });
    sim.failRestNext('/v5/market/instruments-info', { status: 503 });
    const rt = start({ ...VENUES.bybit, fetchUniverse: fetchBybitUniverse });
    await vi.waitFor(() => expect(rt.universe().length, 'universe after a retry').toBeGreaterThan(0), {
      timeout: 8000,
      interval: 10,
    });
    await vi.waitFor(() => expect(sim!.connectionCount(), 'connection').toBe(1), {
      timeout: 3000,
      interval: 10,
    });
  }, 15_000);
});
