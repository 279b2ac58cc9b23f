import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import type { MarketEvent } from '../../../src/domain/types.js';
import { FrameError } from '../../../src/streams/core/adapter.js';
import { createBybitAdapter } from '../../../src/streams/venues/bybit.js';

const fixture = (name: string) =>
  readFileSync(new URL(`../../fixtures/bybit/${name}`, import.meta.url), 'utf8')
    .trim()
    .split('\n');

describe('bybit tickers parser', () => {
  it('reads the real 2026 snapshot: single-side OI, funding per 8h, event time from ts', () => {
    const parser = createBybitAdapter().createParser();
    const [ack, snapshot, delta, pong] = fixture('real-2026-08-13.ndjson');
    expect(parser.parse(ack!, 1).control).toBe('ack');
    const [ev] = parser.parse(snapshot!, 1786659827700).events;
    expect(ev).toEqual({
      type: 'market',
      venue: 'bybit',
      symbol: 'BTC',
      instrument: 'BTCUSDT',
      eventTs: 1786659827683,
      receiveTs: 1786659827700,
      markPrice: 63560.8,
      lastPrice: 63561.6,
      indexPrice: 63585.51,
      oiBase: 29986.128,
      oiUsd: 1905942284.58,
      fundingRate: 0.00005013,
      fundingIntervalHours: 8,
      nextFundingTs: 1786665600000,
      // "fundingCap":"0.005" bounds the rate both ways
      fundingRateCap: 0.005,
      fundingRateFloor: -0.005,
      turnover24hUsd: 3515096831.964,
    } satisfies MarketEvent);
    const [merged] = parser.parse(delta!, 1786659828000).events;
    expect(merged).toMatchObject({
      indexPrice: 63585.74,
      oiBase: 29986.128,
      fundingRate: 0.00005013,
      eventTs: 1786659827983,
    });
    expect(parser.parse(pong!, 2)).toEqual({ events: [], control: 'pong' });
  });

  it('keeps OI and funding across a delta that omits them (https://github.com/ccxt/ccxt/issues/21451), halving the two-sided OI', () => {
    const parser = createBybitAdapter({ fundingIntervalHours: new Map([['NKNUSDT', 4]]) }).createParser();
    const [snapshot, delta] = fixture('ccxt-21450-21451.ndjson');
    parser.parse(snapshot!, 0);
    const [ev] = parser.parse(delta!, 0).events;
    expect(ev?.symbol).toBe('NKN');
    expect(ev?.oiBase).toBe(12675990 / 2);
    expect(ev?.oiUsd).toBe(1767793.57 / 2);
    expect(ev?.fundingRate).toBe(0.00137968);
    // no fundingIntervalHour in 2024 frames: the interval comes from instruments-info
    expect(ev?.fundingIntervalHours).toBe(4);
    expect(ev?.markPrice).toBe(0.13946);
  });

  it('treats "" as no value, never as zero', () => {
    const parser = createBybitAdapter().createParser();
    const frame = JSON.parse(fixture('doc-snapshot.json')[0]!);
    frame.data.fundingRate = '';
    const [ev] = parser.parse(JSON.stringify(frame), 0).events;
    expect(ev).not.toHaveProperty('fundingRate');
    expect(ev?.fundingRate).toBeUndefined();
    expect(ev?.oiBase).toBe(492373.72 / 2);
  });

  it('ignores a delta before any snapshot and stale sequence numbers', () => {
    const parser = createBybitAdapter().createParser();
    const [snapshot, delta] = fixture('real-2026-08-13.ndjson').slice(1, 3);
    expect(parser.parse(delta!, 0)).toMatchObject({ events: [], control: 'ignored' });
    parser.parse(snapshot!, 0);
    expect(parser.parse(delta!, 0).events).toHaveLength(1);
    expect(parser.parse(delta!, 0)).toMatchObject({ events: [], control: 'ignored' });
    parser.reset();
    expect(parser.parse(delta!, 0).events).toHaveLength(0);
  });

  it('reports a rejected subscribe as a venue error', () => {
    const parser = createBybitAdapter().createParser();
    const res = parser.parse(
      '{"success":false,"ret_msg":"Invalid symbol :[tickers.XYZUSDT]","conn_id":"c","req_id":"","op":"subscribe"}',
      0,
    );
    expect(res.control).toBe('error');
    expect(res.detail).toContain('Invalid symbol');
  });

  it('throws FrameError for malformed frames', () => {
    const parser = createBybitAdapter().createParser();
    for (const bad of [
      '{"topic":"tickers.BTCUSDT","type":"delta","data":',
      '[]',
      '"pong"',
      '{"topic":"tickers.BTCUSDT","type":"weird","data":{}}',
      '{"topic":"tickers.BTCUSDT","type":"snapshot","data":{"markPrice":"abc"}}',
      '{"hello":1}',
    ]) {
      expect(() => parser.parse(bad, 0), bad).toThrow(FrameError);
    }
  });

  it('subscribes in messages of at most 10 topics and pings every 20 s', () => {
    const adapter = createBybitAdapter();
    const instruments = Array.from({ length: 23 }, (_, i) => `C${i}USDT`);
    const messages = adapter.subscribeMessages(instruments).map((m) => JSON.parse(m));
    // two topics per instrument (tickers and allLiquidation): 46 args
    expect(messages.map((m) => m.args.length)).toEqual([10, 10, 10, 10, 6]);
    expect(messages.flatMap((m) => m.args).filter((a) => a.startsWith('tickers.'))).toEqual(
      instruments.map((s) => `tickers.${s}`),
    );
    expect(messages.every((m) => m.op === 'subscribe')).toBe(true);
    expect(JSON.parse(adapter.heartbeat!.message)).toMatchObject({ op: 'ping' });
    expect(adapter.heartbeat!.intervalMs).toBe(20_000);
  });
});

describe('bybit parser state', () => {
  it('leaves the merged state untouched by a malformed delta', () => {
    const parser = createBybitAdapter().createParser();
    const [snapshot] = fixture('real-2026-08-13.ndjson').slice(1, 2);
    parser.parse(snapshot!, 0);
    const bad =
      '{"topic":"tickers.BTCUSDT","type":"delta","data":{"symbol":"BTCUSDT","markPrice":"1","fundingRate":"x"},"cs":764144450621,"ts":1786659828000}';
    expect(() => parser.parse(bad, 0)).toThrow(FrameError);
    const good =
      '{"topic":"tickers.BTCUSDT","type":"delta","data":{"symbol":"BTCUSDT","indexPrice":"1"},"cs":764144450622,"ts":1786659829000}';
    const [ev] = parser.parse(good, 0).events;
    expect(ev).toMatchObject({ markPrice: 63560.8, fundingRate: 0.00005013, indexPrice: 1 });
  });

  it('treats "" in a delta as the value going away', () => {
    const parser = createBybitAdapter().createParser();
    const [snapshot] = fixture('real-2026-08-13.ndjson').slice(1, 2);
    parser.parse(snapshot!, 0);
    const cleared =
      '{"topic":"tickers.BTCUSDT","type":"delta","data":{"symbol":"BTCUSDT","fundingRate":""},"cs":764144450623,"ts":1786659829000}';
    expect(parser.parse(cleared, 0).events[0]).not.toHaveProperty('fundingRate');
  });
});

/**
 * The docs do not say whether a delta carries `openInterest` and `singleOpenInterest` together.
 * Real snapshots since 2026-06-11 carry both (one is twice the other); the one real OI-bearing
 * delta on record (https://github.com/ccxt/ccxt/issues/21450, 2024) carries `openInterest` and `openInterestValue` only.
 */
describe('bybit open interest from either field', () => {
  const delta = (cs: number, data: Record<string, string>) =>
    JSON.stringify({
      topic: 'tickers.BTCUSDT',
      type: 'delta',
      data: { symbol: 'BTCUSDT', ...data },
      cs,
      ts: 1786659830000 + cs - 764144450700,
    });
  const afterRealSnapshot = () => {
    const parser = createBybitAdapter().createParser();
    parser.parse(fixture('real-2026-08-13.ndjson')[1]!, 0);
    return parser;
  };

  it('a delta with only openInterest (the shape of ccxt issue 21450) moves OI: the newest field wins', () => {
    const parser = afterRealSnapshot();
    const [ev] = parser.parse(
      delta(764144450701, { openInterest: '60100.000', openInterestValue: '3820000000.00' }),
      0,
    ).events;
    expect(ev?.oiBase).toBe(30050);
    expect(ev?.oiUsd).toBe(1910000000);
    // A later delta that omits OI keeps the newest value, not the snapshot's singleOpenInterest.
    const [kept] = parser.parse(delta(764144450702, { indexPrice: '63590.00' }), 0).events;
    expect(kept?.oiBase).toBe(30050);
    expect(kept?.oiUsd).toBe(1910000000);
  });

  it('a delta with only singleOpenInterest, after one with only openInterest, wins again', () => {
    const parser = afterRealSnapshot();
    parser.parse(delta(764144450701, { openInterest: '60100.000' }), 0);
    const [ev] = parser.parse(delta(764144450702, { singleOpenInterest: '30000.500' }), 0).events;
    expect(ev?.oiBase).toBe(30000.5);
    // the value pair is tracked on its own: nothing pushed it, so the snapshot's one-side value stands
    expect(ev?.oiUsd).toBe(1905942284.58);
  });

  it('a delta with both takes the one-side figure', () => {
    const parser = afterRealSnapshot();
    const [ev] = parser.parse(
      delta(764144450701, { openInterest: '60002.000', singleOpenInterest: '30001.000' }),
      0,
    ).events;
    expect(ev?.oiBase).toBe(30001);
  });

  it('a snapshot without singleOpenInterest (before 2026-06-11) halves openInterest, and deltas move it', () => {
    const parser = createBybitAdapter().createParser();
    const [snapshot] = fixture('ccxt-21450-21451.ndjson');
    parser.parse(snapshot!, 0);
    const oiDelta =
      '{"topic":"tickers.NKNUSDT","type":"delta","data":{"symbol":"NKNUSDT","openInterest":"12700000","openInterestValue":"1771000.00","ask1Price":"0.13942","ask1Size":"0.10"},"cs":93597554250,"ts":1709202841000}';
    const [ev] = parser.parse(oiDelta, 0).events;
    expect(ev?.oiBase).toBe(6350000);
    expect(ev?.oiUsd).toBe(885500);
  });
});
