/**
 * The Bybit simulator's liquidations and long/short statistics: `allLiquidation` pushes in the
 * venue's shape for subscribed topics only, a feed round trip that recovers the scripted market's
 * orders, and `/v5/market/account-ratio` served and polled by the real plan.
 */
import { pino } from 'pino';
import { describe, expect, it } from 'vitest';
import WebSocket from 'ws';
import { VenueRuntime } from '../../../src/app/venue-runtime.js';
import { MemoryBus } from '../../../src/bus/memory-bus.js';
import type { FeedEvent, Liquidation } from '../../../src/domain/types.js';
import { RestPoller } from '../../../src/streams/core/rest-poller.js';
import { bybitBuyRatio } from '../../../src/streams/sim/bybit-encode.js';
import { type BybitSimulator, startBybitSimulator } from '../../../src/streams/sim/bybit-sim.js';
import { createScriptedMarket, DEFAULT_MARKET_SYMBOLS } from '../../../src/streams/sim/market.js';
import { createBybitAdapter } from '../../../src/streams/venues/bybit.js';
import { createBybitLongShortPlan } from '../../../src/streams/venues/bybit-long-short.js';
import { VENUES } from '../../../src/streams/venues/registry.js';
import { tracker } from '../../support/track.js';
import { market, openFeed, sleep, statuses, waitUntil } from '../feed-harness.js';

const track = tracker();
const START_TS = Date.UTC(2026, 11, 3, 12, 0, 0);

type Json = Record<string, unknown>;

/** A raw client that keeps every JSON message it receives. */
async function rawClient(url: string) {
  const ws = new WebSocket(url);
  const received: Json[] = [];
  ws.on('message', (d) => received.push(JSON.parse(d.toString()) as Json));
  await new Promise<void>((resolve, reject) => {
    ws.once('open', () => resolve());
    ws.once('error', reject);
  });
  track({ close: () => ws.terminate() });
  return { send: (m: unknown) => ws.send(JSON.stringify(m)), received };
}

const liquidationPushes = (msgs: readonly Json[]) =>
  msgs.filter((m) => typeof m.topic === 'string' && m.topic.startsWith('allLiquidation.'));

const sum = (ls: readonly Liquidation[], side: 'long' | 'short', key: 'usd' | 'base') =>
  ls.filter((l) => l.side === side).reduce((n, l) => n + l[key], 0);

describe('bybit simulator allLiquidation', () => {
  it('pushes every 500 ms in the real shape, only on subscribed topics, and stops on unsubscribe', async () => {
    const sim: BybitSimulator = track(
      await startBybitSimulator({
        startTs: START_TS,
        liquidations: [
          { symbol: 'BTC', atTs: START_TS + 200, durationMs: 1_800, side: 'long', totalUsd: 3_000_000 },
          { symbol: 'ETH', atTs: START_TS + 200, durationMs: 1_800, side: 'short', totalUsd: 3_000_000 },
        ],
      }),
    );
    const c = await rawClient(sim.wsUrl);
    c.send({ req_id: 's1', op: 'subscribe', args: ['allLiquidation.BTCUSDT', 'tickers.ETHUSDT'] });
    await waitUntil(() => expect(liquidationPushes(c.received).length).toBeGreaterThanOrEqual(3), 4000);
    expect(c.received[0]).toMatchObject({ success: true, req_id: 's1', op: 'subscribe' });
    expect(sim.liquidationSubscriptions()).toEqual(['allLiquidation.BTCUSDT']);
    expect(sim.subscriptions()).toEqual(['tickers.ETHUSDT']);
    const pushes = liquidationPushes(c.received);
    // ETH has a cascade too, but only its tickers are subscribed.
    expect(new Set(pushes.map((p) => p.topic))).toEqual(new Set(['allLiquidation.BTCUSDT']));
    for (const p of pushes) {
      expect(Object.keys(p).sort()).toEqual(['data', 'topic', 'ts', 'type']);
      expect(p.type).toBe('snapshot');
      expect(typeof p.ts).toBe('number');
      for (const e of p.data as Json[]) {
        expect(Object.keys(e)).toEqual(['T', 's', 'S', 'v', 'p']);
        expect(typeof e.T).toBe('number');
        expect(e.T as number).toBeLessThanOrEqual(p.ts as number);
        expect(e.s).toBe('BTCUSDT');
        expect(['Buy', 'Sell']).toContain(e.S);
        expect(e.v).toMatch(/^\d+(\.\d+)?$/);
        expect(e.p).toMatch(/^\d+(\.\d+)?$/);
      }
    }
    // Adjacent spans: each push holds the orders since the one before, none again.
    for (const [i, p] of pushes.entries()) {
      if (i === 0) continue;
      for (const e of p.data as Json[]) expect(e.T as number).toBeGreaterThan(pushes[i - 1]!.ts as number);
    }
    // The cascade is of longs: Bybit says Buy for a long position liquidated.
    expect((pushes[0]!.data as Json[]).some((e) => e.S === 'Buy')).toBe(true);
    const gaps = pushes.slice(1).map((p, i) => (p.ts as number) - (pushes[i]!.ts as number));
    expect(Math.min(...gaps)).toBeGreaterThanOrEqual(400);
    expect(Math.max(...gaps)).toBeLessThan(1_000);

    c.send({ req_id: 'u1', op: 'unsubscribe', args: ['allLiquidation.BTCUSDT'] });
    await waitUntil(() => expect(c.received.some((m) => m.req_id === 'u1' && m.success === true)).toBe(true));
    expect(sim.liquidationSubscriptions()).toEqual([]);
    const after = liquidationPushes(c.received).length;
    await sleep(700);
    expect(liquidationPushes(c.received)).toHaveLength(after);

    c.send({ req_id: 'bad', op: 'subscribe', args: ['allLiquidation.NOPEUSDT'] });
    await waitUntil(() =>
      expect(c.received.find((m) => m.req_id === 'bad')).toMatchObject({
        success: false,
        ret_msg: expect.stringContaining('Invalid symbol'),
      }),
    );
  });

  it('round trip: a subscribed feed gets every order of the cascades; sides and USD sum to the market’s', async () => {
    const fromTs = START_TS + 5_000;
    const toTs = START_TS + 15_000;
    const scripted = createScriptedMarket({
      symbols: DEFAULT_MARKET_SYMBOLS,
      startTs: START_TS,
      liquidations: [
        { symbol: 'BTC', atTs: fromTs, durationMs: 10_000, side: 'long', totalUsd: 8_000_000 },
        { symbol: 'BTC', atTs: fromTs + 4_000, durationMs: 4_000, side: 'short', totalUsd: 2_000_000 },
        { symbol: 'ETH', atTs: fromTs, durationMs: 10_000, side: 'long', totalUsd: 5_000_000 },
      ],
    });
    // 10× event time: a push every 50 wall ms covers 500 ms of event time, as the venue's do.
    const sim = track(
      await startBybitSimulator({
        market: scripted,
        startTs: START_TS,
        timeScale: 10,
        tickMs: 50,
        liquidationPushMs: 50,
      }),
    );
    const { conn, events } = openFeed(track, {
      adapter: createBybitAdapter({ wsUrl: sim.wsUrl }),
      instruments: () => ['BTCUSDT'],
    });
    await waitUntil(() => expect(sim.liquidationSubscriptions()).toEqual(['allLiquidation.BTCUSDT']), 2000);
    // The simulator covers from the subscription on; it must precede the cascades.
    expect(sim.eventTs()).toBeLessThan(fromTs);
    await waitUntil(() => expect(sim.eventTs()).toBeGreaterThan(toTs + 1_000), 5000);
    await sleep(100);

    const liquidationEvents = market(events).filter((e) => e.liquidations);
    expect(new Set(liquidationEvents.map((e) => e.instrument))).toEqual(new Set(['BTCUSDT']));
    const got = liquidationEvents
      .flatMap((e) => e.liquidations!)
      .filter((l) => l.ts > fromTs && l.ts <= toTs);
    const want = scripted
      .liquidationsBetween('BTC', fromTs, toTs)
      .map((o) => ({ side: o.side, base: o.base, usd: o.base * o.price, ts: o.ts }));
    expect(got.length).toBe(want.length);
    expect(got.map((l) => `${l.ts}:${l.side}`)).toEqual(want.map((l) => `${l.ts}:${l.side}`));
    for (const side of ['long', 'short'] as const) {
      // v and p are printed as the venue does (6 significant digits, the ticker's decimals).
      expect(sum(got, side, 'usd') / sum(want, side, 'usd')).toBeCloseTo(1, 4);
      expect(sum(got, side, 'base') / sum(want, side, 'base')).toBeCloseTo(1, 4);
    }
    expect(sum(got, 'long', 'usd')).toBeGreaterThan(7_000_000);
    expect(sum(got, 'short', 'usd')).toBeGreaterThan(1_500_000);
    expect(conn.counters.parseErrors).toBe(0);
    expect(conn.counters.venueErrors).toBe(0);
  });

  it('counts a malformed allLiquidation frame and keeps the connection', async () => {
    const sim = track(await startBybitSimulator({ startTs: START_TS, tickMs: 20 }));
    const { conn, events } = openFeed(track, {
      adapter: createBybitAdapter({ wsUrl: sim.wsUrl }),
      instruments: () => ['BTCUSDT'],
    });
    await waitUntil(() => expect(market(events).length).toBeGreaterThan(0));
    const entry = { T: START_TS, s: 'BTCUSDT', S: 'Buy', v: '0.5', p: '63500.0' };
    const frame = (e: Json) => ({
      topic: 'allLiquidation.BTCUSDT',
      type: 'snapshot',
      ts: START_TS + 1,
      data: [e],
    });
    sim.sendFrame(frame({ ...entry, S: 'Long' }));
    await waitUntil(() => expect(conn.counters.parseErrors).toBe(1), 2000);
    expect(statuses(events, 'parse_error')[0]).toMatchObject({
      detail: expect.stringContaining('data[0].S'),
    });
    sim.sendFrame(frame(entry));
    // (the simulator's own background orders are stamped after the subscription, never START_TS)
    await waitUntil(() =>
      expect(market(events).find((e) => e.liquidations?.[0]?.ts === START_TS)?.liquidations).toEqual([
        { side: 'long', base: 0.5, usd: 0.5 * 63_500, ts: START_TS },
      ]),
    );
    expect(conn.counters.connects).toBe(1);
  });
});

describe('bybit simulator account-ratio', () => {
  it('serves the real format: retCode 0, rows newest first, fractions as strings, seeded per instrument', async () => {
    const sim = track(await startBybitSimulator({ startTs: START_TS }));
    const get = async (query: string) =>
      (await (await fetch(`${sim.restUrl}/v5/market/account-ratio?${query}`)).json()) as Json;
    const body = await get('category=linear&symbol=BTCUSDT&period=5min&limit=3');
    expect(body).toMatchObject({ retCode: 0, retMsg: 'OK', retExtInfo: {} });
    expect(typeof body.time).toBe('number');
    const result = body.result as { list: Record<string, string>[]; nextPageCursor: string };
    expect(result.nextPageCursor).toMatch(/^lastid%3D0%26lasttime%3D\d+$/);
    const rows = result.list;
    expect(rows).toHaveLength(3);
    const times = rows.map((r) => Number(r.timestamp));
    expect(times[0]! % 300_000).toBe(0);
    expect(times[0]!).toBeLessThanOrEqual(body.time as number);
    expect(times[0]!).toBeGreaterThan((body.time as number) - 300_000);
    expect(times).toEqual([times[0]!, times[0]! - 300_000, times[0]! - 600_000]);
    for (const r of rows) {
      expect(Object.keys(r)).toEqual(['symbol', 'buyRatio', 'sellRatio', 'timestamp']);
      expect(r.symbol).toBe('BTCUSDT');
      expect(r.buyRatio).toMatch(/^0\.\d{1,4}$/);
      expect(Number(r.buyRatio) + Number(r.sellRatio)).toBeCloseTo(1, 10);
      expect(Number(r.buyRatio)).toBeGreaterThan(0.3);
      expect(Number(r.buyRatio)).toBeLessThan(0.7);
      expect(Number(r.buyRatio)).toBe(bybitBuyRatio('BTCUSDT', Number(r.timestamp)));
    }
    expect(bybitBuyRatio('ETHUSDT', times[0]!)).not.toBe(bybitBuyRatio('BTCUSDT', times[0]!));
    // The parser reads the simulator's answer like the venue's.
    const [ev] = createBybitAdapter()
      .createParser()
      .parse(
        JSON.stringify(body),
        0,
        '/v5/market/account-ratio?category=linear&symbol=BTCUSDT&period=5min&limit=3',
      ).events;
    expect(ev).toMatchObject({
      instrument: 'BTCUSDT',
      symbol: 'BTC',
      longShortTs: times[0],
    });
    expect(ev!.accountsLongPct).toBeCloseTo(Number(rows[0]!.buyRatio) * 100, 8);
    expect(
      ((await get('category=linear&symbol=ETHUSDT&period=1h')).result as { list: unknown[] }).list,
    ).toHaveLength(50);
    for (const bad of [
      'category=linear&symbol=NOPEUSDT&period=5min',
      'category=linear&symbol=BTCUSDT&period=5m',
      'category=linear&symbol=BTCUSDT&period=5min&limit=501',
      'category=inverse&symbol=BTCUSDT&period=5min',
    ]) {
      expect((await get(bad)).retCode, bad).toBe(10001);
    }
  });

  it('the registry’s plan, polled on the simulator’s clock, reads every followed instrument once per 5 minutes', async () => {
    // 100× event time: the plan's 10 s cycles take 100 wall ms, a 5-minute bucket 3 s.
    const sim = track(await startBybitSimulator({ startTs: START_TS, timeScale: 100, tickMs: 1_000 }));
    const instruments = ['BTCUSDT', 'ETHUSDT', 'SOLUSDT'];
    const adapter = createBybitAdapter({ wsUrl: sim.wsUrl });
    const events: FeedEvent[] = [];
    const poller = new RestPoller({
      plan: createBybitLongShortPlan({
        restUrl: sim.restUrl,
        universe: () => instruments.map((instrument) => ({ symbol: instrument.slice(0, -4), instrument })),
        clock: { now: () => sim.eventTs(), timeScale: 100 },
      }),
      parser: adapter.createParser(),
      logger: pino({ level: 'silent' }),
      onEvent: (e) => events.push(e),
    });
    track(poller);
    poller.start();
    await waitUntil(
      () => expect(new Set(market(events).map((e) => e.instrument))).toEqual(new Set(instruments)),
      6000,
    );
    for (const ev of market(events)) {
      expect(ev.longShortTs! % 300_000).toBe(0);
      expect(ev.accountsLongPct).toBeCloseTo(100 * bybitBuyRatio(ev.instrument, ev.longShortTs!), 8);
      expect(ev).not.toHaveProperty('topTradersLongPct');
    }
    const log = sim.restRequestLog().filter((r) => r.path.startsWith('/v5/market/account-ratio'));
    const perInstrument = instruments.map((i) => log.filter((r) => r.path.includes(`symbol=${i}&`)).length);
    // three instruments in a 30-cycle bucket: one each, 10 cycles apart, never twice in a bucket
    expect(perInstrument).toEqual([1, 1, 1]);
    expect(poller.counters.parseErrors).toBe(0);
    expect(statuses(events, 'gap')).toEqual([]);
  });
});

describe('bybit venue runtime on the simulator', () => {
  it('runs the registry’s Bybit module: liquidations over the feed and long/short over REST reach onEvent', async () => {
    const sim = track(
      await startBybitSimulator({
        startTs: START_TS,
        liquidations: [
          { symbol: 'BTC', atTs: START_TS + 300, durationMs: 1_000, side: 'short', totalUsd: 1_000_000 },
        ],
      }),
    );
    const events: FeedEvent[] = [];
    const runtime = track(
      new VenueRuntime({
        module: VENUES.bybit,
        wsUrl: sim.wsUrl,
        restUrl: sim.restUrl,
        want: { symbols: ['BTC'], topN: 0 },
        universeRefreshMs: 3_600_000,
        staleAfterMs: 5_000,
        bus: new MemoryBus(),
        logger: pino({ level: 'silent' }),
        onEvent: (e) => events.push(e),
      }),
    );
    void runtime.start();
    await waitUntil(() => {
      const btc = market(events).filter((e) => e.instrument === 'BTCUSDT');
      expect(btc.some((e) => e.accountsLongPct !== undefined)).toBe(true);
      expect(btc.some((e) => e.liquidations?.some((l) => l.side === 'short'))).toBe(true);
    }, 4000);
    expect(sim.liquidationSubscriptions()).toEqual(['allLiquidation.BTCUSDT']);
    expect(runtime.longShortCounters()).toMatchObject({ parseErrors: 0, errors: 0 });
  });
});
