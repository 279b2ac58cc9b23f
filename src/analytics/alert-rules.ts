/**
 * What every alert rule shares (its signature, planned form and result, the hysteresis + cooldown +
 * escalation step of the level rules), and the OI, control and momentum rules (funding rules:
 * alert-funding-rules.ts). Each rule is a pure step
 * `(previous state, snapshot) → (next state, alert?)` for one rule key: a venue, symbol, kind,
 * direction and (for chat levels) threshold. See alert-engine.ts for the rules' contract.
 */

import type { AlertKind, AlertSeverity, ControlState, DeltaJson, SnapshotJson } from '../domain/types.js';
import { formatSignedPct } from '../domain/units.js';
import type { AlertRulesConfig } from './alert-engine.js';
import { forcedShareSentence } from './alert-liq-text.js';
import { FRESH, type RuleState } from './alert-state.js';
import { fundingText, nowText, oiChangeText, positionUsdOf, venueLabel, words } from './alert-text.js';
import { OI_WINDOW_15M_MS, OI_WINDOW_24H_MS } from './instrument.js';

/** The settings the rules read: `AlertRulesConfig` (documented in alert-engine.ts) but its switches. */
export type RuleSettings = Omit<AlertRulesConfig, 'enabled'>;

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

export type Fire = 'normal' | 'escalated' | null;

/** What `levelStep` decided: the next state (undefined: unchanged) and whether to fire. */
export interface Step {
  readonly next: RuleState | undefined;
  readonly fire: Fire;
}

const UNCHANGED: Step = { next: undefined, fire: null };

/**
 * The shared hysteresis + cooldown + escalation step of one rule state. `atThreshold`: the figure
 * fires an armed rule; `rearms`: it is back below the lower level; `escalates`: it beats the last
 * alert's enough (only asked while at the threshold). `figure` is stored as the last alert's.
 * Hot path (every rule of every instrument, each direction and chat level, each step): plain
 * arguments and a shared result, so nothing is allocated when nothing changes.
 */
export function levelStep(
  prev: RuleState,
  ts: number,
  cooldownMs: number,
  figure: number,
  atThreshold: boolean,
  rearms: boolean,
  escalates: boolean,
  seen?: string | number | null,
): Step {
  const armed = prev.armed || rearms;
  let fire: Fire = null;
  if (atThreshold) {
    const cooling = prev.lastFiredTs !== null && ts - prev.lastFiredTs < cooldownMs;
    if (armed && !cooling) fire = 'normal';
    else if (prev.lastFiredMagnitude !== null && escalates) fire = 'escalated';
  }
  const lastSeen = seen === undefined ? prev.lastSeen : seen;
  if (fire === null && armed === prev.armed && lastSeen === prev.lastSeen) return UNCHANGED;
  const next: RuleState =
    fire === null
      ? { ...prev, armed, lastSeen }
      : { ...prev, armed: false, lastFiredTs: ts, lastFiredMagnitude: figure, lastSeen };
  return { next, fire };
}

/**
 * `levelStep` for a rule whose figure crosses a threshold (OI change, OI pace, funding APR): it
 * fires at `threshold` (when `alsoNeeded` holds too), re-arms below `rearmBelow`, and escalates
 * at `escalationFactor` times the last alert's figure.
 */
export function crossingStep(
  prev: RuleState,
  ts: number,
  cfg: { readonly cooldownMs: number; readonly escalationFactor: number },
  figure: number,
  threshold: number,
  rearmBelow: number,
  alsoNeeded = true,
): Step {
  const last = prev.lastFiredMagnitude;
  return levelStep(
    prev,
    ts,
    cfg.cooldownMs,
    figure,
    figure >= threshold && alsoNeeded,
    figure < rearmBelow,
    last !== null && figure >= cfg.escalationFactor * last,
  );
}

/** Shared "nothing changed, nothing fired": the hot path allocates no result. */
export const NOTHING: Outcome = {};

export function unchangedOr(step: Step): Outcome {
  return step.next === undefined ? NOTHING : { next: step.next };
}

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
    const step = crossingStep(before, s.ts, cfg, figure, thresholdPct, cfg.rearmFraction * thresholdPct);
    if (step.fire === null) return unchangedOr(step);
    const escalated = step.fire === 'escalated';
    const text =
      `${s.symbol} on ${venueLabel(s.venue)}: open interest ${formatSignedPct(delta.pct)} in ${which}: ` +
      oiChangeText(s, delta) +
      forcedShareSentence(s, which) +
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
    (control === 'short_covering' || control === 'long_unwinding' ? forcedShareSentence(s, '15m') : '') +
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
  const step = crossingStep(
    before,
    s.ts,
    cfg,
    figure,
    thresholdAccel,
    cfg.rearmFraction * thresholdAccel,
    moves,
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
