/** Funding rate normalized to time: per hour and as a simple (non-compounded) annual rate. */
export interface FundingMetrics {
  /** Rate per hour, as a fraction (0.0000125 = 0.00125%). */
  readonly hourly: number | null;
  /** Simple annualized rate in percent: `hourly × 24 × 365 × 100`. */
  readonly aprPct: number | null;
}

const HOURS_PER_YEAR = 24 * 365;

/**
 * `rate` is quoted per funding interval of `intervalHours`. Both are null when either input is
 * missing or not finite, or the interval is not positive.
 */
export function fundingMetrics(
  rate: number | undefined | null,
  intervalHours: number | undefined | null,
): FundingMetrics {
  if (rate == null || intervalHours == null || !Number.isFinite(rate) || !Number.isFinite(intervalHours)) {
    return { hourly: null, aprPct: null };
  }
  if (intervalHours <= 0) return { hourly: null, aprPct: null };
  const hourly = rate / intervalHours;
  return { hourly, aprPct: hourly * HOURS_PER_YEAR * 100 };
}

export type FundingPayer = 'longs' | 'shorts' | 'none';

/** Who pays at the next funding: a positive rate means longs pay shorts. */
export function fundingPayer(rate: number | undefined | null): FundingPayer {
  if (rate == null || !Number.isFinite(rate) || rate === 0) return 'none';
  return rate > 0 ? 'longs' : 'shorts';
}
