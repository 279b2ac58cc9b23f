import { performance } from 'node:perf_hooks';
import type { Logger } from 'pino';
import type { AlertJson } from '../domain/types.js';

/**
 * `ALERT_MAX_AGE_MIN` default: 15 minutes. An alert is news for minutes; one older than this came
 * from a replay, a bot that was down, or a backlog, and would page subscribers about the past.
 */
export const DEFAULT_ALERT_MAX_AGE_MS = 15 * 60_000;

/**
 * Whether the alert's event time `ts` is more than `maxAgeMs` before `nowMs` (wall clock). An
 * alert without a usable `ts` cannot be aged and is not too old; one stamped in the future is fresh.
 */
export function alertTooOld(alert: AlertJson, nowMs: number, maxAgeMs: number): boolean {
  return typeof alert.ts === 'number' && Number.isFinite(alert.ts) && nowMs - alert.ts > maxAgeMs;
}

/** Counts alerts dropped for age and logs them without flooding (a replay can bring thousands). */
export interface ExpiredAlerts {
  /** Alerts dropped for age so far. */
  readonly count: number;
  /** Counts one dropped alert; logs it when no line was written in the last `logEveryMs`. */
  report(alert: AlertJson, nowMs: number): void;
  /** Logs the alerts counted since the last line, if any (at close). */
  flush(): void;
}

export function expiredAlerts(log: Logger, maxAgeMs: number, logEveryMs = 60_000): ExpiredAlerts {
  let count = 0;
  let sinceLine = 0;
  let lastLineAtMs = Number.NEGATIVE_INFINITY;
  let last: { alertId: string; symbol: string; kind: string; ageMin: number; replay: boolean } | null = null;
  const line = () => {
    log.warn(
      { ...last, expired: sinceLine, expiredTotal: count, maxAgeMin: maxAgeMs / 60_000 },
      'alert older than ALERT_MAX_AGE_MIN: acknowledged and sent to no chat',
    );
    sinceLine = 0;
    lastLineAtMs = performance.now();
  };
  return {
    get count() {
      return count;
    },
    report(alert, nowMs) {
      count++;
      sinceLine++;
      last = {
        alertId: alert.id,
        symbol: alert.symbol,
        kind: alert.kind,
        ageMin: Math.round((nowMs - alert.ts) / 6_000) / 10,
        replay: alert.replay === true,
      };
      if (performance.now() - lastLineAtMs >= logEveryMs) line();
    },
    flush() {
      if (sinceLine > 0) line();
    },
  };
}

/** Delivery's age limit: applied to an alert on arrival and again while it waits in a chat's queue. */
export interface AlertAgeLimit {
  /** Alerts dropped for age so far. */
  readonly count: number;
  /**
   * The alerts too old by `clock()` now, each counted and logged. With `onlyAll` none unless
   * every one is (a merged message is not sent stale, but is not cut apart either).
   */
  expire(alerts: readonly AlertJson[], onlyAll?: boolean): readonly AlertJson[];
  /** Logs the alerts counted since the last line, if any (at close). */
  flush(): void;
}

export function alertAgeLimit(log: Logger, maxAgeMs: number, clock: () => number): AlertAgeLimit {
  const expired = expiredAlerts(log, maxAgeMs);
  return {
    get count() {
      return expired.count;
    },
    expire(alerts, onlyAll = false) {
      const nowMs = clock();
      const old = alerts.filter((a) => alertTooOld(a, nowMs, maxAgeMs));
      if (old.length === 0 || (onlyAll && old.length < alerts.length)) return [];
      for (const a of old) expired.report(a, nowMs);
      return old;
    },
    flush: () => expired.flush(),
  };
}
