import { DEFAULT_INTEL_CONFIG, type IntelConfig } from '../analytics/intel-config.js';
import { ALERT_KINDS, type AlertKind } from '../domain/types.js';
import type { Config } from './config.js';
import type { PipelineOptions } from './pipeline.js';

/** The one rule config the pipeline runs, from the settings (`OI_ALERT_PCT_15M`, `ALERT_KINDS`, …). */
export function ruleOptions(config: Config): NonNullable<PipelineOptions['rules']> {
  return {
    oiChange15mPct: config.oiAlertPct15m,
    cooldownMs: config.alertCooldownMs,
    oiChange24hPct: config.oiAlertPct24h,
    momentumAccel: config.momentumAlertAccel,
    liqAlertPctOi: config.liqAlertPctOi,
    liqAlertMinUsd: config.liqAlertMinUsd,
    fundingPressureMin: 'high',
    enabled: Object.fromEntries(ALERT_KINDS.map((k) => [k, config.alertKinds.includes(k)])),
  };
}

/** Market-intelligence thresholds from the settings (`FUNDING_PRESSURE_APR_PCT`, `INPUT_STALE_AFTER_MS`). */
export function intelOptions(config: Config): IntelConfig {
  return {
    ...DEFAULT_INTEL_CONFIG,
    pressureAprPct: config.fundingPressureAprPct,
    staleAfterMs: config.inputStaleAfterMs,
  };
}

/** `--report`: alerts per rule, with the thresholds that produced them, for tuning before subscribing. */
export function alertReport(byKind: Partial<Record<AlertKind, number>>, config: Config): string {
  const threshold: Record<AlertKind, string> = {
    oi_change_15m: `|OI change 15m| >= ${config.oiAlertPct15m}% (OI_ALERT_PCT_15M)`,
    oi_change_24h: `|OI change 24h| >= ${config.oiAlertPct24h}% (OI_ALERT_PCT_24H)`,
    funding_pressure: `|APR| level high >= ${config.fundingPressureAprPct.high}% (FUNDING_PRESSURE_APR_PCT)`,
    funding_interval_change: 'a venue changes the funding interval',
    funding_at_bound: "funding rate at the venue's cap or floor",
    control_flip: 'aggregate 15m control changes side, held 1 min',
    momentum_spike: `OI acceleration >= ${config.momentumAlertAccel}x (MOMENTUM_ALERT_ACCEL)`,
    liquidation_cascade:
      `one side liquidated in 15m >= ${config.liqAlertPctOi}% of OI (LIQ_ALERT_PCT_OI) ` +
      `and >= $${config.liqAlertMinUsd} (LIQ_ALERT_MIN_USD)`,
  };
  const rows = ALERT_KINDS.map((kind) => {
    const on = config.alertKinds.includes(kind);
    const count = on ? String(byKind[kind] ?? 0) : 'off';
    return `${kind.padEnd(24)} ${count.padStart(7)}  ${threshold[kind]}`;
  });
  const total = ALERT_KINDS.reduce((n, k) => n + (byKind[k] ?? 0), 0);
  return [
    `Alerts this recording would have produced (cooldown ${config.alertCooldownMs / 60_000} min, ALERT_COOLDOWN_MIN):`,
    `${'rule'.padEnd(24)} ${'alerts'.padStart(7)}  fires when`,
    ...rows,
    `${'total'.padEnd(24)} ${String(total).padStart(7)}`,
    '',
  ].join('\n');
}
