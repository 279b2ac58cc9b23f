/**
 * A synthetic recording (NDJSON of `RawFrame`) holding all four venues, encoded by the venues'
 * own encoders, with the end-of-recording snapshot values worked out by hand.
 *
 * Per venue and symbol, OI and mark follow a piecewise-linear script that is flat on plateaus
 * around end−24h (±15 min, wider than the 14.4 min resolution of the 24 h window), end−15m
 * (±1 min) and the last 2 minutes, as in recording.ts: a window quantized to 1% of its length
 * reads exactly the plateau values, so the deltas are known. Funding differs per venue: Binance
 * quotes per interval (8 h, or 4 h for the symbols a `fundingInfo` REST body lists), Bybit per
 * `fundingIntervalHour`, OKX per the interval between `fundingTime` and `nextFundingTime`, and
 * Hyperliquid per hour.
 */
import type { DeltaJson, RawFrame, VenueId } from '../../src/domain/types.js';
import { encodeBinanceFrames } from '../../src/streams/sim/binance-sim-rest.js';
import { createBybitEncoder } from '../../src/streams/sim/bybit-encode.js';
import { encodeHyperliquidFrames } from '../../src/streams/sim/hyperliquid-sim.js';
import { formatPrice } from '../../src/streams/sim/market.js';
import { encodeOkxFrames } from '../../src/streams/sim/okx-sim.js';
import type { EncodeFrames, SyntheticPoint } from '../../src/streams/sim/synthetic.js';
import { knots, MARK_PLATEAUS, OI_PLATEAUS, valueAt } from './recording.js';

const MIN_MS = 60_000;
const HOUR_MS = 3_600_000;
const FUNDING_INFO_EVERY_MS = 15 * MIN_MS;

export interface VenueRecordingOptions {
  /** Base assets, e.g. `BTC`. */
  readonly symbols: readonly string[];
  /** Event time of the first point. */
  readonly startTs: number;
  /** Length; at least 24 h 15 min plus one step. */
  readonly hours: number;
  /** Event ms between points of one instrument; must divide one minute (the plateau grid). */
  readonly stepMs: number;
}

/** What the final snapshot of one instrument must hold. */
export interface VenueExpected {
  readonly instrument: string;
  /** Event time of the snapshot (Hyperliquid: the receive time of its last frame). */
  readonly ts: number;
  readonly oiBase: number;
  /** `oiBase × markPrice`. */
  readonly oiUsd: number;
  readonly markPrice: number;
  readonly fundingRate: number;
  readonly fundingIntervalHours: number;
  readonly hourly: number;
  readonly aprPct: number;
  readonly nextFundingTs: number;
  readonly delta15m: DeltaJson;
  readonly delta24h: DeltaJson;
}

export interface VenueRecording {
  readonly lines: string[];
  readonly startTs: number;
  /** Event time of the last point of every instrument. */
  readonly endTs: number;
  readonly expected: Record<VenueId, Record<string, VenueExpected>>;
}

const VENUES: readonly VenueId[] = ['binance', 'bybit', 'okx', 'hyperliquid'];

interface VenueSpec {
  readonly instrument: (symbol: string) => string;
  /** Funding interval per symbol index (cycled). */
  readonly intervals: readonly number[];
  /** Funding rate per interval at the base level, per symbol index (cycled). */
  readonly rates: readonly number[];
  /** OI of this venue relative to the symbol's base OI. */
  readonly oiScale: number;
  /** Price rounding as the venue quotes it. */
  readonly px: (x: number) => number;
}

const tickPrice = (x: number) => Number(formatPrice(x));

const SPECS: Record<VenueId, VenueSpec> = {
  binance: {
    instrument: (s) => `${s}USDT`,
    intervals: [8, 4, 8],
    rates: [0.0001, 0.00005, -0.00002],
    oiScale: 1,
    px: tickPrice,
  },
  bybit: {
    instrument: (s) => `${s}USDT`,
    intervals: [8, 8, 4],
    rates: [0.0001, 0.000075, 0.00012],
    oiScale: 0.7,
    px: tickPrice,
  },
  okx: {
    instrument: (s) => `${s}-USDT-SWAP`,
    intervals: [4, 8, 8],
    rates: [0.00008, 0.0001, -0.00015],
    oiScale: 0.45,
    px: tickPrice,
  },
  hyperliquid: {
    instrument: (s) => s,
    intervals: [1],
    rates: [0.0000125, 0.00001, -0.000004],
    oiScale: 0.3,
    // At most five significant figures.
    px: (x) => Number(x.toPrecision(5)),
  },
};

const BASES: Record<string, { price: number; oi: number }> = {
  BTC: { price: 80_123.45, oi: 61_234.567 },
  ETH: { price: 3_012.34, oi: 912_345.678 },
  SOL: { price: 151.234, oi: 9_123_456.789 },
};

/** The next settlement strictly after `ts` on a UTC grid of `hours`. */
const nextSettlement = (ts: number, hours: number) =>
  Math.floor(ts / (hours * HOUR_MS)) * hours * HOUR_MS + hours * HOUR_MS;

interface Script {
  readonly venue: VenueId;
  readonly symbol: string;
  readonly instrument: string;
  readonly intervalHours: number;
  oiAt(ts: number): number;
  markAt(ts: number): number;
  pointAt(ts: number, k: number): SyntheticPoint;
}

function scriptFor(venue: VenueId, v: number, symbol: string, i: number, startTs: number, endTs: number) {
  const spec = SPECS[venue];
  const base = BASES[symbol] ?? { price: 10 + 7 * i, oi: 1_000_000 * (i + 1) };
  const oiKnots = knots(endTs, startTs, OI_PLATEAUS[(i + v) % 3]!, 0.01 + 0.002 * v);
  const markKnots = knots(endTs, startTs, MARK_PLATEAUS[(i + 2 * v) % 3]!, 0.005);
  const baseMark = base.price * (1 + 0.0003 * v);
  const baseOi = base.oi * spec.oiScale;
  const intervalHours = spec.intervals[i % spec.intervals.length]!;
  const baseRate = spec.rates[i % spec.rates.length]!;
  const instrument = spec.instrument(symbol);
  const oiAt = (ts: number) => Number((baseOi * valueAt(oiKnots, ts)).toFixed(3));
  const markAt = (ts: number) => spec.px(baseMark * valueAt(markKnots, ts));
  const script: Script = {
    venue,
    symbol,
    instrument,
    intervalHours,
    oiAt,
    markAt,
    pointAt(ts, k) {
      const markPrice = markAt(ts);
      const tick = markPrice / 20_000;
      const hour = Math.floor(ts / HOUR_MS);
      return {
        symbol,
        instrument,
        ts,
        markPrice,
        lastPrice: spec.px(markPrice + tick * ((k % 7) - 3)),
        indexPrice: spec.px(markPrice * 0.9998),
        oiBase: oiAt(ts),
        // Changes every hour, so the final rate is not the first one.
        fundingRate: Number((baseRate * (1 + 0.1 * ((hour % 6) - 2))).toFixed(10)),
        fundingIntervalHours: intervalHours,
        nextFundingTs: nextSettlement(ts, intervalHours),
        // Grows every step, so Bybit always has a delta to send.
        turnover24hUsd: Number((1e9 * spec.oiScale * (i + 1) + k * 1_234.5).toFixed(2)),
      };
    },
  };
  return script;
}

function line(venue: VenueId, t: number, frame: string, source?: string): { t: number; text: string } {
  const raw: RawFrame = source === undefined ? { t, venue, frame } : { t, venue, frame, source };
  return { t, text: JSON.stringify(raw) };
}

export function generateVenueRecording(opts: VenueRecordingOptions): VenueRecording {
  if (!(opts.stepMs > 0) || MIN_MS % opts.stepMs !== 0) throw new RangeError('stepMs must divide one minute');
  const steps = Math.floor((opts.hours * HOUR_MS) / opts.stepMs);
  const endTs = opts.startTs + steps * opts.stepMs;
  if (endTs - opts.startTs < 24 * HOUR_MS + 15 * MIN_MS + opts.stepMs) {
    throw new RangeError('a recording needs at least 24 h 15 min plus one step');
  }
  const encoders: Record<VenueId, EncodeFrames> = {
    binance: encodeBinanceFrames,
    bybit: createBybitEncoder(),
    okx: encodeOkxFrames,
    hyperliquid: encodeHyperliquidFrames,
  };
  const scripts = VENUES.flatMap((venue, v) =>
    opts.symbols.map((symbol, i) => scriptFor(venue, v, symbol, i, opts.startTs, endTs)),
  );
  // Binance lists only the symbols whose interval is not the default 8 h.
  const fundingInfo = JSON.stringify(
    scripts
      .filter((s) => s.venue === 'binance' && s.intervalHours !== 8)
      .map((s) => ({
        symbol: s.instrument,
        adjustedFundingRateCap: '0.02000000',
        adjustedFundingRateFloor: '-0.02000000',
        fundingIntervalHours: s.intervalHours,
        disclaimer: false,
      })),
  );

  const out: Array<{ t: number; text: string }> = [];
  const lastT = new Map<Script, number>();
  for (let k = 0; k <= steps; k++) {
    const ts = opts.startTs + k * opts.stepMs;
    // The REST poller asks for fundingInfo on its first cycle and every 15 minutes after.
    if (k === 0 || ts % FUNDING_INFO_EVERY_MS === 0) {
      out.push(line('binance', ts + 1, fundingInfo, '/fapi/v1/fundingInfo'));
    }
    for (const s of scripts) {
      for (const f of encoders[s.venue](s.pointAt(ts, k), k === 0)) {
        out.push(line(s.venue, f.t, f.frame, f.source));
        lastT.set(s, Math.max(lastT.get(s) ?? 0, f.t));
      }
    }
  }
  out.sort((a, b) => a.t - b.t);

  const expected = Object.fromEntries(VENUES.map((venue) => [venue, {}])) as Record<
    VenueId,
    Record<string, VenueExpected>
  >;
  for (const s of scripts) {
    const end = s.pointAt(endTs, steps);
    const delta = (thenTs: number): DeltaJson => {
      const oiThen = s.oiAt(thenTs);
      const base = end.oiBase - oiThen;
      return {
        base,
        usd: end.oiBase * end.markPrice - oiThen * s.markAt(thenTs),
        pct: (100 * base) / oiThen,
      };
    };
    const hourly = end.fundingRate / s.intervalHours;
    // Hyperliquid frames carry no time: the event time is the receive time, the next funding
    // the next full hour after it. The others stamp their frames with the point's time.
    const receivedTs = lastT.get(s)!;
    const hyperliquid = s.venue === 'hyperliquid';
    expected[s.venue][s.symbol] = {
      instrument: s.instrument,
      ts: hyperliquid ? receivedTs : endTs,
      oiBase: end.oiBase,
      oiUsd: end.oiBase * end.markPrice,
      markPrice: end.markPrice,
      fundingRate: end.fundingRate,
      fundingIntervalHours: s.intervalHours,
      hourly,
      aprPct: hourly * 24 * 365 * 100,
      nextFundingTs: hyperliquid ? Math.floor(receivedTs / HOUR_MS) * HOUR_MS + HOUR_MS : end.nextFundingTs,
      delta15m: delta(endTs - 15 * MIN_MS),
      delta24h: delta(endTs - 24 * HOUR_MS),
    };
  }
  return { lines: out.map((l) => l.text), startTs: opts.startTs, endTs, expected };
}
