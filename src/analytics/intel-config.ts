import type { ControlDeadBand } from './control.js';

/** A 15m move counts when |OI change| or |price change| reaches its figure (percent). */
export interface SizeFloor {
  readonly oiPct: number;
  readonly pricePct: number;
}

/** Thresholds of the market-intelligence figures. Every field has a documented default. */
export interface IntelConfig {
  /**
   * Funding pressure levels on |aprPct|: at or above `elevated` → elevated, `high` → high,
   * `extreme` → extreme; below `elevated` → neutral.
   */
  readonly pressureAprPct: { readonly elevated: number; readonly high: number; readonly extreme: number };
  /** Dead bands of the control state per window (percent of OI and of price). */
  readonly controlBand: { readonly '15m': ControlDeadBand; readonly '24h': ControlDeadBand };
  readonly momentum: {
    /** `oiAccel` at or above this → accelerating. */
    readonly accelerating: number;
    /** `oiAccel` at or below this → fading. */
    readonly fading: number;
    /** A 15m price move of at least this many percent against the 24h trend → reversing. */
    readonly reversalPricePct: number;
    /** The 24h price move must be at least this many percent to count as a trend. */
    readonly trendPricePct: number;
    /**
     * `accelerating` also needs |OI change 15m| of at least this many percent: a pace far above a
     * flat day's is still no momentum when the move itself is a few tenths of a percent.
     */
    readonly acceleratingMinOiPct: number;
    /**
     * The pace denominators have floors: the mean 15m OI step counts as at least this percent of
     * the OI now, and the mean 15m price step as at least `priceStepFloorPct` of the mark now. A
     * flat day then reads as a day of such steps, so `oiAccel` stays a meaningful ratio instead of
     * dividing by almost nothing (0.05% over a mean of 0.00001% would read 4,704×).
     */
    readonly oiStepFloorPct: number;
    readonly priceStepFloorPct: number;
  };
  readonly activity: {
    /** Pace ratio (the larger of `oiAccel` and the price equivalent) below this → quiet. */
    readonly quietPace: number;
    /** Pace ratio at or above this → active. */
    readonly activePace: number;
    /** Pace ratio at or above this → extreme. */
    readonly extremePace: number;
    /** 24h turnover ÷ OI (USD) below this lowers the level by one step. */
    readonly lowTurnoverPerOi: number;
    /** 24h turnover ÷ OI (USD) at or above this raises the level by one step. */
    readonly highTurnoverPerOi: number;
    /**
     * The move's own size over 15m sets a level by itself (the larger of OI and price decides):
     * from `active` it is at least active, from `extreme` extreme, whatever the instrument's history.
     */
    readonly sizeBand: { readonly active: SizeFloor; readonly extreme: SizeFloor };
    /**
     * The pace level (with its turnover step) reaches `active` only when |OI 15m| or |price 15m|
     * is at least `paceFloor.active`, and `extreme` only from `paceFloor.extreme`: a tiny move is
     * never active or extreme because the day before it was flat.
     */
    readonly paceFloor: { readonly active: SizeFloor; readonly extreme: SizeFloor };
  };
  /** An input older than this at the snapshot's `ts` makes `freshness.stale` true. */
  readonly staleAfterMs: number;
}

/**
 * Defaults, and why:
 * - Pressure 20 / 50 / 100 % |APR|. The usual resting rate is 0.01% per 8h (Binance's and Bybit's
 *   interest component), 10.95% APR, so anything under 20% is the market's normal cost of carry.
 *   50% (≈ 0.046% per 8h, 4–5× the resting rate) means one side is clearly crowded; 100%
 *   (≈ 0.09% per 8h) is squeeze territory, where venues start to approach their caps.
 * - Control dead bands: 15m OI 0.5% / price 0.2%; 24h OI 2% / price 1%: below these a large
 *   perpetual's moves are noise (the alert rule fires at 3% of OI in 15m).
 * - Momentum: OI moving at twice its usual 15m pace accelerates, at half of it fades; a 15m move of
 *   0.5% against a 24h trend of at least 1% (the 24h price band) is a reversal. Accelerating needs
 *   |OI 15m| ≥ 1% (a third of the 15m alert threshold). Pace floors: a mean 15m OI step of 0.25% of
 *   OI and a mean 15m price step of 0.1% of price: a large perpetual's quiet day moves about that
 *   much, so a flat day is read as a quiet one, not as no movement at all.
 * - Activity: a pace under half the instrument's own 24h average is quiet, twice it active, four
 *   times extreme. Turnover: a perpetual usually trades 1–3 times its OI per day; under 0.5× the
 *   book is idle (one step down), 5× or more is churn (one step up). Size: OI 2% or price 1% in
 *   15m is active on any instrument, OI 5% or price 3% extreme (a liquidation-sized move). The pace
 *   needs OI 0.5% or price 0.5% for active and OI 1.5% or price 1% for extreme: a few tenths of a
 *   percent is never more than normal.
 * - Stale after 180 s: mark prices arrive every few seconds, but OKX pushes OI only on change
 *   (every 3 s at most) and funding every 30–90 s, and Binance's REST-polled OI refreshes every
 *   30 s or so with a large universe: a tighter bound would flag healthy quiet instruments.
 */
export const DEFAULT_INTEL_CONFIG: IntelConfig = {
  pressureAprPct: { elevated: 20, high: 50, extreme: 100 },
  controlBand: {
    '15m': { oiPct: 0.5, pricePct: 0.2 },
    '24h': { oiPct: 2, pricePct: 1 },
  },
  momentum: {
    accelerating: 2,
    fading: 0.5,
    reversalPricePct: 0.5,
    trendPricePct: 1,
    acceleratingMinOiPct: 1,
    oiStepFloorPct: 0.25,
    priceStepFloorPct: 0.1,
  },
  activity: {
    quietPace: 0.5,
    activePace: 2,
    extremePace: 4,
    lowTurnoverPerOi: 0.5,
    highTurnoverPerOi: 5,
    sizeBand: { active: { oiPct: 2, pricePct: 1 }, extreme: { oiPct: 5, pricePct: 3 } },
    paceFloor: { active: { oiPct: 0.5, pricePct: 0.5 }, extreme: { oiPct: 1.5, pricePct: 1 } },
  },
  staleAfterMs: 180_000,
};
