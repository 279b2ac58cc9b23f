import { Redis } from 'ioredis';
import { pino } from 'pino';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { type App, startApp } from '../../src/app/app.js';
import { loadConfig } from '../../src/app/config.js';
import type { VenueRuntime } from '../../src/app/venue-runtime.js';
import { VENUE_IDS, type VenueId } from '../../src/domain/types.js';
import { startBinanceSimulator } from '../../src/streams/sim/binance-sim.js';
import { type BybitSimulator, startBybitSimulator } from '../../src/streams/sim/bybit-sim.js';
import { startHyperliquidSimulator } from '../../src/streams/sim/hyperliquid-sim.js';
import { type OkxSimulator, startOkxSimulator } from '../../src/streams/sim/okx-sim.js';
import { BINANCE_OI_HISTORY_PATH } from '../../src/streams/venues/binance-history.js';
import {
  GLOBAL_ACCOUNT_RATIO_PATH,
  LONG_SHORT_REQUESTS_PER_MINUTE,
  TOP_POSITION_RATIO_PATH,
} from '../../src/streams/venues/binance-long-short.js';
import {
  BINANCE_VENUE_WEIGHT_LIMIT_PER_MINUTE,
  BINANCE_WEIGHT_PER_MINUTE,
  FUNDING_INFO_PATH,
  OPEN_INTEREST_PATH,
} from '../../src/streams/venues/binance-rest.js';
import { BYBIT_MARK_KLINE_PATH, BYBIT_OI_HISTORY_PATH } from '../../src/streams/venues/bybit-history.js';
import {
  BYBIT_ACCOUNT_RATIO_PATH,
  BYBIT_LONG_SHORT_REQUESTS_PER_MINUTE,
} from '../../src/streams/venues/bybit-long-short.js';
import { OKX_OI_HISTORY_PATH } from '../../src/streams/venues/okx-history.js';
import {
  OKX_ACCOUNT_RATIO_PATH,
  OKX_TOP_TRADER_POSITION_RATIO_PATH,
} from '../../src/streams/venues/okx-long-short.js';
import { VENUES } from '../../src/streams/venues/registry.js';
import { flushTestDb, testRedisUrl } from '../support/redis.js';
import { maxInWindow, startVenueTap, universeSpecs, type VenueTap } from '../support/universe-specs.js';

/**
 * The full universe of all four venues in one process (about 1,500 instruments without exceeding a
 * venue's documented limits): every simulator lists its whole linear-perpetual universe, TOP_N=all
 * follows every instrument, and a recording proxy in front of each simulator measures what the app
 * sends per connection and per minute against the venues' documented connection and request limits.
 */
const url = testRedisUrl(7);
const MIN = 60_000;
const HOUR = 60 * MIN;
/** Instruments each venue lists, about the real counts of linear USDT (USDC) perpetuals. */
const SIZE: Readonly<Record<VenueId, number>> = { binance: 600, bybit: 400, okx: 300, hyperliquid: 200 };
const TOTAL = VENUE_IDS.reduce((n, id) => n + SIZE[id], 0);
const SPECS = universeSpecs(Math.max(...Object.values(SIZE)));
/** Long enough for the poller to reach its 1200/min budget with 600 instruments. */
const BUDGET_OBSERVED_MS = 25_000;
const FIVE_MIN = 5 * MIN;

/** What a REST call is for, by its path: the long/short polls and the warm start's OI history. */
const LONG_SHORT_PATHS: Readonly<Record<VenueId, readonly string[]>> = {
  binance: [GLOBAL_ACCOUNT_RATIO_PATH, TOP_POSITION_RATIO_PATH],
  bybit: [BYBIT_ACCOUNT_RATIO_PATH],
  okx: [OKX_ACCOUNT_RATIO_PATH, OKX_TOP_TRADER_POSITION_RATIO_PATH],
  hyperliquid: [],
};
const BACKFILL_PATHS: Readonly<Record<VenueId, readonly string[]>> = {
  binance: [BINANCE_OI_HISTORY_PATH],
  bybit: [BYBIT_OI_HISTORY_PATH, BYBIT_MARK_KLINE_PATH],
  okx: [OKX_OI_HISTORY_PATH],
  hyperliquid: [],
};
const pathname = (path: string) => new URL(path, 'http://x').pathname;
const isLongShort = (id: VenueId, path: string) => LONG_SHORT_PATHS[id].includes(pathname(path));
const isBackfill = (id: VenueId, path: string) => BACKFILL_PATHS[id].includes(pathname(path));

interface Sim {
  readonly wsUrl: string;
  readonly restUrl: string;
  connectionCount(): number;
  subscriptions(): string[];
  close(): Promise<void>;
}

/** Every simulator as a `Sim`, and the two whose liquidation subscriptions the test reads. */
let sims: Record<VenueId, Sim> & { readonly bybit: BybitSimulator; readonly okx: OkxSimulator };
const taps = new Map<VenueId, VenueTap>();
let app: App | undefined;
let startedAt = 0;
let heldAfterMs = 0;
const snapshotCounts = new Map<VenueId, { keys: number; mark: number; oi: number }>();

const runtime = (id: VenueId): VenueRuntime => {
  const r = app?.venues.find((v) => v.venue === id);
  if (!r) throw new Error(`no runtime for ${id}`);
  return r;
};
const perConnection = (id: VenueId) =>
  VENUES[id].createAdapter({ wsUrl: 'ws://unused', restUrl: 'http://unused', universe: () => [] })
    .maxInstrumentsPerConnection;
const tap = (id: VenueId) => taps.get(id)!;
/** The instrument names (`BTCUSDT`, `BTC-USDT-SWAP`) the app follows on a venue. */
const followed = (id: VenueId) =>
  new Set(
    runtime(id)
      .universe()
      .map((e) => e.instrument),
  );
const queryParam = (path: string, name: string) => new URL(path, 'http://x').searchParams.get(name) ?? '';
const parsed = (text: string): Record<string, unknown> => {
  try {
    return Object(JSON.parse(text));
  } catch {
    return {};
  }
};
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

async function scanKeys(redis: Redis, pattern: string): Promise<string[]> {
  const keys: string[] = [];
  let cursor = '0';
  do {
    const [next, batch] = await redis.scan(cursor, 'MATCH', pattern, 'COUNT', 1000);
    cursor = next;
    keys.push(...batch);
  } while (cursor !== '0');
  return keys;
}

/**
 * Binance request weight of one REST call (exchangeInfo 1, all-symbol ticker/24hr 40, …). The
 * `/futures/data/*` statistics weigh 0: they have their own limit of 1000 per 5 min per IP.
 */
function binanceWeight(path: string): number {
  const u = new URL(path, 'http://x');
  if (u.pathname === FUNDING_INFO_PATH || u.pathname.startsWith('/futures/data/')) return 0;
  if (u.pathname === '/fapi/v1/ticker/24hr' && !u.searchParams.has('symbol')) return 40;
  return 1;
}

beforeAll(async () => {
  await flushTestDb(url);
  const opts = (id: VenueId) => ({ symbols: SPECS.slice(0, SIZE[id]), tickMs: 1000 });
  const [binance, bybit, okx, hyperliquid] = await Promise.all([
    startBinanceSimulator(opts('binance')),
    startBybitSimulator(opts('bybit')),
    startOkxSimulator(opts('okx')),
    startHyperliquidSimulator(opts('hyperliquid')),
  ]);
  sims = { binance, bybit, okx, hyperliquid };
  for (const id of VENUE_IDS) taps.set(id, await startVenueTap(sims[id]));
  const env: Record<string, string> = { REDIS_URL: url, TOP_N: 'all', PUBLISH_INTERVAL_MS: '500' };
  for (const id of VENUE_IDS) {
    env[`${id.toUpperCase()}_WS_URL`] = tap(id).wsUrl;
    env[`${id.toUpperCase()}_REST_URL`] = tap(id).restUrl;
  }
  startedAt = Date.now();
  app = await startApp(loadConfig(env), pino({ level: 'silent' }));
}, 20_000);

afterAll(async () => {
  await app?.close();
  await Promise.all([...taps.values()].map((t) => t.close()));
  if (sims) await Promise.all(Object.values(sims).map((s) => s.close()));
  await flushTestDb(url);
}, 20_000);

describe('full universe of all four venues in one process', () => {
  it(`holds every listed linear perpetual (${TOTAL} instruments) in Redis`, async () => {
    const redis = new Redis(url);
    try {
      await vi.waitFor(
        () =>
          expect(
            Object.fromEntries(VENUE_IDS.map((id) => [id, runtime(id).universe().length])),
            'universes',
          ).toEqual(SIZE),
        { timeout: 15_000, interval: 250 },
      );
      // Held = every instrument of every venue has a snapshot with a mark price, and open interest
      // where the venue streams it (Binance OI comes over REST at the budget's pace).
      type Snap = { price: { mark: number | null }; oi: { base: number | null } };
      const keys = new Map<VenueId, string[]>();
      const count = async () => {
        for (const id of VENUE_IDS) {
          const found = await scanKeys(redis, `pulse:latest:${id}:*`);
          keys.set(id, found);
          const snapshots = found.length
            ? (await redis.mget(found)).map((raw) => JSON.parse(raw ?? 'null') as Snap | null)
            : [];
          snapshotCounts.set(id, {
            keys: found.length,
            mark: snapshots.filter((s) => typeof s?.price.mark === 'number').length,
            oi: snapshots.filter((s) => typeof s?.oi.base === 'number').length,
          });
        }
      };
      const held = (id: VenueId) => {
        const c = snapshotCounts.get(id);
        return c?.keys === SIZE[id] && c.mark === SIZE[id] && (id === 'binance' || c.oi === SIZE[id]);
      };
      await vi.waitFor(
        async () => {
          await count();
          const counts = VENUE_IDS.map((id) => {
            const c = snapshotCounts.get(id);
            return `${id} ${c?.keys}/${c?.mark}/${c?.oi} of ${SIZE[id]}`;
          });
          expect(VENUE_IDS.every(held), `snapshots (keys/mark/oi): ${counts.join(', ')}`).toBe(true);
        },
        { timeout: 20_000, interval: 250 },
      );
      heldAfterMs = Date.now() - startedAt;

      for (const id of VENUE_IDS) {
        const symbols = SPECS.slice(0, SIZE[id]).map((s) => s.symbol);
        expect(new Set(await redis.smembers(`pulse:symbols:${id}`))).toEqual(new Set(symbols));
        expect(new Set(keys.get(id))).toEqual(new Set(symbols.map((s) => `pulse:latest:${id}:${s}`)));
      }
    } finally {
      redis.disconnect();
    }
  }, 40_000);

  it("stays within every venue's documented connection, subscription and REST limits", async () => {
    // Let the Binance poller run into its per-minute budget so the measurement covers it.
    const firstOi = () =>
      tap('binance')
        .restCalls()
        .find((c) => c.path.startsWith(OPEN_INTEREST_PATH));
    await vi.waitFor(() => expect(firstOi(), 'the first openInterest request').toBeDefined(), {
      timeout: 10_000,
      interval: 250,
    });
    const waitMs = firstOi()!.ts + BUDGET_OBSERVED_MS - Date.now();
    if (waitMs > 0) await sleep(waitMs);
    const windowMs = Date.now() - startedAt;

    const rows: Record<string, string | number>[] = [];
    for (const id of VENUE_IDS) {
      const r = runtime(id);
      const per = perConnection(id);
      const expected = Math.ceil(SIZE[id] / per);
      const conns = r.connections();
      // As many connections as the per-connection cap requires, each connected once and healthy.
      expect(conns.length, `${id}: connections`).toBe(expected);
      for (const c of conns) {
        expect(c.isOpen, `${id}: connection open`).toBe(true);
        expect(c.counters.connects, `${id}: connects`).toBe(1);
        expect(c.counters.venueErrors, `${id}: venue errors`).toBe(0);
        expect(c.counters.parseErrors, `${id}: parse errors`).toBe(0);
      }
      expect(sims[id].connectionCount(), `${id}: simulator connections`).toBe(expected);
      const wire = tap(id).connections();
      expect(wire.length, `${id}: connections opened on the wire`).toBe(expected);
      for (const c of wire) expect(c.closedAt).toBeNull();
      const rest = tap(id).restCalls();
      expect(
        rest.filter((c) => c.status === 429 || c.status === 418).map((c) => `${c.status} ${c.path}`),
        `${id}: REST answered 429/418`,
      ).toEqual([]);
      const subscribeMsgs = wire
        .flatMap((c) => c.sent.map((m) => parsed(m.text)))
        .filter((m) => {
          const op = m.op ?? m.method;
          return op === 'subscribe' || op === 'SUBSCRIBE';
        }).length;
      const longShort = rest.filter((c) => isLongShort(id, c.path));
      rows.push({
        venue: id,
        instruments: SIZE[id],
        'per conn': per,
        connections: conns.length,
        'subscribe msgs': subscribeMsgs,
        'REST at start': rest.filter(
          (c) =>
            !c.path.startsWith(OPEN_INTEREST_PATH) &&
            !c.path.startsWith(FUNDING_INFO_PATH) &&
            !isLongShort(id, c.path) &&
            !isBackfill(id, c.path),
        ).length,
        'REST/min': 0,
        backfill: rest.filter((c) => isBackfill(id, c.path)).length,
        'L/S calls': longShort.length,
        'L/S max/min': maxInWindow(longShort, MIN),
      });
    }
    const row = (id: VenueId) => rows.find((x) => x.venue === id)!;

    // Binance: one connection with 3 of its 200 streams (mark prices, tickers and the all-market
    // liquidations, whatever the universe), at most 10 incoming messages a second.
    const binanceStreams = ['!forceOrder@arr', '!markPrice@arr@1s', '!ticker@arr'];
    for (const c of tap('binance').connections()) {
      const streams = new Set(
        c.sent.flatMap((m) => {
          const msg = parsed(m.text);
          return msg.method === 'SUBSCRIBE' && Array.isArray(msg.params) ? msg.params : [];
        }),
      );
      expect([...streams].sort(), 'binance: streams on the connection').toEqual(binanceStreams);
      expect(streams.size).toBeLessThanOrEqual(200);
      expect(maxInWindow(c.sent, 1000)).toBeLessThanOrEqual(10);
    }
    expect(sims.binance.subscriptions(), 'binance: streams the simulator holds').toEqual(binanceStreams);

    // Binance REST: the poller's weight stays within our 1200/min in every rolling minute (and
    // reaches it: the budget, not the 10 s cycle, sets the pace at this size), everything
    // together within the venue's 2400/min.
    const binanceRest = tap('binance')
      .restCalls()
      .map((c) => ({ ts: c.ts, path: c.path, weight: binanceWeight(c.path) }));
    const pollerCalls = binanceRest.filter(
      (c) => c.path.startsWith(OPEN_INTEREST_PATH) || c.path.startsWith(FUNDING_INFO_PATH),
    );
    const pollerWeightPerMin = maxInWindow(pollerCalls, MIN);
    expect(pollerWeightPerMin).toBeLessThanOrEqual(BINANCE_WEIGHT_PER_MINUTE);
    expect(pollerWeightPerMin).toBe(BINANCE_WEIGHT_PER_MINUTE);
    expect(maxInWindow(binanceRest, MIN)).toBeLessThanOrEqual(BINANCE_VENUE_WEIGHT_LIMIT_PER_MINUTE);
    const oiCalls = binanceRest.filter((c) => c.path.startsWith(OPEN_INTEREST_PATH));
    row('binance')['REST/min'] = maxInWindow(oiCalls, MIN);

    // Binance long/short statistics: polled for followed symbols within our plan's cap per rolling
    // minute. They share the IP limit of 1000 requests per 5 min of `/futures/data/*` with the warm
    // start's openInterestHist (the simulator answers 429 past it, checked above): projected over
    // 5 minutes, the plan at its cap plus the backfill at its measured pace stay within 1000.
    const binanceInstruments = followed('binance');
    const binanceLongShort = tap('binance')
      .restCalls()
      .filter((c) => isLongShort('binance', c.path));
    expect(binanceLongShort.length, 'binance: long/short calls').toBeGreaterThan(0);
    for (const c of binanceLongShort) expect(binanceInstruments.has(queryParam(c.path, 'symbol'))).toBe(true);
    const binanceLongShortPerMin = maxInWindow(binanceLongShort, MIN);
    expect(binanceLongShortPerMin, 'binance: long/short calls per minute').toBeLessThanOrEqual(
      LONG_SHORT_REQUESTS_PER_MINUTE,
    );
    const futuresData = tap('binance')
      .restCalls()
      .filter((c) => pathname(c.path).startsWith('/futures/data/'));
    expect(
      maxInWindow(futuresData, FIVE_MIN),
      'binance: /futures/data/* calls per 5 min',
    ).toBeLessThanOrEqual(1000);
    const history = tap('binance')
      .restCalls()
      .filter((c) => isBackfill('binance', c.path));
    expect(history.length, 'binance: openInterestHist calls').toBeGreaterThan(1);
    const historyPerSec = (history.length - 1) / ((history.at(-1)!.ts - history[0]!.ts) / 1000);
    const futuresDataProjected = Math.ceil(
      5 * LONG_SHORT_REQUESTS_PER_MINUTE + (historyPerSec * FIVE_MIN) / 1000,
    );
    expect(futuresDataProjected, 'binance: /futures/data/* projected per 5 min').toBeLessThanOrEqual(1000);

    // Bybit: every instrument on its connection with both topics, `tickers.X` and
    // `allLiquidation.X`; the args of one connection total at most 21,000 characters, counted
    // as their JSON text (quotes and commas too, the strictest reading), so 250 instruments a
    // connection.
    expect(runtime('bybit').connections().length, 'bybit: connections').toBe(Math.ceil(SIZE.bybit / 250));
    let bybitMaxArgsChars = 0;
    for (const c of tap('bybit').connections()) {
      const topics = new Set<string>();
      for (const m of c.sent) {
        const msg = parsed(m.text);
        if (!Array.isArray(msg.args)) continue;
        for (const a of msg.args as string[]) {
          if (msg.op === 'subscribe') topics.add(a);
          else if (msg.op === 'unsubscribe') topics.delete(a);
        }
      }
      const of = (prefix: string) =>
        [...topics]
          .filter((t) => t.startsWith(prefix))
          .map((t) => t.slice(prefix.length))
          .sort();
      expect(of('tickers.').length, 'bybit: tickers topics on a connection').toBeGreaterThan(0);
      expect(of('allLiquidation.'), 'bybit: a liquidation topic per ticker topic').toEqual(of('tickers.'));
      expect(topics.size, 'bybit: no other topics').toBe(2 * of('tickers.').length);
      const chars = JSON.stringify([...topics]).length;
      bybitMaxArgsChars = Math.max(bybitMaxArgsChars, chars);
      expect(chars, 'bybit: args characters per connection').toBeLessThanOrEqual(21_000);
    }
    const bybitInstruments = followed('bybit');
    expect(bybitInstruments.size).toBe(SIZE.bybit);
    expect(sims.bybit.subscriptions().length).toBe(SIZE.bybit);
    expect(sims.bybit.liquidationSubscriptions(), 'bybit: allLiquidation topics').toEqual(
      [...bybitInstruments].map((i) => `allLiquidation.${i}`).sort(),
    );

    // Bybit REST: 600 requests per 5 s per IP, everything together; the account-ratio polls for
    // followed instruments, far within it (at most a twelfth) and within their own minute cap.
    const bybitRest = tap('bybit').restCalls();
    const bybitPer5s = maxInWindow(bybitRest, 5000);
    expect(bybitPer5s, 'bybit: REST calls per 5 s').toBeLessThanOrEqual(600);
    const bybitLongShort = bybitRest.filter((c) => isLongShort('bybit', c.path));
    expect(bybitLongShort.length, 'bybit: account-ratio calls').toBeGreaterThan(0);
    for (const c of bybitLongShort) expect(bybitInstruments.has(queryParam(c.path, 'symbol'))).toBe(true);
    const bybitLongShortPer5s = maxInWindow(bybitLongShort, 5000);
    expect(bybitLongShortPer5s, 'bybit: account-ratio calls per 5 s').toBeLessThanOrEqual(600 / 12);
    expect(maxInWindow(bybitLongShort, MIN), 'bybit: account-ratio calls per minute').toBeLessThanOrEqual(
      BYBIT_LONG_SHORT_REQUESTS_PER_MINUTE,
    );
    row('bybit').note =
      `max args/conn ${bybitMaxArgsChars} of 21000 chars (tickers + allLiquidation); ` +
      `REST max ${bybitPer5s} of 600 per 5 s, account-ratio max ${bybitLongShortPer5s} per 5 s`;

    // OKX: at most 480 subscribe/unsubscribe requests per connection per hour, args ≤ 64 KB per
    // request, at most 3 connection requests per second per IP. `liquidation-orders` (instType
    // SWAP) is subscribed once on every connection, riding in a request that also subscribes
    // instruments: it costs no request of its own.
    let okxMaxRequests = 0;
    for (const c of tap('okx').connections()) {
      const ops = c.sent.filter((m) =>
        ['subscribe', 'unsubscribe', 'login'].includes(String(parsed(m.text).op)),
      );
      const perHour = maxInWindow(ops, HOUR);
      okxMaxRequests = Math.max(okxMaxRequests, perHour);
      expect(perHour).toBeLessThanOrEqual(480);
      for (const m of ops) expect(JSON.stringify(parsed(m.text).args).length).toBeLessThanOrEqual(64 * 1024);
      const subscribes = ops.map((m) => parsed(m.text)).filter((m) => m.op === 'subscribe');
      const args = (m: Record<string, unknown>) =>
        Array.isArray(m.args) ? (m.args as Record<string, unknown>[]) : [];
      const isLiquidation = (a: Record<string, unknown>) => a.channel === 'liquidation-orders';
      const carrying = subscribes.filter((m) => args(m).some(isLiquidation));
      expect(carrying.length, 'okx: requests subscribing liquidation-orders on a connection').toBe(1);
      expect(args(carrying[0]!).filter(isLiquidation), 'okx: the liquidation-orders arg').toEqual([
        { channel: 'liquidation-orders', instType: 'SWAP' },
      ]);
      expect(
        args(carrying[0]!).filter((a) => !isLiquidation(a)).length,
        'okx: instrument args in the same request',
      ).toBeGreaterThan(0);
    }
    expect(sims.okx.liquidationSubscriptions(), 'okx: connections with liquidation-orders').toBe(
      runtime('okx').connections().length,
    );
    expect(
      maxInWindow(
        tap('okx')
          .connections()
          .map((c) => ({ ts: c.openedAt })),
        1000,
      ),
    ).toBeLessThanOrEqual(3);
    expect(sims.okx.subscriptions().length).toBe(SIZE.okx * 4);

    // OKX rubik (trading statistics), per IP and instrument: the long/short ratios 5 requests per
    // 2 s (counted over both endpoints together, stricter than per endpoint), the warm start's OI
    // history 10 per 2 s.
    const okxRest = tap('okx').restCalls();
    const okxLongShort = okxRest.filter((c) => isLongShort('okx', c.path));
    expect(okxLongShort.length, 'okx: rubik long/short calls').toBeGreaterThan(0);
    const okxInstruments = followed('okx');
    const perInstrument = (calls: readonly { ts: number; path: string }[]) => {
      const by = new Map<string, { ts: number }[]>();
      for (const c of calls) {
        const instId = queryParam(c.path, 'instId');
        expect(okxInstruments.has(instId), `okx: rubik call for a followed instrument (${c.path})`).toBe(
          true,
        );
        by.set(instId, [...(by.get(instId) ?? []), c]);
      }
      return Math.max(0, ...[...by.values()].map((list) => maxInWindow(list, 2000)));
    };
    const okxLongShortPer2s = perInstrument(okxLongShort);
    expect(okxLongShortPer2s, 'okx: long/short calls per instrument per 2 s').toBeLessThanOrEqual(5);
    const okxHistoryPer2s = perInstrument(okxRest.filter((c) => isBackfill('okx', c.path)));
    expect(okxHistoryPer2s, 'okx: OI history calls per instrument per 2 s').toBeLessThanOrEqual(10);
    row('okx').note =
      `max sub requests/conn ${okxMaxRequests} of 480/h (liquidation-orders on ` +
      `${sims.okx.liquidationSubscriptions()} conns); rubik per instrument per 2 s: long/short max ${okxLongShortPer2s} of 5, ` +
      `OI history max ${okxHistoryPer2s} of 10`;

    // Hyperliquid (per IP): at most 1000 subscriptions, 10 connections, 30 new connections and
    // 2000 client messages per minute.
    const hl = tap('hyperliquid').connections();
    const hlSubs = sims.hyperliquid.subscriptions().length;
    expect(hlSubs).toBe(SIZE.hyperliquid);
    expect(hlSubs).toBeLessThanOrEqual(1000);
    expect(hl.length).toBeLessThanOrEqual(10);
    expect(
      maxInWindow(
        hl.map((c) => ({ ts: c.openedAt })),
        MIN,
      ),
    ).toBeLessThanOrEqual(30);
    const hlMsgs = hl.flatMap((c) => c.sent).sort((a, b) => a.ts - b.ts);
    const hlPerMin = maxInWindow(hlMsgs, MIN);
    expect(hlPerMin).toBeLessThanOrEqual(2000);
    row('hyperliquid').note = `${hlSubs} of 1000 subscriptions, max ${hlPerMin} of 2000 msgs/min`;
    row('binance').note =
      `OI weight max ${pollerWeightPerMin}/min of our ${BINANCE_WEIGHT_PER_MINUTE} ` +
      `(venue ${BINANCE_VENUE_WEIGHT_LIMIT_PER_MINUTE}); OI on ${snapshotCounts.get('binance')?.oi ?? '?'} instruments; ` +
      `L/S max ${binanceLongShortPerMin} of our ${LONG_SHORT_REQUESTS_PER_MINUTE}/min; /futures/data/* ` +
      `projected ${futuresDataProjected} of 1000 per 5 min (L/S ${5 * LONG_SHORT_REQUESTS_PER_MINUTE} + ` +
      `openInterestHist at ${historyPerSec.toFixed(2)}/s)`;

    console.log(
      `Full universe: ${TOTAL} instruments held in Redis after ${(heldAfterMs / 1000).toFixed(1)} s; ` +
        `measured over ${(windowMs / 1000).toFixed(1)} s. "REST at start" = universe listing calls ` +
        '(repeated every UNIVERSE_REFRESH_MIN, default 60); "REST/min" = OI polling calls in the busiest 60 s; ' +
        '"backfill" = warm-start OI history calls so far; "L/S" = long/short statistics polls (so far, and in the busiest 60 s).',
    );
    console.table(rows);
  }, 45_000);
});
