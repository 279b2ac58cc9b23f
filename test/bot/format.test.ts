import { describe, expect, it } from 'vitest';
import {
  changeDot,
  escapeHtml,
  formatDeltaLine,
  formatFundingLine,
  formatFundingMessage,
  formatOiLine,
  formatOiMessage,
  formatStatusMessage,
  isFeedStale,
  limitLength,
  pressureLabel,
} from '../../src/bot/format.js';
import {
  activityLabel,
  controlLabel,
  formatMarketMessage,
  formatTopMessage,
  momentumLabel,
  topOiMovers,
} from '../../src/bot/format-market.js';
import type { FeedHealthJson } from '../../src/bus/types.js';
import type {
  ActivityLevel,
  ControlState,
  FundingPressure,
  MomentumState,
  SnapshotJson,
} from '../../src/domain/types.js';

const NOW = Date.UTC(2025, 0, 15, 12, 0, 0);
const THREE_H_12_M = (3 * 60 + 12) * 60_000;

const snapshot: SnapshotJson = {
  v: 1,
  venue: 'bybit',
  symbol: 'BTC',
  instrument: 'BTCUSDT',
  ts: NOW - 12_000,
  price: { mark: 85_200, last: 85_210, index: 85_190 },
  oi: {
    base: 52_000,
    usd: 4_430_400_000,
    delta15m: { base: 2_500, usd: 213_000_000, pct: 5 },
    delta24h: { base: -1_000, usd: -85_200_000, pct: -1.89 },
  },
  funding: {
    rate: 0.0001,
    intervalHours: 8,
    hourly: 0.0000125,
    aprPct: 10.95,
    nextFundingTime: NOW + THREE_H_12_M,
  },
};

const warmingUp: SnapshotJson = {
  ...snapshot,
  oi: { base: null, usd: null, delta15m: null, delta24h: null },
  funding: { rate: null, intervalHours: null, hourly: null, aprPct: null, nextFundingTime: null },
  price: { mark: null },
};

describe('escapeHtml', () => {
  it('escapes the characters HTML mode treats specially', () => {
    expect(escapeHtml('<b>&"x"</b>')).toBe('&lt;b&gt;&amp;&quot;x&quot;&lt;/b&gt;');
  });
});

describe('formatOiLine', () => {
  it('shows tokens, USD in parentheses, percent and a green dot for growth', () => {
    expect(formatOiLine(snapshot, '15m')).toBe('🟢 +2,500 BTC (+$213.0M) · +5.00% in 15m');
  });

  it('shows a red dot and negative values for a decline', () => {
    expect(formatOiLine(snapshot, '24h')).toBe('🔴 -1,000 BTC (-$85.2M) · -1.89% in 24h');
  });

  it('says the window is warming up when its delta is null', () => {
    expect(formatOiLine(warmingUp, '15m')).toBe('⏳ 15m: warming up (needs 15m of history)');
    expect(formatOiLine(warmingUp, '24h')).toBe('⏳ 24h: warming up (needs 24h of history)');
  });

  it('picks the dot from the base delta', () => {
    expect([changeDot(1), changeDot(-1), changeDot(0), changeDot(null)]).toEqual(['🟢', '🔴', '⚪', '⚪']);
  });
});

describe('formatFundingLine', () => {
  it('shows rate, APR, who pays whom and the time to the next reset', () => {
    expect(formatFundingLine(snapshot, NOW)).toBe(
      'Funding +0.0100% / 8h · 10.95% APR · longs pay shorts · reset in 3h 12m',
    );
  });

  it('computes APR when the snapshot lacks it and says shorts pay on a negative rate', () => {
    const s = { ...snapshot, funding: { ...snapshot.funding, rate: -0.0002, aprPct: null } };
    expect(formatFundingLine(s, NOW)).toBe(
      'Funding -0.0200% / 8h · -21.90% APR · shorts pay longs · reset in 3h 12m',
    );
  });

  it('shows the OI-weighted APR of the cross-venue view, which has no single rate', () => {
    const all = {
      ...snapshot,
      venue: 'all',
      funding: { ...snapshot.funding, rate: null, intervalHours: null, nextFundingTime: null, aprPct: -35.5 },
    };
    expect(formatFundingLine(all, NOW)).toBe('Funding -35.50% APR (OI-weighted) · shorts pay longs');
  });

  it('says n/a without a rate and "due now" once the reset time has passed', () => {
    expect(formatFundingLine(warmingUp, NOW)).toBe('Funding n/a');
    expect(formatFundingLine(snapshot, NOW + THREE_H_12_M + 1)).toContain('reset due now');
  });
});

describe('messages', () => {
  it('formats /oi exactly', () => {
    expect(formatOiMessage(snapshot, NOW)).toBe(
      [
        '<b>BTC open interest · bybit</b>',
        'OI 52,000 BTC ($4.43B)',
        '🟢 +2,500 BTC (+$213.0M) · +5.00% in 15m',
        '↳ OI value +$213.0M',
        '🔴 -1,000 BTC (-$85.2M) · -1.89% in 24h',
        '↳ OI value -$85.2M',
        'Mark $85,200',
        '<i>BTCUSDT · updated 12s ago</i>',
      ].join('\n'),
    );
  });

  it('formats /funding exactly', () => {
    expect(formatFundingMessage(snapshot, NOW)).toBe(
      [
        '<b>BTC funding · bybit</b>',
        'Funding +0.0100% / 8h · 10.95% APR · longs pay shorts · reset in 3h 12m',
        'Hourly +0.0013%',
        'A $10,000 long pays $1,095 a year (shorts earn it)',
        'Mark $85,200',
        '<i>BTCUSDT · updated 12s ago</i>',
      ].join('\n'),
    );
  });

  it('formats a snapshot full of nulls without crashing', () => {
    expect(formatOiMessage(warmingUp, NOW)).toBe(
      [
        '<b>BTC open interest · bybit</b>',
        'OI n/a',
        '⏳ 15m: warming up (needs 15m of history)',
        '⏳ 24h: warming up (needs 24h of history)',
        'Mark n/a',
        '<i>BTCUSDT · updated 12s ago</i>',
      ].join('\n'),
    );
    expect(formatFundingMessage(warmingUp, NOW)).toContain('Funding n/a');
  });

  it('escapes hostile values from the snapshot', () => {
    const hostile = { ...snapshot, symbol: 'X<i>', venue: 'a&b', instrument: '<b>&' };
    const text = formatOiMessage(hostile, NOW);
    expect(text).toContain('<b>X&lt;i&gt; open interest · a&amp;b</b>');
    expect(text).toContain('<i>&lt;b&gt;&amp; · updated 12s ago</i>');
    expect(text).not.toContain('<b>&');
  });

  it('keeps every message under the Bot API limit, cutting at a line boundary', () => {
    const long = Array.from({ length: 500 }, (_, i) => `<b>line ${i}</b>`).join('\n');
    const cut = limitLength(long);
    expect(cut.length).toBeLessThan(4096);
    expect(cut.endsWith('</b>\n…')).toBe(true);
    const huge = { ...snapshot, instrument: 'x'.repeat(10_000) };
    expect(formatOiMessage(huge, NOW).length).toBeLessThan(4096);
  });
});

/** Only our own tags, and every `&` starts an entity: what Telegram's HTML parser accepts. */
function expectSafeHtml(html: string): void {
  const withoutOwnTags = html.replace(/<\/?(b|i|code)>/g, '');
  expect(withoutOwnTags).not.toMatch(/[<>]/);
  expect(withoutOwnTags).not.toMatch(/&(?!(amp|lt|gt|quot);)/);
}

const intel: SnapshotJson = {
  ...snapshot,
  oi: {
    base: 52_000,
    usd: 4_430_400_000,
    delta15m: { base: 2_500, usd: 213_000_000, pct: 5, positionUsd: 200_000_000, priceEffectUsd: 13_000_000 },
    delta24h: {
      base: -1_000,
      usd: -85_200_000,
      pct: -1.89,
      positionUsd: -90_000_000,
      priceEffectUsd: 4_800_000,
    },
  },
  funding: {
    rate: 0.0001,
    intervalHours: 4,
    hourly: 0.000025,
    aprPct: 21.9,
    nextFundingTime: NOW + THREE_H_12_M,
    rate8h: 0.0002,
    payer: 'longs',
    pressure: 'elevated',
    annualCostUsdPer10kLong: 2190,
    msToNextFunding: THREE_H_12_M + 12_000,
    hint: 'Longs pay 21.9% APR: <b>&',
    atBound: 'cap',
  },
  momentum: { priceChange15mPct: 1.2, priceChange24hPct: -3.4, oiAccel: 2.43, state: 'accelerating' },
  control: { '15m': 'longs_opening', '24h': 'long_unwinding' },
  controlFundingAgrees: { '15m': true, '24h': null },
  activity: 'active',
  freshness: {
    priceTs: NOW - 12_000,
    oiTs: NOW - 12_000,
    fundingTs: NOW - 12_000,
    maxInputAgeMs: 0,
    stale: false,
    staleVenues: [],
  },
};

const aggregate: SnapshotJson = {
  ...intel,
  venue: 'all',
  instrument: 'all',
  venues: ['binance', 'bybit', 'okx'],
  funding: {
    rate: null,
    intervalHours: null,
    hourly: 15 / 100 / 8760,
    aprPct: 15,
    nextFundingTime: null,
    payer: 'longs',
    pressure: 'neutral',
    hint: null,
  },
  fundingSpread: { aprPct: 12.3, maxVenue: 'binance', minVenue: 'okx' },
  divergence: { '15m': ['okx'], '24h': [] },
  control: { '15m': 'shorts_opening', '24h': null },
  controlFundingAgrees: { '15m': false, '24h': null },
  freshness: {
    ...(intel.freshness as NonNullable<SnapshotJson['freshness']>),
    stale: true,
    staleVenues: ['hyperliquid'],
  },
};

describe('enhanced /oi and /funding', () => {
  it('/oi values the tokens at the mark and shows the OI value change with its causes', () => {
    expect(formatOiMessage(intel, NOW)).toBe(
      [
        '<b>BTC open interest · bybit</b>',
        'OI 52,000 BTC ($4.43B)',
        '🟢 +2,500 BTC (+$200.0M) · +5.00% in 15m',
        '↳ OI value +$213.0M (positions +$200.0M, price effect +$13.0M)',
        '🔴 -1,000 BTC (-$90.0M) · -1.89% in 24h',
        '↳ OI value -$85.2M (positions -$90.0M, price effect +$4.80M)',
        'Mark $85,200',
        '<i>BTCUSDT · updated 12s ago</i>',
      ].join('\n'),
    );
  });

  it('/funding shows 8h rate, pressure, bound, cost on $10,000 and the escaped hint', () => {
    expect(formatFundingMessage(intel, NOW)).toBe(
      [
        '<b>BTC funding · bybit</b>',
        'Funding +0.0100% / 4h · 21.90% APR · longs pay shorts · reset in 3h 12m',
        'Hourly +0.0025%',
        'Per 8h +0.0200%',
        "Pressure: elevated · at the venue's cap",
        'A $10,000 long pays $2,190 a year (shorts earn it)',
        '💡 Longs pay 21.9% APR: &lt;b&gt;&amp;',
        'Mark $85,200',
        '<i>BTCUSDT · updated 12s ago</i>',
      ].join('\n'),
    );
  });

  it('says a long earns when shorts pay, and derives the cost from the APR when the field is absent', () => {
    const shortsPay = { ...snapshot, funding: { ...snapshot.funding, rate: -0.0002, aprPct: -21.9 } };
    expect(formatFundingMessage(shortsPay, NOW)).toContain(
      'A $10,000 long earns $2,190 a year (shorts pay it)',
    );
    const free = { ...snapshot, funding: { ...snapshot.funding, rate: 0, aprPct: 0 } };
    expect(formatFundingMessage(free, NOW)).toContain('A $10,000 long pays nothing at this rate');
  });

  it('marks a delta that spans a feed gap, and one that starts in venue history', () => {
    expect(formatDeltaLine('BTC', { base: 10, usd: 1e6, pct: 1, gap: true }, '15m', 85_200)).toBe(
      '🟢 +10 BTC (+$852.0K) · +1.00% in 15m · ⚠️ feed gap',
    );
    expect(formatDeltaLine('BTC', { base: 10, usd: 1e6, pct: 1, backfilled: true }, '24h', 85_200)).toBe(
      '🟢 +10 BTC (+$852.0K) · +1.00% in 24h · ≈ from venue history',
    );
    // Seconds missing inside a window the processor still vouches for: no warning.
    expect(formatDeltaLine('BTC', { base: 10, usd: 1e6, pct: 1, gap: false, gapMs: 20_000 }, '24h')).toBe(
      '🟢 +10 BTC · +1.00% in 24h',
    );
  });

  it('shows huge token amounts with a suffix', () => {
    const pepe = {
      ...snapshot,
      symbol: '1000PEPE',
      price: { mark: 0.0121 },
      oi: { ...snapshot.oi, base: 3_510_114_800, delta15m: { base: 12_345_678, usd: 150_000, pct: 0.35 } },
    };
    const text = formatOiMessage(pepe, NOW);
    expect(text).toContain('OI 3.51B 1000PEPE');
    expect(text).toContain('🟢 +12.3M 1000PEPE (+$149.4K) · +0.35% in 15m');
  });
});

describe('formatMarketMessage', () => {
  it('shows control, momentum, activity, funding pressure and OI with its split for both windows', () => {
    expect(formatMarketMessage(intel, 'both', NOW)).toBe(
      [
        '<b>📊 BTC market · bybit</b>',
        'Control 24h: Long unwinding (price ↓, OI ↓)',
        'Control 15m: Longs opening (price ↑, OI ↑) · funding agrees',
        'Momentum: Accelerating · OI pace 2.4× usual · price +1.20% in 15m · price -3.40% in 24h',
        'Activity: Active',
        'Funding: 21.90% APR · longs pay shorts · pressure elevated · at the cap · reset in 3h 12m',
        'A $10,000 long pays $2,190 a year (shorts earn it)',
        '💡 Longs pay 21.9% APR: &lt;b&gt;&amp;',
        'OI 52,000 BTC ($4.43B)',
        '🔴 -1,000 BTC (-$90.0M) · -1.89% in 24h',
        '↳ OI value -$85.2M (positions -$90.0M, price effect +$4.80M)',
        '🟢 +2,500 BTC (+$200.0M) · +5.00% in 15m',
        '↳ OI value +$213.0M (positions +$200.0M, price effect +$13.0M)',
        'Mark $85,200',
        '<i>BTCUSDT · updated 12s ago</i>',
      ].join('\n'),
    );
  });

  it('shows only the chosen window', () => {
    const only15m = formatMarketMessage(intel, '15m', NOW);
    expect(only15m).toContain('Control 15m: Longs opening');
    expect(only15m).toContain('price +1.20% in 15m');
    expect(only15m).toContain('+5.00% in 15m');
    expect(only15m).not.toMatch(/24h/);
    const only24h = formatMarketMessage(intel, '24h', NOW);
    expect(only24h).toContain('Control 24h: Long unwinding');
    expect(only24h).toContain('-1.89% in 24h');
    expect(only24h).not.toMatch(/15m/);
  });

  it('for the aggregate: venues, spread, divergence, stale venues and a disagreeing funding sign', () => {
    const text = formatMarketMessage(aggregate, '15m', NOW);
    expect(text.split('\n')[0]).toBe('<b>📊 BTC market · all venues</b>');
    expect(text).toContain('Control 15m: Shorts opening (price ↓, OI ↑) · funding disagrees');
    expect(text).toContain('Funding: 15.00% APR · longs pay shorts · pressure neutral\n');
    expect(text).toContain('A $10,000 long pays $1,500 a year');
    expect(text).toContain('Funding spread 12.30% APR: binance highest, okx lowest');
    expect(text).toContain('↳ 15m control differs on okx');
    expect(text).toContain('⚠️ Stale, left out of the totals: hyperliquid');
    expect(text.endsWith('<i>binance, bybit, okx · updated 12s ago</i>')).toBe(true);
    expect(formatMarketMessage(aggregate, '24h', NOW)).toContain('Control 24h: ⏳ warming up');
  });

  it('says warming up where the analytics have no values yet, and skips what an old snapshot lacks', () => {
    const young: SnapshotJson = {
      ...warmingUp,
      momentum: { priceChange15mPct: null, priceChange24hPct: null, oiAccel: null, state: null },
      control: { '15m': null, '24h': null },
      activity: null,
    };
    const text = formatMarketMessage(young, 'both', NOW);
    expect(text).toContain('Control 15m: ⏳ warming up');
    expect(text).toContain('Momentum: ⏳ warming up');
    expect(text).toContain('Activity: ⏳ warming up');
    expect(text).toContain('Funding: n/a');
    const old = formatMarketMessage(snapshot, 'both', NOW);
    expect(old).not.toMatch(/Control|Momentum|Activity/);
    expect(old).toContain('Funding: 10.95% APR · longs pay shorts · reset in 3h 12m');
  });

  it('per venue: marks stale inputs with their age', () => {
    const stale = {
      ...intel,
      freshness: {
        ...(intel.freshness as NonNullable<SnapshotJson['freshness']>),
        stale: true,
        maxInputAgeMs: 125_000,
      },
    };
    expect(formatMarketMessage(stale, 'both', NOW)).toContain('⚠️ Stale data: oldest input 2m old');
  });

  it('names every control, momentum, activity and pressure state in words, each differently', () => {
    const controls: ControlState[] = [
      'longs_opening',
      'shorts_opening',
      'short_covering',
      'long_unwinding',
      'neutral',
    ];
    const momenta: MomentumState[] = ['accelerating', 'steady', 'fading', 'reversing'];
    const activities: ActivityLevel[] = ['quiet', 'normal', 'active', 'extreme'];
    const pressures: FundingPressure[] = ['neutral', 'elevated', 'high', 'extreme'];
    for (const [labels, states] of [
      [controls.map(controlLabel), controls],
      [momenta.map(momentumLabel), momenta],
      [activities.map(activityLabel), activities],
      [pressures.map(pressureLabel), pressures],
    ] as const) {
      expect(new Set(labels).size).toBe(states.length);
      for (const label of labels) expect(label).not.toMatch(/_/);
    }
    expect(controls.map(controlLabel)).toEqual([
      'Longs opening (price ↑, OI ↑)',
      'Shorts opening (price ↓, OI ↑)',
      'Short covering (price ↑, OI ↓)',
      'Long unwinding (price ↓, OI ↓)',
      'Neutral (no clear side)',
    ]);
    for (const state of controls) {
      const s = { ...intel, control: { '15m': state, '24h': state } };
      expect(formatMarketMessage(s, '15m', NOW)).toContain(`Control 15m: ${controlLabel(state)}`);
    }
    for (const state of momenta) {
      const s = {
        ...intel,
        momentum: { ...(intel.momentum as NonNullable<SnapshotJson['momentum']>), state },
      };
      expect(formatMarketMessage(s, 'both', NOW)).toContain(`Momentum: ${momentumLabel(state)} ·`);
    }
    for (const level of activities) {
      expect(formatMarketMessage({ ...intel, activity: level }, 'both', NOW)).toContain(
        `Activity: ${activityLabel(level)}`,
      );
    }
    for (const pressure of pressures) {
      const s = { ...intel, funding: { ...intel.funding, pressure } };
      expect(formatMarketMessage(s, 'both', NOW)).toContain(`pressure ${pressureLabel(pressure)}`);
      expect(formatFundingMessage(s, NOW)).toContain(`Pressure: ${pressureLabel(pressure)}`);
    }
  });

  it('escapes every hostile value and keeps digits-first symbols intact', () => {
    const hostile: SnapshotJson = {
      ...aggregate,
      symbol: '1000PEPE',
      venues: ['<b>&', 'okx'],
      fundingSpread: { aprPct: 5, maxVenue: '<i>', minVenue: 'a&b' },
      divergence: { '15m': ['<code>'], '24h': ['"x"'] },
      freshness: {
        ...(aggregate.freshness as NonNullable<SnapshotJson['freshness']>),
        staleVenues: ['</b>'],
      },
      funding: { ...aggregate.funding, hint: '<script>alert(1)</script> & more' },
    };
    for (const tf of ['15m', '24h', 'both'] as const) {
      const text = formatMarketMessage(hostile, tf, NOW);
      expectSafeHtml(text);
      expect(text).toContain('<b>📊 1000PEPE market · all venues</b>');
    }
    const venueHostile = { ...intel, venue: '<b>&', instrument: '<b>&', symbol: '1000PEPE' };
    for (const text of [
      formatMarketMessage(venueHostile, 'both', NOW),
      formatFundingMessage(venueHostile, NOW),
      formatOiMessage(venueHostile, NOW),
    ]) {
      expectSafeHtml(text);
      expect(text).toContain('1000PEPE');
      expect(text).toContain('&lt;b&gt;&amp;');
    }
  });
});

describe('/top movers', () => {
  const withDelta = (symbol: string, pct: number | null, gap = false): SnapshotJson => ({
    ...snapshot,
    venue: 'all',
    symbol,
    oi: {
      ...snapshot.oi,
      delta15m: pct === null ? null : { base: pct * 100, usd: pct * 1e6, pct, gap },
      delta24h: pct === null ? null : { base: -pct * 10, usd: -pct * 1e5, pct: -pct / 2 },
    },
  });

  it('ranks by |pct|, skips unknown and gap deltas, and keeps at most the limit', () => {
    const snaps = [
      withDelta('AAA', 1),
      withDelta('BBB', -7),
      withDelta('CCC', null),
      withDelta('DDD', 12, true),
      withDelta('EEE', 3),
      ...Array.from({ length: 12 }, (_, i) => withDelta(`Z${i}`, 0.05 * (i + 1))),
    ];
    const top = topOiMovers(snaps, '15m', 10);
    expect(top.map((m) => m.symbol).slice(0, 3)).toEqual(['BBB', 'EEE', 'AAA']);
    expect(top).toHaveLength(10);
    expect(top.map((m) => m.symbol)).not.toContain('CCC');
    expect(top.map((m) => m.symbol)).not.toContain('DDD');
    const pcts = top.map((m) => Math.abs(m.pct));
    expect(pcts).toEqual([...pcts].sort((a, b) => b - a));
    // The 24h ranking has its own order; DDD's 24h delta has no gap and counts there.
    expect(topOiMovers(snaps, '24h', 1)[0]?.symbol).toBe('DDD');
  });

  it('formats both windows with dots, percent and USD, and says warming up when empty', () => {
    const text = formatTopMessage([withDelta('SOL', 6.06), withDelta('ETH', -4.1), withDelta('<b>', 1)]);
    const lines = text.split('\n');
    expect(lines).toContain('1. 🟢 <b>SOL</b> +6.06% · +606 SOL (+$51.6M) · OI value +$6.06M');
    expect(lines).toContain('2. 🔴 <b>ETH</b> -4.10% · -410 ETH (-$34.9M) · OI value -$4.10M');
    expect(lines).toContain('1. 🔴 <b>SOL</b> -3.03% · -60.6 SOL (-$5.16M) · OI value -$606.0K');
    expect(text.indexOf('<b>15m</b>')).toBeLessThan(text.indexOf('<b>24h</b>'));
    expectSafeHtml(text);
    expect(formatTopMessage([withDelta('SOL', null)])).toMatch(/warming up/);
    const only15m = formatTopMessage([
      { ...withDelta('SOL', 2), oi: { ...withDelta('SOL', 2).oi, delta24h: null } },
    ]);
    expect(only15m).toContain('⏳ warming up (needs 24h of history)');
  });
});

describe('/status', () => {
  const status = (venue: string, patch: Partial<FeedHealthJson> = {}): FeedHealthJson => ({
    v: 1,
    venue,
    shard: 'all',
    ts: NOW - 1_000,
    ok: true,
    connections: 2,
    open: 2,
    lastDataTs: NOW - 1_500,
    staleAfterMs: 30_000,
    instruments: 20,
    ...patch,
  });

  it('marks stale feeds: not ok, no data, or data older than the bound', () => {
    expect(isFeedStale(status('binance'), NOW)).toBe(false);
    expect(isFeedStale(status('okx', { ok: false }), NOW)).toBe(true);
    expect(isFeedStale(status('okx', { lastDataTs: null }), NOW)).toBe(true);
    expect(isFeedStale(status('okx', { lastDataTs: NOW - 30_001 }), NOW)).toBe(true);
    expect(isFeedStale(status('okx', { lastDataTs: NOW - 30_000 }), NOW)).toBe(false);
  });

  it('lists each venue with ✅/⚠️, data age, connections, instruments and the newest snapshot', () => {
    const text = formatStatusMessage(
      {
        statuses: [
          status('binance'),
          status('okx', { lastDataTs: NOW - 125_000, open: 1, connections: 3 }),
          status('bybit', { shard: '1/2', instruments: 1_500 }),
        ],
        venues: ['binance', 'bybit', 'okx', 'hyperliquid'],
        newestSnapshotTs: { binance: NOW - 2_000, okx: NOW - 125_000, bybit: null },
      },
      NOW,
    );
    const lines = text.split('\n');
    expect(lines[0]).toBe('<b>Feed status</b>');
    expect(lines).toContain('✅ <b>binance</b> · data 1s ago · 2/2 connections · 20 instruments');
    expect(lines).toContain('⚠️ <b>okx</b> · data 2m ago · 1/3 connections · 20 instruments · stale');
    expect(lines).toContain(
      '✅ <b>bybit</b> (shard 1/2) · data 1s ago · 2/2 connections · 1,500 instruments',
    );
    expect(lines).toContain('❔ <b>hyperliquid</b> · no status reported');
    expect(lines).toContain('Newest snapshot: binance 2s ago · bybit none · okx 2m ago');
  });

  it('says the processor is not running or not reachable when no status exists', () => {
    const text = formatStatusMessage({ statuses: [], venues: ['bybit'] }, NOW);
    expect(text).toContain('⚠️ No feed status: the processor is not running or not reachable.');
    expect(text).toContain('Newest snapshot: none yet');
    expectSafeHtml(formatStatusMessage({ statuses: [status('<b>&', { shard: '<i>' })] }, NOW));
  });
});
