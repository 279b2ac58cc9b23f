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

/** `45600` → `45.6K`; below 1,000 the plain amount. */
export function formatCompact(value: number): string {
  if (!Number.isFinite(value)) return '—';
  const abs = Math.abs(value);
  for (const [scale, suffix] of SUFFIXES) {
    if (abs >= scale) {
      const scaled = abs / scale;
      const text = `${scaled >= 100 ? scaled.toFixed(1) : scaled >= 10 ? scaled.toFixed(1) : scaled.toFixed(2)}${suffix}`;
      return value < 0 ? `-${text}` : text;
    }
  }
  return formatAmount(value);
}

/** `213_000_000` → `$213.0M`, `-5e6` → `-$5.00M`. */
export function formatUsd(value: number): string {
  if (!Number.isFinite(value)) return '—';
  const text = formatCompact(Math.abs(value));
  return value < 0 ? `-$${text}` : `$${text}`;
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
