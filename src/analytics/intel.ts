/**
 * Market intelligence for one instrument: funding pressure, the OI delta split into
 * position and price effects, momentum, who is in control, activity and freshness. Pure functions
 * of the instrument's state; the time is its event time (`lastEventTs`).
 */
import type { ActivityLevel, ControlState, FreshnessJson, MomentumJson } from '../domain/types.js';
import { controlState, fundingSupportsControl } from './control.js';
import type { InstrumentState } from './instrument.js';
import type { IntelConfig } from './intel-config.js';
import { type Crowding, type FundingPressureJson, fundingPressure } from './intel-funding.js';
import {
  accelerationFrom,
  activityOf,
  type DeltaSplit,
  meanStepChange,
  momentumOf,
  priceChangePct,
  windowDeltaSplit,
} from './intel-motion.js';
import { oiDeltaPct } from './window.js';

export { DEFAULT_INTEL_CONFIG, type IntelConfig } from './intel-config.js';
export {
  type FundingPressureJson,
  formatAprForHint,
  fundingAtBound,
  fundingHint,
  fundingPressure,
  HINT_MAX_CHARS,
  pressureLevel,
} from './intel-funding.js';
export {
  type ActivityInput,
  activityOf,
  type DeltaSplit,
  type MeanStepChange,
  meanStepChange,
  momentumOf,
  momentumState,
  oiAcceleration,
  priceAcceleration,
  priceChangePct,
  splitDeltaUsd,
  windowDeltaSplit,
} from './intel-motion.js';

/**
 * Event time of each input and the age of the oldest at the snapshot's `ts` (`lastEventTs`);
 * inputs never seen are null and do not count. `stale` when that age exceeds `staleAfterMs`.
 * A per-venue snapshot lists no stale venues. An instrument whose feed stopped entirely keeps
 * its last `ts`: comparing snapshots across venues (the aggregate) catches that.
 */
export function freshnessOf(state: InstrumentState, cfg: IntelConfig): FreshnessJson {
  let oldestTs: number | null = null;
  for (const ts of [state.priceTs, state.oiTs, state.fundingTs]) {
    if (ts !== null && (oldestTs === null || ts < oldestTs)) oldestTs = ts;
  }
  const maxInputAgeMs = oldestTs === null ? null : Math.max(0, state.lastEventTs - oldestTs);
  return {
    priceTs: state.priceTs,
    oiTs: state.oiTs,
    fundingTs: state.fundingTs,
    maxInputAgeMs,
    stale: maxInputAgeMs !== null && maxInputAgeMs > cfg.staleAfterMs,
    staleVenues: [],
  };
}

type PerWindow<T> = { readonly '15m': T; readonly '24h': T };

/** Everything above for one instrument, ready to spread into the snapshot. */
export interface InstrumentIntel {
  /** Spread into `snapshot.funding` next to rate, intervalHours, hourly, aprPct, nextFundingTime. */
  readonly funding: FundingPressureJson;
  /** Spread into `oi.delta15m` / `oi.delta24h`; null exactly when that delta is. */
  readonly delta15mSplit: DeltaSplit | null;
  readonly delta24hSplit: DeltaSplit | null;
  readonly momentum: MomentumJson;
  readonly control: PerWindow<ControlState | null>;
  readonly controlFundingAgrees: PerWindow<boolean | null>;
  readonly activity: ActivityLevel | null;
  readonly freshness: FreshnessJson;
}

/** Long/short figures older than this (bucket time) are not evidence for the funding hint. */
const CROWDING_MAX_AGE_MS = 60 * 60_000;

/**
 * The long/short figures the funding hint may cite: each only while its bucket is under an hour
 * old (Binance refreshes each figure every 5–33 min depending on the universe's size).
 */
function crowdingOf(state: InstrumentState, nowTs: number): Crowding | null {
  const fresh = (ts: number | null) => ts !== null && nowTs - ts <= CROWDING_MAX_AGE_MS;
  const accountsLongPct = fresh(state.accountsLongTs) ? state.accountsLongPct : null;
  const topTradersLongPct = fresh(state.topTradersLongTs) ? state.topTradersLongPct : null;
  return accountsLongPct === null && topTradersLongPct === null
    ? null
    : { accountsLongPct, topTradersLongPct };
}

/**
 * All market-intelligence figures of one instrument at `state.lastEventTs`. Costs about 200
 * window lookups (the 24h pace is sampled once for OI and price together) and no large allocation.
 */
export function instrumentIntel(state: InstrumentState, cfg: IntelConfig): InstrumentIntel {
  const nowTs = state.lastEventTs;
  const funding = fundingPressure(
    state.fundingRate,
    state.fundingIntervalHours,
    state.nextFundingTs,
    nowTs,
    state.fundingRateCap,
    state.fundingRateFloor,
    cfg,
    crowdingOf(state, nowTs),
  );
  const { oiBase, markPrice } = state;
  const freshness = freshnessOf(state, cfg);
  if (oiBase === null || markPrice === null) {
    const none = { '15m': null, '24h': null } as const;
    return {
      funding,
      delta15mSplit: null,
      delta24hSplit: null,
      momentum: momentumOf(null, null, null, null, cfg),
      control: none,
      controlFundingAgrees: none,
      activity: null,
      freshness,
    };
  }
  const w15 = state.window15m;
  const w24 = state.window24h;
  const price15 = priceChangePct(w15, nowTs, markPrice);
  const price24 = priceChangePct(w24, nowTs, markPrice);
  const mean = meanStepChange(w24, w15.windowMs, nowTs);
  const m = cfg.momentum;
  const oiAccel = accelerationFrom(w15, nowTs, oiBase, 'oiBase', mean, m.oiStepFloorPct);
  const priceAccel = accelerationFrom(w15, nowTs, markPrice, 'markPrice', mean, m.priceStepFloorPct);
  const oi15 = oiDeltaPct(w15, nowTs, oiBase);
  const control15 = controlState(oi15, price15, cfg.controlBand['15m']);
  const control24 = controlState(oiDeltaPct(w24, nowTs, oiBase), price24, cfg.controlBand['24h']);
  return {
    funding,
    delta15mSplit: windowDeltaSplit(w15, nowTs, oiBase, markPrice),
    delta24hSplit: windowDeltaSplit(w24, nowTs, oiBase, markPrice),
    momentum: momentumOf(price15, price24, oiAccel, oi15, cfg),
    control: { '15m': control15, '24h': control24 },
    controlFundingAgrees: {
      '15m': fundingSupportsControl(control15, state.fundingRate),
      '24h': fundingSupportsControl(control24, state.fundingRate),
    },
    activity: activityOf(
      {
        oiAccel,
        priceAccel,
        oiChange15mPct: oi15,
        priceChange15mPct: price15,
        turnover24hUsd: state.turnover24hUsd,
        oiUsd: oiBase * markPrice,
      },
      cfg,
    ),
    freshness,
  };
}
