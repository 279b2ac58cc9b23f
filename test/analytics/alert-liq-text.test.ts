import { describe, expect, it } from 'vitest';
import {
  createAlertEngineState,
  DEFAULT_ALERT_RULES,
  evaluateRules,
} from '../../src/analytics/alert-engine.js';
import {
  coverageParts,
  forcedShareSentence,
  forcedShareText,
  hasNoFeed,
} from '../../src/analytics/alert-liq-text.js';
import {
  ALERT_KINDS,
  type AlertKind,
  type LiquidationsJson,
  type LiquidationWindowJson,
  type SnapshotJson,
} from '../../src/domain/types.js';

const T0 = 1_700_000_000_000;

const win = (o: Partial<LiquidationWindowJson> = {}): LiquidationWindowJson => ({
  longUsd: 0,
  shortUsd: 0,
  longBase: 0,
  shortBase: 0,
  count: 0,
  oiShare: null,
  partial: false,
  ...o,
});

/** A squeeze: OI −2,000 BTC in 15m, 1,240 BTC of shorts liquidated (62% forced). */
const squeeze = win({
  shortUsd: 24.1e6,
  shortBase: 1_240,
  longUsd: 0.3e6,
  longBase: 15,
  count: 60,
  oiShare: 0.62,
});

function snap(o: Partial<SnapshotJson> = {}): SnapshotJson {
  return {
    v: 1,
    venue: 'bybit',
    symbol: 'BTC',
    instrument: 'BTCUSDT',
    ts: T0,
    price: { mark: 19_400 },
    oi: {
      base: 100_000,
      usd: 1.94e9,
      delta15m: { base: -2_000, usd: -40e6, pct: -1.96, positionUsd: -38.8e6, priceEffectUsd: -1.2e6 },
      delta24h: { base: -12_000, usd: -240e6, pct: -10.7, positionUsd: -232.8e6, priceEffectUsd: -7.2e6 },
    },
    funding: { rate: 0.0001, intervalHours: 8, hourly: 0.0000125, aprPct: 10.95, nextFundingTime: null },
    liquidations: { '15m': squeeze, '24h': win({ shortUsd: 60e6, oiShare: 1.7 }), coverage: 'complete' },
    ...o,
  };
}

describe('forced share wording', () => {
  it('names the share of the OI fall and the side that dominated', () => {
    expect(forcedShareText(squeeze, { coverage: 'complete' })).toBe('62% forced (short liquidations $24.1M)');
    expect(
      forcedShareText(win({ longUsd: 9e6, shortUsd: 3e6, oiShare: 0.4 }), { coverage: 'complete' }),
    ).toBe('40% forced (long liquidations $9.00M, short $3.00M)');
  });

  it('says "at least" for a sampled feed or a partial window', () => {
    expect(forcedShareText(squeeze, { coverage: 'sampled' })).toBe(
      'at least 62% forced (short liquidations at least $24.1M)',
    );
    expect(forcedShareText({ ...squeeze, partial: true }, { coverage: 'complete' })).toBe(
      'at least 62% forced (short liquidations at least $24.1M)',
    );
  });

  it('says "at least" on both sides of a lower bound, and for an aggregate missing a venue with a feed', () => {
    const both = win({ longUsd: 9e6, shortUsd: 3e6, oiShare: 0.4 });
    expect(forcedShareText(both, { coverage: 'sampled' })).toBe(
      'at least 40% forced (long liquidations at least $9.00M, short at least $3.00M)',
    );
    // Bybit alone counted (complete), Binance left out as stale: the sums miss a feed
    expect(
      forcedShareText(squeeze, { coverage: 'complete', missingVenues: ['binance', 'hyperliquid'] }),
    ).toBe('at least 62% forced (short liquidations at least $24.1M)');
    // only Hyperliquid missing, which has no feed to miss: the sums are complete
    expect(forcedShareText(squeeze, { coverage: 'complete', missingVenues: ['hyperliquid'] })).toBe(
      '62% forced (short liquidations $24.1M)',
    );
  });

  it('caps the shown share at ≥100% and hides one that explains nothing', () => {
    expect(forcedShareText(win({ shortUsd: 60e6, oiShare: 1.7 }), { coverage: 'complete' })).toBe(
      '≥100% forced (short liquidations $60.0M)',
    );
    expect(forcedShareText(win({ shortUsd: 60e6, oiShare: 1 }), { coverage: 'sampled' })).toBe(
      '≥100% forced (short liquidations at least $60.0M)',
    );
    expect(forcedShareText(win({ shortUsd: 1e6, oiShare: 0.09 }), { coverage: 'complete' })).toBeNull();
    expect(forcedShareText(win({ shortUsd: 1e6, oiShare: 0.1 }), { coverage: 'complete' })).toBe(
      '10% forced (short liquidations $1.00M)',
    );
    expect(forcedShareText(win({ shortUsd: 1e6, oiShare: null }), { coverage: 'complete' })).toBeNull();
  });

  it('is a sentence of the OI alert text for its own window, and of a closing control flip', () => {
    expect(forcedShareSentence(snap(), '15m')).toBe(' 62% forced (short liquidations $24.1M).');
    expect(forcedShareSentence(snap(), '24h')).toBe(' ≥100% forced (short liquidations $60.0M).');
    expect(forcedShareSentence(snap({ liquidations: null }), '15m')).toBe('');
    const only = (kind: AlertKind) => ({
      ...DEFAULT_ALERT_RULES,
      controlConfirmMs: 0,
      controlFlipVenues: 'every' as const,
      enabled: Object.fromEntries(ALERT_KINDS.map((k) => [k, k === kind])),
    });
    const drop = snap({ oi: { ...snap().oi, delta15m: { ...snap().oi.delta15m!, pct: -3.5 } } });
    const [oi] = evaluateRules(createAlertEngineState(), drop, only('oi_change_15m')).alerts;
    expect(oi!.text).toContain(
      '; OI value -$40.0M incl. price effect -$1.20M. 62% forced (short liquidations $24.1M). Now',
    );
    const engine2 = createAlertEngineState();
    evaluateRules(engine2, snap({ control: { '15m': 'shorts_opening', '24h': null } }), only('control_flip'));
    const [toCovering] = evaluateRules(
      engine2,
      snap({ ts: T0 + 60_000, control: { '15m': 'short_covering', '24h': null } }),
      only('control_flip'),
    ).alerts;
    expect(toCovering!.text).toContain(
      'control flipped from shorts opening to short covering in 15m. 62% forced (short liquidations $24.1M).',
    );
  });
});

describe('coverage wording', () => {
  it('names the venue and its coverage', () => {
    const s = snap();
    expect(coverageParts(s, s.liquidations!)).toEqual(['Bybit complete']);
    const okx = snap({ venue: 'okx', liquidations: { ...s.liquidations!, coverage: 'sampled' } });
    expect(coverageParts(okx, okx.liquidations!)).toEqual(['OKX sampled']);
  });

  it('groups the aggregate venues by coverage and names the ones without a feed', () => {
    const liq: LiquidationsJson = {
      '15m': squeeze,
      '24h': squeeze,
      coverage: 'sampled',
      missingVenues: ['hyperliquid'],
    };
    const all = snap({ venue: 'all', venues: ['binance', 'bybit', 'okx', 'hyperliquid'], liquidations: liq });
    expect(coverageParts(all, liq)).toEqual([
      'Bybit complete, Binance/OKX sampled',
      'Hyperliquid: no public liquidation feed',
    ]);
  });

  it('tells a venue without a feed from one that has not counted yet', () => {
    const hl = snap({
      venue: 'hyperliquid',
      liquidations: null,
      unavailable: { liquidations: 'venue publishes no market-wide liquidation feed' },
    });
    expect(hasNoFeed(hl)).toBe(true);
    expect(hasNoFeed(snap({ venue: 'hyperliquid', liquidations: null }))).toBe(true);
    expect(hasNoFeed(snap({ liquidations: null }))).toBe(false);
    expect(hasNoFeed(snap())).toBe(false);
  });
});
