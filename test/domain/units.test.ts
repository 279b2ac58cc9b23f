import { describe, expect, it } from 'vitest';
import { canonicalSymbol } from '../../src/domain/symbols.js';
import {
  formatAmount,
  formatCompact,
  formatDuration,
  formatSignedAmount,
  formatSignedPct,
  formatUsd,
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

  it('formats durations for reset countdowns', () => {
    expect(formatDuration(42_000)).toBe('42s');
    expect(formatDuration(3_720_000)).toBe('1h 2m');
    expect(formatDuration(90_061_000)).toBe('1d 1h');
    expect(formatDuration(-1)).toBe('—');
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
