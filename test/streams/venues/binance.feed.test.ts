import { describe, expect, it } from 'vitest';
import type { FeedEvent } from '../../../src/domain/types.js';
import { RestPoller } from '../../../src/streams/core/rest-poller.js';
import type { UniverseEntry } from '../../../src/streams/core/universe.js';
import { startBinanceSimulator } from '../../../src/streams/sim/binance-sim.js';
import { createBinanceAdapter, createBinanceRestPlan } from '../../../src/streams/venues/binance.js';
import { fetchBinanceUniverse } from '../../../src/streams/venues/binance-universe.js';
import { tracker } from '../../support/track.js';
import { market, openFeed, silentLogger, waitUntil } from '../feed-harness.js';

// Reconnect, stale, malformed, oversized and close: `lifecycle.test.ts`, for every venue.

const track = tracker();

describe('binance feed against the simulator', () => {
  it('streams universe instruments only, with mark, funding, interval and tickers; answers pings', async () => {
    const sim = track(await startBinanceSimulator({ tickMs: 20, pingIntervalMs: 30 }));
    const want = { symbols: ['BTC', 'ETH', 'SOL'], topN: 0 };
    const { entries } = await fetchBinanceUniverse(sim.restUrl, want);
    const { events } = openFeed(track, {
      adapter: createBinanceAdapter({ wsUrl: sim.wsUrl, universe: () => entries }),
      instruments: () => entries.map((e) => e.instrument),
    });
    await waitUntil(() => expect(market(events).length).toBeGreaterThanOrEqual(30));
    expect(sim.subscriptions()).toEqual(['!forceOrder@arr', '!markPrice@arr@1s', '!ticker@arr']);
    expect(new Set(market(events).map((e) => e.instrument))).toEqual(
      new Set(['BTCUSDT', 'ETHUSDT', 'SOLUSDT']),
    );
    const marks = market(events).filter((e) => e.markPrice !== undefined);
    expect(marks.every((e) => e.fundingRate !== undefined && e.nextFundingTs! > e.eventTs)).toBe(true);
    // ETHUSDT is on 4 h in the simulator's fundingInfo (read by the universe), others on 8 h
    const eth = marks.find((e) => e.symbol === 'ETH')!;
    expect(eth.fundingIntervalHours).toBe(4);
    expect(eth.nextFundingTs! % (4 * 3_600_000)).toBe(0);
    expect(marks.find((e) => e.symbol === 'BTC')?.fundingIntervalHours).toBe(8);
    const tickers = market(events).filter((e) => e.lastPrice !== undefined);
    expect(tickers.length).toBeGreaterThan(0);
    expect(tickers.every((e) => e.turnover24hUsd! > 0 && e.markPrice === undefined)).toBe(true);
    await waitUntil(() => expect(sim.pongCount()).toBeGreaterThanOrEqual(2), 2000);
  });
});

describe('binance liquidations against the simulator', () => {
  it('subscribes !forceOrder@arr with the arrays; liquidations arrive on event time, COIN-M skipped', async () => {
    const startTs = Date.UTC(2026, 9, 8, 12);
    const sim = track(
      await startBinanceSimulator({
        tickMs: 20,
        startTs,
        timeScale: 10,
        liquidations: [
          { symbol: 'BTC', atTs: startTs, durationMs: 600_000, side: 'long', totalUsd: 50_000_000 },
          { symbol: 'ETH', atTs: startTs, durationMs: 600_000, side: 'short', totalUsd: 20_000_000 },
        ],
      }),
    );
    const { entries } = await fetchBinanceUniverse(sim.restUrl, { symbols: ['BTC', 'ETH'], topN: 0 });
    const { events } = openFeed(track, {
      adapter: createBinanceAdapter({ wsUrl: sim.wsUrl, universe: () => entries }),
      instruments: () => entries.map((e) => e.instrument),
    });
    const liquidated = () => market(events).filter((e) => e.liquidations !== undefined);
    await waitUntil(() =>
      expect(new Set(liquidated().map((e) => e.symbol))).toEqual(new Set(['BTC', 'ETH'])),
    );
    const sides: Record<string, number> = {};
    for (const ev of liquidated()) {
      expect(ev.instrument).toMatch(/^(BTC|ETH)USDT$/);
      expect(ev.liquidations).toHaveLength(1);
      const [liq] = ev.liquidations!;
      sides[`${ev.symbol} ${liq!.side}`] = (sides[`${ev.symbol} ${liq!.side}`] ?? 0) + 1;
      expect(ev.eventTs).toBe(liq!.ts);
      expect(liq!.usd).toBeGreaterThan(0);
      expect(ev.markPrice).toBeUndefined();
    }
    // the cascades' sides (a background order of either side may be the one a second pushes)
    expect(sides['BTC long']).toBeGreaterThan(sides['BTC short'] ?? 0);
    expect(sides['ETH short']).toBeGreaterThan(sides['ETH long'] ?? 0);
  });
});

describe('binance REST polling against the simulator', () => {
  it('polls OI through the shared parser; fundingInfo intervals reach the WebSocket events', async () => {
    const sim = track(await startBinanceSimulator({ tickMs: 20 }));
    const listed = await fetchBinanceUniverse(sim.restUrl, { symbols: ['BTC', 'ETH'], topN: 0 });
    // a universe without intervals: only fundingInfo (through the poller) can tell the WS parser
    const entries: UniverseEntry[] = listed.entries.map(({ symbol, instrument }) => ({ symbol, instrument }));
    const adapter = createBinanceAdapter({ wsUrl: sim.wsUrl, universe: () => entries });
    const ws = adapter.createParser();
    const frame = JSON.stringify({
      stream: '!markPrice@arr@1s',
      data: ['BTCUSDT', 'ETHUSDT'].map((s) => ({ e: 'markPriceUpdate', E: 1, s, p: '1', r: '0', T: 2 })),
    });
    expect(ws.parse(frame, 0).events.map((e) => e.fundingIntervalHours)).toEqual([undefined, undefined]);
    const plan = createBinanceRestPlan({ restUrl: sim.restUrl, universe: () => entries });
    const events: FeedEvent[] = [];
    const poller = track(
      new RestPoller({
        plan: { ...plan, cycleMs: 50 },
        parser: adapter.createParser(),
        logger: silentLogger,
        onEvent: (ev) => events.push(ev),
      }),
    );
    poller.start();
    await waitUntil(() => expect(new Set(market(events).map((e) => e.instrument)).size).toBe(2), 3000);
    const oi = market(events)[0]!;
    expect(oi.oiBase).toBeGreaterThan(0);
    expect(Object.keys(oi).sort()).toEqual(
      ['eventTs', 'instrument', 'oiBase', 'receiveTs', 'symbol', 'type', 'venue'].sort(),
    );
    expect(ws.parse(frame, 0).events.map((e) => e.fundingIntervalHours)).toEqual([8, 4]);
    sim.failRestNext('/fapi/v1/openInterest', { status: 429, headers: { 'Retry-After': '1' } });
    await waitUntil(() => expect(poller.counters.rateLimited).toBe(1), 3000);
    const after = market(events).length;
    // polling resumes after Retry-After
    await waitUntil(() => expect(market(events).length).toBeGreaterThan(after), 3000);
    // fundingInfo: once for the universe, once in the poller's first cycle, not every 50 ms
    expect(sim.restRequests().filter((p) => p === '/fapi/v1/fundingInfo')).toHaveLength(2);
  });
});
