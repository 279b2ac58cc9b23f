/**
 * The funding rules: pressure (server level and chat |APR| levels, per payer), interval changes
 * and the venue's cap or floor. Same contract as the rules in alert-rules.ts.
 */
import type { AlertSeverity, FundingPressure, SnapshotJson } from '../domain/types.js';
import { formatAmount } from '../domain/units.js';
import { crossingStep, type Direction, levelStep, NOTHING, type Rule, unchangedOr } from './alert-rules.js';
import { FRESH, type RuleState } from './alert-state.js';
import { fundingText, venueLabel } from './alert-text.js';
import { fundingPayer } from './funding.js';

const PRESSURE_RANK: Readonly<Record<FundingPressure, number>> = {
  neutral: 0,
  elevated: 1,
  high: 2,
  extreme: 3,
};
const PRESSURE_SEVERITY: readonly AlertSeverity[] = ['info', 'info', 'warning', 'critical'];

/** Who pays as a side: longs pay = up, shorts pay = down, nobody = null. */
function payerSide(s: SnapshotJson): Direction | null {
  const payer = s.funding.payer ?? fundingPayer(s.funding.rate);
  return payer === 'longs' ? 'up' : payer === 'shorts' ? 'down' : null;
}

function payerText(side: Direction | null): string {
  return side === 'up' ? ' Longs pay shorts.' : side === 'down' ? ' Shorts pay longs.' : '';
}

/**
 * Server `funding_pressure` on one payer's side: the side sees the pressure level while its payer
 * pays and `neutral` otherwise, so a payer flip re-arms the old side and is a new event on the new.
 */
export const fundingPressureRule: Rule = (prev, s, cfg, p) => {
  const level = s.funding.pressure;
  if (level == null) return NOTHING;
  const paying = payerSide(s) === p.side;
  const seen: FundingPressure = paying ? level : 'neutral';
  const rank = PRESSURE_RANK[seen];
  const minRank = PRESSURE_RANK[cfg.fundingPressureMin];
  const before = prev ?? FRESH;
  const last = before.lastFiredMagnitude;
  const step = levelStep(
    before,
    s.ts,
    cfg.cooldownMs,
    rank,
    rank >= minRank,
    rank <= Math.max(0, minRank - 2),
    last !== null && rank > last,
    seen,
  );
  if (step.fire === null) return unchangedOr(step);
  const previous = typeof before.lastSeen === 'string' ? before.lastSeen : null;
  const text =
    `${s.symbol} on ${venueLabel(s.venue)}: funding pressure ${level}` +
    (previous !== null && previous !== level ? ` (was ${previous}).` : '.') +
    fundingText(s) +
    payerText(p.side) +
    (s.funding.hint ? ` ${s.funding.hint}` : '');
  return {
    next: step.next,
    fired: {
      severity: PRESSURE_SEVERITY[rank]!,
      text,
      figures: {
        aprPct: s.funding.aprPct,
        rate: s.funding.rate,
        pressure: level,
        previousPressure: previous,
      },
      escalated: step.fire === 'escalated',
    },
  };
};

/**
 * `funding_pressure` at a chat level L (|APR| percent) on one payer's side: fires at |APR| ≥ L while
 * that side pays, re-arms below L/2 (or when the other side pays), escalates at 2× the last alert's.
 */
export const fundingLevelRule: Rule = (prev, s, cfg, p) => {
  const aprPct = s.funding.aprPct;
  const level = p.level;
  if (aprPct === null || !Number.isFinite(aprPct) || level === null) return NOTHING;
  const figure = payerSide(s) === p.side ? Math.abs(aprPct) : 0;
  const before = prev ?? FRESH;
  const last = before.lastFiredMagnitude;
  const step = crossingStep(before, s.ts, cfg, figure, level, level / 2);
  if (step.fire === null) return unchangedOr(step);
  const pressure = s.funding.pressure ?? null;
  const escalated = step.fire === 'escalated';
  const text =
    `${s.symbol} on ${venueLabel(s.venue)}: funding ${formatAmount(figure, 2)}% APR` +
    (pressure !== null ? ` (pressure ${pressure}).` : '.') +
    fundingText(s) +
    payerText(p.side) +
    (s.funding.hint ? ` ${s.funding.hint}` : '') +
    (escalated && last !== null ? ` Escalated: ${(figure / last).toFixed(1)}× the last alert.` : '');
  return {
    next: step.next,
    fired: {
      severity: pressure !== null ? PRESSURE_SEVERITY[PRESSURE_RANK[pressure]]! : 'info',
      text,
      figures: {
        aprPct,
        rate: s.funding.rate,
        pressure,
        thresholdAprPct: level,
        lastAlertAbsAprPct: escalated ? last : null,
      },
      thresholdPct: level,
      escalated,
    },
  };
};

export const fundingIntervalChange: Rule = (prev, s) => {
  const hours = s.funding.intervalHours;
  if (hours === null || !Number.isFinite(hours)) return NOTHING;
  if (prev === undefined || typeof prev.lastSeen !== 'number')
    return { next: { ...(prev ?? FRESH), ts: s.ts, lastSeen: hours } };
  const before = prev.lastSeen;
  if (before === hours) return NOTHING;
  // Each change alters what the quoted rate means, so none is held back by the cooldown.
  const next: RuleState = { ...prev, lastSeen: hours, lastFiredTs: s.ts };
  const shortened = hours < before;
  const text =
    `${s.symbol} on ${venueLabel(s.venue)}: funding interval ${shortened ? 'shortened' : 'lengthened'} ` +
    `from ${formatAmount(before)}h to ${formatAmount(hours)}h.` +
    fundingText(s);
  return {
    next,
    fired: {
      severity: shortened ? 'warning' : 'info',
      text,
      figures: {
        intervalHoursBefore: before,
        intervalHoursAfter: hours,
        rate: s.funding.rate,
        aprPct: s.funding.aprPct,
      },
    },
  };
};

export const fundingAtBound: Rule = (prev, s, cfg) => {
  const bound = s.funding.atBound;
  if (bound === undefined) return NOTHING;
  const before = prev ?? FRESH;
  const step = levelStep(
    before,
    s.ts,
    cfg.cooldownMs,
    0,
    bound !== null,
    // Leaving the bound re-arms; so does moving straight from one bound to the other.
    bound === null || (before.lastSeen !== null && before.lastSeen !== bound),
    false,
    bound,
  );
  if (step.fire === null || bound === null) return unchangedOr(step);
  const text = `${s.symbol} on ${venueLabel(s.venue)}: funding at the venue's ${bound}.${fundingText(s)}`;
  return {
    next: step.next,
    fired: {
      severity: 'warning',
      text,
      figures: {
        bound,
        rate: s.funding.rate,
        aprPct: s.funding.aprPct,
        intervalHours: s.funding.intervalHours,
      },
    },
  };
};
