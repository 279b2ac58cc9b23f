import { describe, expect, it } from 'vitest';
import { type AggregateOptions, aggregateSnapshots } from '../../src/analytics/aggregate.js';
import { applyMarketEvent, createInstrumentState, toSnapshot } from '../../src/analytics/instrument.js';
import type { DeltaJson, SnapshotJson, VenueId } from '../../src/domain/types.js';

const OPTS: AggregateOptions = {
  staleAfterMs: 60_000,
  controlBand: { '15m': { oiPct: 0.5, pricePct: 0.2 }, '24h': { oiPct: 2, pricePct: 1 } },
  pressureAprPct: { elevated: 20, high: 50, extreme: 100 },
};
const T0 = Date.UTC(2026, 0, 1);
const MIN = 60_000;

/** A real venue snapshot (through the instrument state), then its deltas and funding replaced. */
function venueSnap(
  venue: VenueId,
  opts: { aprPct?: number; delta15m?: Partial<DeltaJson> } = {},
): SnapshotJson {
  const s = createInstrumentState(venue, 'BTC', 'BTCUSDT');
  for (let m = 0; m <= 20; m++)
    applyMarketEvent(s, {
      type: 'market',
      venue,
      symbol: 'BTC',
      instrument: 'BTCUSDT',
      eventTs: T0 + m * MIN,
      receiveTs: T0 + m * MIN,
      oiBase: 100,
      markPrice: 100,
      fundingRate: ((opts.aprPct ?? 10) / 100 / 8760) * 8,
      fundingIntervalHours: 8,
    });
  const snap = toSnapshot(s);
  return {
    ...snap,
    oi: { ...snap.oi, delta15m: { ...snap.oi.delta15m!, ...opts.delta15m } },
  };
}

describe('aggregate: gaps and funding ties', () => {
  it('carries the largest gapMs of its venues and any venue gap', () => {
    const out = aggregateSnapshots(
      'BTC',
      [
        venueSnap('binance', { delta15m: { gapMs: 20_000, gap: false } }),
        venueSnap('bybit', { delta15m: { gapMs: 5_000, gap: false } }),
        venueSnap('okx'),
      ],
      OPTS,
    )!;
    expect(out.oi.delta15m).toMatchObject({ gap: false, gapMs: 20_000 });
    expect(out.oi.delta24h).toBeNull();
    const flagged = aggregateSnapshots(
      'BTC',
      [venueSnap('binance', { delta15m: { gapMs: 600_000, gap: true } }), venueSnap('okx')],
      OPTS,
    )!;
    expect(flagged.oi.delta15m).toMatchObject({ gap: true, gapMs: 600_000 });
  });

  it('names no venue when the funding spread is a tie at display precision', () => {
    const equal = aggregateSnapshots('BTC', [venueSnap('binance'), venueSnap('okx')], OPTS)!;
    expect(equal.fundingSpread).toEqual({ aprPct: 0, maxVenue: null, minVenue: null });
    const close = aggregateSnapshots(
      'BTC',
      [venueSnap('binance', { aprPct: 10.004 }), venueSnap('okx', { aprPct: 10 })],
      OPTS,
    )!;
    expect(close.fundingSpread!.maxVenue).toBeNull();
    expect(close.fundingSpread!.minVenue).toBeNull();
    expect(close.fundingSpread!.aprPct).toBeCloseTo(0.004, 9);
    const apart = aggregateSnapshots(
      'BTC',
      [venueSnap('binance', { aprPct: 10.006 }), venueSnap('okx', { aprPct: 10 })],
      OPTS,
    )!;
    expect(apart.fundingSpread).toMatchObject({ maxVenue: 'binance', minVenue: 'okx' });
  });
});
