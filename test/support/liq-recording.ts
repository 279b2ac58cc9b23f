/**
 * A 25-hour recording of all four venues with forced flows: the OI, mark and funding frames of
 * `venue-recording.ts`, plus liquidation frames and long/short REST bodies in each venue's real
 * wire format (venues' docs, as in the parser fixtures), with the sums every final snapshot must
 * hold worked out from the frames themselves.
 *
 * The story: a long flush on ETH 20 h before the end (inside the 24 h window only), a short
 * squeeze on BTC in the last 12 minutes (inside both windows), two bursts that must not alert
 * (SOL shorts at 0.3% of OI; ARB longs at 0.9% of its OI but under $1M), and a background of
 * small liquidations on both sides. No liquidation lies within the resolution of a window's
 * start (24 h: ±30 min; 15 m: ±1 min), so every window's sums are exact.
 */
import type { VenueId } from '../../src/domain/types.js';
import { okxContractValue } from '../../src/streams/sim/okx-sim-rest.js';
import {
  generateVenueRecording,
  type VenueRecording,
  type VenueRecordingOptions,
} from './venue-recording.js';

const MIN_MS = 60_000;
const HOUR_MS = 60 * MIN_MS;
const LS_PERIOD_MS = 5 * MIN_MS;

export type LiqVenue = Exclude<VenueId, 'hyperliquid'>;
export const LIQ_VENUES: readonly LiqVenue[] = ['binance', 'bybit', 'okx'];

export interface SideSums {
  longUsd: number;
  shortUsd: number;
  longBase: number;
  shortBase: number;
  count: number;
}

export interface LiqExpected {
  readonly '15m': SideSums;
  readonly '24h': SideSums;
  readonly longShort: { accountsLongPct: number; topTradersLongPct: number | null; ts: number };
}

/** A scripted run of liquidations on one venue, one order per second. */
export interface Burst {
  readonly venue: LiqVenue;
  readonly symbol: string;
  readonly side: 'long' | 'short';
  readonly fromTs: number;
  readonly durationMs: number;
  readonly totalUsd: number;
  /** Whether `liquidation_cascade` must fire for it (per venue). */
  readonly fires: boolean;
}

export interface LiqRecording extends VenueRecording {
  readonly liq: Record<LiqVenue, Record<string, LiqExpected>>;
  readonly bursts: readonly Burst[];
}

interface Order {
  readonly venue: LiqVenue;
  readonly symbol: string;
  readonly side: 'long' | 'short';
  readonly ts: number;
  /** As written in the frame (OKX: contracts). */
  readonly sizeText: string;
  readonly priceText: string;
  /** Base units and USD as the parser must compute them. */
  readonly base: number;
  readonly usd: number;
}

const instrumentOf = (venue: LiqVenue, symbol: string) =>
  venue === 'okx' ? `${symbol}-USDT-SWAP` : `${symbol}USDT`;

function liquidationFrame(o: Order): { t: number; frame: string } {
  const instrument = instrumentOf(o.venue, o.symbol);
  switch (o.venue) {
    case 'binance':
      // All-market stream, combined envelope, the field set of a 2026 capture (see
      // test/fixtures/binance/README.md); developers.binance.com/docs/derivatives/usds-margined-futures/websocket-market-streams/All-Market-Liquidation-Order-Streams
      return {
        t: o.ts + 7,
        frame: JSON.stringify({
          stream: '!forceOrder@arr',
          data: {
            e: 'forceOrder',
            E: o.ts + 5,
            o: {
              s: instrument,
              S: o.side === 'long' ? 'SELL' : 'BUY',
              o: 'LIMIT',
              f: 'IOC',
              q: o.sizeText,
              p: o.priceText,
              ap: o.priceText,
              X: 'FILLED',
              l: o.sizeText,
              z: o.sizeText,
              T: o.ts,
              ps: instrument,
              st: 1,
            },
          },
        }),
      };
    case 'bybit':
      // `S` is the position side: Buy = a long was liquidated
      // (https://bybit-exchange.github.io/docs/v5/websocket/public/all-liquidation).
      return {
        t: o.ts + 310,
        frame: JSON.stringify({
          topic: `allLiquidation.${instrument}`,
          type: 'snapshot',
          ts: o.ts + 300,
          data: [
            { T: o.ts, s: instrument, S: o.side === 'long' ? 'Buy' : 'Sell', v: o.sizeText, p: o.priceText },
          ],
        }),
      };
    case 'okx':
      // Hedge-mode `posSide`; `sz` in contracts
      // (https://www.okx.com/docs-v5/en/#public-data-websocket-liquidation-orders-channel).
      return {
        t: o.ts + 9,
        frame: JSON.stringify({
          arg: { channel: 'liquidation-orders', instType: 'SWAP' },
          data: [
            {
              details: [
                {
                  bkLoss: '0',
                  bkPx: o.priceText,
                  ccy: '',
                  posSide: o.side,
                  side: o.side === 'long' ? 'sell' : 'buy',
                  sz: o.sizeText,
                  ts: String(o.ts),
                },
              ],
              instFamily: `${o.symbol}-USDT`,
              instId: instrument,
              instType: 'SWAP',
              uly: `${o.symbol}-USDT`,
            },
          ],
        }),
      };
  }
}

/** The long share of accounts (fraction) in the bucket `k` of a venue and symbol: seeded, 0.40–0.76. */
const longShare = (v: number, i: number, k: number) => 0.58 + 0.18 * Math.sin(0.37 * k + 1.3 * v + 0.7 * i);
const topShare = (v: number, i: number, k: number) => 0.55 + 0.15 * Math.cos(0.29 * k + v + i);
const dec4 = (x: number) => x.toFixed(4);

/** Long/short REST bodies of bucket `bucketTs` (published 1 s after the bucket closes). */
function longShortBodies(
  venue: LiqVenue,
  v: number,
  symbol: string,
  i: number,
  bucketTs: number,
): { t: number; frame: string; source: string; accountsLongPct: number; topTradersLongPct: number | null }[] {
  const k = Math.round(bucketTs / LS_PERIOD_MS);
  const acc = dec4(longShare(v, i, k));
  const top = dec4(topShare(v, i, k));
  const instrument = instrumentOf(venue, symbol);
  const t = bucketTs + LS_PERIOD_MS + 1_000;
  switch (venue) {
    case 'binance': {
      const row = (long: string, ts: number | string) => ({
        symbol: instrument,
        longShortRatio: dec4(Number(long) / (1 - Number(long))),
        longAccount: long,
        shortAccount: dec4(1 - Number(long)),
        timestamp: ts,
      });
      // Oldest first: the bucket before, then this one (the parser must take the last).
      const prev = dec4(longShare(v, i, k - 1));
      return [
        {
          t,
          source: `/futures/data/globalLongShortAccountRatio?symbol=${instrument}&period=5m&limit=2`,
          frame: JSON.stringify([row(prev, String(bucketTs - LS_PERIOD_MS)), row(acc, String(bucketTs))]),
          accountsLongPct: 100 * Number(acc),
          topTradersLongPct: null,
        },
        {
          t: t + 50,
          source: `/futures/data/topLongShortPositionRatio?symbol=${instrument}&period=5m&limit=1`,
          frame: JSON.stringify([row(top, bucketTs)]),
          accountsLongPct: 100 * Number(acc),
          topTradersLongPct: 100 * Number(top),
        },
      ];
    }
    case 'bybit':
      return [
        {
          t,
          source: `/v5/market/account-ratio?category=linear&symbol=${instrument}&period=5min&limit=1`,
          frame: JSON.stringify({
            retCode: 0,
            retMsg: 'OK',
            result: {
              list: [
                {
                  symbol: instrument,
                  buyRatio: acc,
                  sellRatio: dec4(1 - Number(acc)),
                  timestamp: String(bucketTs),
                },
              ],
              nextPageCursor: '',
            },
            retExtInfo: {},
            time: t,
          }),
          accountsLongPct: 100 * Number(acc),
          topTradersLongPct: null,
        },
      ];
    case 'okx': {
      const ratio = (long: string) => dec4(Number(long) / (1 - Number(long)));
      const accRatio = ratio(acc);
      const topRatio = ratio(top);
      const pct = (r: string) => (100 * Number(r)) / (1 + Number(r));
      return [
        {
          t,
          source: `/api/v5/rubik/stat/contracts/long-short-account-ratio-contract?instId=${instrument}&period=5m&limit=1`,
          frame: JSON.stringify({ code: '0', msg: '', data: [[String(bucketTs), accRatio]] }),
          accountsLongPct: pct(accRatio),
          topTradersLongPct: null,
        },
        {
          t: t + 50,
          source: `/api/v5/rubik/stat/contracts/long-short-position-ratio-contract-top-trader?instId=${instrument}&period=5m&limit=1`,
          frame: JSON.stringify({ code: '0', msg: '', data: [[String(bucketTs), topRatio]] }),
          accountsLongPct: pct(accRatio),
          topTradersLongPct: pct(topRatio),
        },
      ];
    }
  }
}

const emptySums = (): SideSums => ({ longUsd: 0, shortUsd: 0, longBase: 0, shortBase: 0, count: 0 });

export function generateLiquidationRecording(opts: VenueRecordingOptions): LiqRecording {
  const rec = generateVenueRecording(opts);
  const { endTs, startTs } = rec;
  const symbols = opts.symbols;
  const oiUsd = (venue: LiqVenue, symbol: string) => rec.expected[venue][symbol]!.oiUsd;
  const mark = (venue: LiqVenue, symbol: string) => rec.expected[venue][symbol]!.markPrice;

  const bursts: Burst[] = [];
  for (const venue of LIQ_VENUES) {
    // A long flush 20 h before the end and a short squeeze in the last 12 minutes: 1% of OI each.
    if (symbols.includes('ETH'))
      bursts.push({
        venue,
        symbol: 'ETH',
        side: 'long',
        fromTs: endTs - 20 * HOUR_MS,
        durationMs: 8 * MIN_MS,
        totalUsd: 0.01 * oiUsd(venue, 'ETH'),
        fires: true,
      });
    if (symbols.includes('BTC'))
      bursts.push({
        venue,
        symbol: 'BTC',
        side: 'short',
        fromTs: endTs - 12 * MIN_MS,
        durationMs: 8 * MIN_MS,
        totalUsd: 0.01 * oiUsd(venue, 'BTC'),
        fires: true,
      });
  }
  // Sub-threshold: a burst at 0.3% of OI, and one at 0.9% of a small OI that stays under $1M.
  if (symbols.includes('SOL'))
    bursts.push({
      venue: 'bybit',
      symbol: 'SOL',
      side: 'short',
      fromTs: endTs - 10 * MIN_MS,
      durationMs: 5 * MIN_MS,
      totalUsd: 0.003 * oiUsd('bybit', 'SOL'),
      fires: false,
    });
  if (symbols.includes('ARB'))
    bursts.push({
      venue: 'bybit',
      symbol: 'ARB',
      side: 'long',
      fromTs: endTs - 9 * MIN_MS,
      durationMs: 4 * MIN_MS,
      totalUsd: Math.min(0.009 * oiUsd('bybit', 'ARB'), 900_000),
      fires: false,
    });

  const orders: Order[] = [];
  const order = (venue: LiqVenue, symbol: string, side: 'long' | 'short', ts: number, usdWanted: number) => {
    const priceText = mark(venue, symbol).toString();
    const price = Number(priceText);
    if (venue === 'okx') {
      const ctVal = okxContractValue(symbol);
      const contracts = Math.max(1, Math.round(usdWanted / price / ctVal));
      const base = contracts * ctVal;
      orders.push({
        venue,
        symbol,
        side,
        ts,
        sizeText: String(contracts),
        priceText,
        base,
        usd: base * price,
      });
    } else {
      const sizeText = (usdWanted / price).toFixed(3);
      const base = Number(sizeText);
      orders.push({ venue, symbol, side, ts, sizeText, priceText, base, usd: base * price });
    }
  };
  for (const b of bursts) {
    const n = b.durationMs / 1_000;
    for (let s = 0; s < n; s++) {
      // Uneven orders (0.5×–1.5× the mean, summing to the total).
      const weight = 1 + 0.5 * Math.sin(s * 1.7 + b.fromTs / 1e9);
      order(b.venue, b.symbol, b.side, b.fromTs + s * 1_000 + 137, (b.totalUsd / n) * weight);
    }
  }
  // Background: every 7 minutes, alternating sides, $20k, away from the windows' starts.
  const quiet = (ts: number) =>
    Math.abs(ts - (endTs - 24 * HOUR_MS)) < 31 * MIN_MS || Math.abs(ts - (endTs - 15 * MIN_MS)) < 2 * MIN_MS;
  LIQ_VENUES.forEach((venue, v) => {
    symbols.forEach((symbol, i) => {
      for (let ts = startTs + 30 * MIN_MS + (v * 3 + i) * 11_000; ts < endTs - 30_000; ts += 7 * MIN_MS) {
        if (quiet(ts)) continue;
        order(venue, symbol, Math.round(ts / (7 * MIN_MS)) % 2 === 0 ? 'long' : 'short', ts, 20_000);
      }
    });
  });

  const extra: { t: number; text: string }[] = [];
  const line = (venue: VenueId, t: number, frame: string, source?: string) =>
    extra.push({
      t,
      text: JSON.stringify(source === undefined ? { t, venue, frame } : { t, venue, frame, source }),
    });
  for (const o of orders) {
    const f = liquidationFrame(o);
    line(o.venue, f.t, f.frame);
  }

  const liq = {} as Record<LiqVenue, Record<string, LiqExpected>>;
  LIQ_VENUES.forEach((venue, v) => {
    liq[venue] = {};
    symbols.forEach((symbol, i) => {
      let last: LiqExpected['longShort'] | undefined;
      for (let bucketTs = startTs; bucketTs + LS_PERIOD_MS + 1_100 < endTs; bucketTs += LS_PERIOD_MS) {
        for (const body of longShortBodies(venue, v, symbol, i, bucketTs)) {
          line(venue, body.t, body.frame, body.source);
          last = {
            accountsLongPct: body.accountsLongPct,
            topTradersLongPct: body.topTradersLongPct,
            ts: bucketTs,
          };
        }
      }
      const sums = (fromTs: number): SideSums => {
        const s = emptySums();
        for (const o of orders) {
          if (o.venue !== venue || o.symbol !== symbol || o.ts <= fromTs || o.ts > endTs) continue;
          if (o.side === 'long') {
            s.longUsd += o.usd;
            s.longBase += o.base;
          } else {
            s.shortUsd += o.usd;
            s.shortBase += o.base;
          }
          s.count++;
        }
        return s;
      };
      liq[venue][symbol] = {
        '15m': sums(endTs - 15 * MIN_MS),
        '24h': sums(endTs - 24 * HOUR_MS),
        longShort: last!,
      };
    });
  });

  const merged = [
    ...rec.lines.map((text) => ({ t: (JSON.parse(text) as { t: number }).t, text })),
    ...extra,
  ].sort((a, b) => a.t - b.t);
  return { ...rec, lines: merged.map((l) => l.text), liq, bursts };
}
