/**
 * Bybit v5 `allLiquidation.{symbol}`: every liquidation of the symbol, pushed every 500 ms.
 * https://bybit-exchange.github.io/docs/v5/websocket/public/all-liquidation
 * `S` names the side of the POSITION that was liquidated, the opposite of Binance's order side.
 * The docs, verbatim: "When you receive a Buy update, this means that a long position has been
 * liquidated". `v` is the size in base units for linear contracts, `p` the bankruptcy price, `T`
 * the liquidation's own time. `type` is always `snapshot`: each entry is an event, nothing merges,
 * so these frames never touch the tickers state.
 */
import { canonicalSymbol } from '../../domain/symbols.js';
import type { Liquidation, MarketEvent } from '../../domain/types.js';
import type { ParseResult } from '../core/adapter.js';
import { type Fields, type FrameReader, isRecord, marketEvent } from '../core/fields.js';
import { RecentKeys } from '../core/recent-keys.js';

export const BYBIT_LIQUIDATION_TOPIC = 'allLiquidation.';

/**
 * Entries remembered for de-duplication, per connection (as 53-bit hashes, about 40 KB). What it
 * must cover is a resubscribe's replay of recent entries, if Bybit sends one: those the connection
 * delivered in its last seconds before it dropped. The memory takes nothing while the connection
 * is down, so those are its newest keys, and 2,000 are the connection's last 2,000 liquidations:
 * 8 per symbol on a full connection of 250, or 20 s of a cascade at 100 a second on it. A replay
 * of entries older than that would be counted again.
 */
export const BYBIT_LIQUIDATION_MEMORY = 2_000;

/**
 * Keys of the entries already delivered, oldest first, at most `capacity`. Whether a fresh
 * subscription replays entries pushed before it is undocumented, so a repeat of (symbol, `T`,
 * `S`, `v`, `p`) seen in an earlier push is dropped. The memory outlives a reconnect on purpose:
 * a replay right after a resubscribe is exactly the repeat it is there for.
 */
export class SeenLiquidations extends RecentKeys {
  constructor(capacity = BYBIT_LIQUIDATION_MEMORY) {
    super(capacity);
  }
}

/** One entry of `data[]`, read strictly: any unreadable field makes the whole frame malformed. */
function readEntry(at: FrameReader, raw: unknown, instrument: string, i: number): [string, Liquidation] {
  if (!isRecord(raw)) return at.fail(`data[${i}] is not an object`, 'data');
  const e: Fields = raw;
  if (e.s !== instrument) return at.fail(`data[${i}].s ${JSON.stringify(e.s)} is not ${instrument}`, 's');
  // Position side: Buy = a long position was liquidated (see the doc sentence above).
  const side = e.S === 'Buy' ? 'long' : e.S === 'Sell' ? 'short' : undefined;
  if (!side) return at.fail(`data[${i}].S is not Buy or Sell: ${JSON.stringify(e.S)}`, 'S');
  const ts = at.time(e, 'T');
  const base = at.num(e, 'v');
  const price = at.num(e, 'p');
  if (ts === undefined) return at.fail(`data[${i}].T is not a time`, 'T');
  if (base === undefined || !(base > 0)) return at.fail(`data[${i}].v is not a positive size`, 'v');
  if (price === undefined || !(price > 0)) return at.fail(`data[${i}].p is not a positive price`, 'p');
  const key = `${instrument}|${ts}|${String(e.S)}|${String(e.v)}|${String(e.p)}`;
  return [key, { side, base, usd: base * price, ts }];
}

/**
 * One push → ONE event of the instrument carrying every new liquidation of the push (oldest
 * first, as listed), with the push's `ts` as its event time; each liquidation keeps its own `T`.
 * Identical entries inside one push are kept (two orders can share a millisecond, size and price);
 * an entry already delivered by an earlier push is dropped. A push with nothing new is `ignored`.
 */
export function parseBybitLiquidations(
  msg: Fields,
  topic: string,
  at: FrameReader,
  seen: SeenLiquidations,
  receiveTs: number,
): ParseResult {
  if (msg.type !== 'snapshot') return at.fail(`unknown type ${String(msg.type)}`, 'type');
  if (!Array.isArray(msg.data)) return at.fail('data is not an array', 'data');
  const instrument = topic.slice(BYBIT_LIQUIDATION_TOPIC.length);
  // Read every entry before remembering any: a malformed frame leaves the memory as it was.
  const entries = msg.data.map((raw, i) => readEntry(at, raw, instrument, i));
  const fresh = entries.filter(([key]) => !seen.has(key));
  for (const [key] of entries) seen.add(key);
  if (fresh.length === 0) {
    const detail = entries.length === 0 ? `empty push on ${topic}` : `repeated push on ${topic}`;
    return { events: [], control: 'ignored', detail };
  }
  const symbol = canonicalSymbol(instrument) ?? instrument;
  const ev = marketEvent('bybit', symbol, instrument, at.time(msg, 'ts') ?? receiveTs, receiveTs);
  ev.liquidations = fresh.map(([, liquidation]) => liquidation);
  return { events: [ev satisfies MarketEvent] };
}
