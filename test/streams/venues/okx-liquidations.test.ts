import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import type { Liquidation, MarketEvent } from '../../../src/domain/types.js';
import { FrameError } from '../../../src/streams/core/adapter.js';
import type { UniverseEntry } from '../../../src/streams/core/universe.js';
import { createOkxAdapter } from '../../../src/streams/venues/okx.js';
import {
  contractValueFromOi,
  OKX_LIQUIDATION_MARGIN_MS,
  okxLiquidationSide,
  SEEN_ORDERS_MAX,
} from '../../../src/streams/venues/okx-liquidations.js';

const fixture = (name: string) =>
  readFileSync(new URL(`../../fixtures/okx/${name}`, import.meta.url), 'utf8')
    .trim()
    .split('\n');

const [ACK, DOC, REAL_2026, CCXT_LONG, CCXT_BTC] = fixture('liquidations.ndjson') as [
  string,
  string,
  string,
  string,
  string,
];

const entry = (symbol: string, contractValueBase?: number): UniverseEntry => ({
  symbol,
  instrument: `${symbol}-USDT-SWAP`,
  ...(contractValueBase !== undefined ? { contractValueBase } : {}),
});

/** A universe of the fixtures' instruments, contract values as the test states them. */
const UNIVERSE: readonly UniverseEntry[] = [
  entry('BTC', 0.01),
  entry('ETH', 0.1),
  entry('IOST', 1000),
  entry('CNPY', 10),
  entry('APT', 1),
];

/** `null`: no universe, as in a replay. */
function setup(universe: readonly UniverseEntry[] | null = UNIVERSE) {
  const adapter = createOkxAdapter(universe ? { universe: () => universe } : {});
  return { adapter, parser: adapter.createParser() };
}

/** A one-element push of `instId` with the given details (strings as OKX sends them). */
function push(instId: string, details: Record<string, string>[]): string {
  const family = instId.replace(/-SWAP$/, '');
  return JSON.stringify({
    arg: { channel: 'liquidation-orders', instType: 'SWAP' },
    data: [{ details, instFamily: family, instId, instType: 'SWAP', uly: family }],
  });
}

const detail = (o: Partial<Record<'posSide' | 'side' | 'sz' | 'bkPx' | 'ts', string>>) => ({
  bkLoss: '0',
  bkPx: o.bkPx ?? '100',
  ccy: '',
  posSide: o.posSide ?? 'long',
  side: o.side ?? 'sell',
  sz: o.sz ?? '1',
  ts: o.ts ?? '1789669898955',
});

const liquidationsOf = (events: readonly MarketEvent[]): Liquidation[] =>
  events.flatMap((e) => e.liquidations ?? []);

describe('okx liquidation-orders: documented and real frames', () => {
  it('the documented push: a short (posSide short, side buy), sz in contracts × ctVal, USD at bkPx', () => {
    const { parser } = setup();
    expect(parser.parse(DOC, 1692266434100)).toEqual({
      events: [
        {
          type: 'market',
          venue: 'okx',
          symbol: 'IOST',
          instrument: 'IOST-USDT-SWAP',
          eventTs: 1692266434010,
          receiveTs: 1692266434100,
          // 13 contracts × 1000 IOST (this test's ctVal) = 13 000 IOST at 0.007831
          liquidations: [{ side: 'short', base: 13_000, usd: 13_000 * 0.007831, ts: 1692266434010 }],
        } satisfies MarketEvent,
      ],
    });
  });

  it('the real 2026 frame and the ccxt long-side frames', () => {
    const { parser } = setup();
    expect(liquidationsOf(parser.parse(REAL_2026, 1789669899000).events)).toEqual([
      { side: 'short', base: 21_370, usd: 21_370 * 0.4162, ts: 1789669898955 },
    ]);
    const [apt] = parser.parse(CCXT_LONG, 1723904954100).events;
    expect(apt).toMatchObject({ symbol: 'APT', instrument: 'APT-USDT-SWAP', eventTs: 1723904954052 });
    expect(apt?.liquidations).toEqual([{ side: 'long', base: 86, usd: 86 * 5.761, ts: 1723904954052 }]);
    // 10 000 BTC-USDT-SWAP contracts are 100 BTC
    expect(liquidationsOf(parser.parse(CCXT_BTC, 1723038123000).events)).toEqual([
      { side: 'long', base: 100, usd: 100 * 57102.9, ts: 1723038122631 },
    ]);
  });

  it('contract size: BTC-USDT-SWAP 2137 contracts × 0.01 = 21.37 BTC, never 2137 BTC', () => {
    const { parser } = setup();
    const btc = REAL_2026.replaceAll('CNPY-USDT', 'BTC-USDT').replace('"0.4162"', '"60000"');
    const [liq] = liquidationsOf(parser.parse(btc, 1789669899000).events);
    expect(liq?.base).toBe(21.37);
    expect(liq?.usd).toBeCloseTo(21.37 * 60_000, 6);
    expect(liq?.base).not.toBe(2137);
    // 3 ETH-USDT-SWAP contracts × 0.1 are 0.3 ETH exactly (not 0.30000000000000004)
    const eth = push('ETH-USDT-SWAP', [detail({ sz: '3' })]);
    expect(liquidationsOf(parser.parse(eth, 1).events)[0]?.base).toBe(0.3);
  });
});

describe('okx liquidation-orders: sides, followed instruments, order', () => {
  it('net mode both ways: side sell closed a long, buy a short; hedge mode reads posSide', () => {
    expect(okxLiquidationSide('net', 'sell')).toBe('long');
    expect(okxLiquidationSide('net', 'buy')).toBe('short');
    expect(okxLiquidationSide('long', 'sell')).toBe('long');
    expect(okxLiquidationSide('short', 'buy')).toBe('short');
    expect(okxLiquidationSide('net', '')).toBeUndefined();
    expect(okxLiquidationSide('', 'sell')).toBeUndefined();
    const { adapter, parser } = setup();
    const frame = push('BTC-USDT-SWAP', [
      detail({ posSide: 'net', side: 'sell', ts: '1000' }),
      detail({ posSide: 'net', side: 'buy', ts: '2000' }),
      detail({ posSide: 'both', side: 'buy', ts: '3000' }),
    ]);
    expect(liquidationsOf(parser.parse(frame, 5000).events).map((l) => [l.side, l.ts])).toEqual([
      ['long', 1000],
      ['short', 2000],
    ]);
    expect(adapter.liquidations.counters.unknownSide).toBe(1);
  });

  it('skips inverse, USDC and unfollowed swaps, and counts them', () => {
    const { adapter, parser } = setup([entry('BTC', 0.01)]);
    const frame = JSON.stringify({
      arg: { channel: 'liquidation-orders', instType: 'SWAP' },
      data: ['BTC-USD-SWAP', 'BTC-USDC-SWAP', 'ETH-USDT-SWAP', 'BTC-USDT-SWAP'].map((instId) => ({
        details: [detail({ sz: '100' })],
        instFamily: instId.replace(/-SWAP$/, ''),
        instId,
        instType: 'SWAP',
        uly: instId.replace(/-SWAP$/, ''),
      })),
    });
    const { events } = parser.parse(frame, 1);
    expect(events.map((e) => e.instrument)).toEqual(['BTC-USDT-SWAP']);
    expect(liquidationsOf(events)).toEqual([{ side: 'long', base: 1, usd: 100, ts: 1789669898955 }]);
    expect(adapter.liquidations.counters).toMatchObject({ counted: 1, unfollowed: 3 });
    // nothing followed in a push: no event, an ignored frame
    expect(parser.parse(push('ETH-USDT-SWAP', [detail({})]), 2)).toMatchObject({
      events: [],
      control: 'ignored',
    });
  });

  it('puts every detail at its own ts, however the pushes and details are ordered', () => {
    const { parser } = setup();
    const frame = push('BTC-USDT-SWAP', [
      detail({ ts: '1789669898000', sz: '1' }),
      detail({ ts: '1789669896000', sz: '2' }),
      detail({ ts: '1789669897000', sz: '3' }),
    ]);
    const [ev] = parser.parse(frame, 1789669899000).events;
    expect(ev?.liquidations?.map((l) => [l.ts, l.base])).toEqual([
      [1789669898000, 0.01],
      [1789669896000, 0.02],
      [1789669897000, 0.03],
    ]);
    // the event's time is the newest detail's; an older push arriving later keeps its own times
    expect(ev?.eventTs).toBe(1789669898000);
    const [late] = parser.parse(
      push('BTC-USDT-SWAP', [detail({ ts: '1789669890000' })]),
      1789669899500,
    ).events;
    expect(late).toMatchObject({ eventTs: 1789669890000, receiveTs: 1789669899500 });
    expect(late?.liquidations?.[0]?.ts).toBe(1789669890000);
  });
});

describe('okx liquidation-orders: several connections, subscription time, contract values', () => {
  it('an order pushed to two connections is counted once; another adapter counts its own', () => {
    const { adapter } = setup();
    const [a, b] = [adapter.createParser(), adapter.createParser()];
    expect(a.parse(ACK, 1)).toEqual({ events: [], control: 'ack' });
    b.parse(ACK, 1);
    expect(liquidationsOf(a.parse(CCXT_BTC, 1723038123000).events)).toHaveLength(1);
    expect(b.parse(CCXT_BTC, 1723038123001)).toMatchObject({ events: [], control: 'ignored' });
    // the same detail twice in one push is one order too
    const twice = push('BTC-USDT-SWAP', [detail({ ts: '1723038124000' }), detail({ ts: '1723038124000' })]);
    expect(liquidationsOf(b.parse(twice, 1723038124100).events)).toHaveLength(1);
    expect(adapter.liquidations.counters).toMatchObject({ counted: 2, duplicates: 2 });
    // a reconnect (reset) does not forget what was taken
    a.reset();
    expect(a.parse(CCXT_BTC, 1723038125000).events).toEqual([]);
    const other = setup().parser;
    expect(liquidationsOf(other.parse(CCXT_BTC, 1723038123000).events)).toHaveLength(1);
  });

  it('remembers 5 s of 400 followed contracts at the cap of one order a second: a reconnect repeating them counts none', () => {
    expect(SEEN_ORDERS_MAX).toBe(2_000);
    const contracts = Array.from({ length: 400 }, (_, i) => entry(`C${i}`, 1));
    const adapter = createOkxAdapter({ universe: () => contracts });
    const [live, reconnecting] = [adapter.createParser(), adapter.createParser()];
    const t0 = 1_789_669_900_000;
    live.parse(ACK, t0 - 60_000);
    reconnecting.parse(ACK, t0 - 60_000);
    /** One push of every contract's order of second `sec`. */
    const second = (sec: number) =>
      JSON.stringify({
        arg: { channel: 'liquidation-orders', instType: 'SWAP' },
        data: contracts.map(({ instrument }, i) => ({
          details: [detail({ ts: String(t0 + sec * 1000 + i) })],
          instId: instrument,
          instType: 'SWAP',
        })),
      });
    const pushes = [0, 1, 2, 3, 4].map(second);
    for (const frame of pushes) expect(liquidationsOf(live.parse(frame, t0).events)).toHaveLength(400);
    // the other connection drops and resubscribes; its first push repeats the last 5 s (the cutoff is t0)
    reconnecting.reset();
    reconnecting.parse(ACK, t0 + OKX_LIQUIDATION_MARGIN_MS);
    for (const frame of pushes) expect(reconnecting.parse(frame, t0 + 5_000).events).toEqual([]);
    expect(adapter.liquidations.counters).toMatchObject({ counted: 2_000, duplicates: 2_000 });
    // not one more: a new order forgets the oldest, and a repeat of it counts again
    live.parse(push('C0-USDT-SWAP', [detail({ ts: String(t0 + 5_000) })]), t0 + 5_000);
    const oldest = push('C0-USDT-SWAP', [detail({ ts: String(t0) })]);
    expect(liquidationsOf(reconnecting.parse(oldest, t0 + 5_001).events)).toHaveLength(1);
  });

  it('drops details older than the subscription (less the margin): the first push may repeat old orders', () => {
    const { adapter, parser } = setup();
    const subscribedAt = 1_789_669_900_000;
    parser.parse(ACK, subscribedAt);
    const old = push('BTC-USDT-SWAP', [
      detail({ ts: String(subscribedAt - 60_000) }),
      detail({ ts: String(subscribedAt - OKX_LIQUIDATION_MARGIN_MS + 1000) }),
    ]);
    expect(liquidationsOf(parser.parse(old, subscribedAt + 50).events).map((l) => l.ts)).toEqual([
      subscribedAt - OKX_LIQUIDATION_MARGIN_MS + 1000,
    ]);
    expect(adapter.liquidations.counters.beforeSubscription).toBe(1);
    // After a reset (reconnect) and before the next ack there is no cutoff.
    parser.reset();
    const older = push('BTC-USDT-SWAP', [detail({ ts: String(subscribedAt - 120_000) })]);
    expect(liquidationsOf(parser.parse(older, subscribedAt + 60).events)).toHaveLength(1);
  });

  it('maps the subscription into venue time when the venue clock differs (a simulator in the past)', () => {
    const { adapter, parser } = setup();
    const receiveTs = 1_800_000_000_000;
    const venueTs = receiveTs - 86_400_000;
    // a mark-price push tells the offset; the ack then means "subscribed at venueTs"
    const mark = `{"arg":{"channel":"mark-price","instId":"BTC-USDT-SWAP"},"data":[{"instId":"BTC-USDT-SWAP","instType":"SWAP","markPx":"60000","ts":"${venueTs}"}]}`;
    parser.parse(mark, receiveTs);
    parser.parse(ACK, receiveTs + 10);
    const frame = push('BTC-USDT-SWAP', [
      detail({ ts: String(venueTs + 500) }),
      detail({ ts: String(venueTs - 30_000) }),
    ]);
    expect(liquidationsOf(parser.parse(frame, receiveTs + 600).events).map((l) => l.ts)).toEqual([
      venueTs + 500,
    ]);
    expect(adapter.liquidations.counters).toMatchObject({ counted: 1, beforeSubscription: 1 });
  });

  it('without a universe: follows what its channels carried and learns ctVal from open-interest (oiCcy / oi)', () => {
    const { adapter, parser } = setup(null);
    const eth = push('ETH-USDT-SWAP', [detail({ sz: '30', bkPx: '2700', ts: '1790165111000' })]);
    // not seen on any channel yet: not followed
    expect(parser.parse(eth, 1).events).toEqual([]);
    expect(adapter.liquidations.counters.unfollowed).toBe(1);
    // followed (a mark-price push) but no contract value yet: skipped and counted, not guessed
    const mark = `{"arg":{"channel":"mark-price","instId":"ETH-USDT-SWAP"},"data":[{"instId":"ETH-USDT-SWAP","instType":"SWAP","markPx":"2700","ts":"1790165111100"}]}`;
    parser.parse(mark, 2);
    expect(parser.parse(eth.replace('1790165111000', '1790165111001'), 3).events).toEqual([]);
    expect(adapter.liquidations.counters.unvalued).toBe(1);
    // the real 2026 open-interest push: 638584.898 / 6385848.98 = 0.1 ETH per contract
    const [oi] = fixture('real-2026.ndjson');
    parser.parse(oi!, 4);
    expect(
      liquidationsOf(adapter.createParser().parse(eth.replace('1790165111000', '1790165111002'), 5).events),
    ).toEqual([{ side: 'long', base: 3, usd: 3 * 2700, ts: 1790165111002 }]);
    expect(contractValueFromOi(6385848.98, 638584.898)).toBe(0.1);
    expect(contractValueFromOi(Number('2216113.01000000309'), Number('22161.1301000000309'))).toBe(0.01);
    expect(contractValueFromOi(644195, 644195)).toBe(1);
    expect(contractValueFromOi(0, 0)).toBeUndefined();
  });

  it('the universe ctVal wins over a learned one', () => {
    const { parser } = setup([entry('ETH', 0.1)]);
    parser.parse(
      '{"arg":{"channel":"open-interest","instId":"ETH-USDT-SWAP"},"data":[{"instId":"ETH-USDT-SWAP","instType":"SWAP","oi":"100","oiCcy":"1000","ts":"1"}]}',
      1,
    );
    expect(
      liquidationsOf(parser.parse(push('ETH-USDT-SWAP', [detail({ sz: '10' })]), 2).events)[0]?.base,
    ).toBe(1);
  });

  it('a detail OKX does not send is a malformed frame', () => {
    const { parser } = setup();
    for (const bad of [
      push('BTC-USDT-SWAP', [{ ...detail({}), sz: 'x' }]),
      push('BTC-USDT-SWAP', [{ ...detail({}), ts: '' }]),
      '{"arg":{"channel":"liquidation-orders","instType":"SWAP"},"data":[{"instId":"BTC-USDT-SWAP","details":{}}]}',
      '{"arg":{"channel":"liquidation-orders","instType":"SWAP"},"data":{}}',
      '{"arg":{"channel":"liquidation-orders","instType":"SWAP"},"data":[{"details":[]}]}',
    ]) {
      expect(() => parser.parse(bad, 1), bad).toThrow(FrameError);
    }
  });
});
