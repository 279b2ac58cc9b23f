/**
 * OKX `liquidation-orders` pushes for the simulator, in the real wire format (protocol mirror of
 * https://www.okx.com/docs-v5/en/#public-data-websocket-liquidation-orders-channel): `arg` with
 * `instType`, `data[]` elements with `details[]`, `instFamily`, `instId`, `instType` and `uly`;
 * `sz` in contracts (`okxContractValue`), `posSide` `long`/`short` (hedge mode) or `net` with the
 * order `side`. Like the venue: at most one order per contract per second, every swap (an inverse
 * `-USD-SWAP` copy of some orders of the first symbol too), and now and then an order held back so
 * it arrives after a later one.
 */
import { stableHash } from '../core/universe.js';
import { okxInstrument } from '../venues/okx.js';
import { formatPrice, type ScriptedMarket, type SimLiquidation } from './market.js';
import { okxContractValue, plainDecimal } from './okx-sim-rest.js';

const SECOND_MS = 1_000;
/** The inverse swap's contract value, USD (OKX BTC-USD-SWAP: 100). */
const INVERSE_CONTRACT_USD = 100;
/** Share of orders in net mode (`posSide: "net"`), of orders held back a tick, of inverse copies. */
const NET_MODE_SHARE = 0.25;
const LATE_SHARE = 0.1;
const INVERSE_SHARE = 0.5;

/** A deterministic fraction in [0, 1) for one order and purpose. */
function chance(symbol: string, ts: number, purpose: string): number {
  return stableHash(`${purpose}:${symbol}:${ts}`) / 4_294_967_296;
}

/**
 * The orders OKX would push for `symbol` in `(fromTs, toTs]`: the first of each second
 * `(k·1000, (k+1)·1000]`, so bounds on whole seconds never split a second between two calls.
 */
export function sampledLiquidations(
  market: ScriptedMarket,
  symbol: string,
  fromTs: number,
  toTs: number,
): SimLiquidation[] {
  const out: SimLiquidation[] = [];
  let lastSecond = Number.NEGATIVE_INFINITY;
  for (const order of market.liquidationsBetween(symbol, fromTs, toTs)) {
    const second = Math.ceil(order.ts / SECOND_MS);
    if (second === lastSecond) continue;
    lastSecond = second;
    out.push(order);
  }
  return out;
}

/** One `data` element as OKX sends it: one instrument, its details. */
export interface OkxLiquidationElement {
  readonly details: readonly Record<string, string>[];
  readonly instFamily: string;
  readonly instId: string;
  readonly instType: 'SWAP';
  readonly uly: string;
}

/** The detail of one order: hedge mode names the position, net mode the order side only. */
export function okxLiquidationDetail(order: SimLiquidation, contracts: number): Record<string, string> {
  const net = chance(order.symbol, order.ts, 'net') < NET_MODE_SHARE;
  const side = order.side === 'long' ? 'sell' : 'buy';
  return {
    bkLoss: '0',
    bkPx: formatPrice(order.price),
    ccy: '',
    posSide: net ? 'net' : order.side,
    side,
    sz: plainDecimal(contracts),
    ts: String(order.ts),
  };
}

/**
 * The elements of one order: its linear USDT swap (size in contracts of `okxContractValue`, to
 * 0.01 contract), and for the market's first symbol sometimes an inverse swap order (contracts of
 * 100 USD), which a follower of linear swaps must skip.
 */
export function okxLiquidationElements(
  market: ScriptedMarket,
  order: SimLiquidation,
): OkxLiquidationElement[] {
  const { symbol } = order;
  const contracts = Math.max(1, Math.round((order.base / okxContractValue(symbol)) * 100)) / 100;
  const out: OkxLiquidationElement[] = [
    {
      details: [okxLiquidationDetail(order, contracts)],
      instFamily: `${symbol}-USDT`,
      instId: okxInstrument(symbol),
      instType: 'SWAP',
      uly: `${symbol}-USDT`,
    },
  ];
  if (symbol === market.symbols[0] && chance(symbol, order.ts, 'inverse') < INVERSE_SHARE) {
    const usdContracts = Math.max(1, Math.round((order.base * order.price) / INVERSE_CONTRACT_USD));
    out.push({
      details: [okxLiquidationDetail(order, usdContracts)],
      instFamily: `${symbol}-USD`,
      instId: `${symbol}-USD-SWAP`,
      instType: 'SWAP',
      uly: `${symbol}-USD`,
    });
  }
  return out;
}

/** A push of `liquidation-orders` carrying `data`. */
export function okxLiquidationFrame(data: readonly OkxLiquidationElement[]): string {
  return JSON.stringify({ arg: { channel: 'liquidation-orders', instType: 'SWAP' }, data });
}

/** Whether the simulator holds this order back a tick (pushes are not always in time order). */
export function isLateOrder(order: SimLiquidation): boolean {
  return chance(order.symbol, order.ts, 'late') < LATE_SHARE;
}

/**
 * What the venue may push right after a subscription (undocumented; tardis-node discards that
 * first push): the sampled orders of the last `lookbackMs` before `ts`, grouped by instrument in
 * one frame, or null when there were none.
 */
export function okxFirstLiquidationPush(
  market: ScriptedMarket,
  ts: number,
  lookbackMs: number,
): string | null {
  const data: OkxLiquidationElement[] = [];
  for (const symbol of market.symbols) {
    const orders = sampledLiquidations(market, symbol, ts - lookbackMs, ts);
    if (orders.length === 0) continue;
    const elements = orders.map((o) => okxLiquidationElements(market, o)[0]!);
    data.push({ ...elements[0]!, details: elements.flatMap((e) => e.details) });
  }
  return data.length > 0 ? okxLiquidationFrame(data) : null;
}
