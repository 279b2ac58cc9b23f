/**
 * The seven alert rules, each a pure step `(previous state, snapshot) → (next state, alert?)` for
 * one rule key: a venue, symbol, kind, direction and (for chat levels) threshold. See
 * alert-engine.ts for the rules' contract and how they are planned and keyed.
 */
import type { AlertLevels } from '../domain/alert-levels.js';
import type {
  AlertKind,
  AlertSeverity,
  ControlState,
  DeltaJson,
  FundingPressure,
  SnapshotJson,
} from '../domain/types.js';
import { formatAmount, formatSignedPct } from '../domain/units.js';
import { FRESH, levelStep, type RuleState, type Step } from './alert-state.js';
import { fundingText, nowText, oiChangeText, positionUsdOf, venueLabel, words } from './alert-text.js';
import { fundingPayer } from './funding.js';
import { OI_WINDOW_15M_MS, OI_WINDOW_24H_MS } from './instrument.js';

/** The settings the rules read (the full documented type is `AlertRulesConfig` in alert-engine.ts). */
export interface RuleSettings {
  readonly oiChange15mPct: number;
  readonly oiChange24hPct: number;
  readonly rearmFraction: number;
  readonly cooldownMs: number;
  readonly escalationFactor: number;
  readonly fundingPressureMin: FundingPressure;
  readonly momentumAccel: number;
  readonly momentumMinPriceChangePct: number;
  readonly momentumMinOiChangePct: number;
  readonly controlFlipVenues: 'all' | 'every';
  readonly controlConfirmMs: number;
  readonly chatLevels?: AlertLevels;
}

export type Direction = 'up' | 'down';

/** One rule as the engine runs it: a kind, its direction (null: none) and chat level (null: the server's). */
export interface PlannedRule {
  readonly kind: AlertKind;
  readonly side: Direction | null;
  /** +1 up, −1 down, 0 without a direction: the signed figure times this is the side's figure. */
  readonly sign: 1 | -1 | 0;
  readonly level: number | null;
  /** Appended to `${venue}:${symbol}:` for the rule key: `kind`, `kind:up`, `kind@1.5:down`. */
  readonly suffix: string;
  readonly rule: Rule;
}

export interface Fired {
  readonly severity: AlertSeverity;
  readonly text: string;
  readonly figures: Readonly<Record<string, number | string | boolean | null>>;
  /** Default 0: the rule has no numeric threshold (a level, a change, a bound). */
  readonly thresholdPct?: number;
  /** Default 0: the rule looks at one instant, not a window. */
  readonly windowMs?: number;
  /** Default: the snapshot's `delta15m`. */
  readonly delta?: DeltaJson | null;
  readonly escalated?: boolean;
}

/** What a rule decided: its next state (undefined: unchanged) and the alert, if any. */
export interface Outcome {
  readonly next?: RuleState;
  readonly fired?: Fired;
}

export type Rule = (
  prev: RuleState | undefined,
  s: SnapshotJson,
  cfg: RuleSettings,
  p: PlannedRule,
) => Outcome;

/** Shared "nothing changed, nothing fired": the hot path allocates no result. */
const NOTHING: Outcome = {};

function unchangedOr(step: Step): Outcome {
  return step.next === undefined ? NOTHING : { next: step.next };
}

const PRESSURE_RANK: Readonly<Record<FundingPressure, number>> = {
  neutral: 0,
  elevated: 1,
  high: 2,
  extreme: 3,
};
const PRESSURE_SEVERITY: readonly AlertSeverity[] = ['info', 'info', 'warning', 'critical'];
const UP_SIDE: ReadonlySet<ControlState> = new Set(['longs_opening', 'short_covering']);

/**
 * A window the feed did not fully cover never alerts, and neither does one whose start came from
 * a venue's REST history (warm start): that history is coarse and its mark prices are filled in,
 * good enough to show a change but not to claim one happened. Rules built on the 15m window
 * (control, momentum) follow the same rule, and such a window changes no rule state either.
 */
export function usable(d: DeltaJson | null): d is DeltaJson {
  return d !== null && d.gap !== true && d.backfilled !== true && Number.isFinite(d.pct);
}

/**
 * `oi_change_15m` / `oi_change_24h` on one side: the side's figure is the signed OI change times
 * its sign, so a drain (negative) re-arms the up side and fires the down side.
 */
export function oiRule(which: '15m' | '24h'): Rule {
  return (prev, s, cfg, p) => {
    const delta = which === '15m' ? s.oi.delta15m : s.oi.delta24h;
    if (!usable(delta)) return NOTHING;
    const thresholdPct = p.level ?? (which === '15m' ? cfg.oiChange15mPct : cfg.oiChange24hPct);
    const figure = p.sign * delta.pct;
    const before = prev ?? FRESH;
    const last = before.lastFiredMagnitude;
    const step = levelStep(
      before,
      s.ts,
      cfg.cooldownMs,
      figure,
      figure >= thresholdPct,
      figure < cfg.rearmFraction * thresholdPct,
      last !== null && figure >= cfg.escalationFactor * last,
    );
    if (step.fire === null) return unchangedOr(step);
    const escalated = step.fire === 'escalated';
    const text =
      `${s.symbol} on ${venueLabel(s.venue)}: open interest ${formatSignedPct(delta.pct)} in ${which}: ` +
      oiChangeText(s, delta) +
      nowText(s) +
      fundingText(s) +
      (escalated && last !== null ? ` Escalated: ${(figure / last).toFixed(1)}× the last alert.` : '');
    return {
      next: step.next,
      fired: {
        severity: figure >= 2 * thresholdPct ? 'critical' : 'warning',
        text,
        figures: {
          deltaPct: delta.pct,
          deltaBase: delta.base,
          deltaUsd: delta.usd,
          positionUsd: positionUsdOf(delta, s.price.mark),
          priceEffectUsd: delta.priceEffectUsd ?? null,
          thresholdPct,
          lastAlertAbsPct: escalated ? last : null,
        },
        thresholdPct,
        windowMs: which === '15m' ? OI_WINDOW_15M_MS : OI_WINDOW_24H_MS,
        delta,
        escalated,
      },
    };
  };
}

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
  const step = levelStep(
    before,
    s.ts,
    cfg.cooldownMs,
    figure,
    figure >= level,
    figure < level / 2,
    last !== null && figure >= cfg.escalationFactor * last,
  );
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

/**
 * `control_flip` on one side: both sides follow the same confirmed control state; a confirmed flip
 * to this side fires unless this side alerted within the cooldown. So a flip back against the last
 * alert is a new event, while flapping within a cooldown fires at most once per side.
 */
export const controlFlip: Rule = (prev, s, cfg, p) => {
  if (cfg.controlFlipVenues === 'all' && s.venue !== 'all') return NOTHING;
  const control = s.control?.['15m'] ?? null;
  // Control is read from the 15m OI window: an uncovered or gapped window says nothing.
  if (control === null || !usable(s.oi.delta15m)) return NOTHING;
  const before = prev ?? FRESH;
  const confirmed = typeof before.lastSeen === 'string' ? (before.lastSeen as ControlState) : null;
  if (control === 'neutral' || control === confirmed) {
    return before.pending === null ? NOTHING : { next: { ...before, ts: s.ts, pending: null } };
  }
  const pending = before.pending?.value === control ? before.pending : { value: control, sinceTs: s.ts };
  if (s.ts - pending.sinceTs < cfg.controlConfirmMs) {
    return pending === before.pending ? NOTHING : { next: { ...before, ts: s.ts, pending } };
  }
  const toUp = UP_SIDE.has(control);
  const flips = confirmed !== null && UP_SIDE.has(confirmed) !== toUp && toUp === (p.side === 'up');
  const cooling = before.lastFiredTs !== null && s.ts - before.lastFiredTs < cfg.cooldownMs;
  // A flip to the other side, or during this side's cooldown, is not announced here, but the
  // confirmed state follows the market.
  if (!flips || cooling) return { next: { ...before, ts: s.ts, lastSeen: control, pending: null } };
  const next: RuleState = { ...before, ts: s.ts, lastSeen: control, pending: null, lastFiredTs: s.ts };
  const d = s.oi.delta15m;
  const pricePct = s.momentum?.priceChange15mPct ?? null;
  const text =
    `${s.symbol} on ${venueLabel(s.venue)}: control flipped from ${words(confirmed)} ` +
    `to ${words(control)} in 15m.` +
    ` Open interest ${formatSignedPct(d.pct)}` +
    (pricePct !== null ? `, price ${formatSignedPct(pricePct)}.` : '.') +
    nowText(s);
  const fullReversal = confirmed.endsWith('_opening') && control.endsWith('_opening');
  return {
    next,
    fired: {
      severity: fullReversal ? 'warning' : 'info',
      text,
      figures: { control, previousControl: confirmed, deltaPct: d.pct, priceChange15mPct: pricePct },
      windowMs: OI_WINDOW_15M_MS,
    },
  };
};

/**
 * `momentum_spike` on one side (the sign of the 15m OI change): the side's figure is oiAccel while
 * OI moves its way and 0 otherwise. Fires at oiAccel ≥ the threshold (server or chat level) with
 * |price 15m| ≥ `momentumMinPriceChangePct` and |OI 15m| ≥ `momentumMinOiChangePct`.
 */
export const momentumSpike: Rule = (prev, s, cfg, p) => {
  const accel = s.momentum?.oiAccel ?? null;
  const pricePct = s.momentum?.priceChange15mPct ?? null;
  const d = s.oi.delta15m;
  // oiAccel compares the 15m change with the mean 15m step over 24 h: both windows must be whole,
  // gap-free and live (a downtime bridged by one flat value would inflate it).
  if (accel === null || !Number.isFinite(accel) || !usable(d) || !usable(s.oi.delta24h)) return NOTHING;
  const thresholdAccel = p.level ?? cfg.momentumAccel;
  const figure = Math.sign(d.pct) === p.sign ? accel : 0;
  const moves =
    pricePct !== null &&
    Math.abs(pricePct) >= cfg.momentumMinPriceChangePct &&
    Math.abs(d.pct) >= cfg.momentumMinOiChangePct;
  const before = prev ?? FRESH;
  const last = before.lastFiredMagnitude;
  const step = levelStep(
    before,
    s.ts,
    cfg.cooldownMs,
    figure,
    figure >= thresholdAccel && moves,
    figure < cfg.rearmFraction * thresholdAccel,
    last !== null && figure >= cfg.escalationFactor * last,
  );
  if (step.fire === null) return unchangedOr(step);
  const text =
    `${s.symbol} on ${venueLabel(s.venue)}: open interest moving ${figure.toFixed(1)}× its usual 15m pace ` +
    `(${formatSignedPct(d.pct)}), price ${formatSignedPct(pricePct!)} in 15m.` +
    nowText(s);
  return {
    next: step.next,
    fired: {
      severity: figure >= 2 * thresholdAccel ? 'critical' : 'warning',
      text,
      figures: {
        oiAccel: accel,
        priceChange15mPct: pricePct,
        deltaPct: d.pct,
        momentumState: s.momentum?.state ?? null,
      },
      thresholdPct: thresholdAccel,
      windowMs: OI_WINDOW_15M_MS,
      delta: d,
      escalated: step.fire === 'escalated',
    },
  };
};
