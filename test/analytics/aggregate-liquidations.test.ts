import { describe, expect, it } from 'vitest';
import { type AggregateOptions, aggregateSnapshots } from '../../src/analytics/aggregate.js';
import {
  applyMarketEvent,
  createInstrumentState,
  type InstrumentState,
  toSnapshot,
} from '../../src/analytics/instrument.js';
import type { Liquidation, MarketEvent, SnapshotJson, VenueId } from '../../src/domain/types.js';

const SEC = 1_000;
const MIN = 60_000;
const T0 = 20_000 * 864_000;
const NOW = T0 + 30 * MIN;
const OPTS: AggregateOptions = {
  staleAfterMs: 60_000,
  controlBand: { '15m': { oiPct: 0.5, pricePct: 0.2 }, '24h': { oiPct: 2, pricePct: 1 } },
  pressureAprPct: { elevated: 20, high: 50, extreme: 100 },
};

interface VenueScript {
  venue: VenueId;
  /** OI before the fall and the fall over minutes 20–30. */
  oiBase: number;
  oiFall: number;
  mark?: number;
  /** Short liquidations during the fall, base. */
  shortsBase?: number;
  longsBase?: number;
  /** First event this long after T0 (a fresh start). */
  startAfterMs?: number;
  /** Last event this long before NOW (stale). */
  silentForMs?: number;
  longShort?: Partial<Pick<MarketEvent, 'accountsLongPct' | 'topTradersLongPct' | 'longShortTs'>>;
}

function venueSnapshot(v: VenueScript): SnapshotJson {
  const s: InstrumentState = createInstrumentState(v.venue, 'BTC', `BTC-${v.venue}`);
  const base = (fields: Partial<MarketEvent>, ts: number): MarketEvent => ({
    type: 'market',
    venue: v.venue,
    symbol: 'BTC',
    instrument: `BTC-${v.venue}`,
    eventTs: ts,
    receiveTs: ts,
    ...fields,
  });
  const oi = (ts: number) =>
    v.oiBase - (v.oiFall * Math.max(0, Math.min(ts - T0 - 20 * MIN, 10 * MIN))) / (10 * MIN);
  const endTs = NOW - (v.silentForMs ?? 0);
  for (let ts = T0 + (v.startAfterMs ?? 0); ts <= endTs; ts += 10 * SEC) {
    applyMarketEvent(s, base({ oiBase: oi(ts), markPrice: v.mark ?? 100 }, ts));
    if (ts === T0 + 25 * MIN) {
      const liquidations: Liquidation[] = [];
      if (v.shortsBase) liquidations.push({ side: 'short', base: v.shortsBase, usd: v.shortsBase * 100, ts });
      if (v.longsBase) liquidations.push({ side: 'long', base: v.longsBase, usd: v.longsBase * 100, ts });
      applyMarketEvent(s, base({ liquidations }, ts));
    }
  }
  if (v.longShort) applyMarketEvent(s, base(v.longShort, endTs));
  return toSnapshot(s);
}

describe('aggregate liquidations', () => {
  it('sums the venues with a feed, lists the ones it lacks, and sets the sum against the aggregate OI fall', () => {
    const all = aggregateSnapshots(
      'BTC',
      [
        venueSnapshot({ venue: 'bybit', oiBase: 50_000, oiFall: 1000, shortsBase: 700, longsBase: 10 }),
        venueSnapshot({ venue: 'okx', oiBase: 30_000, oiFall: 600, shortsBase: 530 }),
        venueSnapshot({ venue: 'hyperliquid', oiBase: 20_000, oiFall: 400 }),
      ],
      OPTS,
    )!;
    expect(all.oi.delta15m!.base).toBeCloseTo(-2000, 9);
    const l = all.liquidations!;
    expect(l['15m']).toMatchObject({
      shortBase: 1230,
      longBase: 10,
      shortUsd: 123_000,
      longUsd: 1000,
      count: 3,
    });
    // against the fall of the venues counted (bybit and okx: 1,600), not Hyperliquid's, whose
    // positions no liquidation here closed: 1,240 of 1,600
    expect(l['15m'].oiShare).toBeCloseTo(0.775, 12);
    expect(l['15m'].partial).toBe(false);
    // no 24h delta yet: no share; first seen 30 minutes ago: partial
    expect(l['24h']).toMatchObject({ shortBase: 1230, count: 3, oiShare: null, partial: true });
    expect(l.coverage).toBe('sampled'); // OKX is sampled
    expect(l.missingVenues).toEqual(['hyperliquid']);
    expect(all.unavailable).toBeUndefined();
  });

  it('is complete-coverage when only complete venues count, and partial when any counted venue is', () => {
    const all = aggregateSnapshots(
      'BTC',
      [
        venueSnapshot({ venue: 'bybit', oiBase: 50_000, oiFall: 1000, shortsBase: 700 }),
        venueSnapshot({ venue: 'hyperliquid', oiBase: 20_000, oiFall: 400 }),
        // binance was first seen 10 minutes ago: its 15m window (and so the aggregate's) is partial
        venueSnapshot({ venue: 'binance', oiBase: 10_000, oiFall: 0, startAfterMs: 20 * MIN, longsBase: 5 }),
      ],
      OPTS,
    )!;
    expect(all.liquidations!.coverage).toBe('sampled');
    expect(all.liquidations!['15m'].partial).toBe(true);
    expect(all.liquidations!['15m']).toMatchObject({ shortBase: 700, longBase: 5, count: 2 });
    // binance has no 15m OI delta yet, so neither has the aggregate: no share
    expect(all.oi.delta15m).toBeNull();
    expect(all.liquidations!['15m'].oiShare).toBeNull();
    const complete = aggregateSnapshots(
      'BTC',
      [
        venueSnapshot({ venue: 'bybit', oiBase: 50_000, oiFall: 1000, shortsBase: 700 }),
        venueSnapshot({ venue: 'hyperliquid', oiBase: 20_000, oiFall: 400 }),
      ],
      OPTS,
    )!;
    expect(complete.liquidations!.coverage).toBe('complete');
    expect(complete.liquidations!['15m'].partial).toBe(false);
    expect(complete.liquidations!['15m'].oiShare).toBeCloseTo(0.7, 12); // 700 of bybit's 1,000 fall
  });

  it('a venue without a feed whose OI rose does not inflate the share, and a dip inside the dead band has none', () => {
    const all = aggregateSnapshots(
      'BTC',
      [
        venueSnapshot({ venue: 'bybit', oiBase: 50_000, oiFall: 1000, shortsBase: 500 }),
        // Hyperliquid's OI rises by 600: the aggregate fell only 400, yet 500 of bybit's 1,000 were forced
        venueSnapshot({ venue: 'hyperliquid', oiBase: 20_000, oiFall: -600 }),
      ],
      OPTS,
    )!;
    expect(all.oi.delta15m!.base).toBeCloseTo(-400, 9);
    expect(all.liquidations!['15m'].oiShare).toBeCloseTo(0.5, 12);
    // bybit dips 10 of 50,000 (0.02%, inside the 0.5% band) with 30 liquidated: no "≥100% forced"
    const dip = aggregateSnapshots(
      'BTC',
      [
        venueSnapshot({ venue: 'bybit', oiBase: 50_000, oiFall: 10, shortsBase: 30 }),
        venueSnapshot({ venue: 'hyperliquid', oiBase: 20_000, oiFall: 0 }),
      ],
      OPTS,
    )!;
    expect(dip.liquidations!['15m']).toMatchObject({ shortBase: 30, oiShare: null });
  });

  it('leaves a stale venue out of the sums and lists it as missing', () => {
    const all = aggregateSnapshots(
      'BTC',
      [
        venueSnapshot({ venue: 'bybit', oiBase: 50_000, oiFall: 1000, shortsBase: 700 }),
        venueSnapshot({ venue: 'okx', oiBase: 30_000, oiFall: 0, shortsBase: 530, silentForMs: 2 * MIN }),
        venueSnapshot({ venue: 'hyperliquid', oiBase: 20_000, oiFall: 0 }),
      ],
      OPTS,
    )!;
    expect(all.freshness!.staleVenues).toEqual(['okx']);
    expect(all.liquidations!['15m']).toMatchObject({ shortBase: 700, count: 1 });
    expect(all.liquidations!.missingVenues).toEqual(['hyperliquid', 'okx']);
  });

  it('is null when no venue is counted: with the reason only when none of the venues has a feed', () => {
    const onlyStaleFeed = aggregateSnapshots(
      'BTC',
      [
        venueSnapshot({ venue: 'bybit', oiBase: 50_000, oiFall: 0, silentForMs: 2 * MIN }),
        venueSnapshot({ venue: 'hyperliquid', oiBase: 20_000, oiFall: 0 }),
      ],
      OPTS,
    )!;
    expect(onlyStaleFeed.liquidations).toBeNull();
    expect(onlyStaleFeed.unavailable).toBeUndefined();
    // two venues without a feed (the second one's snapshot written as Hyperliquid's is)
    const hl = venueSnapshot({ venue: 'hyperliquid', oiBase: 20_000, oiFall: 0 });
    const other: SnapshotJson = { ...hl, venue: 'otherdex', instrument: 'BTC' };
    const none = aggregateSnapshots('BTC', [hl, other], OPTS)!;
    expect(none.liquidations).toBeNull();
    expect(none.longShort).toBeNull();
    expect(none.unavailable).toEqual({
      liquidations: 'venue publishes no market-wide liquidation feed',
      longShort: 'venue publishes no long/short statistics',
    });
  });
});

describe('aggregate long/short', () => {
  it('is the OI-USD-weighted mean of the venues that have each figure; ts the oldest used', () => {
    const all = aggregateSnapshots(
      'BTC',
      [
        venueSnapshot({
          venue: 'bybit',
          oiBase: 30_000,
          oiFall: 0,
          longShort: { accountsLongPct: 60, longShortTs: NOW - 5 * MIN },
        }),
        venueSnapshot({
          venue: 'binance',
          oiBase: 10_000,
          oiFall: 0,
          longShort: { accountsLongPct: 40, topTradersLongPct: 50, longShortTs: NOW - 10 * MIN },
        }),
        venueSnapshot({ venue: 'okx', oiBase: 10_000, oiFall: 0 }), // has not answered yet
        venueSnapshot({ venue: 'hyperliquid', oiBase: 50_000, oiFall: 0 }),
      ],
      OPTS,
    )!;
    expect(all.longShort!.accountsLongPct).toBeCloseTo(55, 12);
    expect(all.longShort!.topTradersLongPct).toBe(50);
    expect(all.longShort!.ts).toBe(NOW - 10 * MIN);
    expect(all.unavailable).toBeUndefined();
  });

  it('leaves out a venue whose statistics are over an hour old (a failing poll)', () => {
    const all = aggregateSnapshots(
      'BTC',
      [
        venueSnapshot({
          venue: 'bybit',
          oiBase: 30_000,
          oiFall: 0,
          longShort: { accountsLongPct: 60, longShortTs: NOW - 5 * MIN },
        }),
        venueSnapshot({
          venue: 'binance',
          oiBase: 10_000,
          oiFall: 0,
          longShort: { accountsLongPct: 40, longShortTs: NOW - 61 * MIN },
        }),
      ],
      OPTS,
    )!;
    expect(all.longShort).toEqual({ accountsLongPct: 60, topTradersLongPct: null, ts: NOW - 5 * MIN });
  });

  it('is null, without a reason, while no venue with statistics has answered', () => {
    const all = aggregateSnapshots(
      'BTC',
      [
        venueSnapshot({ venue: 'bybit', oiBase: 30_000, oiFall: 0 }),
        venueSnapshot({ venue: 'hyperliquid', oiBase: 50_000, oiFall: 0 }),
      ],
      OPTS,
    )!;
    expect(all.longShort).toBeNull();
    expect(all.unavailable).toBeUndefined();
  });
});
