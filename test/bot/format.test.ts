import { describe, expect, it } from 'vitest';
import {
  changeDot,
  escapeHtml,
  formatAlertMessage,
  formatFundingLine,
  formatFundingMessage,
  formatOiLine,
  formatOiMessage,
  limitLength,
} from '../../src/bot/format.js';
import type { AlertJson, SnapshotJson } from '../../src/domain/types.js';

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
    expect(formatOiLine(snapshot, '15m')).toBe('🟢 +2,500 BTC ($213.0M) · +5.00% in 15m');
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
        '🟢 +2,500 BTC ($213.0M) · +5.00% in 15m',
        '🔴 -1,000 BTC (-$85.2M) · -1.89% in 24h',
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

  it('formats an alert with a bold header, the 15m line, funding and mark price', () => {
    const alert: AlertJson = {
      v: 1,
      id: 'bybit:BTC:oi_change_15m:1',
      kind: 'oi_change_15m',
      venue: 'bybit',
      symbol: 'BTC',
      ts: NOW,
      text: 'BTC OI +5.00% in 15m',
      thresholdPct: 3,
      delta: { base: 2_500, usd: 213_000_000, pct: 5 },
      windowMs: 15 * 60_000,
      snapshot,
    };
    expect(formatAlertMessage(alert, NOW)).toBe(
      [
        '<b>🚨 BTC OI surge · bybit</b>',
        '🟢 +2,500 BTC ($213.0M) · +5.00% in 15m',
        'Funding +0.0100% / 8h · 10.95% APR · longs pay shorts · reset in 3h 12m',
        'Mark $85,200',
      ].join('\n'),
    );
    const drop = { ...alert, delta: { base: -2_500, usd: -213_000_000, pct: -5 } };
    expect(formatAlertMessage(drop, NOW)).toMatch(/^<b>🚨 BTC OI drop · bybit<\/b>\n🔴 -2,500 BTC/);
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
