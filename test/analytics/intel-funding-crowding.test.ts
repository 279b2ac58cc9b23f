import { describe, expect, it } from 'vitest';
import { applyMarketEvent, createInstrumentState, toSnapshot } from '../../src/analytics/instrument.js';
import { DEFAULT_INTEL_CONFIG } from '../../src/analytics/intel-config.js';
import { fundingHint, fundingPressure, HINT_MAX_CHARS } from '../../src/analytics/intel-funding.js';
import { btcEvent } from '../support/events.js';

const T0 = 1_700_000_000_000;
const crowd = (accountsLongPct: number | null, topTradersLongPct: number | null = null) => ({
  accountsLongPct,
  topTradersLongPct,
});

describe('funding hint with long/short figures', () => {
  it('names the crowd when it leans 60% or more to the side that pays', () => {
    expect(fundingHint(48, 'elevated', null, null, crowd(74.2))).toBe(
      'Longs crowded: 74% of accounts long, paying 48% APR; shorts collect it',
    );
    expect(fundingHint(-62, 'high', null, null, crowd(30))).toBe(
      'Shorts crowded: 70% of accounts short, paying 62% APR; a carry for longs',
    );
    expect(fundingHint(148, 'extreme', null, null, crowd(60))).toBe(
      'Longs crowded: 60% of accounts long, paying 148% APR; a large carry for shorts, squeeze risk',
    );
  });

  it("falls back to top traders' positions when the account share is unknown", () => {
    expect(fundingHint(55, 'high', null, null, crowd(null, 66))).toBe(
      "Longs crowded: 66% of top traders' positions long, paying 55% APR; a carry for shorts",
    );
  });

  it('keeps the old hint when the crowd and the payer disagree, the share is not lopsided, or nothing is known', () => {
    const old = fundingHint(48, 'elevated', null, null);
    expect(old).toBe('Longs pay 48% APR: holding longs costs more than usual; shorts collect it');
    expect(fundingHint(48, 'elevated', null, null, crowd(35))).toBe(old); // shorts crowded, longs pay
    expect(fundingHint(48, 'elevated', null, null, crowd(59.4))).toBe(old);
    expect(fundingHint(48, 'elevated', null, null, crowd(null, null))).toBe(old);
    expect(fundingHint(48, 'elevated', null, null, null)).toBe(old);
    // cheap funding says nothing about crowding
    expect(fundingHint(6.5, 'neutral', null, null, crowd(80))).toBe(
      'Funding is cheap (6.5% APR): holding either side costs little',
    );
  });

  it('keeps the reset and bound extras within the length limit', () => {
    const hint = fundingHint(-148, 'extreme', 5 * 60_000, 'floor', crowd(null, 28))!;
    expect(hint).toBe(
      "Shorts crowded: 72% of top traders' positions short, paying 148% APR; a large carry for longs, squeeze risk; reset in 5m",
    );
    expect(hint.length).toBeLessThanOrEqual(HINT_MAX_CHARS);
  });

  it('reaches the snapshot fields through fundingPressure, optionally', () => {
    const rate = 0.0005; // per 8h: 54.75% APR, high
    const cfg = DEFAULT_INTEL_CONFIG;
    expect(fundingPressure(rate, 8, null, T0, null, null, cfg, crowd(71)).hint).toBe(
      'Longs crowded: 71% of accounts long, paying 55% APR; a carry for shorts',
    );
    expect(fundingPressure(rate, 8, null, T0, null, null, cfg).hint).toBe(
      'Crowded longs pay 55% APR: a carry exists for shorts; long entries pay to wait',
    );
  });
});

describe('the snapshot hint cites long/short figures while they are fresh', () => {
  const snapshotAt = (statsAgeMs: number) => {
    const state = createInstrumentState('bybit', 'BTC', 'BTCUSDT');
    const now = T0 + 3 * 3_600_000;
    applyMarketEvent(
      state,
      btcEvent('bybit', now - statsAgeMs, { accountsLongPct: 74, longShortTs: now - statsAgeMs }),
    );
    // 0.0438% per 8 h: longs pay 48% APR, pressure elevated.
    applyMarketEvent(
      state,
      btcEvent('bybit', now, {
        markPrice: 60_000,
        oiBase: 10_000,
        fundingRate: 0.000438,
        fundingIntervalHours: 8,
      }),
    );
    return toSnapshot(state).funding.hint;
  };

  it('an hour-old bucket or newer is evidence', () => {
    expect(snapshotAt(10 * 60_000)).toMatch(/^Longs crowded: 74% of accounts long, paying 48% APR/);
  });

  it('an older one is not: the plain hint stands', () => {
    const hint = snapshotAt(2 * 3_600_000);
    expect(hint).toBeTruthy();
    expect(hint).not.toMatch(/crowded/);
  });
});
