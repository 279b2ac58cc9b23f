/**
 * What the recording generator and the simulators encode into each venue's wire format:
 * the true market state of one instrument at one event time. Encoders turn it into frames
 * (and, for Binance, REST bodies) so tests can compare snapshots with values known by hand.
 */
export interface SyntheticPoint {
  readonly symbol: string;
  readonly instrument: string;
  /** Event time, epoch ms. */
  readonly ts: number;
  readonly markPrice: number;
  readonly lastPrice: number;
  readonly indexPrice: number;
  /** Open interest of one side, base units. */
  readonly oiBase: number;
  /** Funding rate per funding interval, as the venue quotes it (Hyperliquid: per hour). */
  readonly fundingRate: number;
  readonly fundingIntervalHours: number;
  readonly nextFundingTs: number;
  readonly turnover24hUsd: number;
}

/** One line of a recording before serialization: receive time, raw text, REST source if any. */
export interface EncodedFrame {
  readonly t: number;
  readonly frame: string;
  readonly source?: string;
}

/**
 * Encodes one instrument's state at one event time. `first` is true for the instrument's first
 * point of a connection (Bybit sends a snapshot then, deltas afterwards).
 */
export type EncodeFrames = (point: SyntheticPoint, first: boolean) => EncodedFrame[];
