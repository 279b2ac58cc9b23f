import { afterEach, describe, expect, it, vi } from 'vitest';
import type { FeedEvent, MarketEvent } from '../../../src/domain/types.js';
import { RestPoller } from '../../../src/streams/core/rest-poller.js';
import type { UniverseEntry } from '../../../src/streams/core/universe.js';
import { startBinanceSimulator } from '../../../src/streams/sim/binance-sim.js';
import {
  BINANCE_REST_URL,
  createBinanceAdapter,
  createBinanceLongShortPlan,
  GLOBAL_ACCOUNT_RATIO_PATH,
  TOP_POSITION_RATIO_PATH,
} from '../../../src/streams/venues/binance.js';
import {
  LONG_SHORT_REQUESTS_PER_ROUND,
  longShortRefreshMs,
  longShortShares,
} from '../../../src/streams/venues/binance-long-short.js';
import { VENUES } from '../../../src/streams/venues/registry.js';
import { tracker } from '../../support/track.js';
import { silentLogger, waitUntil } from '../feed-harness.js';

const MIN = 60_000;
const universeOf = (n: number, real: readonly string[] = []): UniverseEntry[] => [
  ...real.map((symbol) => ({ symbol, instrument: `${symbol}USDT` })),
  ...Array.from({ length: n - real.length }, (_, i) => ({ symbol: `X${i}`, instrument: `X${i}USDT` })),
];
const symbolOf = (path: string) => new URL(path, 'http://x').searchParams.get('symbol')!;
const isAccounts = (path: string) => path.startsWith(GLOBAL_ACCOUNT_RATIO_PATH);

describe('binance long/short plan', () => {
  it('polls both figures every 5 min up to 180 instruments, then prefers the account ratio', () => {
    expect(LONG_SHORT_REQUESTS_PER_ROUND).toBe(360);
    expect(longShortShares(0)).toEqual({ accounts: 0, topTraders: 0 });
    expect(longShortShares(5)).toEqual({ accounts: 5, topTraders: 5 });
    expect(longShortShares(180)).toEqual({ accounts: 180, topTraders: 180 });
    expect(longShortShares(250)).toEqual({ accounts: 250, topTraders: 110 });
    expect(longShortShares(600)).toEqual({ accounts: 270, topTraders: 90 });
    for (const n of [1, 100, 181, 270, 271, 600, 5000]) {
      const { accounts, topTraders } = longShortShares(n);
      expect(accounts + topTraders, `${n}`).toBeLessThanOrEqual(360);
      expect(accounts, `${n}`).toBeGreaterThanOrEqual(Math.min(n, topTraders));
      expect(topTraders, `${n}`).toBeGreaterThan(0);
    }
    expect(longShortRefreshMs(100)).toEqual({ accountsMs: 5 * MIN, topTradersMs: 5 * MIN });
    const at600 = longShortRefreshMs(600);
    expect(at600.accountsMs! / MIN).toBeCloseTo(11.11, 2);
    expect(at600.topTradersMs! / MIN).toBeCloseTo(33.33, 2);
    expect(longShortRefreshMs(0)).toEqual({ accountsMs: null, topTradersMs: null });
  });

  it('asks period=5m&limit=1 for followed instruments, weight 1, no instrument (not an OI gap)', () => {
    const plan = createBinanceLongShortPlan({ universe: () => universeOf(2, ['BTC', 'ETH']) });
    expect(plan).toMatchObject({
      venue: 'binance',
      restUrl: BINANCE_REST_URL,
      cycleMs: 15_000,
      weightPerMinute: 72,
    });
    expect(plan.usedWeightHeader).toBeUndefined();
    const round = Array.from({ length: 20 }, () => plan.requests()).flat();
    expect(round).toEqual([
      { path: `${GLOBAL_ACCOUNT_RATIO_PATH}?symbol=BTCUSDT&period=5m&limit=1`, weight: 1 },
      { path: `${GLOBAL_ACCOUNT_RATIO_PATH}?symbol=ETHUSDT&period=5m&limit=1`, weight: 1 },
      { path: `${TOP_POSITION_RATIO_PATH}?symbol=BTCUSDT&period=5m&limit=1`, weight: 1 },
      { path: `${TOP_POSITION_RATIO_PATH}?symbol=ETHUSDT&period=5m&limit=1`, weight: 1 },
    ]);
    expect(createBinanceLongShortPlan({ universe: () => [] }).requests()).toEqual([]);
  });

  it('never schedules more than 360 requests in 20 cycles (5 min) or 72 in 4, and covers every instrument', () => {
    let universe = universeOf(600);
    const plan = createBinanceLongShortPlan({ universe: () => universe });
    const cycles: string[][] = [];
    for (let i = 0; i < 200; i++) {
      if (i === 100) universe = universeOf(250); // the universe shrinks mid-round
      cycles.push(plan.requests().map((r) => r.path));
    }
    const sum = (from: number, n: number) => cycles.slice(from, from + n).reduce((s, c) => s + c.length, 0);
    for (let i = 0; i + 20 <= cycles.length; i++) expect(sum(i, 20), `cycles ${i}…`).toBeLessThanOrEqual(360);
    for (let i = 0; i + 4 <= cycles.length; i++) expect(sum(i, 4), `cycles ${i}…`).toBeLessThanOrEqual(72);
    // 600 instruments: 270 account-ratio and 90 top-trader requests per round, the budget used up
    const round = cycles.slice(0, 20).flat();
    expect(round).toHaveLength(360);
    expect(round.filter(isAccounts)).toHaveLength(270);
    // every instrument's account ratio within ⌈600 / 270⌉ = 3 rounds, top traders' within 7
    const seen = (rounds: number, accounts: boolean) =>
      new Set(
        cycles
          .slice(0, rounds * 20)
          .flat()
          .filter((p) => isAccounts(p) === accounts)
          .map(symbolOf),
      ).size;
    expect(seen(3, true)).toBe(600);
    expect(seen(2, true)).toBeLessThan(600);
    expect(seen(5, false)).toBe(450);
    // 250 instruments: every account ratio each round, and 110 top-trader requests
    const later = cycles.slice(120, 140).flat();
    expect(new Set(later.filter(isAccounts).map(symbolOf)).size).toBe(250);
    expect(later.filter((p) => !isAccounts(p))).toHaveLength(110);
  });

  it('is the Binance entry of the registry', () => {
    const plan = VENUES.binance.createLongShortPlan?.({
      wsUrl: 'ws://x',
      restUrl: 'http://127.0.0.1:1',
      universe: () => universeOf(1, ['BTC']),
    });
    expect(plan?.restUrl).toBe('http://127.0.0.1:1');
    expect(plan?.requests()[0]?.path).toBe(`${GLOBAL_ACCOUNT_RATIO_PATH}?symbol=BTCUSDT&period=5m&limit=1`);
  });
});

describe('binance long/short polling against the simulator', () => {
  const track = tracker();
  afterEach(() => {
    vi.restoreAllMocks();
  });

  it('runs on an accelerated clock within 360 requests per 5 min; followed symbols get both figures', async () => {
    const sim = track(await startBinanceSimulator({ tickMs: 60_000 }));
    const timeScale = 100;
    const wallStart = Date.now();
    const startTs = sim.eventTs();
    const clock = { now: () => startTs + (Date.now() - wallStart) * timeScale, timeScale };
    // 5 instruments the simulator lists, 595 it does not (answered with an error, still counted)
    const universe = universeOf(600, ['BTC', 'ETH', 'SOL', 'XRP', 'DOGE']);
    const plan = createBinanceLongShortPlan({ restUrl: sim.restUrl, universe: () => universe });
    const asked: number[] = [];
    const realFetch = globalThis.fetch;
    vi.spyOn(globalThis, 'fetch').mockImplementation((input, init) => {
      if (String(input).includes('/futures/data/')) asked.push(clock.now());
      return realFetch(input, init);
    });
    const events: FeedEvent[] = [];
    const poller = track(
      new RestPoller({
        plan: { ...plan, clock },
        parser: createBinanceAdapter({ universe: () => universe }).createParser(),
        logger: silentLogger,
        onEvent: (ev) => events.push(ev),
      }),
    );
    poller.start();
    await waitUntil(() => expect(clock.now() - startTs).toBeGreaterThan(11 * MIN), 20_000);
    await poller.close();
    const market = events.filter((e): e is MarketEvent => e.type === 'market');
    for (const symbol of ['BTC', 'ETH', 'SOL', 'XRP', 'DOGE']) {
      const mine = market.filter((e) => e.symbol === symbol);
      const accounts = mine.find((e) => e.accountsLongPct !== undefined);
      const top = mine.find((e) => e.topTradersLongPct !== undefined);
      expect(accounts?.accountsLongPct, symbol).toBeGreaterThanOrEqual(45);
      expect(accounts?.accountsLongPct, symbol).toBeLessThanOrEqual(75);
      expect(top?.topTradersLongPct, symbol).toBeGreaterThan(0);
      expect(accounts!.longShortTs! % (5 * MIN)).toBe(0);
    }
    // The hard cap: no 5 minutes of the clock hold more than 360 requests. Counted over windows
    // 5 s shorter: a fetch starts a moment after the poller stamps it against its budget, and at
    // 100× a 50 ms scheduling delay on a busy machine (2 test files at once) is 5 s of this clock.
    // A budget of 90 a minute would still show 450 - 6.
    let worst = 0;
    for (let i = 0, j = 0; i < asked.length; i++) {
      while (asked[i]! - asked[j]! >= 5 * MIN - 5000) j++;
      worst = Math.max(worst, i - j + 1);
    }
    expect(worst).toBeLessThanOrEqual(360);
    // and the budget is what binds with 600 instruments (at least most of it was used)
    expect(worst).toBeGreaterThan(200);
    expect(poller.counters.rateLimited).toBe(0);
  });
});
