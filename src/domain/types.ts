/**
 * Types shared by every stage. Units are in the names: a number without a unit in its
 * name is a count or a ratio. Every time is epoch milliseconds unless the name says otherwise.
 */

export type VenueId = 'binance' | 'bybit' | 'okx' | 'hyperliquid';

export const VENUE_IDS: readonly VenueId[] = ['binance', 'bybit', 'okx', 'hyperliquid'];

/** One frame as received, exactly as the recording file stores it. */
export interface RawFrame {
  /** Receive time, epoch ms. */
  readonly t: number;
  readonly venue: VenueId;
  /** The frame's raw text. */
  readonly frame: string;
  /** Set for data that did not arrive over the WebSocket (a REST poll): the endpoint path. */
  readonly source?: string;
}

/**
 * A normalized market update for one instrument. Fields the frame did not carry are absent;
 * a field is never defaulted to 0.
 */
export interface MarketEvent {
  readonly type: 'market';
  readonly venue: VenueId;
  /** Canonical symbol: the base asset in upper case, e.g. `BTC`. */
  readonly symbol: string;
  /** The venue's own instrument id, e.g. `BTCUSDT`. */
  readonly instrument: string;
  /** Event time: the venue's timestamp when the frame has one, else the receive time. */
  readonly eventTs: number;
  readonly receiveTs: number;
  readonly markPrice?: number;
  readonly lastPrice?: number;
  readonly indexPrice?: number;
  /** Open interest of one side, in base units. */
  readonly oiBase?: number;
  /** Open interest of one side, in USD, as the venue quotes it. */
  readonly oiUsd?: number;
  /** Funding rate per funding interval, as quoted (0.0001 = 0.01%). */
  readonly fundingRate?: number;
  /** The venue's bounds on the funding rate per interval, where the venue publishes them. */
  readonly fundingRateCap?: number;
  readonly fundingRateFloor?: number;
  readonly fundingIntervalHours?: number;
  readonly nextFundingTs?: number;
  readonly turnover24hUsd?: number;
  /**
   * Liquidations the frame reported for this instrument (a venue's liquidation stream). A frame
   * may carry several; each has its own event time, which may be older than `eventTs`.
   */
  readonly liquidations?: readonly Liquidation[];
  /**
   * Long/short statistics from a venue's REST bucket (5-minute period): the share of accounts net
   * long, and of top traders' positions long, percent (66.2 = 66.2%). `longShortTs` is the bucket's
   * time. A body carries one figure or both.
   */
  readonly accountsLongPct?: number;
  readonly topTradersLongPct?: number;
  readonly longShortTs?: number;
}

/** One forced close of a position, normalized. */
export interface Liquidation {
  /** The side of the position that was liquidated: `long` = a forced sell. */
  readonly side: 'long' | 'short';
  /** Size, base units (OKX contracts already multiplied by `ctVal`). */
  readonly base: number;
  /** Size × the venue's price for it (Binance average fill, Bybit and OKX bankruptcy price), USD. */
  readonly usd: number;
  /** The liquidation's own time, epoch ms. */
  readonly ts: number;
}

/**
 * How completely each venue's public feed reports liquidations: `complete` (every liquidation,
 * Bybit `allLiquidation`), `sampled` (at most one per instrument per second: Binance
 * `!forceOrder@arr`, OKX `liquidation-orders`), or null: no public market-wide feed (Hyperliquid).
 */
export type LiquidationCoverage = 'complete' | 'sampled';
export const LIQUIDATION_COVERAGE: Readonly<Record<VenueId, LiquidationCoverage | null>> = {
  binance: 'sampled',
  bybit: 'complete',
  okx: 'sampled',
  hyperliquid: null,
};

/** Why a venue's `liquidations` / `longShort` are null: published as `unavailable` in the snapshot. */
export const NO_LIQUIDATION_FEED = 'venue publishes no market-wide liquidation feed';
export const NO_LONG_SHORT_STATS = 'venue publishes no long/short statistics';

export type FeedStatusKind =
  | 'connecting'
  | 'connected'
  | 'subscribed'
  | 'disconnected'
  | 'stale'
  | 'parse_error'
  | 'oversized'
  | 'venue_error'
  | 'rest_error'
  | 'gap';

/** Feed health as data: flows downstream next to market events. */
export interface FeedStatusEvent {
  readonly type: 'status';
  readonly venue: VenueId;
  readonly kind: FeedStatusKind;
  readonly receiveTs: number;
  readonly detail?: string;
  /** For `gap`: the receive-time span without data, and the instruments it concerns. */
  readonly gap?: { readonly fromTs: number; readonly toTs: number; readonly instruments: readonly string[] };
}

export type FeedEvent = MarketEvent | FeedStatusEvent;

export interface DeltaJson {
  readonly base: number;
  readonly usd: number;
  readonly pct: number;
  /**
   * The change is untrustworthy because of data the feed missed: its start or end value is stale
   * by more than the window's resolution, or holes hide more than 10% of the window. A short
   * hole inside a long window (a 20 s restart in 24h) leaves it false; see `gapMs`.
   */
  readonly gap?: boolean;
  /**
   * `usd` split into its causes, exactly `usd = positionUsd + priceEffectUsd`:
   * `positionUsd = base × markNow` (positions opened or closed, valued at today's price) and
   * `priceEffectUsd = oiBaseThen × (markNow − markThen)` (the same positions repriced).
   */
  readonly positionUsd?: number;
  readonly priceEffectUsd?: number;
  /** The value at the window's start came from a venue's REST history (warm start), not our feed. */
  readonly backfilled?: boolean;
  /**
   * Event time inside the window the feed did not cover (disconnects, restarts, silence in a
   * replay), ms; 0 when complete. Always present on deltas this version publishes (the aggregate
   * carries the largest of its venues'). `gap` says whether that makes the delta untrustworthy.
   */
  readonly gapMs?: number;
}

export type FundingPayer = 'longs' | 'shorts' | 'none';
export type FundingPressure = 'neutral' | 'elevated' | 'high' | 'extreme';
export type ControlState =
  | 'longs_opening'
  | 'shorts_opening'
  | 'short_covering'
  | 'long_unwinding'
  | 'neutral';
export type MomentumState = 'accelerating' | 'steady' | 'fading' | 'reversing';
export type ActivityLevel = 'quiet' | 'normal' | 'active' | 'extreme';

/** Market-intelligence fields of the snapshot; null while the inputs are not known or not covered. */
export interface MomentumJson {
  /** Mark price change over the window, percent. */
  readonly priceChange15mPct: number | null;
  readonly priceChange24hPct: number | null;
  /** |latest 15m OI change| ÷ mean |15m OI change| over the last 24h (1 = usual pace). */
  readonly oiAccel: number | null;
  readonly state: MomentumState | null;
}

export interface FreshnessJson {
  /** Event time each input was last updated; null when never seen. */
  readonly priceTs: number | null;
  readonly oiTs: number | null;
  readonly fundingTs: number | null;
  /** Age of the oldest input at the snapshot's `ts`, ms. */
  readonly maxInputAgeMs: number | null;
  /** Some input is older than the stale bound (per venue snapshot), or the listed venues are (aggregate). */
  readonly stale: boolean;
  readonly staleVenues: readonly string[];
}

/** Snapshot JSON, contract version 1 (see README "Redis contract"). */
export interface SnapshotJson {
  readonly v: 1;
  readonly venue: string;
  readonly symbol: string;
  readonly instrument: string;
  readonly ts: number;
  readonly price: {
    readonly mark: number | null;
    readonly last?: number | null;
    readonly index?: number | null;
  };
  readonly oi: {
    readonly base: number | null;
    readonly usd: number | null;
    readonly delta15m: DeltaJson | null;
    readonly delta24h: DeltaJson | null;
  };
  readonly funding: {
    readonly rate: number | null;
    readonly intervalHours: number | null;
    readonly hourly: number | null;
    readonly aprPct: number | null;
    readonly nextFundingTime: number | null;
    /** Rate per 8 hours, whatever the venue's interval. */
    readonly rate8h?: number | null;
    readonly payer?: FundingPayer;
    /** Level of |aprPct| against the configured thresholds. */
    readonly pressure?: FundingPressure | null;
    /** What a $10,000 long pays (positive) or earns (negative) in a year at this rate, USD. */
    readonly annualCostUsdPer10kLong?: number | null;
    /** `nextFundingTime − ts`, ms. */
    readonly msToNextFunding?: number | null;
    /** One-line strategy hint that follows from the numbers. */
    readonly hint?: string | null;
    /** The rate sits at the venue's cap (`cap`) or floor (`floor`); null when inside or bounds unknown. */
    readonly atBound?: 'cap' | 'floor' | null;
  };
  readonly turnover24hUsd?: number | null;
  readonly momentum?: MomentumJson;
  /** Who drives the move over each window. */
  readonly control?: { readonly '15m': ControlState | null; readonly '24h': ControlState | null };
  /** Whether the funding sign supports the control state (null: neutral or no funding). */
  readonly controlFundingAgrees?: { readonly '15m': boolean | null; readonly '24h': boolean | null };
  readonly activity?: ActivityLevel | null;
  readonly freshness?: FreshnessJson;
  /** Aggregate (`venue: "all"`) only: the venues included and the cross-venue figures. */
  readonly venues?: readonly string[];
  readonly fundingSpread?: {
    readonly aprPct: number;
    /** Null on both when the spread is a tie (below 0.005 APR percent): no venue is dearer. */
    readonly maxVenue: string | null;
    readonly minVenue: string | null;
  } | null;
  /**
   * Liquidations over each window, on event time. Null when the venue publishes no feed (the reason
   * is in `unavailable.liquidations`); never zeros for a venue we cannot see.
   */
  readonly liquidations?: LiquidationsJson | null;
  /** The latest long/short statistics; null when the venue publishes none (see `unavailable`). */
  readonly longShort?: LongShortJson | null;
  /** Why a figure is null for this venue (absent when every figure is available). */
  readonly unavailable?: { readonly liquidations?: string; readonly longShort?: string };
  /** Aggregate only: per window, the venues whose control state differs from the aggregate's. */
  readonly divergence?: { readonly '15m': readonly string[]; readonly '24h': readonly string[] };
}

/** One window of liquidations by the side of the positions closed. */
export interface LiquidationWindowJson {
  /** USD value of long positions liquidated (forced sells). */
  readonly longUsd: number;
  /** USD value of short positions liquidated (forced buys). */
  readonly shortUsd: number;
  readonly longBase: number;
  readonly shortBase: number;
  readonly count: number;
  /**
   * Base amount liquidated (both sides) ÷ the size of the window's OI decrease; null unless OI
   * fell over the window (or the OI change is unknown). On sampled venues it is a lower bound.
   */
  readonly oiShare: number | null;
  /** Counting started after the window's start (a restart, a new subscription): sums are partial. */
  readonly partial: boolean;
}

export interface LiquidationsJson {
  readonly '15m': LiquidationWindowJson;
  readonly '24h': LiquidationWindowJson;
  /** `sampled` when any venue counted is sampled (see `LIQUIDATION_COVERAGE`). */
  readonly coverage: LiquidationCoverage;
  /** Aggregate only: the venues of the symbol whose liquidations are not in the sums. */
  readonly missingVenues?: readonly string[];
}

export interface LongShortJson {
  /** Share of accounts net long, percent. */
  readonly accountsLongPct: number | null;
  /** Share of top traders' positions that are long, percent (Binance, OKX); null where not published. */
  readonly topTradersLongPct: number | null;
  /** Time of the statistics' bucket, epoch ms. */
  readonly ts: number;
}

export type AlertKind =
  | 'oi_change_15m'
  | 'oi_change_24h'
  | 'funding_pressure'
  | 'funding_interval_change'
  | 'funding_at_bound'
  | 'control_flip'
  | 'momentum_spike'
  | 'liquidation_cascade';

export const ALERT_KINDS: readonly AlertKind[] = [
  'oi_change_15m',
  'oi_change_24h',
  'funding_pressure',
  'funding_interval_change',
  'funding_at_bound',
  'control_flip',
  'momentum_spike',
  'liquidation_cascade',
];

export type AlertSeverity = 'info' | 'warning' | 'critical';

/** Alert JSON, contract version 1. */
export interface AlertJson {
  readonly v: 1;
  /** Unique and stable: derived from venue, symbol, rule and event time. */
  readonly id: string;
  readonly kind: AlertKind;
  readonly venue: string;
  readonly symbol: string;
  readonly ts: number;
  /** Plain-text summary. */
  readonly text: string;
  /** The rule's threshold in the unit of its figure (OI rules: percent). */
  readonly thresholdPct: number;
  /** OI rules: the triggering change; other rules: the 15m OI change at the time (null while unknown). */
  readonly delta: DeltaJson | null;
  readonly windowMs: number;
  readonly snapshot: SnapshotJson;
  readonly severity?: AlertSeverity;
  /** The figures that triggered the alert, by name with the unit in the name. */
  readonly figures?: Readonly<Record<string, number | string | boolean | null>>;
  /** An escalation: a move at least twice the last one broke the cooldown. */
  readonly escalated?: boolean;
  /**
   * The side of the move: OI rules and `momentum_spike` the sign of the OI change; `funding_pressure`
   * `up` when longs pay, `down` when shorts pay; `control_flip` the new side (`up`: longs opening or
   * short covering). Null or absent for rules without a side. A move against the last alert's
   * direction is a new event, never an escalation.
   */
  readonly direction?: 'up' | 'down' | null;
  /**
   * Set on alerts evaluated at a threshold some chat asked for (see `pulse:alert-levels`), not the
   * server's: that threshold, in the unit of the kind's figure. Consumers that want only the
   * server's alerts skip entries that carry it.
   */
  readonly forThreshold?: number;
  /**
   * Set by `--replay`: the alert was computed from a recording, not from live data, and its `ts` is
   * the recording's event time. Absent on live alerts.
   */
  readonly replay?: boolean;
}
