/**
 * Bybit `allLiquidation.{symbol}`: the parser on the documented push and two real 2026 pushes
 * (sources in test/fixtures/bybit/README.md), the side convention, several entries per push,
 * malformed entries, de-duplication, and the subscribe messages within the args limit.
 */
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import type { MarketEvent } from '../../../src/domain/types.js';
import { FrameError } from '../../../src/streams/core/adapter.js';
import { parseFrame } from '../../../src/streams/core/parse.js';
import {
  BYBIT_ARGS_CHARS_PER_CONNECTION,
  BYBIT_ARGS_PER_MESSAGE,
  BYBIT_MAX_INSTRUMENTS_PER_CONNECTION,
  createBybitAdapter,
} from '../../../src/streams/venues/bybit.js';
import { BYBIT_LIQUIDATION_MEMORY, SeenLiquidations } from '../../../src/streams/venues/bybit-liquidation.js';

const fixture = (name: string) =>
  readFileSync(new URL(`../../fixtures/bybit/${name}`, import.meta.url), 'utf8');
const lines = (name: string) => fixture(name).trim().split('\n');
const parser = () => createBybitAdapter().createParser();

/** A push of `entries` on `instrument`'s topic. */
function push(instrument: string, entries: readonly unknown[], ts = 1_789_670_094_412): string {
  return JSON.stringify({ topic: `allLiquidation.${instrument}`, type: 'snapshot', ts, data: entries });
}
const entry = (o: Partial<Record<'T' | 's' | 'S' | 'v' | 'p', unknown>> = {}) => ({
  T: 1_789_670_094_099,
  s: 'ICPUSDT',
  S: 'Buy',
  v: '19.7',
  p: '2.585',
  ...o,
});

describe('bybit allLiquidation parser', () => {
  it('reads the documented push: one event of the instrument, the push ts as event time, T per liquidation', () => {
    const res = parser().parse(fixture('all-liquidation-doc.json'), 1_739_502_303_300);
    expect(res.events).toEqual([
      {
        type: 'market',
        venue: 'bybit',
        symbol: 'ROSE',
        instrument: 'ROSEUSDT',
        eventTs: 1_739_502_303_204,
        receiveTs: 1_739_502_303_300,
        // "S": "Sell": a short position was liquidated; v = 20000 ROSE at bankruptcy price 0.04499
        liquidations: [{ side: 'short', base: 20_000, usd: 20_000 * 0.04499, ts: 1_739_502_302_929 }],
      },
    ] satisfies MarketEvent[]);
  });

  it('reads the two real 2026-09-18 pushes, one per side, with USD = v × p', () => {
    const p = parser();
    const [buy, sell] = lines('all-liquidation-real-2026-09-18.ndjson');
    const [icp] = p.parse(buy!, 1).events;
    expect(icp).toMatchObject({ symbol: 'ICP', instrument: 'ICPUSDT', eventTs: 1_789_670_094_412 });
    expect(icp!.liquidations).toEqual([
      { side: 'long', base: 19.7, usd: 19.7 * 2.585, ts: 1_789_670_094_099 },
    ]);
    const [mars] = p.parse(sell!, 2).events;
    expect(mars).toMatchObject({
      symbol: 'MARSCOIN',
      instrument: 'MARSCOINUSDT',
      eventTs: 1_789_670_278_264,
    });
    expect(mars!.liquidations).toEqual([
      { side: 'short', base: 2380, usd: 2380 * 0.12734, ts: 1_789_670_278_053 },
    ]);
    // A liquidation push carries nothing of the ticker.
    for (const key of ['markPrice', 'oiBase', 'fundingRate', 'accountsLongPct'] as const)
      expect(icp).not.toHaveProperty(key);
  });

  it('side convention: S "Buy" is a LONG liquidated, "Sell" a SHORT (docs: "When you receive a Buy update, this means that a long position has been liquidated")', () => {
    // The opposite of Binance, whose S is the order side (SELL closes a long): a shared
    // "Buy means X" rule would invert one of the two venues.
    const sideOf = (S: string) =>
      parser().parse(push('ICPUSDT', [entry({ S })]), 0).events[0]!.liquidations![0]!.side;
    expect(sideOf('Buy')).toBe('long');
    expect(sideOf('Sell')).toBe('short');
    // the real capture whose Buy printed below the bid 21 of 21 times
    const [realBuy] = lines('all-liquidation-real-2026-09-18.ndjson');
    expect(parser().parse(realBuy!, 0).events[0]!.liquidations![0]!.side).toBe('long');
  });

  it('several entries in one push: one event carrying all of them, in order, identical ones kept', () => {
    const entries = [
      entry({ T: 1000, S: 'Buy', v: '1', p: '10' }),
      entry({ T: 1001, S: 'Sell', v: '2', p: '11' }),
      // the same millisecond, size and price as the next one: two orders, both counted
      entry({ T: 1002, S: 'Buy', v: '3', p: '12' }),
      entry({ T: 1002, S: 'Buy', v: '3', p: '12' }),
    ];
    const { events } = parser().parse(push('ICPUSDT', entries, 1500), 1600);
    expect(events).toHaveLength(1);
    expect(events[0]!.eventTs).toBe(1500);
    expect(events[0]!.liquidations).toEqual([
      { side: 'long', base: 1, usd: 10, ts: 1000 },
      { side: 'short', base: 2, usd: 22, ts: 1001 },
      { side: 'long', base: 3, usd: 36, ts: 1002 },
      { side: 'long', base: 3, usd: 36, ts: 1002 },
    ]);
  });

  it('a malformed entry makes the whole frame malformed: FrameError naming the field, counted by parseFrame', () => {
    const cases: [string, string][] = [
      [push('ICPUSDT', [entry(), entry({ S: 'Long' })]), 'S'],
      [push('ICPUSDT', [entry({ S: 'buy' })]), 'S'],
      [push('ICPUSDT', [entry({ v: 'abc' })]), 'v'],
      [push('ICPUSDT', [entry({ v: '0' })]), 'v'],
      [push('ICPUSDT', [entry({ p: '' })]), 'p'],
      [push('ICPUSDT', [entry({ p: '-1' })]), 'p'],
      [push('ICPUSDT', [entry({ T: undefined })]), 'T'],
      [push('ICPUSDT', [entry({ s: 'ETHUSDT' })]), 's'],
      [push('ICPUSDT', ['x']), 'data'],
      ['{"topic":"allLiquidation.ICPUSDT","type":"snapshot","ts":1,"data":{}}', 'data'],
      ['{"topic":"allLiquidation.ICPUSDT","type":"delta","ts":1,"data":[]}', 'type'],
    ];
    for (const [frame, field] of cases) {
      const p = parser();
      let thrown: unknown;
      try {
        p.parse(frame, 0);
      } catch (err) {
        thrown = err;
      }
      expect(thrown, frame).toBeInstanceOf(FrameError);
      expect((thrown as FrameError).field, frame).toBe(field);
      const outcome = parseFrame(p, frame, 0);
      expect(outcome.kind, frame).toBe('error');
    }
  });

  it('a malformed push leaves nothing remembered: its good entries still count when they come again', () => {
    const p = parser();
    const good = entry({ T: 5 });
    expect(() => p.parse(push('ICPUSDT', [good, entry({ v: 'x' })]), 0)).toThrow(FrameError);
    expect(p.parse(push('ICPUSDT', [good]), 0).events[0]!.liquidations).toHaveLength(1);
  });

  it('drops an entry repeated by a later push, even after a reconnect (reset), and keeps the new ones', () => {
    const p = parser();
    const a = entry({ T: 1, v: '1' });
    const b = entry({ T: 2, v: '2' });
    expect(p.parse(push('ICPUSDT', [a]), 0).events[0]!.liquidations).toHaveLength(1);
    expect(p.parse(push('ICPUSDT', [a]), 0)).toMatchObject({ events: [], control: 'ignored' });
    // A resubscribe after a reconnect may replay what was delivered before it.
    p.reset();
    const res = p.parse(push('ICPUSDT', [a, b]), 0);
    expect(res.events[0]!.liquidations!.map((l) => l.ts)).toEqual([2]);
    // Same T, S, v, p on another symbol is another liquidation.
    const other = p.parse(push('ETHUSDT', [{ ...a, s: 'ETHUSDT' }]), 0);
    expect(other.events[0]!.liquidations).toHaveLength(1);
    // An empty push is nothing to report.
    expect(p.parse(push('ICPUSDT', []), 0)).toMatchObject({ events: [], control: 'ignored' });
  });

  it('remembers a bounded number of entries, forgetting the oldest first', () => {
    const seen = new SeenLiquidations(3);
    for (const k of ['a', 'b', 'c', 'd']) seen.add(k);
    expect(seen.size).toBe(3);
    expect(seen.has('a')).toBe(false);
    expect(['b', 'c', 'd'].every((k) => seen.has(k))).toBe(true);
  });

  it('a connection remembers its last 2,000 entries: a replay of 8 a symbol on 250 symbols, not one more', () => {
    expect(BYBIT_LIQUIDATION_MEMORY).toBe(2_000);
    const p = parser();
    const symbols = Array.from({ length: BYBIT_MAX_INSTRUMENTS_PER_CONNECTION }, (_, i) => `S${i}USDT`);
    const pushes = symbols.map((s, i) =>
      push(
        s,
        Array.from({ length: 8 }, (_, j) => entry({ s, T: 1_789_670_094_099 + i * 8 + j })),
      ),
    );
    let delivered = 0;
    for (const frame of pushes) delivered += p.parse(frame, 0).events[0]!.liquidations!.length;
    expect(delivered).toBe(2_000);
    // reconnect and resubscribe: a replay of everything the connection delivered is all dropped
    p.reset();
    for (const frame of pushes) expect(p.parse(frame, 0)).toMatchObject({ events: [], control: 'ignored' });
    // one entry more and the oldest is forgotten: a replay of it would count again
    p.parse(push('ICPUSDT', [entry({ T: 1 })]), 0);
    expect(p.parse(pushes[0]!, 0).events[0]!.liquidations).toHaveLength(1);
  });

  it('liquidation pushes never touch the tickers state', () => {
    const p = parser();
    const [, snapshot, delta] = lines('real-2026-08-13.ndjson');
    const [liquidationPush] = lines('all-liquidation-real-2026-09-18.ndjson');
    // Before a snapshot, a delta is still ignored after a liquidation push.
    p.parse(push('BTCUSDT', [entry({ s: 'BTCUSDT' })]), 0);
    expect(p.parse(delta!, 0)).toMatchObject({ events: [], control: 'ignored' });
    p.parse(snapshot!, 0);
    p.parse(liquidationPush!, 0);
    p.parse(push('BTCUSDT', [entry({ s: 'BTCUSDT', T: 9 })]), 0);
    const [merged] = p.parse(delta!, 0).events;
    expect(merged).toMatchObject({ indexPrice: 63585.74, oiBase: 29986.128, markPrice: 63560.8 });
    expect(merged).not.toHaveProperty('liquidations');
  });

  it('does not read the deprecated liquidation.{symbol} topic', () => {
    const old = JSON.stringify({
      topic: 'liquidation.BTCUSDT',
      type: 'snapshot',
      ts: 1,
      data: { updatedTime: 1, symbol: 'BTCUSDT', side: 'Sell', size: '1', price: '1' },
    });
    expect(parser().parse(old, 0)).toMatchObject({ events: [], control: 'ignored' });
  });
});

describe('bybit subscriptions with allLiquidation', () => {
  it('subscribes and unsubscribes both topics of each instrument together, at most 10 args a message', () => {
    const adapter = createBybitAdapter();
    const instruments = Array.from({ length: 12 }, (_, i) => `C${i}USDT`);
    const topics = instruments.flatMap((s) => [`tickers.${s}`, `allLiquidation.${s}`]);
    for (const op of ['subscribe', 'unsubscribe'] as const) {
      const messages = (op === 'subscribe' ? adapter.subscribeMessages : adapter.unsubscribeMessages)(
        instruments,
      ).map((m) => JSON.parse(m));
      expect(messages.map((m) => m.args.length)).toEqual([10, 10, 4]);
      expect(messages.flatMap((m) => m.args)).toEqual(topics);
      expect(messages.every((m) => m.op === op && typeof m.req_id === 'string')).toBe(true);
    }
    expect(adapter.subscribeMessages([])).toEqual([]);
    expect(adapter.subscribeMessages(['BTCUSDT'])).toEqual([
      '{"req_id":"subscribe-0","op":"subscribe","args":["tickers.BTCUSDT","allLiquidation.BTCUSDT"]}',
    ]);
  });

  it('a full connection of the longest real names stays inside 21,000 args characters', () => {
    const adapter = createBybitAdapter();
    expect(adapter.maxInstrumentsPerConnection).toBe(BYBIT_MAX_INSTRUMENTS_PER_CONNECTION);
    // 1000000BABYDOGEUSDT (19 characters) is the longest linear name we know of (it is the
    // example of Bybit's own instruments-info docs); the rest are padded to the same length.
    const longest = '1000000BABYDOGEUSDT';
    const names = [
      longest,
      ...Array.from(
        { length: adapter.maxInstrumentsPerConnection - 1 },
        (_, i) => `Z${String(i).padStart(3, '0')}000BABYDOGEUSDT`,
      ),
    ];
    expect(new Set(names).size).toBe(adapter.maxInstrumentsPerConnection);
    expect(names.every((n) => n.length === longest.length)).toBe(true);
    const messages = adapter.subscribeMessages(names).map((m) => JSON.parse(m) as { args: string[] });
    expect(Math.max(...messages.map((m) => m.args.length))).toBeLessThanOrEqual(BYBIT_ARGS_PER_MESSAGE);
    const args = messages.flatMap((m) => m.args);
    expect(args).toHaveLength(2 * names.length);
    // The strictest reading: the whole args array of the connection as JSON text.
    const chars = JSON.stringify(args).length;
    expect(chars).toBe(16_750 + 1);
    expect(chars).toBeLessThanOrEqual(BYBIT_ARGS_CHARS_PER_CONNECTION);
    // The old cap of 500 instruments would not fit with two topics each.
    expect(JSON.stringify([...args, ...args]).length).toBeGreaterThan(BYBIT_ARGS_CHARS_PER_CONNECTION);
    // Names of up to 27 characters would still fit at this cap.
    const perInstrument = (len: number) => 2 * len + 23 + 6;
    expect(adapter.maxInstrumentsPerConnection * perInstrument(27) + 1).toBeLessThanOrEqual(
      BYBIT_ARGS_CHARS_PER_CONNECTION,
    );
  });
});
