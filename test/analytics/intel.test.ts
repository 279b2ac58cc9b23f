import { describe, expect, it } from 'vitest';
import { controlState } from '../../src/analytics/control.js';
import { fundingMetrics } from '../../src/analytics/funding.js';
import {
  applyMarketEvent,
  createInstrumentState,
  type InstrumentState,
  markGap,
} from '../../src/analytics/instrument.js';
import {
  activityOf,
  DEFAULT_INTEL_CONFIG,
  formatAprForHint,
  freshnessOf,
  fundingPressure,
  HINT_MAX_CHARS,
  type IntelConfig,
  instrumentIntel,
  momentumOf,
  oiAcceleration,
  pressureLevel,
  priceAcceleration,
  priceChangePct,
  splitDeltaUsd,
  windowDeltaSplit,
} from '../../src/analytics/intel.js';
import { oiDelta } from '../../src/analytics/window.js';
import type { MarketEvent } from '../../src/domain/types.js';
import { btcEvent } from '../support/events.js';
import { mulberry32 } from '../support/prng.js';

const cfg: IntelConfig = DEFAULT_INTEL_CONFIG;
const T0 = 1_700_000_000_000;
const SEC = 1_000;
const MIN = 60_000;
const HOUR = 3_600_000;
const DAY = 86_400_000;

const ev = (eventTs: number, fields: Partial<MarketEvent>) => btcEvent('bybit', eventTs, fields);

/** The per-interval rate whose APR is `aprPct` at `intervalHours`. */
function rateForApr(aprPct: number, intervalHours: number): number {
  return (aprPct / 100 / 8760) * intervalHours;
}

/** |a − b| within rounding of the operands' magnitude. */
function expectClose(actual: number | null | undefined, expected: number | null, label: string): void {
  if (expected === null) {
    expect(actual, label).toBeNull();
    return;
  }
  expect(actual, label).not.toBeNull();
  expect(Math.abs(actual! - expected), label).toBeLessThanOrEqual(1e-9 * Math.max(1, Math.abs(expected)));
}

describe('funding pressure', () => {
  const t = cfg.pressureAprPct;

  it('grades |APR| against the thresholds, at or above each', () => {
    expect(pressureLevel(t.elevated - 0.01, t)).toBe('neutral');
    expect(pressureLevel(t.elevated, t)).toBe('elevated');
    expect(pressureLevel(-t.high, t)).toBe('high');
    expect(pressureLevel(t.extreme, t)).toBe('extreme');
    expect(pressureLevel(-t.extreme * 3, t)).toBe('extreme');
    expect(pressureLevel(null, t)).toBeNull();
    expect(pressureLevel(Number.NaN, t)).toBeNull();
  });

  it('reaches every level and payer from the rate and interval, with the 8h rate and yearly cost', () => {
    const cases = [
      { aprPct: t.elevated / 2, intervalHours: 8, pressure: 'neutral' },
      { aprPct: (t.elevated + t.high) / 2, intervalHours: 4, pressure: 'elevated' },
      { aprPct: -(t.high + t.extreme) / 2, intervalHours: 1, pressure: 'high' },
      { aprPct: t.extreme * 1.5, intervalHours: 8, pressure: 'extreme' },
    ] as const;
    for (const c of cases) {
      const rate = rateForApr(c.aprPct, c.intervalHours);
      const f = fundingPressure(rate, c.intervalHours, null, T0, null, null, cfg);
      expect(f.pressure).toBe(c.pressure);
      expect(f.payer).toBe(c.aprPct > 0 ? 'longs' : 'shorts');
      expectClose(f.rate8h, (rate * 8) / c.intervalHours, 'rate8h');
      // $10,000 × APR: the long pays when the rate is positive, earns when negative
      expectClose(f.annualCostUsdPer10kLong, 100 * fundingMetrics(rate, c.intervalHours).aprPct!, 'cost');
      expect(Math.sign(f.annualCostUsdPer10kLong!)).toBe(Math.sign(rate));
    }
    const zero = fundingPressure(0, 8, null, T0, null, null, cfg);
    expect(zero).toMatchObject({ payer: 'none', pressure: 'neutral', rate8h: 0, annualCostUsdPer10kLong: 0 });
  });

  it('is all null (payer none) without a rate or interval', () => {
    for (const [rate, interval] of [
      [null, 8],
      [0.0001, null],
      [0.0001, 0],
    ] as const) {
      expect(fundingPressure(rate, interval, T0 + HOUR, T0, 0.003, -0.003, cfg)).toStrictEqual({
        rate8h: null,
        payer: rate === null ? 'none' : 'longs',
        pressure: null,
        annualCostUsdPer10kLong: null,
        msToNextFunding: HOUR,
        hint: null,
        atBound: null,
      });
    }
  });

  it('counts down to the next reset, null when unknown or already passed', () => {
    expect(fundingPressure(0.0001, 8, T0 + 12 * MIN, T0, null, null, cfg).msToNextFunding).toBe(12 * MIN);
    expect(fundingPressure(0.0001, 8, T0, T0, null, null, cfg).msToNextFunding).toBe(0);
    expect(fundingPressure(0.0001, 8, T0 - 1, T0, null, null, cfg).msToNextFunding).toBeNull();
    expect(fundingPressure(0.0001, 8, null, T0, null, null, cfg).msToNextFunding).toBeNull();
  });

  it('sees the rate at the cap or floor within quoting tolerance, not just inside', () => {
    const at = (rate: number, cap: number | null, floor: number | null) =>
      fundingPressure(rate, 8, null, T0, cap, floor, cfg).atBound;
    expect(at(0.003, 0.003, -0.003)).toBe('cap');
    expect(at(0.003 - 4e-9, 0.003, -0.003)).toBe('cap'); // below half the 1e-8 quoting step
    expect(at(0.004, 0.003, -0.003)).toBe('cap'); // beyond a cap that has just moved
    expect(at(0.00299, 0.003, -0.003)).toBeNull();
    expect(at(-0.003, 0.003, -0.003)).toBe('floor');
    expect(at(-0.003 + 4e-9, 0.003, -0.003)).toBe('floor');
    expect(at(-0.00299, 0.003, -0.003)).toBeNull();
    // a large bound (Hyperliquid's 4%/h) tolerates a millionth of itself
    expect(at(0.04 * (1 - 5e-7), 0.04, null)).toBe('cap');
    expect(at(0.04 * (1 - 5e-6), 0.04, null)).toBeNull();
    expect(at(0.003, null, null)).toBeNull();
    expect(at(-0.003, null, -0.003)).toBe('floor');
  });
});

describe('funding hint', () => {
  const hintOf = (aprPct: number, nextInMs: number | null = null, cap: number | null = null) => {
    const rate = rateForApr(aprPct, 8);
    return fundingPressure(rate, 8, nextInMs === null ? null : T0 + nextInMs, T0, cap, null, cfg);
  };

  it('names crowded longs and the carry for shorts, with the same APR as the snapshot', () => {
    const f = hintOf(62);
    expect(f.pressure).toBe('high');
    expect(f.hint).toBe('Crowded longs pay 62% APR: a carry exists for shorts; long entries pay to wait');
    const { aprPct } = fundingMetrics(rateForApr(62, 8), 8);
    expect(f.hint).toContain(formatAprForHint(aprPct!));
  });

  it('mirrors for shorts paying, and grades the wording by pressure', () => {
    const shorts = hintOf(-62);
    expect(shorts.hint).toBe(
      'Crowded shorts pay 62% APR: a carry exists for longs; short entries pay to wait',
    );
    expect(hintOf(-35).hint).toMatch(/^Shorts pay 35% APR: holding shorts costs more than usual; longs/);
    expect(hintOf(180).hint).toMatch(/^Extreme: longs pay 180% APR: .*shorts/);
  });

  it('calls neutral funding cheap for both sides, and zero funding free', () => {
    expect(hintOf(6.5).hint).toBe('Funding is cheap (6.5% APR): holding either side costs little');
    expect(hintOf(-6.5).hint).toBe('Funding is cheap (6.5% APR): holding either side costs little');
    expect(fundingPressure(0, 8, null, T0, null, null, cfg).hint).toMatch(/^Funding is zero/);
  });

  it('adds the reset when it is within the hour and the rate when it is pinned at the cap', () => {
    expect(hintOf(62, 11 * MIN + 1).hint).toMatch(/; reset in 12m$/);
    expect(hintOf(62, 2 * HOUR).hint).not.toContain('reset');
    expect(hintOf(6.5, 5 * MIN).hint).not.toContain('reset'); // cheap funding: the reset does not matter
    const pinned = hintOf(62, 5 * MIN, rateForApr(62, 8));
    expect(pinned.atBound).toBe('cap');
    expect(pinned.hint).toMatch(/; reset in 5m; at venue cap$/);
  });

  it('stays one short plain-text line for any rate, interval, bound and reset', () => {
    const rand = mulberry32(7);
    for (let n = 0; n < 2000; n++) {
      const intervalHours = [1, 2, 4, 8][Math.floor(rand() * 4)]!;
      const rate = (rand() - 0.5) * 10 ** (-6 + rand() * 5);
      const bound = rand() < 0.3 ? Math.abs(rate) : null;
      const f = fundingPressure(rate, intervalHours, T0 + rand() * 3 * HOUR, T0, bound, bound && -bound, cfg);
      expect(f.hint).not.toBeNull();
      expect(f.hint!.length).toBeLessThanOrEqual(HINT_MAX_CHARS);
      expect(f.hint).not.toMatch(/[<>&\n]/);
      expect(f.hint).toContain(
        f.payer === 'none' ? 'zero' : formatAprForHint(fundingMetrics(rate, intervalHours).aprPct!),
      );
    }
  });
});

describe('delta split', () => {
  it('splits position and price effects exactly on representable numbers', () => {
    expect(splitDeltaUsd(100, 2, 110, 3)).toStrictEqual({ positionUsd: 30, priceEffectUsd: 100 });
    // a pure price move is all price effect, a pure position change all position
    expect(splitDeltaUsd(1000, 50, 1000, 55).positionUsd).toBe(0);
    expect(splitDeltaUsd(1000, 50, 1200, 50).priceEffectUsd).toBe(0);
  });

  it('sums to the USD delta for any values, to within rounding', () => {
    const rand = mulberry32(11);
    for (let n = 0; n < 5000; n++) {
      const oiThen = rand() * 1e7;
      const markThen = rand() * 1e5;
      const oiNow = oiThen * (0.5 + rand());
      const markNow = markThen * (0.5 + rand());
      const s = splitDeltaUsd(oiThen, markThen, oiNow, markNow);
      const usd = oiNow * markNow - oiThen * markThen;
      const scale = Math.max(oiNow * markNow, oiThen * markThen);
      expect(Math.abs(s.positionUsd + s.priceEffectUsd - usd)).toBeLessThanOrEqual(scale * 1e-14);
    }
  });
});

describe('momentum state', () => {
  const m = cfg.momentum;
  // an OI move large enough to count as momentum when its pace says so
  const BIG_OI_PCT = 2 * m.acceleratingMinOiPct;
  it('is reversing when 15m moves against a real 24h trend', () => {
    expect(momentumOf(-m.reversalPricePct, m.trendPricePct, 1, BIG_OI_PCT, cfg).state).toBe('reversing');
    expect(momentumOf(m.reversalPricePct * 2, -m.trendPricePct * 3, null, BIG_OI_PCT, cfg).state).toBe(
      'reversing',
    );
    // with the trend, too small a move, or no trend: not a reversal
    expect(momentumOf(m.reversalPricePct, m.trendPricePct, 1, BIG_OI_PCT, cfg).state).toBe('steady');
    expect(momentumOf(-m.reversalPricePct * 0.9, m.trendPricePct, 1, BIG_OI_PCT, cfg).state).toBe('steady');
    expect(momentumOf(-m.reversalPricePct, m.trendPricePct * 0.9, 1, BIG_OI_PCT, cfg).state).toBe('steady');
  });

  it('grades OI acceleration: accelerating, steady, fading; null when unknown', () => {
    expect(momentumOf(0.1, 2, m.accelerating, BIG_OI_PCT, cfg).state).toBe('accelerating');
    expect(momentumOf(0.1, 2, (m.accelerating + m.fading) / 2, BIG_OI_PCT, cfg).state).toBe('steady');
    expect(momentumOf(0.1, 2, m.fading, BIG_OI_PCT, cfg).state).toBe('fading');
    expect(momentumOf(null, null, null, null, cfg)).toStrictEqual({
      priceChange15mPct: null,
      priceChange24hPct: null,
      oiAccel: null,
      state: null,
    });
    expect(momentumOf(0.1, null, 3, BIG_OI_PCT, cfg)).toStrictEqual({
      priceChange15mPct: 0.1,
      priceChange24hPct: null,
      oiAccel: 3,
      state: 'accelerating',
    });
  });

  it('is never accelerating on a move of a few tenths of a percent, whatever its pace', () => {
    expect(momentumOf(0.6, 0.6, 4_704, 0.05, cfg).state).toBe('steady');
    expect(momentumOf(0.6, 0.6, 10, m.acceleratingMinOiPct * 0.99, cfg).state).toBe('steady');
    expect(momentumOf(0.6, 0.6, 10, -m.acceleratingMinOiPct, cfg).state).toBe('accelerating');
    expect(momentumOf(0.6, 0.6, 10, null, cfg).state).toBe('steady');
  });
});

describe('activity', () => {
  const a = cfg.activity;
  const oiUsd = 1e9;
  // a move big enough for the pace to reach any level, too small to set one by its size
  const paceOnly = { oiChange15mPct: a.paceFloor.extreme.oiPct, priceChange15mPct: 0.1 };
  const act = (
    oiAccel: number | null,
    priceAccel: number | null,
    turnover24hUsd: number | null,
    usd: number | null,
    move = paceOnly,
  ) => activityOf({ oiAccel, priceAccel, turnover24hUsd, oiUsd: usd, ...move }, cfg);
  const usualTurnover = oiUsd * ((a.lowTurnoverPerOi + a.highTurnoverPerOi) / 2);

  it('grades the pace against the instrument’s own 24h', () => {
    expect(act(a.quietPace * 0.9, null, usualTurnover, oiUsd)).toBe('quiet');
    expect(act(a.quietPace, a.quietPace / 2, usualTurnover, oiUsd)).toBe('normal');
    expect(act(null, a.activePace, usualTurnover, oiUsd)).toBe('active');
    expect(act(a.quietPace, a.extremePace, null, null)).toBe('extreme');
    expect(act(null, null, usualTurnover, oiUsd)).toBeNull();
  });

  it('moves one level for heavy or idle trading against OI, within quiet…extreme', () => {
    const normalPace = (a.quietPace + a.activePace) / 2;
    expect(act(normalPace, null, oiUsd * a.highTurnoverPerOi, oiUsd)).toBe('active');
    expect(act(normalPace, null, oiUsd * a.lowTurnoverPerOi * 0.9, oiUsd)).toBe('quiet');
    expect(act(a.extremePace, null, oiUsd * a.highTurnoverPerOi * 2, oiUsd)).toBe('extreme');
    expect(act(0, null, 0, oiUsd)).toBe('quiet');
    expect(act(a.activePace, null, oiUsd * a.highTurnoverPerOi, oiUsd)).toBe('extreme');
    expect(act(normalPace, null, 1e12, 0)).toBe('normal'); // no OI: turnover says nothing
  });

  it('never calls a few tenths of a percent active or extreme, whatever the pace', () => {
    const tiny = { oiChange15mPct: 0.05, priceChange15mPct: 0.3 };
    expect(act(4_704, 6, usualTurnover, oiUsd, tiny)).toBe('normal');
    expect(act(4_704, 6, oiUsd * a.highTurnoverPerOi, oiUsd, tiny)).toBe('normal');
    // at the active floor (price 0.6%) a fast pace is active, never extreme
    expect(act(4_704, 6, usualTurnover, oiUsd, { oiChange15mPct: 0.05, priceChange15mPct: 0.6 })).toBe(
      'active',
    );
    expect(act(0.1, 0.1, usualTurnover, oiUsd, tiny)).toBe('quiet');
  });

  it('ranks a violent move extreme by its size, even at the usual pace of a busy day', () => {
    const violent = { oiChange15mPct: -6, priceChange15mPct: 3 };
    expect(act(1, 1, usualTurnover, oiUsd, violent)).toBe('extreme');
    expect(act(0.3, 0.3, oiUsd * a.lowTurnoverPerOi * 0.5, oiUsd, violent)).toBe('extreme');
    expect(
      act(1, 1, usualTurnover, oiUsd, { oiChange15mPct: a.sizeBand.active.oiPct, priceChange15mPct: 0 }),
    ).toBe('active');
    expect(act(1, 1, usualTurnover, oiUsd, { oiChange15mPct: 0, priceChange15mPct: 0 })).toBe('normal');
    // no pace known (24h not covered): no level, whatever the size
    expect(act(null, null, usualTurnover, oiUsd, violent)).toBeNull();
  });
});

describe('freshness', () => {
  it('reports each input time and the age of the oldest at the snapshot time', () => {
    const s = createInstrumentState('bybit', 'BTC', 'BTCUSDT');
    expect(freshnessOf(s, cfg)).toStrictEqual({
      priceTs: null,
      oiTs: null,
      fundingTs: null,
      maxInputAgeMs: null,
      stale: false,
      staleVenues: [],
    });
    applyMarketEvent(s, ev(T0, { oiBase: 10, fundingRate: 0.0001 }));
    applyMarketEvent(s, ev(T0 + cfg.staleAfterMs, { markPrice: 5, fundingRate: 0.0001 }));
    expect(freshnessOf(s, cfg)).toStrictEqual({
      priceTs: T0 + cfg.staleAfterMs,
      oiTs: T0,
      fundingTs: T0 + cfg.staleAfterMs,
      maxInputAgeMs: cfg.staleAfterMs,
      stale: false,
      staleVenues: [],
    });
    applyMarketEvent(s, ev(T0 + cfg.staleAfterMs + 1, { markPrice: 5 }));
    expect(freshnessOf(s, cfg)).toMatchObject({ maxInputAgeMs: cfg.staleAfterMs + 1, stale: true });
    applyMarketEvent(s, ev(T0 + cfg.staleAfterMs + 2, { oiBase: 11 }));
    expect(freshnessOf(s, cfg)).toMatchObject({ maxInputAgeMs: 2, stale: false });
  });
});

/** Feeds one event a minute for `minutes` minutes from `fromTs`, from functions of the minute. */
function feedMinutes(
  s: InstrumentState,
  fromTs: number,
  minutes: number,
  fields: (m: number) => Partial<MarketEvent>,
): number {
  let ts = fromTs;
  for (let m = 0; m <= minutes; m++) {
    ts = fromTs + m * MIN;
    applyMarketEvent(s, ev(ts, fields(m)));
  }
  return ts;
}

describe('instrument intel', () => {
  it('is null-safe before any data and JSON round-trips', () => {
    const s = createInstrumentState('bybit', 'BTC', 'BTCUSDT');
    const intel = instrumentIntel(s, cfg);
    expect(intel.momentum.state).toBeNull();
    expect(intel.control).toStrictEqual({ '15m': null, '24h': null });
    expect(intel.delta15mSplit).toBeNull();
    expect(intel.activity).toBeNull();
    expect(JSON.parse(JSON.stringify(intel))).toStrictEqual(intel);
  });

  it('sees longs opening on rising OI and price, with funding agreeing when longs pay', () => {
    const s = createInstrumentState('bybit', 'BTC', 'BTCUSDT');
    // Linear growth: every 15m adds the same OI, so the last 15m moves at the day's usual pace.
    const end = feedMinutes(s, T0, 25 * 60, (m) => ({
      oiBase: 10_000 + 10 * m,
      markPrice: 80_000 + 20 * m,
      fundingRate: 0.0003,
      fundingIntervalHours: 8,
      nextFundingTs: T0 + 26 * HOUR,
      turnover24hUsd: 5e9,
    }));
    let intel = instrumentIntel(s, cfg);
    expect(intel.control).toStrictEqual({ '15m': 'longs_opening', '24h': 'longs_opening' });
    expect(intel.controlFundingAgrees).toStrictEqual({ '15m': true, '24h': true });
    expect(intel.funding.payer).toBe('longs');
    expect(intel.funding.msToNextFunding).toBe(T0 + 26 * HOUR - end);
    // The day's 96 steps average 15 minutes of growth (150) within a bucket; the latest change
    // reads the event just before the quantized instant 15m back: 16 minutes of growth (160).
    expect(intel.momentum.state).toBe('steady');
    expect(intel.momentum.oiAccel).toBeCloseTo(16 / 15, 1);
    expect(intel.activity).toBe('normal');
    const d24 = oiDelta(s.window24h, end, s.oiBase!, s.markPrice!)!;
    expect(intel.delta24hSplit!.positionUsd + intel.delta24hSplit!.priceEffectUsd).toBeCloseTo(d24.usd, 3);
    expect(intel.delta24hSplit!.positionUsd).toBeGreaterThan(0);
    expect(intel.delta24hSplit!.priceEffectUsd).toBeGreaterThan(0);

    applyMarketEvent(s, ev(end + 1, { fundingRate: -0.0003 }));
    intel = instrumentIntel(s, cfg);
    expect(intel.controlFundingAgrees).toStrictEqual({ '15m': false, '24h': false });
    expect(intel.funding.payer).toBe('shorts');
  });

  it('shows a pure price move as price effect only, with control neutral', () => {
    const s = createInstrumentState('bybit', 'BTC', 'BTCUSDT');
    feedMinutes(s, T0, 25 * 60, (m) => ({ oiBase: 1_000_000, markPrice: 3000 * (1 + m * 0.0001) }));
    const intel = instrumentIntel(s, cfg);
    expect(intel.delta24hSplit!.positionUsd).toBe(0);
    expect(intel.delta24hSplit!.priceEffectUsd).toBeGreaterThan(0);
    expect(intel.control['24h']).toBe('neutral');
    // OI never moved: the floored usual pace (a quiet day) says it is not moving now either
    expect(intel.momentum.oiAccel).toBe(0);
    expect(intel.momentum.priceChange24hPct).toBeGreaterThan(cfg.controlBand['24h'].pricePct);
  });

  it('accelerates on a burst of OI after a calm day, and fades when OI stops', () => {
    const burst = createInstrumentState('bybit', 'BTC', 'BTCUSDT');
    let end = feedMinutes(burst, T0, 24 * 60 + 10, (m) => ({ oiBase: 10_000 + m, markPrice: 100 }));
    end = feedMinutes(burst, end + MIN, 15, (m) => ({ oiBase: 11_450 + m * 50, markPrice: 100 + m * 0.2 }));
    let intel = instrumentIntel(burst, cfg);
    expect(intel.momentum.oiAccel).toBeGreaterThanOrEqual(cfg.momentum.accelerating);
    expect(intel.momentum.state).toBe('accelerating');
    expect(intel.activity).toBe('extreme');
    expect(intel.control['15m']).toBe('longs_opening');

    const stop = createInstrumentState('bybit', 'BTC', 'BTCUSDT');
    end = feedMinutes(stop, T0, 24 * 60 + 10, (m) => ({ oiBase: 10_000 + m, markPrice: 100 + (m % 2) }));
    end = feedMinutes(stop, end + MIN, 20, () => ({ oiBase: 11_450, markPrice: 100 }));
    intel = instrumentIntel(stop, cfg);
    expect(intel.momentum.oiAccel).toBe(0);
    expect(intel.momentum.state).toBe('fading');
    expect(intel.activity).toBe('quiet');
  });

  it('reverses when the last 15m fall against a 24h rally', () => {
    const s = createInstrumentState('bybit', 'BTC', 'BTCUSDT');
    const end = feedMinutes(s, T0, 24 * 60 + 20, (m) => ({ oiBase: 10_000 + m, markPrice: 100 + m * 0.01 }));
    feedMinutes(s, end + MIN, 15, (m) => ({ oiBase: 11_460, markPrice: 114.4 - m * 0.1 }));
    const intel = instrumentIntel(s, cfg);
    expect(intel.momentum.priceChange24hPct).toBeGreaterThan(cfg.momentum.trendPricePct);
    expect(intel.momentum.priceChange15mPct).toBeLessThan(-cfg.momentum.reversalPricePct);
    expect(intel.momentum.state).toBe('reversing');
  });
});

// ---------------------------------------------------------------------------------------------
// Property tests: the instrument's windows against a reference that keeps every event.

interface Obs {
  readonly ts: number;
  readonly oiBase: number;
  readonly markPrice: number;
}

const RES_15M = 9_000;
const RES_24H = 864_000;

/** Merges events as `applyMarketEvent` does and keeps every (ts, OI, mark) observed; brute force. */
class Reference {
  readonly obs: Obs[] = [];
  lastTs = 0;
  oiBase: number | null = null;
  markPrice: number | null = null;

  apply(e: MarketEvent): void {
    this.lastTs = Math.max(this.lastTs, e.eventTs);
    if (e.oiBase !== undefined) this.oiBase = e.oiBase;
    if (e.markPrice !== undefined) this.markPrice = e.markPrice;
    if (this.oiBase !== null && this.markPrice !== null) {
      this.obs.push({ ts: this.lastTs, oiBase: this.oiBase, markPrice: this.markPrice });
    }
  }

  /** The last observation at or before the instant quantized down to the resolution, minus 1 ms. */
  valueAt(instantTs: number, resolutionMs: number): Obs | null {
    const quantizedTs = Math.floor(instantTs / resolutionMs) * resolutionMs - 1;
    let found: Obs | null = null;
    for (const o of this.obs) {
      if (o.ts > quantizedTs) break;
      found = o;
    }
    return found;
  }

  priceChangePct(windowMs: number, resolutionMs: number): number | null {
    const then = this.valueAt(this.lastTs - windowMs, resolutionMs);
    if (then === null || this.markPrice === null || then.markPrice <= 0) return null;
    return (100 * (this.markPrice - then.markPrice)) / then.markPrice;
  }

  oiPct(windowMs: number, resolutionMs: number): number | null {
    const then = this.valueAt(this.lastTs - windowMs, resolutionMs);
    if (then === null || this.oiBase === null || then.oiBase <= 0) return null;
    return (100 * (this.oiBase - then.oiBase)) / then.oiBase;
  }

  split(windowMs: number, resolutionMs: number): { positionUsd: number; priceEffectUsd: number } | null {
    const then = this.valueAt(this.lastTs - windowMs, resolutionMs);
    if (then === null || this.oiBase === null || this.markPrice === null || then.oiBase <= 0) return null;
    return {
      positionUsd: (this.oiBase - then.oiBase) * this.markPrice,
      priceEffectUsd: then.oiBase * (this.markPrice - then.markPrice),
    };
  }

  /** |latest 15m change| ÷ mean |change| over the 96 15m steps of the last 24h, at the 24h resolution. */
  pace(field: 'oiBase' | 'markPrice', stepFloorPct = 0): number | null {
    const now = this[field];
    const then15 = this.valueAt(this.lastTs - 15 * MIN, RES_15M);
    if (now === null || then15 === null) return null;
    const samples: number[] = [];
    for (let k = 0; k <= 96; k++) {
      const v = this.valueAt(this.lastTs - DAY + k * 15 * MIN, RES_24H);
      if (v === null) return null;
      samples.push(v[field]);
    }
    let sum = 0;
    for (let k = 1; k <= 96; k++) sum += Math.abs(samples[k]! - samples[k - 1]!);
    const mean = Math.max(sum / 96, (stepFloorPct / 100) * now);
    return mean > 0 ? Math.abs(now - then15[field]) / mean : null;
  }
}

interface Scenario {
  readonly seed: number;
  readonly events: number;
  /** Chance an event carries OI; a low one leaves OI flat for long stretches. */
  readonly oiChance: number;
  /** Chance of a feed gap of hours before an event. */
  readonly gapChance: number;
}

function* randomEvents(rand: () => number, sc: Scenario, s: InstrumentState): Generator<MarketEvent> {
  let clock = T0 + Math.floor(rand() * DAY);
  let oiBase = 50_000;
  let markPrice = 85_000;
  let previous: MarketEvent | null = null;
  for (let n = 0; n < sc.events; n++) {
    const r = rand();
    if (previous !== null && r < 0.04) {
      yield previous; // duplicate delivery
      continue;
    }
    let eventTs = clock;
    if (r < 0.1)
      eventTs = clock - 1 - Math.floor(rand() * 2 * MIN); // out of order
    else if (r < 0.1 + sc.gapChance) {
      markGap(s);
      clock += HOUR + Math.floor(rand() * 7 * HOUR);
      eventTs = clock;
    } else if (r < 0.7) {
      clock += 1 + Math.floor(rand() * 20 * SEC);
      eventTs = clock;
    } else {
      clock += 20 * SEC + Math.floor(rand() * 5 * MIN);
      eventTs = clock;
    }
    const fields: { -readonly [K in keyof MarketEvent]?: MarketEvent[K] } = {};
    if (rand() < 0.8) {
      markPrice = markPrice * (1 + (rand() - 0.5) * 0.004);
      fields.markPrice = markPrice;
    }
    if (rand() < sc.oiChance) {
      oiBase = rand() < 0.003 ? 0 : Math.max(1, (oiBase || 50_000) * (1 + (rand() - 0.5) * 0.01));
      fields.oiBase = oiBase;
    }
    if (rand() < 0.3) fields.fundingRate = (rand() - 0.4) * 0.002;
    if (rand() < 0.1) fields.fundingIntervalHours = 8;
    if (rand() < 0.2) fields.turnover24hUsd = rand() * 1e10;
    previous = ev(eventTs, fields);
    yield previous;
  }
}

describe('window metrics against a reference that keeps every event', () => {
  const scenarios: Scenario[] = [
    { seed: 1, events: 3000, oiChance: 0.6, gapChance: 0.004 },
    { seed: 2, events: 3000, oiChance: 0.6, gapChance: 0.02 },
    { seed: 3, events: 3000, oiChance: 0.01, gapChance: 0.004 },
    { seed: 4, events: 2500, oiChance: 0.3, gapChance: 0.01 },
  ];
  for (const sc of scenarios) {
    it(`agree on price change, OI acceleration and the delta split (seed ${sc.seed})`, () => {
      const rand = mulberry32(sc.seed);
      const s = createInstrumentState('bybit', 'BTC', 'BTCUSDT');
      const ref = new Reference();
      const seen = { compared: 0, nullAccel: 0, accel: 0, split24: 0, nullSplit24: 0 };
      for (const e of randomEvents(rand, sc, s)) {
        applyMarketEvent(s, e);
        ref.apply(e);
        expect(s.lastEventTs).toBe(ref.lastTs);
        if (rand() > 0.06 || s.oiBase === null || s.markPrice === null) continue;
        const now = s.lastEventTs;
        const intel = instrumentIntel(s, cfg);

        const p15 = ref.priceChangePct(15 * MIN, RES_15M);
        const p24 = ref.priceChangePct(DAY, RES_24H);
        expectClose(priceChangePct(s.window15m, now, s.markPrice), p15, 'price 15m');
        expectClose(priceChangePct(s.window24h, now, s.markPrice), p24, 'price 24h');
        expectClose(intel.momentum.priceChange15mPct, p15, 'momentum price 15m');
        expectClose(intel.momentum.priceChange24hPct, p24, 'momentum price 24h');

        const oiAccel = ref.pace('oiBase');
        const priceAccel = ref.pace('markPrice');
        expectClose(oiAcceleration(s.window24h, s.window15m, now, s.oiBase), oiAccel, 'oiAccel');
        const m = cfg.momentum;
        const oiAccelFloored = ref.pace('oiBase', m.oiStepFloorPct);
        const priceAccelFloored = ref.pace('markPrice', m.priceStepFloorPct);
        expectClose(intel.momentum.oiAccel, oiAccelFloored, 'momentum oiAccel');
        expectClose(
          oiAcceleration(s.window24h, s.window15m, now, s.oiBase, m.oiStepFloorPct),
          oiAccelFloored,
          'oiAccel floored',
        );
        expectClose(priceAcceleration(s.window24h, s.window15m, now, s.markPrice), priceAccel, 'priceAccel');
        if (oiAccel === null) seen.nullAccel++;
        else seen.accel++;

        for (const [w, windowMs, res, fromIntel] of [
          [s.window15m, 15 * MIN, RES_15M, intel.delta15mSplit],
          [s.window24h, DAY, RES_24H, intel.delta24hSplit],
        ] as const) {
          const expected = ref.split(windowMs, res);
          const split = windowDeltaSplit(w, now, s.oiBase, s.markPrice);
          expect(split === null, 'split null').toBe(expected === null);
          if (split !== null && expected !== null) {
            expectClose(split.positionUsd, expected.positionUsd, 'positionUsd');
            expectClose(split.priceEffectUsd, expected.priceEffectUsd, 'priceEffectUsd');
          }
          expect(fromIntel).toStrictEqual(split);
          // null exactly when the snapshot's delta is, and the parts add up to its USD change
          const delta = oiDelta(w, now, s.oiBase, s.markPrice);
          expect(split === null).toBe(delta === null);
          if (split !== null && delta !== null) {
            const scale = Math.max(Math.abs(delta.usd), s.oiBase * s.markPrice, 1);
            expect(Math.abs(split.positionUsd + split.priceEffectUsd - delta.usd)).toBeLessThan(
              scale * 1e-12,
            );
          }
          if (windowMs === DAY) {
            if (expected === null) seen.nullSplit24++;
            else seen.split24++;
          }
        }

        expect(intel.control['15m']).toBe(
          controlState(ref.oiPct(15 * MIN, RES_15M), p15, cfg.controlBand['15m']),
        );
        expect(intel.control['24h']).toBe(controlState(ref.oiPct(DAY, RES_24H), p24, cfg.controlBand['24h']));
        const oi15 = ref.oiPct(15 * MIN, RES_15M);
        expect(intel.momentum.state).toBe(momentumOf(p15, p24, oiAccelFloored, oi15, cfg).state);
        expect(intel.activity).toBe(
          activityOf(
            {
              oiAccel: oiAccelFloored,
              priceAccel: priceAccelFloored,
              oiChange15mPct: oi15,
              priceChange15mPct: p15,
              turnover24hUsd: s.turnover24hUsd,
              oiUsd: s.oiBase * s.markPrice,
            },
            cfg,
          ),
        );
        expect(JSON.parse(JSON.stringify(intel))).toStrictEqual(intel);
        seen.compared++;
      }
      expect(s.outOfOrderCount).toBeGreaterThan(0);
      expect(seen.compared).toBeGreaterThan(100);
      expect(seen.nullSplit24).toBeGreaterThan(0); // the first day is not covered
      expect(seen.split24).toBeGreaterThan(50);
      expect(seen.nullAccel).toBeGreaterThan(0);
      expect(seen.accel).toBeGreaterThan(sc.oiChance > 0.1 ? 50 : 0);
    });
  }
});
