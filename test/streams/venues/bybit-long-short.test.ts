/**
 * Bybit `/v5/market/account-ratio`: the parser on the documented body (newest first; sources in
 * test/fixtures/bybit/README.md), venue errors and malformed bodies, and the polling plan.
 */
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { lastValueFrom, toArray } from 'rxjs';
import { describe, expect, it } from 'vitest';
import type { MarketEvent } from '../../../src/domain/types.js';
import { FrameError } from '../../../src/streams/core/adapter.js';
import type { UniverseEntry } from '../../../src/streams/core/universe.js';
import { newReplayCounters, replay$ } from '../../../src/streams/replay.js';
import { createBybitAdapter } from '../../../src/streams/venues/bybit.js';
import {
  BYBIT_LONG_SHORT_CYCLE_MS,
  BYBIT_LONG_SHORT_REQUESTS_PER_MINUTE,
  bybitAccountRatioPath,
  createBybitLongShortPlan,
} from '../../../src/streams/venues/bybit-long-short.js';
import { VENUES } from '../../../src/streams/venues/registry.js';

const DOC_BODY = readFileSync(
  new URL('../../fixtures/bybit/account-ratio-doc.json', import.meta.url),
  'utf8',
);
const SOURCE = bybitAccountRatioPath('BTCUSDT');
const parser = () => createBybitAdapter().createParser();

type Body = { retCode: number; result: { list: Record<string, string>[] } } & Record<string, unknown>;
const docBody = (): Body => JSON.parse(DOC_BODY) as Body;

describe('bybit account-ratio parser', () => {
  it('reads the documented body: the newest row, 100 × buyRatio, no top-trader figure', () => {
    const res = parser().parse(DOC_BODY, 1_731_567_491_700, SOURCE);
    expect(res.events).toEqual([
      {
        type: 'market',
        venue: 'bybit',
        symbol: 'BTC',
        instrument: 'BTCUSDT',
        // the answer's `time`; the bucket's time is longShortTs
        eventTs: 1_731_567_491_688,
        receiveTs: 1_731_567_491_700,
        // first row: "buyRatio": "0.49", "timestamp": "1696262400000" (newer than the second row)
        accountsLongPct: 49,
        longShortTs: 1_696_262_400_000,
      },
    ] satisfies MarketEvent[]);
    expect(res.events[0]).not.toHaveProperty('topTradersLongPct');
  });

  it('takes the newest row by timestamp, not by position', () => {
    const body = docBody();
    body.result.list.reverse();
    const [ev] = parser().parse(JSON.stringify(body), 0, SOURCE).events;
    expect(ev).toMatchObject({ accountsLongPct: 49, longShortTs: 1_696_262_400_000 });
    // and the second row when it is the newer one
    body.result.list[0]!.timestamp = '1696262700000';
    const [later] = parser().parse(JSON.stringify(body), 0, SOURCE).events;
    expect(later).toMatchObject({ accountsLongPct: 49.27, longShortTs: 1_696_262_700_000 });
  });

  it('reports retCode ≠ 0 as a venue error, and an empty list as nothing', () => {
    const error = parser().parse(
      '{"retCode":10001,"retMsg":"params error: symbol invalid","result":{},"retExtInfo":{},"time":1}',
      0,
      SOURCE,
    );
    expect(error).toEqual({
      events: [],
      control: 'error',
      detail: 'account-ratio: retCode 10001: params error: symbol invalid',
    });
    const body = docBody();
    body.result.list = [];
    expect(parser().parse(JSON.stringify(body), 0, SOURCE)).toMatchObject({ events: [], control: 'ignored' });
  });

  it('throws FrameError for bodies it cannot read', () => {
    const mutate = (f: (b: Body) => void) => {
      const b = docBody();
      f(b);
      return JSON.stringify(b);
    };
    const cases: [string, string | undefined][] = [
      ['not json', undefined],
      ['[]', undefined],
      [mutate((b) => delete (b as Record<string, unknown>).retCode), 'retCode'],
      [mutate((b) => (b.result = {} as Body['result'])), 'list'],
      [mutate((b) => (b.result.list[0]!.buyRatio = 'abc')), 'buyRatio'],
      [mutate((b) => (b.result.list[0]!.buyRatio = '1.2')), 'buyRatio'],
      [mutate((b) => delete b.result.list[0]!.buyRatio), 'buyRatio'],
      [mutate((b) => delete b.result.list[1]!.timestamp), 'timestamp'],
      [mutate((b) => delete b.result.list[0]!.symbol), 'symbol'],
    ];
    for (const [body, field] of cases) {
      let thrown: unknown;
      try {
        parser().parse(body, 0, SOURCE);
      } catch (err) {
        thrown = err;
      }
      expect(thrown, body).toBeInstanceOf(FrameError);
      expect((thrown as FrameError).field, body).toBe(field);
    }
    expect(() => parser().parse(DOC_BODY, 0, '/v5/market/tickers?category=linear')).toThrow(FrameError);
  });

  it('the same body as a WebSocket frame (no source) is not read as statistics', () => {
    expect(() => parser().parse(DOC_BODY, 0)).toThrow(FrameError);
  });
});

const universe = (names: readonly string[]): UniverseEntry[] =>
  names.map((instrument) => ({ symbol: instrument.replace(/USDT$/, ''), instrument }));
const names = (n: number) => Array.from({ length: n }, (_, i) => `S${String(i).padStart(3, '0')}USDT`);
const instrumentOf = (path: string) => new URL(path, 'http://x').searchParams.get('symbol')!;

describe('bybit long/short plan', () => {
  it('asks for the latest 5-minute row of one linear symbol, with no instrument (not an OI gap)', () => {
    const plan = createBybitLongShortPlan({ restUrl: 'http://bybit', universe: () => universe(['BTCUSDT']) });
    const [req] = plan.requests();
    expect(req).toEqual({
      path: '/v5/market/account-ratio?category=linear&symbol=BTCUSDT&period=5min&limit=1',
      weight: 1,
    });
    expect(plan).toMatchObject({ venue: 'bybit', restUrl: 'http://bybit' });
  });

  it.each([1, 10, 29, 30, 31, 500, 1000])(
    'polls each of %i instruments exactly once per 5 minutes, spread evenly over 30 cycles of 10 s',
    (n) => {
      const plan = createBybitLongShortPlan({ restUrl: '', universe: () => universe(names(n)) });
      expect(plan.cycleMs * 30).toBe(5 * 60_000);
      for (let bucket = 0; bucket < 2; bucket++) {
        const cycles = Array.from({ length: 30 }, () => plan.requests().map((r) => instrumentOf(r.path)));
        const polled = cycles.flat();
        expect(polled).toHaveLength(n);
        expect(new Set(polled)).toEqual(new Set(names(n)));
        expect(Math.max(...cycles.map((c) => c.length))).toBe(Math.ceil(n / 30));
        expect(cycles[0]!.length).toBeGreaterThan(0);
      }
    },
  );

  it('a universe change mid-bucket neither skips nor repeats the instruments that stay', () => {
    let listing = names(60);
    const plan = createBybitLongShortPlan({ restUrl: '', universe: () => universe(listing) });
    const polled: string[] = [];
    for (let k = 0; k < 30; k++) {
      if (k === 10) listing = [...names(60).filter((_, i) => i % 2 === 0), 'AAAUSDT', 'ZZZUSDT'];
      polled.push(...plan.requests().map((r) => instrumentOf(r.path)));
    }
    const stayed = names(60).filter((_, i) => i % 2 === 0);
    for (const s of stayed)
      expect(
        polled.filter((p) => p === s),
        s,
      ).toHaveLength(1);
  });

  it('stays far inside 600 requests per 5 s per IP, and the runtime gets it from the registry', () => {
    // 1,000 instruments: 34 requests per 10 s cycle; our own cap 600 a minute is 50 per 5 s.
    const plan = createBybitLongShortPlan({ restUrl: '', universe: () => universe(names(1000)) });
    expect(plan.requests().length * (5_000 / BYBIT_LONG_SHORT_CYCLE_MS)).toBeLessThanOrEqual(20);
    expect(plan.weightPerMinute).toBe(BYBIT_LONG_SHORT_REQUESTS_PER_MINUTE);
    // our own cap per 5 s (a twelfth of a minute) is under a tenth of Bybit’s 600
    expect(BYBIT_LONG_SHORT_REQUESTS_PER_MINUTE / 12).toBeLessThanOrEqual(600 / 10);
    const fromRegistry = VENUES.bybit.createLongShortPlan!({
      wsUrl: 'ws://x',
      restUrl: 'http://rest',
      universe: () => universe(['ETHUSDT']),
    });
    expect(fromRegistry).toMatchObject({ venue: 'bybit', restUrl: 'http://rest' });
    expect(fromRegistry.requests().map((r) => r.path)).toEqual([bybitAccountRatioPath('ETHUSDT')]);
  });
});

describe('bybit recordings', () => {
  it('replay reads recorded account-ratio bodies (by their source) and liquidation pushes, as live', async () => {
    const path = join(mkdtempSync(join(tmpdir(), 'pulse-bybit-ls-')), 'r.ndjson');
    const [liquidation] = readFileSync(
      new URL('../../fixtures/bybit/all-liquidation-real-2026-09-18.ndjson', import.meta.url),
      'utf8',
    ).split('\n');
    const lines = [
      { t: 1_789_670_094_500, venue: 'bybit', frame: liquidation },
      { t: 1_789_670_095_000, venue: 'bybit', frame: JSON.stringify(docBody()), source: SOURCE },
      // the same push again (a resubscribe's replay): no second liquidation
      { t: 1_789_670_095_500, venue: 'bybit', frame: liquidation },
    ];
    writeFileSync(path, `${lines.map((l) => JSON.stringify(l)).join('\n')}\n`);
    const counters = newReplayCounters();
    const events = await lastValueFrom(
      replay$({ path, speed: 'max', adapters: new Map([['bybit', createBybitAdapter()]]) }, counters).pipe(
        toArray(),
      ),
    );
    expect(counters.parseErrors).toBe(0);
    expect(events).toHaveLength(2);
    expect(events[0]).toMatchObject({ instrument: 'ICPUSDT', liquidations: [{ side: 'long', base: 19.7 }] });
    expect(events[1]).toMatchObject({
      instrument: 'BTCUSDT',
      accountsLongPct: 49,
      longShortTs: 1_696_262_400_000,
    });
  });
});
