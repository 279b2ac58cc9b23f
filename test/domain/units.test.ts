import { describe, expect, it } from 'vitest';
import { canonicalSymbol } from '../../src/domain/symbols.js';
import {
  formatAmount,
  formatAprPct,
  formatCompact,
  formatDuration,
  formatMultiple,
  formatRatePct,
  formatSignedAmount,
  formatSignedPct,
  formatSignedRatePct,
  formatSignedTokenAmount,
  formatSignedUsd,
  formatTokenAmount,
  formatUsd,
  formatUsdAmount,
} from '../../src/domain/units.js';

describe('human units', () => {
  it('formats the OI line parts of the message design', () => {
    expect(formatSignedAmount(2500)).toBe('+2,500');
    expect(formatSignedAmount(-2500.4)).toBe('-2,500');
    expect(formatUsd(213e6)).toBe('$213.0M');
    expect(formatUsd(-5e6)).toBe('-$5.00M');
    expect(formatUsd(1.234e9)).toBe('$1.23B');
    expect(formatSignedPct(5)).toBe('+5.00%');
    expect(formatSignedPct(-3.456)).toBe('-3.46%');
    expect(formatSignedPct(-0.004)).toBe('0.00%');
  });

  it('keeps precision where values are small', () => {
    expect(formatAmount(29986.128)).toBe('29,986');
    expect(formatAmount(12.5)).toBe('12.5');
    expect(formatAmount(0.12345)).toBe('0.1235');
    expect(formatCompact(45600)).toBe('45.6K');
    expect(formatCompact(999.5)).toBe('999.5');
    expect(formatAmount(Number.NaN)).toBe('—');
  });

  it('never shows 1000 of a unit: rounding carries into the next suffix', () => {
    expect(formatCompact(999_960)).toBe('1.00M');
    expect(formatCompact(999_949)).toBe('999.9K');
    expect(formatCompact(999_999_999)).toBe('1.00B');
    expect(formatUsd(-999_960_000)).toBe('-$1.00B');
    expect(formatCompact(1_234e12)).toBe('1234.0T');
    for (let exp = 3; exp < 15; exp++) {
      const text = formatCompact(0.99996 * 10 ** exp);
      expect(Number(text.replace(/[KMBT]$/, ''))).toBeLessThan(1000);
    }
  });

  it('signs USD changes and shows small dollar amounts whole', () => {
    expect(formatSignedUsd(200e6)).toBe('+$200.0M');
    expect(formatSignedUsd(-5e6)).toBe('-$5.00M');
    expect(formatSignedUsd(0)).toBe('$0');
    expect(formatUsdAmount(1095)).toBe('$1,095');
    expect(formatUsdAmount(-547.5)).toBe('-$548');
    expect(formatUsdAmount(12.345)).toBe('$12.35');
    expect(formatUsdAmount(2.5e6)).toBe('$2.50M');
  });

  it('shows token amounts grouped below a million and with a suffix from there', () => {
    expect(formatTokenAmount(52_000)).toBe('52,000');
    expect(formatTokenAmount(3_510_114.8)).toBe('3.51M');
    expect(formatSignedTokenAmount(2500)).toBe('+2,500');
    expect(formatSignedTokenAmount(-1.2e9)).toBe('-1.20B');
    expect(formatSignedTokenAmount(1e-12)).toBe('0');
    expect(formatMultiple(2.43)).toBe('2.4×');
    expect(formatMultiple(0.354)).toBe('0.35×');
    expect(formatMultiple(12.6)).toBe('13×');
  });

  it('formats durations for reset countdowns', () => {
    expect(formatDuration(42_000)).toBe('42s');
    expect(formatDuration(3_720_000)).toBe('1h 2m');
    expect(formatDuration(90_061_000)).toBe('1d 1h');
    expect(formatDuration(-1)).toBe('—');
  });

  it('formats funding rates and APRs as the alert text and the bot show them', () => {
    expect(formatRatePct(0.0001)).toBe('0.0100%');
    expect(formatRatePct(-0.00025)).toBe('-0.0250%');
    expect(formatRatePct(-0.0000001)).toBe('0.0000%');
    expect(formatRatePct(Number.NaN)).toBe('—');
    expect(formatSignedRatePct(0.0001)).toBe('+0.0100%');
    expect(formatSignedRatePct(-0.00025)).toBe('-0.0250%');
    expect(formatSignedRatePct(0)).toBe('0.0000%');
    expect(formatAprPct(10.95)).toBe('10.95%');
    expect(formatAprPct(-21.9)).toBe('-21.90%');
    expect(formatAprPct(-0.001)).toBe('0.00%');
    expect(formatAprPct(Number.POSITIVE_INFINITY)).toBe('—');
  });
});

describe('canonical symbols', () => {
  it('accepts the spellings users type', () => {
    for (const s of ['BTC', 'btc', 'BTCUSDT', 'btc-usdt-swap', 'BTC/USDT', '$btc', ' BtcUsdt ']) {
      expect(canonicalSymbol(s)).toBe('BTC');
    }
    expect(canonicalSymbol('1000PEPEUSDT')).toBe('1000PEPE');
    expect(canonicalSymbol('USDC')).toBe('USDC');
  });

  it('rejects what cannot be a symbol', () => {
    expect(canonicalSymbol('')).toBeNull();
    expect(canonicalSymbol('<b>')).toBeNull();
    expect(canonicalSymbol('BTC ETH')).toBeNull();
  });
});
