import { describe, expect, it } from 'vitest';
import {
  createAlertEngineState,
  DEFAULT_ALERT_RULES,
  evaluateRules,
} from '../../src/analytics/alert-engine.js';
import { alertDirection } from '../../src/bot/alert-direction.js';
import { formatAlert, formatCompactAlert } from '../../src/bot/alert-format.js';
import { alertPassesSettings } from '../../src/bot/chat-policy.js';
import { formatLongShortLine } from '../../src/bot/format-liq.js';
import { keyFigure } from '../../src/bot/schedules.js';
import { DEFAULT_CHAT_SETTINGS } from '../../src/bus/types.js';
import { ALERT_KINDS, type AlertJson, type AlertKind, type SnapshotJson } from '../../src/domain/types.js';

const NOW = Date.UTC(2026, 11, 3, 12, 0, 0);

const base: SnapshotJson = {
  v: 1,
  venue: 'bybit',
  symbol: 'SOL',
  instrument: 'SOLUSDT',
  ts: NOW,
  price: { mark: 180 },
  oi: {
    base: 3_600_000,
    usd: 648e6,
    delta15m: { base: -140_000, usd: -25.2e6, pct: -3.7, positionUsd: -25.2e6, priceEffectUsd: 0 },
    delta24h: { base: 90_000, usd: 16.2e6, pct: 2.6, positionUsd: 16.2e6, priceEffectUsd: 0 },
  },
  funding: { rate: 0.0001, intervalHours: 8, hourly: 0.0000125, aprPct: 10.95, nextFundingTime: null },
  control: { '15m': 'long_unwinding', '24h': 'longs_opening' },
  liquidations: {
    '15m': {
      longUsd: 6.3e6,
      shortUsd: 0.2e6,
      longBase: 35_000,
      shortBase: 1_100,
      count: 88,
      oiShare: 0.26,
      partial: false,
    },
    '24h': {
      longUsd: 9e6,
      shortUsd: 4e6,
      longBase: 50_000,
      shortBase: 22_000,
      count: 300,
      oiShare: null,
      partial: false,
    },
    coverage: 'complete',
  },
};

const only = (kind: AlertKind) => ({
  ...DEFAULT_ALERT_RULES,
  enabled: Object.fromEntries(ALERT_KINDS.map((k) => [k, k === kind])),
});

function fire(kind: AlertKind, s: SnapshotJson): AlertJson {
  const [alert] = evaluateRules(createAlertEngineState(), s, only(kind)).alerts;
  if (alert === undefined) throw new Error(`${kind} did not fire`);
  return alert;
}

describe('the liquidation_cascade alert in Telegram', () => {
  it('shows the side, its share of OI, both sides with base amounts and the feed', () => {
    const alert = fire('liquidation_cascade', base);
    expect(formatAlert(alert, NOW).split('\n').slice(0, 4)).toEqual([
      '<b>⚠️ SOL long liquidation cascade · bybit</b>',
      '💥 $6.30M of longs liquidated in 15m · 0.97% of OI · long flush',
      'Longs $6.30M (35,000 SOL) · shorts $200.0K (1,100 SOL) · 88 liquidations',
      '<i>Bybit complete</i>',
    ]);
    expect(formatCompactAlert(alert)).toBe(
      '⚠️ <b>SOL</b> long liquidation cascade · bybit: $6.30M longs in 15m (0.97% of OI)',
    );
    expect(keyFigure(alert)).toBe('$6.30M longs liquidated');
    expect(alertDirection(alert)).toBe('down');
    expect(alertDirection({ ...alert, direction: undefined })).toBe('down');
  });

  it('says "at least" and names the partial window on a lower bound, and shows an escalation', () => {
    const partial: SnapshotJson = {
      ...base,
      venue: 'okx',
      liquidations: {
        ...base.liquidations!,
        coverage: 'sampled',
        '15m': { ...base.liquidations!['15m'], partial: true },
      },
    };
    const alert = fire('liquidation_cascade', partial);
    const lines = formatAlert(alert, NOW).split('\n');
    expect(lines[1]).toBe('💥 at least $6.30M of longs liquidated in 15m · 0.97% of OI · long flush');
    expect(lines[2]).toBe(
      'Longs at least $6.30M (35,000 SOL) · shorts at least $200.0K (1,100 SOL) · 88 liquidations',
    );
    expect(lines[3]).toBe('<i>OKX sampled · counting began inside the window</i>');
    const escalated = formatAlert(
      { ...alert, escalated: true, figures: { ...alert.figures, lastAlertUsd: 3e6 } },
      NOW,
    );
    expect(escalated.split('\n')[0]).toContain('⏫ escalated');
    expect(escalated).toContain('⏫ 2.1× the last alert ($3.00M)');
  });

  it('is never hidden by a threshold (it has none: a filter above the firing level would hide every cascade)', () => {
    const alert = fire('liquidation_cascade', base);
    const at = (threshold: number) =>
      alertPassesSettings(
        { ...DEFAULT_CHAT_SETTINGS, kinds: { liquidation_cascade: { enabled: true, threshold } } },
        alert,
      );
    expect(at(0.9)).toBe(true);
    expect(at(1)).toBe(true);
    expect(at(5)).toBe(true);
  });
});

describe('the forced share next to OI and control', () => {
  it('adds the forced share to a 15m OI drop alert, in its text and in Telegram', () => {
    const alert = fire('oi_change_15m', base);
    expect(alert.text).toContain('. 26% forced (long liquidations $6.30M).');
    expect(formatAlert(alert, NOW).split('\n').slice(1, 4)).toEqual([
      '🔴 -140,000 SOL (-$25.2M) · -3.70% in 15m',
      '↳ OI value -$25.2M (positions -$25.2M, price effect $0)',
      '↳ 26% forced (long liquidations $6.30M)',
    ]);
  });

  it('adds it to the control line of other alerts only where the state closes positions', () => {
    const alert = fire('liquidation_cascade', base);
    expect(formatAlert(alert, NOW)).toContain(
      'Control 15m: long unwinding · 26% forced (long liquidations $6.30M) · 24h: longs opening',
    );
    const opening = fire('liquidation_cascade', {
      ...base,
      control: { '15m': 'shorts_opening', '24h': null },
    });
    expect(formatAlert(opening, NOW)).toContain('Control 15m: shorts opening\n');
  });

  it('leaves out a share below 10%, and a snapshot without liquidations reads as before', () => {
    const small: SnapshotJson = {
      ...base,
      liquidations: { ...base.liquidations!, '15m': { ...base.liquidations!['15m'], oiShare: 0.05 } },
    };
    expect(fire('oi_change_15m', small).text).not.toContain('forced');
    const none = fire('oi_change_15m', { ...base, liquidations: undefined });
    expect(none.text).not.toContain('forced');
    expect(formatAlert(none, NOW)).not.toContain('forced');
  });
});

describe('the long/short line', () => {
  const at = (ageMin: number) =>
    formatLongShortLine({
      ts: 1_800_000_000_000,
      longShort: { accountsLongPct: 74.2, topTradersLongPct: 61, ts: 1_800_000_000_000 - ageMin * 60_000 },
    } as SnapshotJson);

  it('reads as current for a bucket of the last 20 minutes, and says its age beyond', () => {
    expect(at(10)).toBe('Long/short: 74% of accounts long · top traders 61% long');
    expect(at(40)).toBe('Long/short: 74% of accounts long · top traders 61% long · as of 40m ago');
    expect(at(125)).toBe('Long/short: 74% of accounts long · top traders 61% long · as of 2h 5m ago');
  });
});
