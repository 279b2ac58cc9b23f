/**
 * OKX v5 `liquidation-orders` (instType SWAP): the state every parser of one OKX adapter shares, and
 * the reading of one push element.
 * https://www.okx.com/docs-v5/en/#public-data-websocket-liquidation-orders-channel
 * - One subscription brings every swap (USDT and USDC linear, inverse `-USD-SWAP`): only the linear
 *   USDT swaps we follow are kept.
 * - `sz` is in **contracts**: base = `sz × ctVal`, USD = base × `bkPx` (bankruptcy price).
 * - `posSide` `long`/`short` names the closed position (hedge mode); `net` (net mode): the order
 *   `side` `sell` closes a long, `buy` a short.
 * - At most one order per contract per second (sampled), pushes not necessarily in time order, and
 *   (tardis-node discards it) the first push after subscribing may repeat older orders.
 *
 * Every OKX connection subscribes the channel (one dead connection loses nothing), so each order
 * arrives once per connection: the adapter's parsers share one `OkxLiquidationBook` that lets the
 * first copy through and counts the others as duplicates.
 */
import type { Liquidation } from '../../domain/types.js';
import type { Fields, FrameReader } from '../core/fields.js';
import { RecentKeys } from '../core/recent-keys.js';

export const OKX_LIQUIDATION_CHANNEL = 'liquidation-orders';
/** The one arg of the subscription; it has no `instId`. */
export const OKX_LIQUIDATION_ARG = { channel: OKX_LIQUIDATION_CHANNEL, instType: 'SWAP' } as const;

/**
 * Orders remembered for de-duplication, one memory for all connections of the adapter (as
 * 53-bit hashes, about 40 KB). What it must cover: the copies of one push, which
 * reach the connections milliseconds apart, and a reconnect's first push. That push's orders older
 * than the subscription less `OKX_LIQUIDATION_MARGIN_MS` are dropped before this memory, so it can
 * only repeat orders of the last 5 s (and the push's latency), the newest keys: the other
 * connections kept adding them. OKX pushes at most one order per contract per second and only
 * followed contracts are remembered, so 2,000 keys hold 5 s of 400 followed contracts all at that
 * cap (6.6 s of the bench's 300).
 */
export const SEEN_ORDERS_MAX = 2_000;
/** Contract values learned from `open-interest`; one per followed instrument, bounded anyway. */
const LEARNED_CT_VAL_MAX = 5_000;
/**
 * A detail older than its connection's subscription by more than this is from before it (the
 * first push may repeat old orders). The margin absorbs clock skew and push latency.
 */
export const OKX_LIQUIDATION_MARGIN_MS = 5_000;

/**
 * What became of the liquidation details received, one count per copy (each connection receives
 * every order). Readable on the adapter (`OkxAdapter.liquidations`).
 */
export interface OkxLiquidationCounters {
  /** Details turned into a `Liquidation`. */
  counted: number;
  /** Details already taken from another connection (or an earlier push). */
  duplicates: number;
  /** Details older than their connection's subscription, less the margin. */
  beforeSubscription: number;
  /** Details of instruments not followed (inverse, USDC, unlisted). */
  unfollowed: number;
  /**
   * Details of followed instruments whose contract value is unknown (no `ctVal` in the universe and
   * no `open-interest` push seen yet): not counted, as a size in contracts cannot be valued.
   */
  unvalued: number;
  /** Details whose `posSide`/`side` pair names no position side. */
  unknownSide: number;
}

/** `oiCcy / oi` rounded to 4 significant digits: OKX contract values are short decimals (0.01, 0.1, 1000). */
export function contractValueFromOi(oiContracts: number, oiBase: number): number | undefined {
  if (!(oiContracts > 0) || !(oiBase > 0)) return undefined;
  const value = Number((oiBase / oiContracts).toPrecision(4));
  return value > 0 && Number.isFinite(value) ? value : undefined;
}

/** `long` when `posSide == "long"` or (`net` and `side == "sell"`); `short` the other way. */
export function okxLiquidationSide(posSide: unknown, side: unknown): Liquidation['side'] | undefined {
  if (posSide === 'long') return 'long';
  if (posSide === 'short') return 'short';
  if (posSide === 'net') {
    if (side === 'sell') return 'long';
    if (side === 'buy') return 'short';
  }
  return undefined;
}

/** A linear USDT swap id (`BTC-USDT-SWAP`): the only instruments we follow. */
export function isOkxLinearUsdtSwap(instId: string): boolean {
  return instId.endsWith('-USDT-SWAP');
}

/** State shared by every parser of one OKX adapter: de-duplication, contract values, counters. */
export class OkxLiquidationBook {
  readonly counters: OkxLiquidationCounters = {
    counted: 0,
    duplicates: 0,
    beforeSubscription: 0,
    unfollowed: 0,
    unvalued: 0,
    unknownSide: 0,
  };
  /** Orders taken, oldest first, at most `SEEN_ORDERS_MAX` (hashed: about 20 bytes each). */
  private readonly seen = new RecentKeys(SEEN_ORDERS_MAX);
  private readonly learned = new Map<string, number>();
  /** Instruments seen on a per-instrument channel (what a replay without universe followed). */
  private readonly instruments = new Set<string>();

  /** An instrument pushed on one of its own channels: it is followed. */
  noteInstrument(instId: string): void {
    if (this.instruments.has(instId)) return;
    this.instruments.add(instId);
    if (this.instruments.size > LEARNED_CT_VAL_MAX)
      this.instruments.delete(this.instruments.values().next().value!);
  }

  seenInstrument(instId: string): boolean {
    return this.instruments.has(instId);
  }

  /** Learns an instrument's contract value from an `open-interest` push (`oi` contracts, `oiCcy` base). */
  learnFromOi(instId: string, oiContracts: number | undefined, oiBase: number | undefined): void {
    if (!isOkxLinearUsdtSwap(instId) || oiContracts === undefined || oiBase === undefined) return;
    const value = contractValueFromOi(oiContracts, oiBase);
    if (value === undefined) return;
    this.learned.delete(instId);
    this.learned.set(instId, value);
    if (this.learned.size > LEARNED_CT_VAL_MAX) this.learned.delete(this.learned.keys().next().value!);
  }

  /** The contract value learned from open interest, if any. */
  learnedContractValue(instId: string): number | undefined {
    return this.learned.get(instId);
  }

  /** True the first time an order is offered; false for every later copy. */
  firstCopy(key: string): boolean {
    return this.seen.add(key);
  }
}

/** What a parser knows when it reads one element of a `liquidation-orders` push. */
export interface OkxLiquidationContext {
  readonly book: OkxLiquidationBook;
  /** Whether we follow the instrument. */
  followed(instId: string): boolean;
  /** Base units per contract, from the universe or learned; undefined when unknown. */
  contractValue(instId: string): number | undefined;
  /** Details older than this (venue time) are from before the subscription; undefined: none known. */
  readonly cutoffTs: number | undefined;
}

/**
 * The liquidations of one `data` element (one instrument), each at its own `ts`; an empty list when
 * none is kept. A detail without `sz`, `bkPx` or `ts`, or with an unreadable number, makes the frame
 * malformed (`FrameError`), like every live field.
 */
export function readOkxLiquidations(
  el: Fields,
  instId: string,
  ctx: OkxLiquidationContext,
  at: FrameReader,
): Liquidation[] {
  if (!Array.isArray(el.details)) return at.fail('details is not an array', 'details');
  const { book } = ctx;
  const out: Liquidation[] = [];
  const followed = ctx.followed(instId);
  for (const d of el.details) {
    if (typeof d !== 'object' || d === null || Array.isArray(d))
      return at.fail('detail is not an object', 'details');
    const detail = d as Fields;
    const sz = at.num(detail, 'sz');
    const bkPx = at.num(detail, 'bkPx');
    const ts = at.time(detail, 'ts');
    if (sz === undefined || bkPx === undefined || ts === undefined)
      return at.fail('liquidation detail without sz, bkPx or ts', 'details');
    if (!followed) {
      book.counters.unfollowed++;
      continue;
    }
    const side = okxLiquidationSide(detail.posSide, detail.side);
    if (side === undefined) {
      book.counters.unknownSide++;
      continue;
    }
    if (ctx.cutoffTs !== undefined && ts < ctx.cutoffTs) {
      book.counters.beforeSubscription++;
      continue;
    }
    const key = `${instId}|${ts}|${String(detail.side)}|${String(detail.posSide)}|${sz}|${bkPx}`;
    if (!book.firstCopy(key)) {
      book.counters.duplicates++;
      continue;
    }
    const ctVal = ctx.contractValue(instId);
    if (ctVal === undefined) {
      book.counters.unvalued++;
      continue;
    }
    // 12 significant digits: 3 × 0.1 is 0.3 here, not 0.30000000000000004.
    const base = Number((sz * ctVal).toPrecision(12));
    book.counters.counted++;
    out.push({ side, base, usd: base * bkPx, ts });
  }
  return out;
}
