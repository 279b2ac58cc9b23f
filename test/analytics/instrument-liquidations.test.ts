import { describe, expect, it } from 'vitest';
import {
  applyMarketEvent,
  createInstrumentState,
  type InstrumentState,
  markGap,
  toSnapshot,
} from '../../src/analytics/instrument.js';
import {
  type Liquidation,
  type MarketEvent,
  NO_LIQUIDATION_FEED,
  NO_LONG_SHORT_STATS,
  type VenueId,
} from '../../src/domain/types.js';

const SEC = 1_000;
const MIN = 60_000;
const HOUR = 3_600_000;
/** On a 28.8 min (and so 18 s) bucket edge: the 2% grids of the liquidation windows. */
const T0 = 20_000 * 864_000;

const INSTRUMENT: Record<VenueId, string> = {
  binance: 'BTCUSDT',
  bybit: 'BTCUSDT',
  okx: 'BTC-USDT-SWAP',
  hyperliquid: 'BTC',
};

function ev(venue: VenueId, eventTs: number, fields: Partial<MarketEvent>): MarketEvent {
  return {
    type: 'market',
    venue,
    symbol: 'BTC',
    instrument: INSTRUMENT[venue],
    eventTs,
    receiveTs: eventTs,
    ...fields,
  };
}

const liq = (side: Liquidation['side'], base: number, ts: number, price = 100): Liquidation => ({
  side,
  base,
  usd: base * price,
  ts,
});

/** Market events every `stepMs` in [fromTs, toTs], OI from `oi(ts)`, mark 100. */
function feed(
  s: InstrumentState,
  fromTs: number,
  toTs: number,
  stepMs: number,
  oi: (ts: number) => number,
): void {
  for (let ts = fromTs; ts <= toTs; ts += stepMs) {
    applyMarketEvent(s, ev(s.venue as VenueId, ts, { oiBase: oi(ts), markPrice: 100, fundingRate: 0.0001 }));
  }
}

describe('liquidations in the snapshot', () => {
  it('Hyperliquid: null with the reason, never zeros, even when an event carries liquidations', () => {
    const s = createInstrumentState('hyperliquid', 'BTC', 'BTC');
    expect(s.liquidations).toBeNull(); // and no ring memory
    feed(s, T0, T0 + 30 * MIN, 10 * SEC, () => 1000);
    applyMarketEvent(
      s,
      ev('hyperliquid', T0 + 30 * MIN, {
        liquidations: [liq('long', 5, T0 + 30 * MIN)],
        accountsLongPct: 60,
      }),
    );
    const snap = toSnapshot(s);
    expect(snap.liquidations).toBeNull();
    expect(snap.longShort).toBeNull();
    expect(snap.unavailable).toEqual({ liquidations: NO_LIQUIDATION_FEED, longShort: NO_LONG_SHORT_STATS });
    expect(JSON.parse(JSON.stringify(snap)).unavailable).toEqual(snap.unavailable);
  });

  it('a venue with a feed: sums by side in each window, its coverage, and no `unavailable`', () => {
    for (const [venue, coverage] of [
      ['bybit', 'complete'],
      ['binance', 'sampled'],
      ['okx', 'sampled'],
    ] as const) {
      const s = createInstrumentState(venue, 'BTC', INSTRUMENT[venue]);
      feed(s, T0, T0 + 2 * HOUR, 10 * SEC, () => 1000);
      const now = T0 + 2 * HOUR;
      applyMarketEvent(
        s,
        ev(venue, now, {
          liquidations: [
            liq('long', 2, now - 1 * HOUR, 90),
            liq('short', 3, now - 5 * MIN, 110),
            liq('long', 1, now),
          ],
        }),
      );
      const l = toSnapshot(s).liquidations!;
      expect(l.coverage).toBe(coverage);
      expect(l['24h']).toMatchObject({ longBase: 3, longUsd: 280, shortBase: 3, shortUsd: 330, count: 3 });
      expect(l['15m']).toMatchObject({ longBase: 1, longUsd: 100, shortBase: 3, shortUsd: 330, count: 2 });
      expect(toSnapshot(s).unavailable).toBeUndefined();
    }
  });

  it('a liquidation-only event leaves price/OI/funding freshness, the OI windows and open holes alone', () => {
    const s = createInstrumentState('bybit', 'BTC', 'BTCUSDT');
    feed(s, T0, T0 + 20 * MIN, 10 * SEC, () => 1000);
    const before = {
      priceTs: s.priceTs,
      oiTs: s.oiTs,
      fundingTs: s.fundingTs,
      obs15: s.window15m.observationCount,
      bucket15: s.window15m.currentBucket,
      obs24: s.window24h.observationCount,
    };
    markGap(s);
    const t = T0 + 25 * MIN;
    expect(applyMarketEvent(s, ev('bybit', t, { liquidations: [liq('short', 1, t)] }))).toBe(true);
    expect(applyMarketEvent(s, ev('bybit', t + SEC, { accountsLongPct: 55, longShortTs: t }))).toBe(true);
    expect({
      priceTs: s.priceTs,
      oiTs: s.oiTs,
      fundingTs: s.fundingTs,
      obs15: s.window15m.observationCount,
      bucket15: s.window15m.currentBucket,
      obs24: s.window24h.observationCount,
    }).toEqual(before);
    // the hole the ticker feed left is still open: only a market frame closes it
    expect(s.gapOpen).toBe(true);
    expect(s.holes.at(-1)!.toTs).toBeNull();
    expect(s.lastEventTs).toBe(t + SEC);
    const snap = toSnapshot(s);
    expect(snap.freshness!.priceTs).toBe(T0 + 20 * MIN);
    expect(snap.liquidations!['15m']).toMatchObject({ shortBase: 1, count: 1, partial: true });
    // unchanged statistics are no change
    expect(applyMarketEvent(s, ev('bybit', t + 2 * SEC, { accountsLongPct: 55, longShortTs: t }))).toBe(
      false,
    );
  });

  it('a squeeze: OI −2,000 base in 15m with 1,240 base of shorts liquidated is a 0.62 share', () => {
    const s = createInstrumentState('bybit', 'BTC', 'BTCUSDT');
    const oi = (ts: number) =>
      ts <= T0 + 20 * MIN ? 100_000 : 100_000 - (2000 * Math.min(ts - T0 - 20 * MIN, 10 * MIN)) / (10 * MIN);
    feed(s, T0, T0 + 20 * MIN, 10 * SEC, oi);
    // shorts forced out while OI falls, a long liquidated long before (24h only)
    applyMarketEvent(s, ev('bybit', T0 + 20 * MIN, { liquidations: [liq('long', 50, T0 + 2 * MIN)] }));
    for (let i = 0; i < 10; i++) {
      const ts = T0 + 21 * MIN + i * 30 * SEC;
      feed(s, ts, ts, 1, oi);
      applyMarketEvent(s, ev('bybit', ts, { liquidations: [liq('short', 124, ts, 105)] }));
    }
    feed(s, T0 + 26 * MIN, T0 + 30 * MIN, 10 * SEC, oi);
    const snap = toSnapshot(s);
    expect(snap.oi.delta15m!.base).toBe(-2000);
    const w15 = snap.liquidations!['15m'];
    expect(w15).toMatchObject({ shortBase: 1240, longBase: 0, count: 10 });
    expect(w15.oiShare).toBeCloseTo(0.62, 12);
    // first seen 30 minutes ago: the 15m window is complete, the 24h one partial (and no 24h delta)
    expect(w15.partial).toBe(false);
    expect(snap.liquidations!['24h']).toMatchObject({
      longBase: 50,
      shortBase: 1240,
      oiShare: null,
      partial: true,
    });
  });

  it('oiShare is null while OI rose or held, and 0 when OI fell without liquidations', () => {
    const rising = createInstrumentState('okx', 'BTC', 'BTC-USDT-SWAP');
    feed(rising, T0, T0 + 30 * MIN, 10 * SEC, (ts) => 1000 + (ts - T0) / MIN);
    applyMarketEvent(rising, ev('okx', T0 + 30 * MIN, { liquidations: [liq('long', 3, T0 + 29 * MIN)] }));
    expect(toSnapshot(rising).oi.delta15m!.base).toBeGreaterThan(0);
    expect(toSnapshot(rising).liquidations!['15m'].oiShare).toBeNull();
    const flat = createInstrumentState('okx', 'BTC', 'BTC-USDT-SWAP');
    feed(flat, T0, T0 + 30 * MIN, 10 * SEC, () => 1000);
    expect(toSnapshot(flat).oi.delta15m!.base).toBe(0);
    expect(toSnapshot(flat).liquidations!['15m'].oiShare).toBeNull();
    const falling = createInstrumentState('okx', 'BTC', 'BTC-USDT-SWAP');
    feed(falling, T0, T0 + 30 * MIN, 10 * SEC, (ts) => 1000 - (ts - T0) / MIN);
    expect(toSnapshot(falling).liquidations!['15m'].oiShare).toBe(0);
    // unknown change (history too short): null
    const fresh = createInstrumentState('okx', 'BTC', 'BTC-USDT-SWAP');
    feed(fresh, T0, T0 + 5 * MIN, 10 * SEC, (ts) => 1000 - (ts - T0) / MIN);
    expect(toSnapshot(fresh).liquidations!['15m'].oiShare).toBeNull();
  });

  it('partial after a fresh start, exactly until the window starts at the first event', () => {
    const s = createInstrumentState('bybit', 'BTC', 'BTCUSDT');
    applyMarketEvent(s, ev('bybit', T0, { oiBase: 1000, markPrice: 100 }));
    applyMarketEvent(s, ev('bybit', T0 + 15 * MIN + 18 * SEC - 1, { markPrice: 100 }));
    // the window read now starts at T0 (floor(now / 18 s) − 50 buckets): counting covered it
    expect(toSnapshot(s).liquidations!['15m'].partial).toBe(false);
    expect(toSnapshot(s).liquidations!['24h'].partial).toBe(true);
    const t = createInstrumentState('bybit', 'BTC', 'BTCUSDT');
    applyMarketEvent(t, ev('bybit', T0, { markPrice: 100 }));
    applyMarketEvent(t, ev('bybit', T0 + 15 * MIN - 1, { markPrice: 100 }));
    expect(toSnapshot(t).liquidations!['15m'].partial).toBe(true);
    applyMarketEvent(t, ev('bybit', T0 + 15 * MIN, { markPrice: 100 }));
    expect(toSnapshot(t).liquidations!['15m'].partial).toBe(false);
    applyMarketEvent(t, ev('bybit', T0 + 24 * HOUR - 1, { markPrice: 100 }));
    expect(toSnapshot(t).liquidations!['24h'].partial).toBe(true);
    applyMarketEvent(t, ev('bybit', T0 + 24 * HOUR + 1728 * SEC - 1, { markPrice: 100 }));
    expect(toSnapshot(t).liquidations!['24h'].partial).toBe(false);
  });

  it('partial while a feed hole overlaps the window, complete once the window has passed it', () => {
    const s = createInstrumentState('bybit', 'BTC', 'BTCUSDT');
    feed(s, T0, T0 + 30 * MIN, 10 * SEC, () => 1000);
    expect(toSnapshot(s).liquidations!['15m'].partial).toBe(false);
    markGap(s);
    // right after the gap nothing is hidden yet
    expect(toSnapshot(s).liquidations!['15m'].partial).toBe(false);
    feed(s, T0 + 30 * MIN + 20 * SEC, T0 + 40 * MIN, 10 * SEC, () => 1000);
    const snap = toSnapshot(s);
    expect(snap.liquidations!['15m'].partial).toBe(true);
    // a 20 s hole leaves the OI delta trustworthy: liquidations are stricter, they are sums
    expect(snap.oi.delta15m!.gap).toBe(false);
    feed(s, T0 + 40 * MIN + 10 * SEC, T0 + 46 * MIN, 10 * SEC, () => 1000);
    expect(toSnapshot(s).liquidations!['15m'].partial).toBe(false);
    expect(toSnapshot(s).liquidations!['24h'].partial).toBe(true);
  });
});

describe('long/short in the snapshot', () => {
  it('null without a reason until a venue with statistics answers, then its figures', () => {
    const s = createInstrumentState('bybit', 'BTC', 'BTCUSDT');
    feed(s, T0, T0 + MIN, 10 * SEC, () => 1000);
    expect(toSnapshot(s).longShort).toBeNull();
    expect(toSnapshot(s).unavailable).toBeUndefined();
    applyMarketEvent(s, ev('bybit', T0 + 2 * MIN, { accountsLongPct: 66.2, longShortTs: T0 }));
    expect(toSnapshot(s).longShort).toEqual({ accountsLongPct: 66.2, topTradersLongPct: null, ts: T0 });
  });

  it('merges the two figures from separate answers; ts is the older bucket; an older answer is ignored', () => {
    const s = createInstrumentState('binance', 'BTC', 'BTCUSDT');
    feed(s, T0, T0 + 10 * MIN, 10 * SEC, () => 1000);
    applyMarketEvent(s, ev('binance', T0 + 10 * MIN, { accountsLongPct: 70, longShortTs: T0 + 5 * MIN }));
    applyMarketEvent(s, ev('binance', T0 + 10 * MIN, { topTradersLongPct: 48.5, longShortTs: T0 }));
    expect(toSnapshot(s).longShort).toEqual({ accountsLongPct: 70, topTradersLongPct: 48.5, ts: T0 });
    // a late answer for an older bucket does not replace the newer figure
    applyMarketEvent(s, ev('binance', T0 + 11 * MIN, { accountsLongPct: 10, longShortTs: T0 }));
    expect(toSnapshot(s).longShort!.accountsLongPct).toBe(70);
    applyMarketEvent(
      s,
      ev('binance', T0 + 11 * MIN, {
        accountsLongPct: 71,
        topTradersLongPct: 49,
        longShortTs: T0 + 10 * MIN,
      }),
    );
    expect(toSnapshot(s).longShort).toEqual({
      accountsLongPct: 71,
      topTradersLongPct: 49,
      ts: T0 + 10 * MIN,
    });
  });
});
