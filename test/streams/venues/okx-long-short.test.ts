import { readFileSync } from 'node:fs';
import { pino } from 'pino';
import { describe, expect, it } from 'vitest';
import type { FeedEvent, MarketEvent } from '../../../src/domain/types.js';
import { FrameError } from '../../../src/streams/core/adapter.js';
import { RestPoller } from '../../../src/streams/core/rest-poller.js';
import type { UniverseEntry } from '../../../src/streams/core/universe.js';
import { startOkxSimulator } from '../../../src/streams/sim/okx-sim.js';
import { okxSimLongShortRatio } from '../../../src/streams/sim/okx-sim-long-short.js';
import { createOkxAdapter } from '../../../src/streams/venues/okx.js';
import {
  createOkxLongShortPlan,
  longPctOfRatio,
  OKX_ACCOUNT_RATIO_PATH,
  OKX_LONG_SHORT_CYCLE_MS,
  OKX_TOP_TRADER_POSITION_RATIO_PATH,
  okxLongShortPath,
} from '../../../src/streams/venues/okx-long-short.js';
import { fetchOkxUniverse } from '../../../src/streams/venues/okx-universe.js';
import { VENUES } from '../../../src/streams/venues/registry.js';
import { tracker } from '../../support/track.js';

const [DOC_BODY] = readFileSync(
  new URL('../../fixtures/okx/rubik-long-short.ndjson', import.meta.url),
  'utf8',
)
  .trim()
  .split('\n') as [string];

const ACCOUNTS = okxLongShortPath(OKX_ACCOUNT_RATIO_PATH, 'BTC-USDT-SWAP');
const TOP = okxLongShortPath(OKX_TOP_TRADER_POSITION_RATIO_PATH, 'BTC-USDT-SWAP');
const parse = (body: string, source: string, receiveTs = 1701418000000) =>
  createOkxAdapter().createParser().parse(body, receiveTs, source);

const entries = (n: number): UniverseEntry[] =>
  Array.from({ length: n }, (_, i) => ({ symbol: `C${i}`, instrument: `C${i}-USDT-SWAP` }));

describe('okx rubik long/short bodies', () => {
  it('the documented account-ratio body: the long share of accounts, 100 × r / (1 + r)', () => {
    expect(longPctOfRatio(1.5)).toBe(60);
    expect(parse(DOC_BODY, ACCOUNTS)).toEqual({
      events: [
        {
          type: 'market',
          venue: 'okx',
          symbol: 'BTC',
          instrument: 'BTC-USDT-SWAP',
          // the receive time: the bucket's time is minutes old by design
          eventTs: 1701418000000,
          receiveTs: 1701418000000,
          // the rows repeat one ts; the first (1.1739) is kept
          accountsLongPct: 53.999723998,
          longShortTs: 1701417600000,
        } satisfies MarketEvent,
      ],
    });
  });

  it('the top-trader position ratio; rows sorted by ts, the newest taken, unreadable rows skipped', () => {
    const body = JSON.stringify({
      code: '0',
      msg: '',
      data: [
        ['1701417300000', '3'],
        ['1701417900000', '0.25'],
        ['x', '9'],
        ['1701418200000', ''],
        ['1701417600000', '1'],
      ],
    });
    const [ev] = parse(body, TOP).events;
    expect(ev).toMatchObject({ topTradersLongPct: 20, longShortTs: 1701417900000, eventTs: 1701418000000 });
    expect(ev).not.toHaveProperty('accountsLongPct');
  });

  it('code other than "0" is a venue error; no rows, or another path, yields nothing', () => {
    const err = parse('{"code":"51001","msg":"Instrument ID doesn\'t exist.","data":[]}', ACCOUNTS);
    expect(err).toEqual({
      events: [],
      control: 'error',
      detail: expect.stringMatching(/^51001 Instrument ID/),
    });
    expect(parse('{"code":"0","msg":"","data":[]}', ACCOUNTS)).toMatchObject({
      events: [],
      control: 'ignored',
    });
    expect(parse(DOC_BODY, '/api/v5/public/instruments?instType=SWAP')).toMatchObject({
      events: [],
      control: 'ignored',
    });
    expect(() => parse('<html>gateway</html>', ACCOUNTS)).toThrow(FrameError);
    expect(() => parse('{"code":"0","data":{}}', ACCOUNTS)).toThrow(FrameError);
  });
});

describe('okx long/short plan', () => {
  it('both statistics of each followed swap per 5-minute cycle, no instrument field, in five slices', () => {
    let universe = entries(3);
    const plan = createOkxLongShortPlan({ universe: () => universe });
    expect(plan).toMatchObject({
      venue: 'okx',
      restUrl: 'https://www.okx.com',
      cycleMs: OKX_LONG_SHORT_CYCLE_MS,
    });
    expect(OKX_LONG_SHORT_CYCLE_MS).toBe(300_000);
    expect(plan.requests()).toEqual([
      { path: `${OKX_ACCOUNT_RATIO_PATH}?instId=C0-USDT-SWAP&period=5m&limit=1`, weight: 1 },
      { path: `${OKX_TOP_TRADER_POSITION_RATIO_PATH}?instId=C0-USDT-SWAP&period=5m&limit=1`, weight: 1 },
      ...['C1', 'C2'].flatMap((c) => [
        { path: `${OKX_ACCOUNT_RATIO_PATH}?instId=${c}-USDT-SWAP&period=5m&limit=1`, weight: 1 },
        { path: `${OKX_TOP_TRADER_POSITION_RATIO_PATH}?instId=${c}-USDT-SWAP&period=5m&limit=1`, weight: 1 },
      ]),
    ]);
    expect(plan.requests().some((r) => 'instrument' in r)).toBe(false);
    // 6 requests a cycle → 2 a minute; 300 swaps → 120 a minute; it follows the universe
    expect(plan.weightPerMinute).toBe(2);
    universe = entries(300);
    expect(plan.weightPerMinute).toBe(120);
    universe = [];
    expect(plan.weightPerMinute).toBe(1);
    expect(
      VENUES.okx.createLongShortPlan?.({ wsUrl: 'ws://x', restUrl: 'http://r', universe: () => entries(1) }),
    ).toMatchObject({ venue: 'okx', restUrl: 'http://r', cycleMs: 300_000 });
  });

  const track = tracker();

  it('round trip: the poller reads both figures of every followed swap from the simulator, spread out', async () => {
    const sim = track(await startOkxSimulator({ tickMs: 50 }));
    const { entries: universe } = await fetchOkxUniverse(sim.restUrl, { symbols: null, topN: 5 });
    expect(universe).toHaveLength(5);
    const adapter = createOkxAdapter({ universe: () => universe });
    const events: FeedEvent[] = [];
    // A 100 ms budget window stands for the minute: 10 requests in slices of 2.
    const windowMs = 100;
    const poller = track(
      new RestPoller({
        plan: createOkxLongShortPlan({ restUrl: sim.restUrl, universe: () => universe }),
        parser: adapter.createParser(),
        logger: pino({ level: 'silent' }),
        onEvent: (e) => events.push(e),
        windowMs,
      }),
    );
    poller.start();
    const market = () => events.filter((e): e is MarketEvent => e.type === 'market');
    await expect.poll(() => market().length, { timeout: 5000 }).toBe(10);
    expect(poller.counters).toMatchObject({ requests: 10, responses: 10, errors: 0, parseErrors: 0 });
    const nowTs = sim.eventTs();
    for (const e of universe) {
      const mine = market().filter((ev) => ev.instrument === e.instrument);
      const accounts = mine.find((ev) => ev.accountsLongPct !== undefined)!;
      const top = mine.find((ev) => ev.topTradersLongPct !== undefined)!;
      // the newest closed 5m bar, its ratio as the simulator serves it
      const barTs = Math.floor(nowTs / 300_000) * 300_000 - 300_000;
      expect(accounts).toMatchObject({ symbol: e.symbol, longShortTs: barTs });
      expect(accounts.accountsLongPct).toBeCloseTo(
        longPctOfRatio(okxSimLongShortRatio(e.symbol, OKX_ACCOUNT_RATIO_PATH, barTs + 300_000)),
        9,
      );
      expect(top.topTradersLongPct).toBeCloseTo(
        longPctOfRatio(okxSimLongShortRatio(e.symbol, OKX_TOP_TRADER_POSITION_RATIO_PATH, barTs + 300_000)),
        9,
      );
    }
    // spread: at most the slice (2) per budget window; half a window of slack for arrival jitter
    const log = sim.restRequestLog().filter((r) => r.path.startsWith('/api/v5/rubik'));
    expect(log).toHaveLength(10);
    for (let i = 0; i + 2 < log.length; i++) {
      expect(log[i + 2]!.wallMs - log[i]!.wallMs).toBeGreaterThanOrEqual(windowMs / 2);
    }
    expect(log.at(-1)!.wallMs - log[0]!.wallMs).toBeGreaterThanOrEqual(4 * windowMs - 20);
  });
});
