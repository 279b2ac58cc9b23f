import { describe, expect, it } from 'vitest';
import type { MarketEvent } from '../../../src/domain/types.js';
import { formatPrice } from '../../../src/streams/sim/market.js';
import { startOkxSimulator } from '../../../src/streams/sim/okx-sim.js';
import { sampledLiquidations } from '../../../src/streams/sim/okx-sim-liquidations.js';
import { createOkxAdapter } from '../../../src/streams/venues/okx.js';
import { fetchOkxUniverse } from '../../../src/streams/venues/okx-universe.js';
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

describe('okx liquidations against the simulator', () => {
  it('two connections of one adapter: every sampled order once, valued in base units, the first push cut', async () => {
    // The venue's clock is a day behind ours: the subscription time must be mapped into venue time.
    const startTs = Date.now() - 86_400_000;
    const wallStart = performance.now();
    const sim = track(
      await startOkxSimulator({
        startTs,
        eventClock: () => Math.round(startTs + 120_000 + (performance.now() - wallStart) * 20),
        liquidations: [
          { symbol: 'BTC', atTs: startTs, durationMs: 3_600_000, side: 'long', totalUsd: 5e8 },
          { symbol: 'ETH', atTs: startTs, durationMs: 3_600_000, side: 'short', totalUsd: 2e8 },
        ],
        tickMs: 20,
      }),
    );
    const { entries } = await fetchOkxUniverse(sim.restUrl, { symbols: ['BTC', 'ETH'], topN: 0 });
    const adapter = createOkxAdapter({ wsUrl: sim.wsUrl, universe: () => entries });
    const a = openFeed(track, { adapter, instruments: () => ['BTC-USDT-SWAP'] });
    const b = openFeed(track, { adapter, instruments: () => ['ETH-USDT-SWAP'] });
    await waitUntil(() => expect(sim.liquidationSubscriptions()).toBe(2));
    const liquidations = () =>
      [...market(a.events), ...market(b.events)].flatMap((e) =>
        (e.liquidations ?? []).map((l) => ({ instrument: e.instrument, ...l })),
      );
    await waitUntil(() => expect(liquidations().length).toBeGreaterThan(60), 5000);
    await Promise.all([a.conn.close(), b.conn.close()]);
    const got = liquidations();
    const counters = adapter.liquidations.counters;
    // Each order reached both connections and was counted once.
    const keys = got.map((l) => `${l.instrument}|${l.ts}`);
    expect(new Set(keys).size).toBe(keys.length);
    expect(counters.duplicates).toBeGreaterThan(got.length / 2);
    expect(counters.counted).toBe(got.length);
    // The inverse BTC-USD-SWAP copies were skipped; the first push's older orders were cut.
    expect(counters.unfollowed).toBeGreaterThan(0);
    expect(counters.beforeSubscription).toBeGreaterThan(0);
    expect(counters.unvalued).toBe(0);
    for (const [symbol, instrument, side, ctVal] of [
      ['BTC', 'BTC-USDT-SWAP', 'long', 0.01],
      ['ETH', 'ETH-USDT-SWAP', 'short', 0.1],
    ] as const) {
      const mine = got.filter((l) => l.instrument === instrument).sort((x, y) => x.ts - y.ts);
      expect(mine.length, symbol).toBeGreaterThan(20);
      // Every liquidation is a market order of its side, in base units (to 0.01 contract).
      const all = new Map(
        sampledLiquidations(sim.market, symbol, startTs, sim.eventTs()).map((o) => [o.ts, o]),
      );
      for (const l of mine) {
        const order = all.get(l.ts);
        expect(order, `${symbol} ${l.ts}`).toBeDefined();
        expect(l.side).toBe(side);
        expect(Math.abs(l.base - order!.base)).toBeLessThanOrEqual(0.005 * ctVal + 1e-9);
        // priced at the bankruptcy price the push quoted (the market's price to the tick)
        expect(l.usd).toBeCloseTo(l.base * Number(formatPrice(order!.price)), 6);
      }
      // None missing between the first and the last seen (but the last two seconds, still in flight).
      const fromTs = (Math.ceil(mine[0]!.ts / 1000) - 1) * 1000;
      const toTs = (Math.ceil(mine.at(-1)!.ts / 1000) - 3) * 1000;
      const seen = new Set(mine.map((l) => l.ts));
      const missing = sampledLiquidations(sim.market, symbol, fromTs, toTs).filter((o) => !seen.has(o.ts));
      expect(missing, symbol).toEqual([]);
    }
  });
});
