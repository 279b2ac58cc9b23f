import type { VenueId } from '../../domain/types.js';

/** One instrument a venue lists and we follow. */
export interface UniverseEntry {
  /** Canonical symbol (the base asset as the venue names it, upper case: `BTC`, `1000PEPE`, `KPEPE`). */
  readonly symbol: string;
  /** The venue's instrument id: `BTCUSDT`, `BTC-USDT-SWAP`, `BTC`. */
  readonly instrument: string;
  /** Funding interval when the listing says it (frames may not). */
  readonly fundingIntervalHours?: number;
  /** Bounds on the funding rate per interval when the listing says them (Bybit `upperFundingRate`/`lowerFundingRate`). */
  readonly fundingRateCap?: number;
  readonly fundingRateFloor?: number;
  /**
   * Base units per contract where the venue counts sizes in contracts (OKX `ctVal` of a linear
   * swap: BTC-USDT-SWAP 0.01). Absent where sizes are already in base units.
   */
  readonly contractValueBase?: number;
  /** 24h turnover in USD at listing time, used to rank the top N. */
  readonly turnover24hUsd?: number;
}

export interface UniverseWant {
  /** Canonical symbols to follow, or null for the top `topN` by 24h turnover. */
  readonly symbols: readonly string[] | null;
  readonly topN: number;
}

export interface VenueUniverse {
  readonly entries: readonly UniverseEntry[];
  /** Requested symbols the venue does not list as a trading linear perpetual. */
  readonly missing: readonly string[];
}

/** Lists a venue's linear perpetuals (USDT; USDC on Hyperliquid) over REST. */
export type FetchUniverse = (
  restUrl: string,
  want: UniverseWant,
  timeoutMs?: number,
) => Promise<VenueUniverse>;

/** This processor's part of the universe: `SHARD=index/count`. */
export interface Shard {
  readonly index: number;
  readonly count: number;
}

/** FNV-1a, 32 bit: a stable hash (the same on every machine and release). */
export function stableHash(text: string): number {
  let h = 0x811c9dc5;
  for (let i = 0; i < text.length; i++) {
    h ^= text.charCodeAt(i);
    h = Math.imul(h, 0x01000193) >>> 0;
  }
  return h;
}

/**
 * Whether `symbol` (on any venue) belongs to this shard. The hash is of the symbol alone, so every
 * venue of one symbol lands in the same shard and the cross-venue aggregate (`pulse:latest:all:*`)
 * is computed where all its inputs are. `venue` is kept for callers and future per-venue splits.
 */
export function inShard(shard: Shard | null | undefined, _venue: string, symbol: string): boolean {
  return !shard || shard.count <= 1 || stableHash(symbol) % shard.count === shard.index;
}

/** Picks SYMBOLS (in their order) or the top N by turnover from a venue's full listing. */
export function selectUniverse(all: readonly UniverseEntry[], want: UniverseWant): VenueUniverse {
  if (want.symbols) {
    const bySymbol = new Map(all.map((e) => [e.symbol, e]));
    const entries: UniverseEntry[] = [];
    const missing: string[] = [];
    for (const s of want.symbols) {
      const e = bySymbol.get(s);
      if (e) entries.push(e);
      else missing.push(s);
    }
    return { entries, missing };
  }
  const ranked = [...all].sort((a, b) => (b.turnover24hUsd ?? 0) - (a.turnover24hUsd ?? 0));
  return { entries: ranked.slice(0, want.topN), missing: [] };
}

export type { VenueId };
