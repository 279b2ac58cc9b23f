/**
 * A deterministic scripted market for the simulator and demos: every value is a pure function
 * of (options, symbol, event time). Smooth seeded value noise gives a plausible random walk whose
 * 15-minute OI moves stay well under 1%, so only scripted events cross a 3%-in-15m alert.
 */

const HOUR_MS = 3_600_000;
const FUNDING_INTERVAL_HOURS = 8;
const FUNDING_INTERVAL_MS = FUNDING_INTERVAL_HOURS * HOUR_MS;

export interface MarketSymbolSpec {
  /** Canonical base asset, e.g. `BTC` (the simulator serves it as `BTCUSDT`). */
  readonly symbol: string;
  /** Mark price at `startTs`, USD. */
  readonly basePrice: number;
  /** One-side open interest at `startTs`, base units. */
  readonly baseOiBase: number;
}

/** A scripted move: OI and price ramp linearly over `durationMs` from `atTs`, then stay there. */
export interface ScriptedEvent {
  readonly symbol: string;
  readonly atTs: number;
  readonly durationMs: number;
  /** Total OI change at the end of the ramp, e.g. `5` = +5%. */
  readonly oiChangePct: number;
  readonly priceChangePct: number;
}

/**
 * A scripted funding regime: from `atTs` (until `untilTs`, default for good) the symbol's rate per
 * interval is `fundingRate` and/or its interval is `intervalHours`, on every venue at once. A
 * venue's own cap still applies only in how it reads the rate (`funding.atBound`).
 */
export interface ScriptedFundingEvent {
  readonly symbol: string;
  readonly atTs: number;
  readonly untilTs?: number;
  /** Rate per funding interval, e.g. `0.00375` = 0.375%. */
  readonly fundingRate?: number;
  readonly intervalHours?: number;
}

/**
 * A scripted liquidation cascade: from `atTs` over `durationMs`, positions of `side` worth
 * `totalUsd` (at the mark price of each order's time) are liquidated in orders every 500 ms.
 * A cascade of longs usually comes with a falling price and OI (a flush), one of shorts with a
 * rising price and falling OI (a squeeze): script the move with a `ScriptedEvent`.
 */
export interface ScriptedLiquidationEvent {
  readonly symbol: string;
  readonly atTs: number;
  readonly durationMs: number;
  /** The side of the positions liquidated. */
  readonly side: 'long' | 'short';
  readonly totalUsd: number;
}

/** One liquidation order of the scripted market: what every venue simulator encodes its own way. */
export interface SimLiquidation {
  readonly symbol: string;
  /** The side of the position liquidated (`long` = a forced sell). */
  readonly side: 'long' | 'short';
  /** Size, base units. */
  readonly base: number;
  /** Price of the order (the mark price at `ts`), USD. */
  readonly price: number;
  readonly ts: number;
}

/** Cascade orders come every this many ms (Bybit's push period). */
export const SIM_LIQUIDATION_STEP_MS = 500;
/** Background liquidations: on average one per symbol per this many ms, each about 0.002% of OI. */
const BACKGROUND_LIQUIDATION_EVERY_MS = 20_000;
const BACKGROUND_LIQUIDATION_OI_FRACTION = 0.00002;

export interface MarketState {
  readonly markPrice: number;
  readonly lastPrice: number;
  readonly indexPrice: number;
  /** Open interest of one side, base units. */
  readonly oiBase: number;
  /** Per funding interval (0.0001 = 0.01%). */
  readonly fundingRate: number;
  /** 8 unless a scripted funding event says otherwise. */
  readonly fundingIntervalHours: number;
  /** The next multiple of the interval (UTC) strictly after the event time. */
  readonly nextFundingTs: number;
  readonly turnover24hUsd: number;
}

export interface ScriptedMarketOptions {
  readonly symbols: readonly MarketSymbolSpec[];
  /** Noise seed; default 1. Same seed, same market. */
  readonly seed?: number;
  /** Anchor time: at `startTs` price and OI equal `basePrice` and `baseOiBase` (before events). */
  readonly startTs: number;
  readonly events?: readonly ScriptedEvent[];
  /** Funding regimes; later ones win where they overlap. */
  readonly funding?: readonly ScriptedFundingEvent[];
  /** Liquidation cascades, on top of a small seeded background of single liquidations. */
  readonly liquidations?: readonly ScriptedLiquidationEvent[];
}

export interface ScriptedMarket {
  readonly symbols: readonly string[];
  readonly startTs: number;
  has(symbol: string): boolean;
  spec(symbol: string): MarketSymbolSpec;
  /** Throws a RangeError for a symbol the market does not have. */
  stateAt(symbol: string, ts: number): MarketState;
  /**
   * Liquidation orders of `symbol` with `fromTs < ts <= toTs`, oldest first: the cascades' orders
   * (one per 500 ms step) and the background's (at most one per 500 ms step). A pure function of
   * the arguments, so two calls over adjacent spans never repeat or miss an order.
   */
  liquidationsBetween(symbol: string, fromTs: number, toTs: number): SimLiquidation[];
}

/** A small realistic default universe. */
export const DEFAULT_MARKET_SYMBOLS: readonly MarketSymbolSpec[] = [
  { symbol: 'BTC', basePrice: 63_500, baseOiBase: 30_000 },
  { symbol: 'ETH', basePrice: 2_500, baseOiBase: 450_000 },
  { symbol: 'SOL', basePrice: 150, baseOiBase: 3_500_000 },
  { symbol: 'XRP', basePrice: 0.55, baseOiBase: 150_000_000 },
  { symbol: 'DOGE', basePrice: 0.12, baseOiBase: 1_500_000_000 },
];

/** Decimal places a Bybit-like quote would use for this price (BTC `63561.60`, XRP `0.551234`). */
export function priceDecimals(price: number): number {
  if (!(price > 0)) return 2;
  return Math.min(8, Math.max(2, 5 - Math.floor(Math.log10(price))));
}

export function formatPrice(price: number): string {
  return price.toFixed(priceDecimals(price));
}

/** Integer hash of a key to [0, 1). */
function hash01(a: number, b: number, c: number, d: number): number {
  let h = 0x811c9dc5;
  for (const n of [a, b, c, d]) {
    h = Math.imul(h ^ (n | 0), 0x01000193);
    h ^= h >>> 15;
    h = Math.imul(h, 0x2c1b3c6d);
    h ^= h >>> 12;
  }
  h = Math.imul(h ^ (h >>> 16), 0x45d9f3b);
  h ^= h >>> 16;
  return (h >>> 0) / 4_294_967_296;
}

function stringHash(s: string): number {
  let h = 0x811c9dc5;
  for (let i = 0; i < s.length; i++) h = Math.imul(h ^ s.charCodeAt(i), 0x01000193);
  return h | 0;
}

/** Smooth value noise in [-1, 1]: seeded values at integer knots, smoothstep in between. */
function noise(seed: number, key: number, channel: number, x: number): number {
  const i = Math.floor(x);
  const f = x - i;
  const u = f * f * (3 - 2 * f);
  const a = hash01(seed, key, channel, i) * 2 - 1;
  const b = hash01(seed, key, channel, i + 1) * 2 - 1;
  return a + (b - a) * u;
}

/** Octaves as [period ms, amplitude]. */
type Octaves = ReadonlyArray<readonly [number, number]>;

const PRICE_OCTAVES: Octaves = [
  [6 * HOUR_MS, 0.02],
  [HOUR_MS, 0.006],
  [600_000, 0.002],
  [60_000, 0.0006],
  [5_000, 0.0002],
];
const OI_OCTAVES: Octaves = [
  [12 * HOUR_MS, 0.03],
  [2 * HOUR_MS, 0.006],
  [600_000, 0.001],
  [30_000, 0.0002],
];
const FUNDING_OCTAVES: Octaves = [
  [FUNDING_INTERVAL_MS, 0.00008],
  [HOUR_MS, 0.00002],
];

function walk(octaves: Octaves, seed: number, key: number, channel: number, ts: number): number {
  let sum = 0;
  octaves.forEach(([periodMs, amplitude], k) => {
    sum += amplitude * noise(seed, key, channel * 16 + k, ts / periodMs);
  });
  return sum;
}

/** Fraction of an event's ramp done at `ts`: 0 before, 1 after. */
function rampProgress(event: ScriptedEvent, ts: number): number {
  if (ts <= event.atTs) return 0;
  if (event.durationMs <= 0 || ts >= event.atTs + event.durationMs) return 1;
  return (ts - event.atTs) / event.durationMs;
}

export function createScriptedMarket(opts: ScriptedMarketOptions): ScriptedMarket {
  const seed = opts.seed ?? 1;
  const specs = new Map(opts.symbols.map((s) => [s.symbol, s]));
  const events = opts.events ?? [];
  const fundingEvents = opts.funding ?? [];

  /** The scripted rate and interval in force at `ts`, where any. */
  const fundingAt = (symbol: string, ts: number) => {
    let rate: number | undefined;
    let hours: number | undefined;
    for (const f of fundingEvents) {
      if (f.symbol !== symbol || ts < f.atTs || (f.untilTs !== undefined && ts >= f.untilTs)) continue;
      rate = f.fundingRate ?? rate;
      hours = f.intervalHours ?? hours;
    }
    return { rate, hours: hours ?? FUNDING_INTERVAL_HOURS };
  };

  const spec = (symbol: string): MarketSymbolSpec => {
    const s = specs.get(symbol);
    if (!s) throw new RangeError(`scripted market has no symbol ${symbol}`);
    return s;
  };

  const stateAt = (symbol: string, ts: number): MarketState => {
    const s = spec(symbol);
    const key = stringHash(symbol);
    const rel = (octaves: Octaves, channel: number) =>
      walk(octaves, seed, key, channel, ts) - walk(octaves, seed, key, channel, opts.startTs);
    let priceFactor = Math.exp(rel(PRICE_OCTAVES, 1));
    let oiFactor = Math.exp(rel(OI_OCTAVES, 2));
    for (const e of events) {
      if (e.symbol !== symbol) continue;
      const p = rampProgress(e, ts);
      priceFactor *= 1 + (e.priceChangePct / 100) * p;
      oiFactor *= 1 + (e.oiChangePct / 100) * p;
    }
    const markPrice = s.basePrice * priceFactor;
    const funding = fundingAt(symbol, ts);
    const intervalMs = funding.hours * HOUR_MS;
    return {
      markPrice,
      lastPrice: markPrice * (1 + 0.0002 * noise(seed, key, 3, ts / 2_000)),
      indexPrice: markPrice * (1 + 0.0001 + 0.0003 * noise(seed, key, 4, ts / 30_000)),
      oiBase: s.baseOiBase * oiFactor,
      fundingRate: funding.rate ?? 0.0001 + walk(FUNDING_OCTAVES, seed, key, 5, ts),
      fundingIntervalHours: funding.hours,
      nextFundingTs: Math.floor(ts / intervalMs) * intervalMs + intervalMs,
      turnover24hUsd:
        s.baseOiBase * s.basePrice * 1.2 * Math.exp(0.2 * noise(seed, key, 6, ts / (12 * HOUR_MS))),
    };
  };

  const cascades = opts.liquidations ?? [];
  const backgroundChance = SIM_LIQUIDATION_STEP_MS / BACKGROUND_LIQUIDATION_EVERY_MS;

  const liquidationsBetween = (symbol: string, fromTs: number, toTs: number): SimLiquidation[] => {
    const key = stringHash(symbol);
    const out: SimLiquidation[] = [];
    if (!(toTs > fromTs)) return out;
    // Every order sits on a step boundary; walk the steps in (fromTs, toTs].
    const first = Math.floor(fromTs / SIM_LIQUIDATION_STEP_MS) + 1;
    const last = Math.floor(toTs / SIM_LIQUIDATION_STEP_MS);
    for (let step = first; step <= last; step++) {
      const ts = step * SIM_LIQUIDATION_STEP_MS;
      if (ts < opts.startTs) continue;
      for (const c of cascades) {
        if (c.symbol !== symbol || ts <= c.atTs || ts > c.atTs + c.durationMs) continue;
        const steps = Math.max(1, Math.round(c.durationMs / SIM_LIQUIDATION_STEP_MS));
        const price = stateAt(symbol, ts).markPrice;
        // Uneven orders (0.5×–1.5× the mean), scaled so the cascade sums to about `totalUsd`.
        const size = 0.5 + hash01(seed, key, 40 + step, c.atTs % 1_000_003);
        out.push({ symbol, side: c.side, base: ((c.totalUsd / steps) * size) / price, price, ts });
      }
      if (hash01(seed, key, 41, step) < backgroundChance) {
        const st = stateAt(symbol, ts);
        const side = hash01(seed, key, 42, step) < 0.5 ? 'long' : 'short';
        const base = st.oiBase * BACKGROUND_LIQUIDATION_OI_FRACTION * (0.2 + 1.6 * hash01(seed, key, 43, step));
        out.push({ symbol, side, base, price: st.markPrice, ts });
      }
    }
    return out;
  };

  return {
    symbols: opts.symbols.map((s) => s.symbol),
    startTs: opts.startTs,
    has: (symbol) => specs.has(symbol),
    spec,
    stateAt,
    liquidationsBetween,
  };
}
