/**
 * The USD next to a token change is the value of THOSE tokens, on snapshots built by the real
 * analytics: 1,000 SOL closed while the price rose from $140 to $150 is `-1,000 SOL (-$150.0K)`,
 * and the OI's USD value, up $9.85M on the price, is shown signed and labelled on its own.
 */
import { describe, expect, it } from 'vitest';
import { aggregateSnapshots } from '../../src/analytics/aggregate.js';
import { applyMarketEvent, createInstrumentState, toSnapshot } from '../../src/analytics/instrument.js';
import { DEFAULT_INTEL_CONFIG } from '../../src/analytics/intel-config.js';
import { formatAlert, formatMergedAlerts } from '../../src/bot/alert-format.js';
import { formatOiMessage } from '../../src/bot/format.js';
import {
  formatFundingSpreadLine,
  formatMarketMessage,
  formatTopMessage,
  rankedSnapshots,
} from '../../src/bot/format-market.js';
import { formatQuietSummary } from '../../src/bot/schedules.js';
import type { AlertJson, SnapshotJson, VenueId } from '../../src/domain/types.js';

const MIN = 60_000;
const T0 = Date.UTC(2026, 10, 29, 12, 0, 0);
const JUMP = T0 + 20 * MIN;
const NOW = JUMP + MIN;

/** 21 minutes of one venue: flat at (oiBefore, $140), then at JUMP (oiBefore − closed, $150). */
function solOn(venue: VenueId, oiBefore: number, closed: number, rate = 0.0001): SnapshotJson {
  const state = createInstrumentState(venue, 'SOL', 'SOLUSDT');
  for (let ts = T0; ts <= NOW; ts += 10_000) {
    const after = ts >= JUMP;
    applyMarketEvent(state, {
      type: 'market',
      venue,
      symbol: 'SOL',
      instrument: 'SOLUSDT',
      eventTs: ts,
      receiveTs: ts,
      oiBase: after ? oiBefore - closed : oiBefore,
      markPrice: after ? 150 : 140,
      fundingRate: rate,
      fundingIntervalHours: 8,
    });
  }
  return toSnapshot(state);
}

const bybit = solOn('bybit', 1_000_000, 1_000);
const okx = solOn('okx', 500_000, 500);
const all = aggregateSnapshots('SOL', [bybit, okx], DEFAULT_INTEL_CONFIG) as SnapshotJson;

const alertOf = (snapshot: SnapshotJson, over: Partial<AlertJson> = {}): AlertJson => ({
  v: 1,
  id: `oi_change_15m:${snapshot.venue}:SOL:${NOW}`,
  kind: 'oi_change_15m',
  venue: snapshot.venue,
  symbol: 'SOL',
  ts: NOW,
  text: 'SOL OI',
  thresholdPct: 0.05,
  delta: snapshot.oi.delta15m,
  windowMs: 15 * MIN,
  snapshot,
  severity: 'warning',
  ...over,
});

describe('honest USD on real snapshots', () => {
  it('the analytics give the split this test relies on', () => {
    const d = bybit.oi.delta15m!;
    expect(d.base).toBeCloseTo(-1_000, 6);
    expect(d.positionUsd).toBeCloseTo(-150_000, 3);
    expect(d.usd).toBeCloseTo(9_850_000, 3);
  });

  it('/oi: tokens with their value, the OI value change labelled and signed', () => {
    const lines = formatOiMessage(bybit, NOW).split('\n');
    expect(lines).toContain('🔴 -1,000 SOL (-$150.0K) · -0.10% in 15m');
    expect(lines).toContain('↳ OI value +$9.85M (positions -$150.0K, price effect +$10.0M)');
  });

  it('/market on a venue and on the aggregate', () => {
    expect(formatMarketMessage(bybit, '15m', NOW)).toContain(
      '🔴 -1,000 SOL (-$150.0K) · -0.10% in 15m\n↳ OI value +$9.85M (positions -$150.0K, price effect +$10.0M)',
    );
    const text = formatMarketMessage(all, '15m', NOW);
    expect(text).toContain('🔴 -1,500 SOL (-$225.0K) · -0.10% in 15m');
    expect(text).toMatch(/↳ OI value \+\$14\.8M/);
  });

  it('/top: the ranked line carries the tokens, their value and the OI value change', () => {
    const text = formatTopMessage(rankedSnapshots(['SOL'], [all], []));
    expect(text).toContain('1. 🔴 <b>SOL</b> -0.10% · -1,500 SOL (-$225.0K) · OI value +$14.8M');
    const single = formatTopMessage(rankedSnapshots(['SOL'], [null], [[bybit], [okx]]));
    // Without an aggregate the venue with the most OI is ranked, and named.
    expect(single).toContain('1. 🔴 <b>SOL</b> -0.10% · -1,000 SOL (-$150.0K) · OI value +$9.85M · bybit');
  });

  it('an alert and a merged burst', () => {
    const lines = formatAlert(alertOf(bybit), NOW).split('\n');
    expect(lines[0]).toBe('<b>⚠️ SOL OI drop · bybit</b>');
    expect(lines[1]).toBe('🔴 -1,000 SOL (-$150.0K) · -0.10% in 15m');
    expect(lines[2]).toBe('↳ OI value +$9.85M (positions -$150.0K, price effect +$10.0M)');
    const merged = formatMergedAlerts([alertOf(bybit), alertOf(okx)], NOW).split('\n');
    expect(merged[1]).toBe(
      '⚠️ <b>SOL</b> OI drop · bybit: 🔴 -0.10% in 15m · -1,000 SOL (-$150.0K) · OI value +$9.85M',
    );
    expect(merged[2]).toBe(
      '⚠️ <b>SOL</b> OI drop · okx: 🔴 -0.10% in 15m · -500 SOL (-$75.0K) · OI value +$4.92M',
    );
  });

  it('backfilled and gap deltas carry their caveat in every message', () => {
    const backfilled: SnapshotJson = {
      ...bybit,
      oi: { ...bybit.oi, delta15m: { ...bybit.oi.delta15m!, backfilled: true } },
    };
    const gap: SnapshotJson = {
      ...bybit,
      oi: { ...bybit.oi, delta15m: { ...bybit.oi.delta15m!, gap: true, gapMs: 600_000 } },
    };
    for (const text of [
      formatOiMessage(backfilled, NOW),
      formatMarketMessage(backfilled, '15m', NOW),
      formatTopMessage([backfilled]),
      formatAlert(alertOf(backfilled), NOW),
      formatMergedAlerts([alertOf(backfilled), alertOf(okx)], NOW),
    ]) {
      expect(text).toContain('≈ from venue history');
    }
    for (const text of [
      formatOiMessage(gap, NOW),
      formatMarketMessage(gap, '15m', NOW),
      formatAlert(alertOf(gap), NOW),
      formatMergedAlerts([alertOf(gap), alertOf(okx)], NOW),
    ]) {
      expect(text).toContain('⚠️ feed gap');
    }
    const summary = formatQuietSummary([alertOf(backfilled), alertOf(gap)]);
    expect(summary).toContain('-0.10% ≈ venue history');
    expect(summary).toContain('-0.10% ⚠️ feed gap');
    // /top leaves a gap delta out, and says so instead of "warming up".
    const top = formatTopMessage([gap]);
    expect(top).toContain('⚠️ no 15m change to vouch for: the feed missed data (1 symbol)');
    expect(top).not.toContain('warming up (needs 15m');
  });
});

describe('funding spread', () => {
  it('names the highest and lowest venue of a real spread', () => {
    const spread = aggregateSnapshots(
      'SOL',
      [solOn('bybit', 1e6, 0, 0.0003), solOn('okx', 1e6, 0, 0.0001)],
      DEFAULT_INTEL_CONFIG,
    ) as SnapshotJson;
    expect(formatFundingSpreadLine(spread)).toBe('Funding spread 21.90% APR: bybit highest, okx lowest');
  });

  it('a tie names no winner, whether the venues are named, null, or the spread rounds to 0.00%', () => {
    const tied = (fundingSpread: unknown) =>
      formatFundingSpreadLine({ ...all, fundingSpread } as unknown as SnapshotJson);
    const equal = 'Funding spread 0.00% APR: equal on every venue';
    expect(tied({ aprPct: 0, maxVenue: 'binance', minVenue: 'okx' })).toBe(equal);
    expect(tied({ aprPct: 0.004, maxVenue: 'binance', minVenue: 'okx' })).toBe(equal);
    expect(tied({ aprPct: 0, maxVenue: null, minVenue: null })).toBe(equal);
    expect(tied(null)).toBeNull();
    expect(
      formatMarketMessage(
        { ...all, fundingSpread: { aprPct: 0, maxVenue: 'binance', minVenue: 'okx' } },
        'both',
        NOW,
      ),
    ).toContain(equal);
  });
});

describe('an alert evaluated at a chat threshold', () => {
  it("says it fired at this chat's threshold", () => {
    const text = formatAlert(alertOf(bybit, { forThreshold: 1.5 }), NOW);
    expect(text.split('\n')[3]).toBe("<i>At this chat's threshold: 1.5%</i>");
    expect(formatAlert(alertOf(bybit), NOW)).not.toContain("this chat's threshold");
  });
});
