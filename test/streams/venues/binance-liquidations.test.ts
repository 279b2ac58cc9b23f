import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import type { MarketEvent } from '../../../src/domain/types.js';
import { FrameError } from '../../../src/streams/core/adapter.js';
import { parseFrame } from '../../../src/streams/core/parse.js';
import type { UniverseEntry } from '../../../src/streams/core/universe.js';
import {
  createBinanceAdapter,
  GLOBAL_ACCOUNT_RATIO_PATH,
  TOP_POSITION_RATIO_PATH,
} from '../../../src/streams/venues/binance.js';

// Frames and bodies: test/fixtures/binance/README.md (doc examples and a 2026 live capture).
const fixture = (name: string) =>
  readFileSync(new URL(`../../fixtures/binance/${name}`, import.meta.url), 'utf8').trim();

const BTC: UniverseEntry = { symbol: 'BTC', instrument: 'BTCUSDT' };
const ILV: UniverseEntry = { symbol: 'ILV', instrument: 'ILVUSDT' };
const parserFor = (...entries: UniverseEntry[]) =>
  createBinanceAdapter({ universe: () => entries }).createParser();

/** A `!forceOrder@arr` envelope of one order, fields of the 2026 capture unless overridden. */
const forceOrder = (o: Record<string, unknown> = {}, top: Record<string, unknown> = {}) =>
  JSON.stringify({
    stream: '!forceOrder@arr',
    data: {
      e: 'forceOrder',
      E: 1791391083124,
      ...top,
      o: {
        s: 'BTCUSDT',
        S: 'SELL',
        o: 'LIMIT',
        f: 'IOC',
        q: '0.5',
        p: '79000.0',
        ap: '79100.5',
        X: 'FILLED',
        l: '0.1',
        z: '0.5',
        T: 1791391082119,
        ps: 'BTCUSDT',
        st: 1,
        ...o,
      },
    },
  });

describe('binance !forceOrder@arr', () => {
  it('reads the real 2026 frame: z (116.5) not l (25.2), SELL = a long liquidated, usd = z × ap', () => {
    const res = parserFor(ILV).parse(fixture('real-2026-10-08-force-order.json'), 1791391083200);
    expect(res.events).toEqual([
      {
        type: 'market',
        venue: 'binance',
        symbol: 'ILV',
        instrument: 'ILVUSDT',
        eventTs: 1791391082119,
        receiveTs: 1791391083200,
        liquidations: [{ side: 'long', base: 116.5, usd: 116.5 * 3.85642, ts: 1791391082119 }],
      } satisfies MarketEvent,
    ]);
    // nothing else is read from a liquidation: no price, no OI
    expect(Object.keys(res.events[0]!).sort()).toEqual(
      ['eventTs', 'instrument', 'liquidations', 'receiveTs', 'symbol', 'type', 'venue'].sort(),
    );
  });

  it('reads the documented payload in raw /ws mode (a bare object, no ps/st)', () => {
    const [ev] = parserFor(BTC).parse(fixture('doc-force-order.json'), 1568014460900).events;
    expect(ev).toMatchObject({ symbol: 'BTC', eventTs: 1568014460893 });
    expect(ev!.liquidations).toEqual([{ side: 'long', base: 0.014, usd: 0.014 * 9910, ts: 1568014460893 }]);
  });

  it('BUY = a short liquidated; the trade time T is the event time, E when T is absent', () => {
    const parser = parserFor(BTC);
    const [buy] = parser.parse(forceOrder({ S: 'BUY', z: '2', ap: '80000' }), 5).events;
    expect(buy!.liquidations).toEqual([{ side: 'short', base: 2, usd: 160000, ts: 1791391082119 }]);
    expect(buy!.eventTs).toBe(1791391082119);
    const [noT] = parser.parse(forceOrder({ T: undefined }), 5).events;
    expect(noT!.eventTs).toBe(1791391083124);
    expect(noT!.liquidations![0]!.ts).toBe(1791391083124);
  });

  it('skips COIN-M (st 2 inside o or at the top level), unfollowed symbols and non-FILLED orders', () => {
    const parser = parserFor(BTC, { symbol: 'BTCUSD', instrument: 'BTCUSD_PERP' });
    expect(parser.parse(forceOrder({ s: 'BTCUSD_PERP', ps: 'BTCUSD', st: 2, z: '30' }), 0).events).toEqual(
      [],
    );
    const topLevel = forceOrder({ s: 'BTCUSD_PERP', st: undefined, ps: undefined }, { ps: 'BTCUSD', st: 2 });
    expect(parser.parse(topLevel, 0).events).toEqual([]);
    expect(parser.parse(forceOrder({ s: 'ETHUSDT' }), 0).events).toEqual([]);
    expect(parser.parse(forceOrder({ s: 'BTCUSDC' }), 0).events).toEqual([]);
    for (const X of ['PARTIALLY_FILLED', 'NEW', 'EXPIRED'])
      expect(parser.parse(forceOrder({ X, l: '0.1', z: '0.1' }), 0).events, X).toEqual([]);
    // the same order once filled counts once, with its accumulated size
    expect(parser.parse(forceOrder({ X: 'FILLED', l: '0.4', z: '0.5' }), 0).events[0]!.liquidations).toEqual([
      { side: 'long', base: 0.5, usd: 0.5 * 79100.5, ts: 1791391082119 },
    ]);
  });

  it('makes a malformed forceOrder frame malformed (FrameError), counted by parseFrame', () => {
    const parser = parserFor(BTC);
    for (const bad of [
      forceOrder({ S: 'Sell' }),
      forceOrder({ S: undefined }),
      forceOrder({ z: 'abc' }),
      forceOrder({ z: undefined }),
      forceOrder({ z: '0' }),
      forceOrder({ ap: '' }),
      forceOrder({ X: undefined }),
      forceOrder({ s: 7 }),
      forceOrder({ T: 'soon' }),
      // an unreadable size fails the frame even for an order that would be skipped
      forceOrder({ s: 'ETHUSDT', z: 'x' }),
      JSON.stringify({ stream: '!forceOrder@arr', data: { e: 'forceOrder', E: 1, o: 'x' } }),
      JSON.stringify({ stream: '!forceOrder@arr', data: { e: 'forceOrder', E: 1 } }),
    ]) {
      expect(() => parser.parse(bad, 0), bad).toThrow(FrameError);
      expect(parseFrame(parser, bad, 0).kind, bad).toBe('error');
    }
    const outcome = parseFrame(parser, forceOrder({ z: 'abc' }), 0);
    expect(outcome).toMatchObject({
      kind: 'error',
      message: expect.stringContaining('field z is not a number'),
    });
  });

  it('reads each element of an array push as its own event, next to mark elements', () => {
    const parser = parserFor(BTC, ILV);
    const a = JSON.parse(forceOrder()).data;
    const b = JSON.parse(forceOrder({ s: 'ILVUSDT', S: 'BUY', z: '10', ap: '3', T: 1791391082500 })).data;
    const events = parser.parse(JSON.stringify([a, b]), 0).events;
    expect(events.map((e) => [e.instrument, e.liquidations![0]!.side])).toEqual([
      ['BTCUSDT', 'long'],
      ['ILVUSDT', 'short'],
    ]);
  });
});

describe('binance long/short statistics bodies', () => {
  const source = (path: string, symbol = 'BTCUSDT') => `${path}?symbol=${symbol}&period=5m&limit=1`;

  it('global accounts: 100 × longAccount of the newest row (the doc longShortRatio is ignored)', () => {
    const body = fixture('doc-global-long-short-account-ratio.json');
    const res = parserFor(BTC).parse(body, 1583140000000, source(GLOBAL_ACCOUNT_RATIO_PATH));
    expect(res.events).toEqual([
      {
        type: 'market',
        venue: 'binance',
        symbol: 'BTC',
        instrument: 'BTCUSDT',
        eventTs: 1583140000000,
        receiveTs: 1583140000000,
        accountsLongPct: 66.17,
        longShortTs: 1583139900000,
      } satisfies MarketEvent,
    ]);
  });

  it('top traders by position: topTradersLongPct from longAccount, never accountsLongPct', () => {
    const body = fixture('doc-top-long-short-position-ratio.json');
    const [ev] = parserFor(BTC).parse(body, 1, source(TOP_POSITION_RATIO_PATH)).events;
    expect(ev).toMatchObject({ topTradersLongPct: 35.83, longShortTs: 1583139900000 });
    expect(ev).not.toHaveProperty('accountsLongPct');
  });

  it('accepts number and string timestamps and takes the newest row whatever the order', () => {
    const parser = parserFor(BTC);
    const rows = [
      {
        symbol: 'BTCUSDT',
        longShortRatio: '1.5',
        longAccount: '0.6',
        shortAccount: '0.4',
        timestamp: 1583139900000,
      },
      {
        symbol: 'BTCUSDT',
        longShortRatio: '1',
        longAccount: '0.5',
        shortAccount: '0.5',
        timestamp: '1583139600000',
      },
    ];
    const [ev] = parser.parse(JSON.stringify(rows), 2, source(GLOBAL_ACCOUNT_RATIO_PATH)).events;
    expect(ev).toMatchObject({ accountsLongPct: 60, longShortTs: 1583139900000 });
    const [one] = parser.parse(JSON.stringify([rows[1]]), 2, source(TOP_POSITION_RATIO_PATH)).events;
    expect(one).toMatchObject({ topTradersLongPct: 50, longShortTs: 1583139600000 });
  });

  it('an empty body is no value, not 0; unfollowed symbols are ignored', () => {
    const parser = parserFor(BTC);
    const empty = parser.parse('[]', 3, source(GLOBAL_ACCOUNT_RATIO_PATH));
    expect(empty).toMatchObject({ events: [], control: 'ignored' });
    const eth = JSON.stringify([
      { symbol: 'ETHUSDT', longShortRatio: '1', longAccount: '0.5', shortAccount: '0.5', timestamp: '1' },
    ]);
    expect(parser.parse(eth, 3, source(GLOBAL_ACCOUNT_RATIO_PATH, 'ETHUSDT'))).toMatchObject({
      events: [],
      control: 'ignored',
    });
    const blank = JSON.stringify([{ symbol: 'BTCUSDT', longAccount: '', timestamp: '1' }]);
    expect(parser.parse(blank, 3, source(TOP_POSITION_RATIO_PATH)).events).toEqual([]);
  });

  it('reports an error body as a venue error and rejects bodies Binance does not send', () => {
    const parser = parserFor(BTC);
    expect(
      parser.parse('{"code":-1121,"msg":"Invalid symbol."}', 0, source(GLOBAL_ACCOUNT_RATIO_PATH, 'X')),
    ).toMatchObject({ control: 'error', detail: 'code -1121: Invalid symbol.' });
    for (const bad of [
      '{"symbol":"BTCUSDT"}',
      '[{"longAccount":"0.5","timestamp":"1"}]',
      '[{"symbol":"BTCUSDT","longAccount":"0.5"}]',
      '[{"symbol":"BTCUSDT","longAccount":"x","timestamp":"1"}]',
      '[{"symbol":"BTCUSDT","longAccount":"1.96","timestamp":"1"}]',
      '[{"symbol":"BTCUSDT","longAccount":"0.5","timestamp":"later"}]',
    ]) {
      expect(() => parser.parse(bad, 0, source(TOP_POSITION_RATIO_PATH)), bad).toThrow(FrameError);
    }
  });
});
