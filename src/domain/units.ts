/** Human units for messages: `$213.0M`, `2,500`, `+5.00%`. Pure, locale-independent. */

const SUFFIXES: ReadonlyArray<readonly [number, string]> = [
  [1e12, 'T'],
  [1e9, 'B'],
  [1e6, 'M'],
  [1e3, 'K'],
];

function trimZeros(s: string): string {
  return s.includes('.') ? s.replace(/\.?0+$/, '') : s;
}

/** `1234567.8` → `1,234,568`; fractional digits only where the value is small. */
export function formatAmount(value: number, maxFractionDigits?: number): string {
  if (!Number.isFinite(value)) return '—';
  const abs = Math.abs(value);
  const digits = maxFractionDigits ?? (abs >= 1000 ? 0 : abs >= 1 ? 2 : abs >= 0.01 ? 4 : 8);
  const fixed = abs.toFixed(digits);
  const [int = '0', frac] = fixed.split('.');
  const grouped = int.replace(/\B(?=(\d{3})+(?!\d))/g, ',');
  const body = frac !== undefined ? trimZeros(`${grouped}.${frac}`) : grouped;
  return value < 0 && Number(fixed) !== 0 ? `-${body}` : body;
}

/** Three significant digits at most past the suffix: `45.6K`, `213.0M`, `1.23B`. */
function scaledText(scaled: number): string {
  return scaled >= 10 ? scaled.toFixed(1) : scaled.toFixed(2);
}

/** `45600` → `45.6K`; below 1,000 the plain amount. `999_960` rounds up to `1.00M`, never `1000.0K`. */
export function formatCompact(value: number): string {
  if (!Number.isFinite(value)) return '—';
  const abs = Math.abs(value);
  const sign = value < 0 ? '-' : '';
  for (let i = 0; i < SUFFIXES.length; i++) {
    const [scale, suffix] = SUFFIXES[i] as readonly [number, string];
    if (abs < scale) continue;
    const text = scaledText(abs / scale);
    const bigger = SUFFIXES[i - 1];
    // Rounding can carry into the next unit: 999.96K is shown as 1.00M.
    if (bigger !== undefined && Number(text) >= 1000)
      return `${sign}${scaledText(abs / bigger[0])}${bigger[1]}`;
    return `${sign}${text}${suffix}`;
  }
  return formatAmount(value);
}

/** `213_000_000` → `$213.0M`, `-5e6` → `-$5.00M`. */
export function formatUsd(value: number): string {
  if (!Number.isFinite(value)) return '—';
  const text = formatCompact(Math.abs(value));
  return value < 0 ? `-$${text}` : `$${text}`;
}

/** `+$200.0M`, `-$5.00M`, `$0`: a signed change in USD. */
export function formatSignedUsd(value: number): string {
  if (!Number.isFinite(value)) return '—';
  const text = formatUsd(value);
  return value > 0 && text !== '$0' ? `+${text}` : text;
}

/** Whole dollars where they read well: `$1,095`, `$12.35`, `-$548`; from a million on `$1.23M`. */
export function formatUsdAmount(value: number): string {
  if (!Number.isFinite(value)) return '—';
  const abs = Math.abs(value);
  const text = abs >= 1e6 ? formatCompact(abs) : formatAmount(abs, abs >= 100 ? 0 : 2);
  return value < 0 && text !== '0' ? `-$${text}` : `$${text}`;
}

/** Token amounts: grouped below a million (`52,000`, `0.1235`), with a suffix from there (`3.51M`). */
export function formatTokenAmount(value: number): string {
  if (!Number.isFinite(value)) return '—';
  return Math.abs(value) >= 1e6 ? formatCompact(value) : formatAmount(value);
}

/** Always signed token amount: `+2,500`, `-1.23M`. */
export function formatSignedTokenAmount(value: number): string {
  const text = formatTokenAmount(value);
  return value > 0 && text !== '0' ? `+${text}` : text;
}

/** A ratio to the usual pace: `2.4×`, `0.35×`. */
export function formatMultiple(ratio: number): string {
  if (!Number.isFinite(ratio)) return '—';
  return `${ratio >= 10 ? ratio.toFixed(0) : ratio >= 1 ? ratio.toFixed(1) : ratio.toFixed(2)}×`;
}

/** Always signed: `+2,500`, `-0.5`. */
export function formatSignedAmount(value: number): string {
  const text = formatAmount(value);
  return value > 0 ? `+${text}` : text;
}

/** Always signed, explicit precision: `5` → `+5.00%`. */
export function formatSignedPct(valuePct: number, digits = 2): string {
  if (!Number.isFinite(valuePct)) return '—';
  const text = `${Math.abs(valuePct).toFixed(digits)}%`;
  if (Number(Math.abs(valuePct).toFixed(digits)) === 0) return `${(0).toFixed(digits)}%`;
  return valuePct > 0 ? `+${text}` : `-${text}`;
}

/**
 * A funding rate (a fraction per funding interval) in percent, four decimals, unsigned when
 * positive as venues quote it: `0.0001` → `0.0100%`, `-0.00025` → `-0.0250%`; a rate that rounds
 * to zero is `0.0000%`. The alerts' `text` uses it.
 */
export function formatRatePct(rate: number): string {
  if (!Number.isFinite(rate)) return '—';
  const text = (rate * 100).toFixed(4);
  return Number(text) === 0 ? `${(0).toFixed(4)}%` : `${text}%`;
}

/** The same rate always signed: `0.0001` → `+0.0100%` (the bot's funding line). */
export function formatSignedRatePct(rate: number): string {
  return formatSignedPct(rate * 100, 4);
}

/** An APR in percent, two decimals, unsigned when positive: `10.95%`; one that rounds to zero is `0.00%`. */
export function formatAprPct(aprPct: number): string {
  if (!Number.isFinite(aprPct)) return '—';
  const fixed = aprPct.toFixed(2);
  return Number(fixed) === 0 ? '0.00%' : `${fixed}%`;
}

/** `90_061_000` → `1d 1h`, `3_720_000` → `1h 2m`, `42_000` → `42s`. */
export function formatDuration(ms: number): string {
  if (!Number.isFinite(ms) || ms < 0) return '—';
  const s = Math.floor(ms / 1000);
  const d = Math.floor(s / 86400);
  const h = Math.floor((s % 86400) / 3600);
  const m = Math.floor((s % 3600) / 60);
  if (d > 0) return `${d}d ${h}h`;
  if (h > 0) return `${h}h ${m}m`;
  if (m > 0) return `${m}m`;
  return `${s}s`;
}
