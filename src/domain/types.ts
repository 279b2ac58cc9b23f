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
  readonly fundingIntervalHours?: number;
  readonly nextFundingTs?: number;
  readonly turnover24hUsd?: number;
}

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
  /** The window spans data the feed missed (a disconnect): the change may be understated or overstated. */
  readonly gap?: boolean;
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
  };
  readonly turnover24hUsd?: number | null;
}

export type AlertKind = 'oi_change_15m';

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
  readonly thresholdPct: number;
  readonly delta: DeltaJson;
  readonly windowMs: number;
  readonly snapshot: SnapshotJson;
}
