import { describe, expect, it } from 'vitest';
import { fundingMetrics, fundingPayer } from '../../src/analytics/funding.js';

describe('funding metrics', () => {
  it('normalizes an 8-hour rate to hourly and APR', () => {
    const m = fundingMetrics(0.0001, 8);
    expect(m.hourly).toBeCloseTo(0.0000125, 15);
    expect(m.aprPct).toBeCloseTo(10.95, 10);
  });

  it('depends on the interval, not only the rate', () => {
    const m = fundingMetrics(0.0001, 4);
    expect(m.hourly).toBeCloseTo(0.000025, 15);
    expect(m.aprPct).toBeCloseTo(21.9, 10);
    expect(fundingMetrics(-0.0005, 1).aprPct).toBeCloseTo(-438, 9);
  });

  it('is zero for a zero rate, not null', () => {
    expect(fundingMetrics(0, 8)).toStrictEqual({ hourly: 0, aprPct: 0 });
  });

  it('is null when either input is missing or the interval is not positive', () => {
    const none = { hourly: null, aprPct: null };
    expect(fundingMetrics(undefined, 8)).toStrictEqual(none);
    expect(fundingMetrics(null, 8)).toStrictEqual(none);
    expect(fundingMetrics(0.0001, undefined)).toStrictEqual(none);
    expect(fundingMetrics(0.0001, null)).toStrictEqual(none);
    expect(fundingMetrics(0.0001, 0)).toStrictEqual(none);
    expect(fundingMetrics(0.0001, -8)).toStrictEqual(none);
    expect(fundingMetrics(Number.NaN, 8)).toStrictEqual(none);
  });
});

describe('funding payer', () => {
  it('has longs pay on a positive rate and shorts on a negative one', () => {
    expect(fundingPayer(0.0001)).toBe('longs');
    expect(fundingPayer(-0.0001)).toBe('shorts');
    expect(fundingPayer(0)).toBe('none');
    expect(fundingPayer(undefined)).toBe('none');
    expect(fundingPayer(null)).toBe('none');
  });
});
