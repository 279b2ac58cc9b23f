import { describe, expect, it } from 'vitest';
import {
  applyHistory,
  applyMarketEvent,
  createInstrumentState,
  markGap,
  toSnapshot,
} from '../../src/analytics/instrument.js';
import type { MarketEvent } from '../../src/domain/types.js';
import { btcEvent } from '../support/events.js';

const T0 = 1_700_000_000_000;
const MIN = 60_000;

const ev = (eventTs: number, fields: Partial<MarketEvent>) => btcEvent('bybit', eventTs, fields, 5);

function collectBadLeaves(value: unknown, path: string, out: string[]): string[] {
  if (value === undefined || (typeof value === 'number' && !Number.isFinite(value))) out.push(path);
  else if (value !== null && typeof value === 'object') {
    for (const [k, v] of Object.entries(value)) collectBadLeaves(v, `${path}.${k}`, out);
  }
  return out;
}

describe('instrument state', () => {
  it('starts with every value unknown, as null', () => {
    const snap = toSnapshot(createInstrumentState('bybit', 'BTC', 'BTCUSDT'));
    expect(snap).toStrictEqual({
      v: 1,
      venue: 'bybit',
      symbol: 'BTC',
      instrument: 'BTCUSDT',
      ts: 0,
      price: { mark: null, last: null, index: null },
      oi: { base: null, usd: null, delta15m: null, delta24h: null },
      funding: {
        rate: null,
        intervalHours: null,
        hourly: null,
        aprPct: null,
        nextFundingTime: null,
        rate8h: null,
        payer: 'none',
        pressure: null,
        annualCostUsdPer10kLong: null,
        msToNextFunding: null,
        hint: null,
        atBound: null,
      },
      turnover24hUsd: null,
      momentum: { priceChange15mPct: null, priceChange24hPct: null, oiAccel: null, state: null },
      control: { '15m': null, '24h': null },
      controlFundingAgrees: { '15m': null, '24h': null },
      activity: null,
      freshness: {
        priceTs: null,
        oiTs: null,
        fundingTs: null,
        maxInputAgeMs: null,
        stale: false,
        staleVenues: [],
      },
      // Nothing counted yet, and said so: never zeros presented as complete.
      liquidations: {
        '15m': { longUsd: 0, shortUsd: 0, longBase: 0, shortBase: 0, count: 0, oiShare: null, partial: true },
        '24h': { longUsd: 0, shortUsd: 0, longBase: 0, shortBase: 0, count: 0, oiShare: null, partial: true },
        coverage: 'complete',
      },
      longShort: null,
    });
    expect(JSON.parse(JSON.stringify(snap))).toStrictEqual(snap);
  });

  it('merges events: a field missing from a later event keeps its earlier value', () => {
    const s = createInstrumentState('bybit', 'BTC', 'BTCUSDT');
    const full = ev(T0, {
      markPrice: 85_000,
      lastPrice: 85_010,
      indexPrice: 84_990,
      oiBase: 50_000,
      fundingRate: 0.0001,
      fundingIntervalHours: 8,
      nextFundingTs: T0 + 3_600_000,
      turnover24hUsd: 1.5e9,
    });
    expect(applyMarketEvent(s, full)).toBe(true);
    expect(applyMarketEvent(s, ev(T0 + 1000, { markPrice: 85_200 }))).toBe(true);
    const snap = toSnapshot(s);
    expect(snap.ts).toBe(T0 + 1000);
    expect(snap.price).toStrictEqual({ mark: 85_200, last: 85_010, index: 84_990 });
    expect(snap.oi.base).toBe(50_000);
    expect(snap.oi.usd).toBe(50_000 * 85_200);
    expect(snap.funding.rate).toBe(0.0001);
    expect(snap.funding.intervalHours).toBe(8);
    expect(snap.funding.hourly).toBeCloseTo(0.0000125, 15);
    expect(snap.funding.aprPct).toBeCloseTo(10.95, 10);
    expect(snap.funding.nextFundingTime).toBe(T0 + 3_600_000);
    expect(snap.turnover24hUsd).toBe(1.5e9);
  });

  it('reports whether a held value changed, and never defaults absent fields to 0', () => {
    const s = createInstrumentState('bybit', 'BTC', 'BTCUSDT');
    expect(applyMarketEvent(s, ev(T0, { oiBase: 10 }))).toBe(true);
    expect(applyMarketEvent(s, ev(T0 + 1, { oiBase: 10 }))).toBe(false);
    expect(applyMarketEvent(s, ev(T0 + 2, {}))).toBe(false);
    expect(applyMarketEvent(s, ev(T0 + 3, { fundingRate: 0 }))).toBe(true);
    const snap = toSnapshot(s);
    expect(snap.ts).toBe(T0 + 3);
    expect(snap.funding.rate).toBe(0);
    expect(snap.price.mark).toBeNull();
    expect(snap.oi.usd).toBeNull();
    expect(snap.oi.delta15m).toBeNull();
  });

  it('ignores events for another instrument', () => {
    const s = createInstrumentState('bybit', 'BTC', 'BTCUSDT');
    expect(applyMarketEvent(s, ev(T0, { instrument: 'ETHUSDT', symbol: 'ETH', oiBase: 1 }))).toBe(false);
    expect(s.oiBase).toBeNull();
    expect(s.eventCount).toBe(0);
  });

  it('never moves time back: an older event applies at the latest time', () => {
    const s = createInstrumentState('bybit', 'BTC', 'BTCUSDT');
    applyMarketEvent(s, ev(T0, { oiBase: 100, markPrice: 10 }));
    applyMarketEvent(s, ev(T0 - 5_000, { oiBase: 120 }));
    expect(s.lastEventTs).toBe(T0);
    expect(s.outOfOrderCount).toBe(1);
    expect(s.oiBase).toBe(120);
    expect(s.window15m.lastTs).toBe(T0);
    expect(s.window15m.clampedCount).toBe(0);
  });

  it('computes the 15-minute and 24-hour deltas at the last event time', () => {
    const midnight = 1_699_920_000_000; // on a bucket boundary of both windows
    const s = createInstrumentState('bybit', 'BTC', 'BTCUSDT');
    applyMarketEvent(s, ev(midnight, { oiBase: 40_000, markPrice: 80_000 }));
    applyMarketEvent(s, ev(midnight + 20 * MIN, { oiBase: 50_000, markPrice: 85_000 }));
    // A funding-only event still moves the clock: 36 − 15 = 21 min reads the 20-min value.
    applyMarketEvent(s, ev(midnight + 36 * MIN, { fundingRate: 0.0001 }));
    let snap = toSnapshot(s);
    expect(snap.oi.delta15m).toStrictEqual({
      base: 0,
      usd: 0,
      pct: 0,
      gap: false,
      gapMs: 0,
      positionUsd: 0,
      priceEffectUsd: 0,
    });
    expect(snap.oi.delta24h).toBeNull();

    // Late event: applied at 36 min.
    applyMarketEvent(s, ev(midnight + 30 * MIN, { oiBase: 52_500, markPrice: 85_200 }));
    snap = toSnapshot(s);
    expect(snap.ts).toBe(midnight + 36 * MIN);
    expect(snap.oi.delta15m).toStrictEqual({
      base: 2_500,
      usd: 52_500 * 85_200 - 50_000 * 85_000,
      pct: 5,
      gap: false,
      gapMs: 0,
      // the change split into positions opened (at today's price) and the old positions repriced
      positionUsd: 2_500 * 85_200,
      priceEffectUsd: 50_000 * (85_200 - 85_000),
    });

    // Exactly 24 h after the first event is not yet covered: instants quantize down.
    applyMarketEvent(s, ev(midnight + 24 * 60 * MIN, { oiBase: 44_000 }));
    expect(toSnapshot(s).oi.delta24h).toBeNull();
    applyMarketEvent(s, ev(midnight + 24 * 60 * MIN + 15 * MIN, { turnover24hUsd: 1e9 }));
    snap = toSnapshot(s);
    expect(snap.oi.delta24h).toStrictEqual({
      base: 4_000,
      usd: 44_000 * 85_200 - 40_000 * 80_000,
      pct: 10,
      gap: false,
      gapMs: 0,
      positionUsd: 4_000 * 85_200,
      priceEffectUsd: 40_000 * (85_200 - 80_000),
    });
    expect(snap.oi.delta15m?.base).toBe(44_000 - 52_500);
  });

  it('flags deltas whose window spans a feed gap until the window has moved past it', () => {
    const s = createInstrumentState('bybit', 'BTC', 'BTCUSDT');
    const t0 = 1_699_920_000_000;
    for (let m = 0; m <= 20; m++) applyMarketEvent(s, ev(t0 + m * MIN, { oiBase: 1000 + m, markPrice: 10 }));
    expect(toSnapshot(s).oi.delta15m?.gap).toBe(false);
    markGap(s);
    // the gap is closed by the first event after it (here 5 minutes later)
    applyMarketEvent(s, ev(t0 + 25 * MIN, { oiBase: 1100 }));
    expect(s.lastGapEndTs).toBe(t0 + 25 * MIN);
    expect(toSnapshot(s).oi.delta15m?.gap).toBe(true);
    applyMarketEvent(s, ev(t0 + 40 * MIN, { oiBase: 1101 }));
    expect(toSnapshot(s).oi.delta15m?.gap).toBe(true);
    // 15 minutes plus one 9 s resolution step after the gap ended, the window is clean again
    applyMarketEvent(s, ev(t0 + 40 * MIN + 9_000, { oiBase: 1102 }));
    expect(toSnapshot(s).oi.delta15m).toMatchObject({ gap: false, base: 2 });
  });

  it('produces JSON that round-trips with no undefined or NaN anywhere', () => {
    const s = createInstrumentState('bybit', 'BTC', 'BTCUSDT');
    applyMarketEvent(s, ev(T0, { oiBase: 1, markPrice: Number.NaN, lastPrice: 5 }));
    applyMarketEvent(s, ev(T0 + 1, { fundingRate: 0.0001 }));
    const snap = toSnapshot(s);
    expect(snap.price.mark).toBeNull();
    expect(collectBadLeaves(snap, 'snapshot', [])).toStrictEqual([]);
    expect(JSON.parse(JSON.stringify(snap))).toStrictEqual(snap);
  });
});

describe('warm start from REST history', () => {
  it('gives deltas at once, flagged backfilled until the window has moved past the history', () => {
    const s = createInstrumentState('bybit', 'BTC', 'BTCUSDT');
    // 25 h of 5-minute history points ending just before the feed starts
    const history = Array.from({ length: 301 }, (_, i) => ({
      ts: T0 - 25 * 60 * MIN + i * 5 * MIN - 1,
      oiBase: 1000 + i,
      markPrice: i % 2 === 0 ? 100 : null,
    }));
    expect(applyHistory(s, history)).toBe(301);
    applyMarketEvent(s, ev(T0, { oiBase: 2000, markPrice: 110 }));
    const snap = toSnapshot(s);
    expect(snap.oi.delta24h?.backfilled).toBe(true);
    expect(snap.oi.delta15m?.backfilled).toBe(true);
    // the value in effect at the quantized instant 15 minutes back (9 s buckets), from history
    const then15 = history.filter((p) => p.ts < Math.floor((T0 - 15 * MIN) / 9000) * 9000 - 1).at(-1)!;
    expect(snap.oi.delta15m?.base).toBe(2000 - then15.oiBase);
    // after 15 minutes of live data the 15m window starts in live data: no longer backfilled
    applyMarketEvent(s, ev(T0 + 16 * MIN, { oiBase: 2100, markPrice: 110 }));
    const later = toSnapshot(s);
    expect(later.oi.delta15m?.backfilled).toBeUndefined();
    expect(later.oi.delta15m?.base).toBe(100);
    expect(later.oi.delta24h?.backfilled).toBe(true);
  });

  it('fills only what the feed has not seen, and a point without a mark takes a known one', () => {
    const s = createInstrumentState('bybit', 'BTC', 'BTCUSDT');
    applyMarketEvent(s, ev(T0, { oiBase: 500, markPrice: 20 }));
    expect(applyHistory(s, [{ ts: T0 + MIN, oiBase: 1, markPrice: 1 }])).toBe(0);
    expect(applyHistory(s, [{ ts: T0 - 20 * MIN, oiBase: 400, markPrice: null }])).toBe(1);
    applyMarketEvent(s, ev(T0 + MIN, { oiBase: 600 }));
    const d = toSnapshot(s).oi.delta15m!;
    expect(d.base).toBe(200);
    expect(d.usd).toBe(600 * 20 - 400 * 20);
    expect(d.backfilled).toBe(true);
  });
});

describe('event time it cannot believe', () => {
  it('ignores a timestamp hours ahead of both the receive time and the instrument, but follows fast simulations', () => {
    const s = createInstrumentState('bybit', 'BTC', 'BTCUSDT');
    applyMarketEvent(s, ev(T0, { oiBase: 1, markPrice: 1 }));
    // a corrupt frame from 2100: counted at the instrument's own time, windows untouched
    applyMarketEvent(s, { ...ev(4_102_444_800_000, { oiBase: 2 }), receiveTs: T0 + 1000 });
    expect(s.lastEventTs).toBe(T0 + 1000);
    // a 600x simulation: each event a few seconds of event time ahead of the last, minutes ahead of the clock
    for (let i = 1; i <= 100; i++)
      applyMarketEvent(s, { ...ev(T0 + i * 12_000, { oiBase: 3 }), receiveTs: T0 + i * 20 });
    expect(s.lastEventTs).toBe(T0 + 100 * 12_000);
  });
});
