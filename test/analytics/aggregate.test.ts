import { describe, expect, it } from 'vitest';
import { type AggregateOptions, aggregateSnapshots } from '../../src/analytics/aggregate.js';
import type {
  ActivityLevel,
  ControlState,
  DeltaJson,
  MomentumState,
  SnapshotJson,
} from '../../src/domain/types.js';
import { mulberry32 } from '../support/prng.js';

const OPTS: AggregateOptions = {
  staleAfterMs: 60_000,
  controlBand: { '15m': { oiPct: 0.5, pricePct: 0.2 }, '24h': { oiPct: 2, pricePct: 1 } },
  pressureAprPct: { elevated: 20, high: 50, extreme: 100 },
};
const T0 = 1_700_000_000_000;
const HOURS_PER_YEAR = 8760;

interface VenueSpec {
  venue: string;
  ts?: number;
  oiBase?: number | null;
  mark?: number | null;
  aprPct?: number | null;
  delta15m?: DeltaJson | null;
  delta24h?: DeltaJson | null;
  priceChange15mPct?: number | null;
  priceChange24hPct?: number | null;
  oiAccel?: number | null;
  momentumState?: MomentumState | null;
  control15m?: ControlState | null;
  control24h?: ControlState | null;
  activity?: ActivityLevel | null;
  turnover24hUsd?: number | null;
  freshness?: { priceTs: number | null; oiTs: number | null; fundingTs: number | null } | null;
  symbol?: string;
}

/** A per-venue snapshot as the processor publishes it (intelligence fields included). */
function snap(spec: VenueSpec): SnapshotJson {
  const ts = spec.ts ?? T0;
  const oiBase = spec.oiBase === undefined ? 100 : spec.oiBase;
  const mark = spec.mark === undefined ? 100 : spec.mark;
  const aprPct = spec.aprPct === undefined ? 10 : spec.aprPct;
  const hourly = aprPct === null ? null : aprPct / (HOURS_PER_YEAR * 100);
  const freshness =
    spec.freshness === null
      ? undefined
      : {
          priceTs: ts,
          oiTs: ts,
          fundingTs: ts,
          ...spec.freshness,
          maxInputAgeMs: 0,
          stale: false,
          staleVenues: [],
        };
  return {
    v: 1,
    venue: spec.venue,
    symbol: spec.symbol ?? 'BTC',
    instrument: `${spec.venue}-BTC`,
    ts,
    price: { mark, last: mark, index: mark },
    oi: {
      base: oiBase,
      usd: oiBase !== null && mark !== null ? oiBase * mark : null,
      delta15m: spec.delta15m ?? null,
      delta24h: spec.delta24h ?? null,
    },
    funding: {
      rate: hourly === null ? null : hourly * 8,
      intervalHours: 8,
      hourly,
      aprPct,
      nextFundingTime: ts + 3_600_000,
    },
    turnover24hUsd: spec.turnover24hUsd === undefined ? 1_000_000 : spec.turnover24hUsd,
    momentum: {
      priceChange15mPct: spec.priceChange15mPct ?? null,
      priceChange24hPct: spec.priceChange24hPct ?? null,
      oiAccel: spec.oiAccel ?? null,
      state: spec.momentumState ?? null,
    },
    control: { '15m': spec.control15m ?? null, '24h': spec.control24h ?? null },
    activity: spec.activity ?? null,
    ...(freshness ? { freshness } : {}),
  };
}

const delta = (base: number, oiNow: number, markNow: number, markThen: number, extra = {}): DeltaJson => {
  const then = oiNow - base;
  const positionUsd = base * markNow;
  const priceEffectUsd = then * (markNow - markThen);
  return {
    base,
    usd: positionUsd + priceEffectUsd,
    pct: (100 * base) / then,
    gap: false,
    positionUsd,
    priceEffectUsd,
    ...extra,
  };
};

function aggregate(specs: VenueSpec[], opts = OPTS): SnapshotJson {
  const out = aggregateSnapshots('BTC', specs.map(snap), opts);
  if (out === null) throw new Error('expected an aggregate');
  return out;
}

describe('aggregateSnapshots: hand-computed examples', () => {
  it('sums OI and deltas, weights APR and mark, and finds the funding spread (2 venues)', () => {
    const out = aggregate([
      { venue: 'okx', oiBase: 500, mark: 60, aprPct: 10, delta15m: delta(50, 500, 60, 58) },
      { venue: 'binance', oiBase: 200, mark: 50, aprPct: 30, delta15m: delta(-20, 200, 50, 51) },
    ]);
    expect(out).toMatchObject({ v: 1, venue: 'all', instrument: 'all', symbol: 'BTC', ts: T0 });
    expect(out.venues).toEqual(['binance', 'okx']);
    expect(out.oi.base).toBe(700);
    expect(out.oi.usd).toBe(40_000);
    // Σ(oiBase × mark) ÷ Σ oiBase
    expect(out.price.mark).toBeCloseTo(40_000 / 700, 9);
    expect(out.price.last).toBeNull();
    const d = out.oi.delta15m!;
    expect(d.base).toBe(30);
    // okx: 50×60 + 450×2 = 3,900; binance: −20×50 + 220×(−1) = −1,220
    expect(d.usd).toBeCloseTo(3900 - 1220, 9);
    expect(d.positionUsd).toBeCloseTo(3000 - 1000, 9);
    expect(d.priceEffectUsd).toBeCloseTo(900 - 220, 9);
    expect(d.pct).toBeCloseTo((100 * 30) / (450 + 220), 9);
    expect(out.oi.delta24h).toBeNull();
    // (30 × 10,000 + 10 × 30,000) ÷ 40,000
    expect(out.funding.aprPct).toBeCloseTo(15, 9);
    expect(out.funding.hourly).toBeCloseTo(15 / 876_000, 15);
    expect(out.funding.rate8h).toBeCloseTo((8 * 15) / 876_000, 15);
    expect(out.funding.annualCostUsdPer10kLong).toBeCloseTo(1500, 6);
    expect(out.funding.payer).toBe('longs');
    expect(out.funding.pressure).toBe('neutral');
    expect(out.funding).toMatchObject({
      rate: null,
      intervalHours: null,
      nextFundingTime: null,
      atBound: null,
    });
    expect(out.fundingSpread).toEqual({ aprPct: 20, maxVenue: 'binance', minVenue: 'okx' });
    expect(out.funding.hint).toBe(
      'Longs pay 20% APR more on binance than on okx: long okx, short binance to collect the gap',
    );
    expect(out.turnover24hUsd).toBe(2_000_000);
  });

  it('weights four venues and reports pressure from the weighted APR', () => {
    const out = aggregate([
      { venue: 'binance', oiBase: 10, mark: 1000, aprPct: 80 }, // 10,000 USD
      { venue: 'bybit', oiBase: 20, mark: 1000, aprPct: 40 }, // 20,000
      { venue: 'okx', oiBase: 30, mark: 1000, aprPct: 60 }, // 30,000
      { venue: 'hyperliquid', oiBase: 40, mark: 1000, aprPct: null }, // no funding: no weight
    ]);
    expect(out.venues).toEqual(['binance', 'bybit', 'hyperliquid', 'okx']);
    expect(out.oi.usd).toBe(100_000);
    expect(out.funding.aprPct).toBeCloseTo((80 * 1 + 40 * 2 + 60 * 3) / 6, 9);
    expect(out.funding.pressure).toBe('high');
    expect(out.fundingSpread).toEqual({ aprPct: 40, maxVenue: 'binance', minVenue: 'bybit' });
  });

  it('words the hint for shorts when every rate is negative, and drops it below the elevated level', () => {
    const neg = aggregate([
      { venue: 'binance', aprPct: -10 },
      { venue: 'okx', aprPct: -55.4 },
    ]);
    expect(neg.funding.payer).toBe('shorts');
    expect(neg.funding.pressure).toBe('elevated');
    expect(neg.fundingSpread).toMatchObject({ maxVenue: 'binance', minVenue: 'okx' });
    expect(neg.fundingSpread!.aprPct).toBeCloseTo(45.4, 9);
    expect(neg.funding.hint).toBe(
      'Shorts pay 45% APR more on okx than on binance: long okx, short binance to collect the gap',
    );
    const small = aggregate([
      { venue: 'binance', aprPct: 12 },
      { venue: 'okx', aprPct: -7.9 },
    ]);
    expect(small.fundingSpread!.aprPct).toBeCloseTo(19.9, 9);
    expect(small.funding.hint).toBeNull();
    const extreme = aggregate([
      { venue: 'binance', aprPct: -150 },
      { venue: 'okx', aprPct: -150 },
    ]);
    expect(extreme.funding.pressure).toBe('extreme');
    // A tie names no winner: both venues pay the same.
    expect(extreme.fundingSpread).toEqual({ aprPct: 0, maxVenue: null, minVenue: null });
    expect(extreme.funding.hint).toBeNull();
  });

  it('has no spread with fewer than two funding venues, and no funding without weight', () => {
    const one = aggregate([
      { venue: 'binance', aprPct: 30 },
      { venue: 'okx', aprPct: null },
    ]);
    expect(one.fundingSpread).toBeNull();
    expect(one.funding.aprPct).toBeCloseTo(30, 9);
    const none = aggregate([{ venue: 'binance', aprPct: null }]);
    expect(none.funding).toMatchObject({
      aprPct: null,
      hourly: null,
      rate8h: null,
      payer: 'none',
      pressure: null,
    });
    expect(none.funding.annualCostUsdPer10kLong).toBeNull();
    expect(none.funding.hint).toBeNull();
  });

  // Every venue at mark 100, so USD weights are proportional to OI base.
  const controlCases: {
    name: ControlState | null;
    b: [number, number, number, ControlState | null];
    o: [number, number | null, number, ControlState | null];
    divergence: string[];
  }[] = [
    // [oiBase, delta base, price change 15m %, own control]
    {
      name: 'longs_opening',
      b: [120, 20, 1, 'longs_opening'],
      o: [95, -5, 0.5, 'short_covering'],
      divergence: ['okx'],
    },
    {
      name: 'shorts_opening',
      b: [120, 20, -1, 'shorts_opening'],
      o: [100, 0, -0.5, 'neutral'],
      divergence: ['okx'],
    },
    {
      name: 'short_covering',
      b: [80, -20, 2, 'short_covering'],
      o: [100, 0, 1, 'neutral'],
      divergence: ['okx'],
    },
    {
      name: 'long_unwinding',
      b: [80, -20, -2, 'long_unwinding'],
      o: [90, -10, -1, 'long_unwinding'],
      divergence: [],
    },
    {
      name: 'neutral',
      b: [110, 10, 1, 'longs_opening'],
      o: [90, -10, -1, 'long_unwinding'],
      divergence: ['binance', 'okx'],
    },
    { name: null, b: [110, 10, 1, 'longs_opening'], o: [90, null, -1, 'long_unwinding'], divergence: [] },
  ];
  for (const c of controlCases) {
    it(`derives control ${c.name} from the aggregate delta and price change, with divergence`, () => {
      const venue = (
        v: string,
        [oiBase, base, pc, own]: [number, number | null, number, ControlState | null],
      ) => ({
        venue: v,
        oiBase,
        aprPct: 10,
        delta15m: base === null ? null : delta(base, oiBase, 100, 100),
        priceChange15mPct: pc,
        control15m: own,
      });
      const out = aggregate([venue('binance', c.b), venue('okx', c.o)]);
      expect(out.control!['15m']).toBe(c.name);
      expect(out.control!['24h']).toBeNull();
      expect(out.divergence).toEqual({ '15m': c.divergence, '24h': [] });
      // Positive funding supports longs opening, contradicts shorts opening, says nothing otherwise.
      const agrees = c.name === 'longs_opening' ? true : c.name === 'shorts_opening' ? false : null;
      expect(out.controlFundingAgrees!['15m']).toBe(agrees);
    });
  }

  it('uses the 24h band for the 24h window', () => {
    const venues = [
      {
        venue: 'binance',
        delta24h: delta(3, 100, 100, 100),
        priceChange24hPct: 1.5,
        control24h: 'longs_opening' as const,
      },
      {
        venue: 'okx',
        delta24h: delta(1, 100, 100, 100),
        priceChange24hPct: 0.5,
        control24h: 'neutral' as const,
      },
    ];
    const out = aggregate(venues);
    // OI +4/196 = 2.04% ≥ 2, price (1.5 + 0.5)/2 = 1% ≥ 1
    expect(out.control!['24h']).toBe('longs_opening');
    expect(out.divergence!['24h']).toEqual(['okx']);
    const wider = aggregate(venues, {
      ...OPTS,
      controlBand: { ...OPTS.controlBand, '24h': { oiPct: 3, pricePct: 1 } },
    });
    expect(wider.control!['24h']).toBe('neutral');
  });
});

describe('aggregateSnapshots: staleness and missing data', () => {
  it('lists a stale venue and leaves it out of every figure', () => {
    const out = aggregate([
      { venue: 'binance', ts: T0, oiBase: 100, aprPct: 10, delta15m: delta(10, 100, 100, 100) },
      { venue: 'okx', ts: T0 - 60_000, oiBase: 300, aprPct: 30, delta15m: delta(30, 300, 100, 100) }, // at the bound
      { venue: 'bybit', ts: T0 - 60_001, oiBase: 5000, aprPct: 500, delta15m: null },
    ]);
    expect(out.ts).toBe(T0);
    expect(out.venues).toEqual(['binance', 'okx']);
    expect(out.freshness!.staleVenues).toEqual(['bybit']);
    expect(out.freshness!.stale).toBe(true);
    expect(out.oi.base).toBe(400);
    expect(out.oi.delta15m!.base).toBe(40); // bybit's missing delta does not null it
    expect(out.funding.aprPct).toBeCloseTo(25, 9);
    expect(out.fundingSpread).toEqual({ aprPct: 20, maxVenue: 'okx', minVenue: 'binance' });
    expect(out.freshness!.oiTs).toBe(T0 - 60_000);
    expect(out.freshness!.maxInputAgeMs).toBe(60_000);
  });

  it('reports the oldest input of the included venues, stale when older than the bound', () => {
    const out = aggregate([
      {
        venue: 'binance',
        ts: T0,
        freshness: { priceTs: T0 - 1000, oiTs: T0 - 30_000, fundingTs: T0 - 5000 },
      },
      {
        venue: 'okx',
        ts: T0 - 10_000,
        freshness: { priceTs: T0 - 10_000, oiTs: T0 - 90_000, fundingTs: null },
      },
    ]);
    expect(out.freshness).toEqual({
      priceTs: T0 - 10_000,
      oiTs: T0 - 90_000,
      fundingTs: T0 - 5000,
      maxInputAgeMs: 90_000,
      stale: true,
      staleVenues: [],
    });
    const fresh = aggregate([
      { venue: 'binance', ts: T0, freshness: null },
      { venue: 'okx', ts: T0 - 2000 },
    ]);
    expect(fresh.freshness).toEqual({
      priceTs: T0 - 2000,
      oiTs: T0 - 2000,
      fundingTs: T0 - 2000,
      maxInputAgeMs: 2000,
      stale: false,
      staleVenues: [],
    });
  });

  it('nulls a delta that one OI venue lacks, and the split that one lacks', () => {
    const out = aggregate([
      { venue: 'binance', delta15m: delta(5, 100, 100, 100), delta24h: delta(10, 100, 100, 99) },
      {
        venue: 'okx',
        delta15m: null,
        delta24h: { base: -4, usd: -400, pct: -3.846, gap: true, backfilled: true },
      },
      { venue: 'bybit', oiBase: null, delta15m: null, delta24h: null }, // no OI: not in the totals
    ]);
    expect(out.venues).toEqual(['binance', 'bybit', 'okx']);
    expect(out.oi.base).toBe(200);
    expect(out.oi.delta15m).toBeNull();
    const d = out.oi.delta24h!;
    expect(d.base).toBe(6);
    expect(d.usd).toBeCloseTo(1000 + 90 - 400, 9);
    expect(d.pct).toBeCloseTo((100 * 6) / (90 + 104), 9);
    expect(d.gap).toBe(true);
    expect(d.backfilled).toBe(true);
    expect(d.positionUsd).toBeUndefined();
    expect(d.priceEffectUsd).toBeUndefined();
  });

  it('is null when no included venue has OI, and ignores other symbols and the aggregate itself', () => {
    expect(aggregateSnapshots('BTC', [], OPTS)).toBeNull();
    expect(aggregateSnapshots('BTC', [snap({ venue: 'binance', oiBase: null })], OPTS)).toBeNull();
    expect(
      aggregateSnapshots(
        'BTC',
        [snap({ venue: 'binance', oiBase: null }), snap({ venue: 'okx', ts: T0 - 70_000 })],
        OPTS,
      ),
    ).toBeNull();
    const out = aggregateSnapshots(
      'BTC',
      [
        snap({ venue: 'binance', oiBase: 100 }),
        snap({ venue: 'okx', oiBase: 7, symbol: 'ETH' }),
        { ...snap({ venue: 'all', oiBase: 1000 }) },
        snap({ venue: 'binance', oiBase: 50, ts: T0 - 1 }), // older duplicate
      ],
      OPTS,
    );
    expect(out!.venues).toEqual(['binance']);
    expect(out!.oi.base).toBe(100);
  });

  it('averages momentum by OI USD and picks the state and activity carrying the most OI', () => {
    const out = aggregate([
      {
        venue: 'binance',
        oiBase: 100,
        priceChange15mPct: 1,
        priceChange24hPct: 4,
        oiAccel: 3,
        momentumState: 'accelerating',
        activity: 'active',
      },
      {
        venue: 'bybit',
        oiBase: 100,
        priceChange15mPct: 2,
        priceChange24hPct: null,
        oiAccel: null,
        momentumState: 'fading',
        activity: 'active',
      },
      {
        venue: 'okx',
        oiBase: 300,
        priceChange15mPct: -1,
        priceChange24hPct: 2,
        oiAccel: 1,
        momentumState: 'steady',
        activity: 'quiet',
      },
    ]);
    expect(out.momentum!.priceChange15mPct).toBeCloseTo((1 + 2 - 3) / 5, 9);
    expect(out.momentum!.priceChange24hPct).toBeNull(); // bybit lacks it
    expect(out.momentum!.oiAccel).toBeCloseTo((3 * 1 + 1 * 3) / 4, 9); // bybit carries no weight
    expect(out.momentum!.state).toBe('steady'); // 300 against 100 + 100
    expect(out.activity).toBe('quiet'); // 300 against 200
    const tie = aggregate([
      { venue: 'binance', momentumState: 'steady', activity: 'normal' },
      { venue: 'okx', momentumState: 'reversing', activity: 'extreme' },
    ]);
    expect(tie.momentum!.state).toBe('reversing');
    expect(tie.activity).toBe('extreme');
    const none = aggregate([{ venue: 'binance' }]);
    expect(none.momentum).toEqual({
      priceChange15mPct: null,
      priceChange24hPct: null,
      oiAccel: null,
      state: null,
    });
    expect(none.activity).toBeNull();
    expect(none.control).toEqual({ '15m': null, '24h': null });
  });

  it('never emits NaN or Infinity from hostile or degenerate inputs', () => {
    const hostile = [
      snap({ venue: 'binance', oiBase: 0, mark: 0, aprPct: Number.NaN, delta15m: delta(0, 0, 0, 0) }),
      snap({ venue: 'bybit', oiBase: Number.POSITIVE_INFINITY, aprPct: 5 }),
      snap({
        venue: 'okx',
        oiBase: 0,
        mark: 10,
        aprPct: 7,
        delta15m: delta(0, 0, 10, 10),
        priceChange15mPct: 1,
      }),
    ];
    const out = aggregateSnapshots('BTC', hostile, OPTS)!;
    expect(JSON.parse(JSON.stringify(out))).toEqual(out);
    expect(out.oi).toEqual({ base: 0, usd: 0, delta15m: null, delta24h: null });
    expect(out.price.mark).toBeNull();
    expect(out.funding.aprPct).toBeNull(); // no OI USD to weigh by
    expect(out.fundingSpread).toEqual({ aprPct: 2, maxVenue: 'okx', minVenue: 'bybit' });
    expect(out.momentum!.priceChange15mPct).toBeNull();
  });

  it('has no turnover unless every OI venue has one', () => {
    expect(
      aggregate([{ venue: 'binance' }, { venue: 'okx', turnover24hUsd: null }]).turnover24hUsd,
    ).toBeNull();
  });
});

describe('aggregateSnapshots: property test', () => {
  it('matches brute-force totals on random venue snapshots and round-trips as JSON', () => {
    const rand = mulberry32(0xa99);
    const pick = <T>(xs: readonly T[]): T => xs[Math.floor(rand() * xs.length)]!;
    const maybe = <T>(p: number, f: () => T): T | null => (rand() < p ? f() : null);
    const VENUES = ['binance', 'bybit', 'okx', 'hyperliquid'];
    const CONTROLS: ControlState[] = [
      'longs_opening',
      'shorts_opening',
      'short_covering',
      'long_unwinding',
      'neutral',
    ];
    let aggregated = 0;
    for (let iter = 0; iter < 2000; iter++) {
      const count = 1 + Math.floor(rand() * 4);
      const specs: VenueSpec[] = VENUES.slice(0, count).map((venue) => {
        const oiBase = maybe(0.9, () => rand() * 1e6);
        const mark = maybe(0.95, () => 0.001 + rand() * 1e5);
        const mkDelta = () =>
          maybe(0.8, () =>
            delta(
              (rand() - 0.5) * (oiBase ?? 1),
              oiBase ?? 1,
              mark ?? 1,
              (mark ?? 1) * (0.9 + rand() * 0.2),
              {
                gap: rand() < 0.1,
                ...(rand() < 0.1 ? { backfilled: true } : {}),
              },
            ),
          );
        return {
          venue,
          ts: T0 - Math.floor(rand() * (rand() < 0.2 ? 200_000 : 50_000)),
          oiBase,
          mark,
          aprPct: maybe(0.85, () => (rand() - 0.4) * 200),
          delta15m: mkDelta(),
          delta24h: mkDelta(),
          priceChange15mPct: maybe(0.8, () => (rand() - 0.5) * 4),
          priceChange24hPct: maybe(0.8, () => (rand() - 0.5) * 20),
          oiAccel: maybe(0.7, () => rand() * 5),
          momentumState: maybe(0.8, () =>
            pick<MomentumState>(['accelerating', 'steady', 'fading', 'reversing']),
          ),
          control15m: maybe(0.8, () => pick(CONTROLS)),
          control24h: maybe(0.8, () => pick(CONTROLS)),
          activity: maybe(0.8, () => pick<ActivityLevel>(['quiet', 'normal', 'active', 'extreme'])),
        };
      });
      const snaps = specs.map(snap);
      const out = aggregateSnapshots('BTC', snaps, OPTS);

      const newest = Math.max(...snaps.map((s) => s.ts));
      const included = snaps.filter((s) => newest - s.ts <= OPTS.staleAfterMs);
      const withOi = included.filter((s) => s.oi.base !== null && s.oi.usd !== null);
      if (withOi.length === 0) {
        expect(out).toBeNull();
        continue;
      }
      aggregated++;
      expect(out).not.toBeNull();
      const a = out!;
      expect(JSON.parse(JSON.stringify(a))).toEqual(a);
      expect(a.ts).toBe(newest);
      expect(a.venues).toEqual(included.map((s) => s.venue).sort());
      expect([...a.venues!, ...a.freshness!.staleVenues].sort()).toEqual(snaps.map((s) => s.venue).sort());
      expect(a.freshness!.stale).toBe(
        a.freshness!.staleVenues.length > 0 || a.freshness!.maxInputAgeMs! > OPTS.staleAfterMs,
      );

      const sum = (xs: number[]) => xs.reduce((x, y) => x + y, 0);
      expect(a.oi.base).toBeCloseTo(sum(withOi.map((s) => s.oi.base!)), 3);
      expect(a.oi.usd! / sum(withOi.map((s) => s.oi.usd!))).toBeCloseTo(1, 9);
      for (const key of ['delta15m', 'delta24h'] as const) {
        const ds = withOi.map((s) => s.oi[key]);
        const d = a.oi[key];
        if (ds.some((x) => x === null)) {
          expect(d).toBeNull();
          continue;
        }
        const base = sum(ds.map((x) => x!.base));
        const then = sum(withOi.map((s) => s.oi.base! - s.oi[key]!.base));
        if (!(then > 0)) {
          expect(d).toBeNull();
          continue;
        }
        expect(d!.base).toBeCloseTo(base, 3);
        expect(d!.pct).toBeCloseTo((100 * base) / then, 6);
        expect(d!.positionUsd! + d!.priceEffectUsd!).toBeCloseTo(d!.usd, 0);
        expect(d!.gap).toBe(ds.some((x) => x!.gap === true));
        expect(d!.backfilled).toBe(ds.some((x) => x!.backfilled === true));
      }

      const funded = withOi.filter((s) => s.funding.aprPct !== null && s.oi.usd! > 0);
      if (funded.length === 0) {
        expect(a.funding.aprPct).toBeNull();
      } else {
        const aprs = funded.map((s) => s.funding.aprPct!);
        expect(a.funding.aprPct!).toBeGreaterThanOrEqual(Math.min(...aprs) - 1e-9);
        expect(a.funding.aprPct!).toBeLessThanOrEqual(Math.max(...aprs) + 1e-9);
      }
      const marks = withOi.filter((s) => s.price.mark !== null && s.oi.base! > 0).map((s) => s.price.mark!);
      if (marks.length > 0) {
        expect(a.price.mark!).toBeGreaterThanOrEqual(Math.min(...marks) * (1 - 1e-12));
        expect(a.price.mark!).toBeLessThanOrEqual(Math.max(...marks) * (1 + 1e-12));
      }
      for (const key of ['priceChange15mPct', 'priceChange24hPct'] as const) {
        const values = withOi.map((s) => s.momentum![key]);
        const weight = sum(withOi.map((s) => s.oi.usd!));
        if (values.some((x) => x === null) || !(weight > 0)) expect(a.momentum![key]).toBeNull();
        else
          expect(a.momentum![key]).toBeCloseTo(
            sum(withOi.map((s) => s.momentum![key]! * s.oi.usd!)) / weight,
            9,
          );
      }
      const withApr = included.filter((s) => s.funding.aprPct !== null).map((s) => s.funding.aprPct!);
      if (withApr.length < 2) expect(a.fundingSpread).toBeNull();
      else expect(a.fundingSpread!.aprPct).toBeCloseTo(Math.max(...withApr) - Math.min(...withApr), 9);
      for (const w of ['15m', '24h'] as const) {
        const agg = a.control![w];
        const expected =
          agg === null
            ? []
            : included
                .filter((s) => s.control![w] !== null && s.control![w] !== agg)
                .map((s) => s.venue)
                .sort();
        expect(a.divergence![w]).toEqual(expected);
      }
    }
    expect(aggregated).toBeGreaterThan(1000);
  });
});
