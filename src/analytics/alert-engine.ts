import {
  type AlertLevels,
  LEVEL_GRIDS,
  LEVEL_KINDS,
  type LevelKind,
  MAX_LEVELS_PER_KIND,
} from '../domain/alert-levels.js';
import type { AlertJson, AlertKind, FundingPressure, SnapshotJson } from '../domain/types.js';
import {
  fundingAtBound,
  fundingIntervalChange,
  fundingLevelRule,
  fundingPressureRule,
} from './alert-funding-rules.js';
import { liquidationCascade } from './alert-liq-rules.js';
import {
  controlFlip,
  type Direction,
  momentumSpike,
  oiRule,
  type PlannedRule,
  type Rule,
} from './alert-rules.js';
import {
  type AlertEngineState,
  FRESH,
  putFromSlot,
  type RuleSlots,
  type RuleState,
  ruleStateJson,
  sameState,
  syncSlots,
} from './alert-state.js';

export {
  type AlertEngineState,
  createAlertEngineState,
  type RuleState,
  restoreRuleStates,
} from './alert-state.js';

/**
 * The alert rules. Every rule has a state per `${venue}:${symbol}:${kind}` and, for kinds with a
 * side, per direction (`…:up` / `…:down`), and per chat level (`${kind}@${level}`):
 * - direction: OI rules and `momentum_spike` take the sign of the OI change, `funding_pressure`
 *   the payer (longs pay = up), `control_flip` the new side (up: longs opening, short covering).
 *   Each direction has its own hysteresis, cooldown and escalation, so a move against the last
 *   alert's direction is a new event (a drain right after a surge alerts), and an escalation is
 *   only ever a larger move the same way. The up side re-arms once its figure is below the lower
 *   level, which a move the other way always is;
 * - hysteresis: after firing a rule is disarmed and re-arms only once its figure falls back below
 *   a lower level;
 * - cooldown: an armed rule waits `cooldownMs` of event time after its last alert (it fires at the
 *   first evaluation after the cooldown if the figure is still at the threshold);
 * - escalation: a move `escalationFactor` times the last alert's (server funding: a higher level)
 *   fires during the cooldown and while disarmed, marked `escalated`.
 * Time is the snapshot's `ts` only. A snapshot at or before the event time of a rule's last state
 * change is ignored by that rule, so replaying data already seen (after a restart that restored
 * the state) changes nothing and fires nothing.
 *
 * Rules and severities (`thresholdPct` is 0 and `windowMs` 0 where a rule has neither):
 * - `oi_change_15m`, `oi_change_24h`: |delta.pct| ≥ threshold; `warning`, `critical` from 2× it.
 * - `funding_pressure`: level ≥ `fundingPressureMin`; `elevated` info, `high` warning, `extreme` critical.
 * - `funding_interval_change`: the interval differs from the last one seen (never on first sight,
 *   never held by the cooldown); `warning` when shortened (a venue does that once the cap is hit), else info.
 * - `funding_at_bound`: `funding.atBound` becomes `cap` or `floor`; `warning`; re-arms off the bound.
 * - `control_flip`: the confirmed 15m control state changes side (up: longs opening, short covering;
 *   down: shorts opening, long unwinding); `warning` for opening ↔ opening, else info.
 * - `momentum_spike`: oiAccel ≥ `momentumAccel` with a price move and an OI move of their own
 *   minimum size; `warning`, `critical` from 2× it.
 * - `liquidation_cascade`: the USD of one side's positions liquidated in 15m reaches
 *   `liqAlertPctOi` percent of the OI value and `liqAlertMinUsd`; direction `down` for longs
 *   (forced sells), `up` for shorts; `warning`, `critical` from 2× the percent. Both sides can fire
 *   at one event time, so its ids end in `:${direction}` (see `evaluateRules`).
 * A first sight at or above a level (OI, pressure, bound, momentum) fires like a crossing would.
 *
 * Chat levels (`chatLevels`, the thresholds chats asked for, see `pulse:alert-levels`): each
 * `LevelKind` runs once more per level L, with the same direction, hysteresis and cooldown rules
 * and its own state; its alerts carry `forThreshold: L`, `thresholdPct: L` and the id
 * `${kind}@${L}:${venue}:${symbol}:${ts}`. OI kinds: |pct| ≥ L, re-arm below `rearmFraction × L`;
 * `funding_pressure`: |APR| ≥ L while the side pays, re-arm below L/2, escalation at 2× the last
 * alert's |APR|; `momentum_spike`: oiAccel ≥ L with the same price and OI size minimums. Levels
 * below the kind's `LEVEL_GRIDS` floor are ignored.
 */
export interface AlertRulesConfig {
  /** `oi_change_15m` fires when |delta15m.pct| reaches this (inclusive). Default 3. */
  readonly oiChange15mPct: number;
  /** `oi_change_24h` fires when |delta24h.pct| reaches this (inclusive). Default 10. */
  readonly oiChange24hPct: number;
  /** OI and momentum rules re-arm once their figure is below `rearmFraction × threshold`. Default 0.5. */
  readonly rearmFraction: number;
  /** Event time between two alerts of one venue, symbol, rule and direction. Default 30 min. */
  readonly cooldownMs: number;
  /** A move at least this many times the last alert's (same direction) breaks the cooldown and the hysteresis. Default 2. */
  readonly escalationFactor: number;
  /**
   * `funding_pressure` fires when the level rises to this or higher; a further rise (high → extreme)
   * is an escalation. It re-arms once the level is two below this (at least down to `neutral`):
   * with `high`, only `neutral` re-arms, so high ↔ elevated flapping fires once. Default `high`.
   */
  readonly fundingPressureMin: FundingPressure;
  /** `momentum_spike` fires when `momentum.oiAccel` reaches this (inclusive)... Default 3. */
  readonly momentumAccel: number;
  /** ...and |momentum.priceChange15mPct| reaches this (inclusive)... Default 0.5. */
  readonly momentumMinPriceChangePct: number;
  /**
   * ...and |delta15m.pct| reaches this (inclusive): a pace far above a flat day's is no spike
   * while the move itself is a few tenths of a percent. Default 1.
   */
  readonly momentumMinOiChangePct: number;
  /**
   * `liquidation_cascade` fires when one side's liquidations in 15m reach this percent of the
   * instrument's OI value (`oi.usd`, inclusive)... Default 0.5.
   */
  readonly liqAlertPctOi: number;
  /**
   * ...and this many USD (inclusive): a thin market's few thousand dollars are no cascade. It
   * re-arms once the side is below `rearmFraction` of either; an escalation is
   * `escalationFactor` times the last alert's USD. Default 1,000,000.
   */
  readonly liqAlertMinUsd: number;
  /** `all`: `control_flip` on the aggregate (venue `all`) only; `every`: on every snapshot. Default `all`. */
  readonly controlFlipVenues: 'all' | 'every';
  /**
   * A new 15m control state counts once seen at every evaluation for this long (event time);
   * a `neutral` in between starts over. 0: at first sight. Default 1 min.
   */
  readonly controlConfirmMs: number;
  /**
   * Rules switched off here are not evaluated and keep no state (chat levels included); absent
   * means on. Read once per object, like `chatLevels`: pass a new object to change the switches.
   */
  readonly enabled: Readonly<Partial<Record<AlertKind, boolean>>>;
  /**
   * Thresholds chats asked for, evaluated besides the server's (see above). Values off a kind's
   * grid floor are ignored, at most `MAX_LEVELS_PER_KIND` per kind. Default none. The rule plan is
   * cached per object: pass the same object while the levels are unchanged (a new one rebuilds it).
   */
  readonly chatLevels?: AlertLevels;
}

export const DEFAULT_ALERT_RULES: AlertRulesConfig = {
  oiChange15mPct: 3,
  oiChange24hPct: 10,
  rearmFraction: 0.5,
  cooldownMs: 30 * 60_000,
  escalationFactor: 2,
  fundingPressureMin: 'high',
  momentumAccel: 3,
  momentumMinPriceChangePct: 0.5,
  momentumMinOiChangePct: 1,
  liqAlertPctOi: 0.5,
  liqAlertMinUsd: 1_000_000,
  controlFlipVenues: 'all',
  controlConfirmMs: 60_000,
  enabled: {},
};

/** The server's rules, in evaluation order; a kind with a side runs once per direction. */
const SERVER_RULES: ReadonlyArray<readonly [AlertKind, Rule, boolean]> = [
  ['oi_change_15m', oiRule('15m'), true],
  ['oi_change_24h', oiRule('24h'), true],
  ['funding_pressure', fundingPressureRule, true],
  ['funding_interval_change', fundingIntervalChange, false],
  ['funding_at_bound', fundingAtBound, false],
  ['control_flip', controlFlip, true],
  ['momentum_spike', momentumSpike, true],
  ['liquidation_cascade', liquidationCascade, true],
];

/**
 * Kinds whose two sides can fire at the same event time (longs and shorts liquidated in the same
 * 15 minutes): their alert ids end in `:${direction}` so the two alerts stay distinct (ids are the
 * Redis writer's idempotency key). Every other directional kind's figure is signed, one side at a time.
 */
const SIDE_IN_ID: ReadonlySet<AlertKind> = new Set<AlertKind>(['liquidation_cascade']);

const LEVEL_RULES: Readonly<Record<LevelKind, Rule>> = {
  oi_change_15m: SERVER_RULES[0]![1],
  oi_change_24h: SERVER_RULES[1]![1],
  funding_pressure: fundingLevelRule,
  momentum_spike: momentumSpike,
};

const SIDES: readonly Direction[] = ['up', 'down'];

function planned(kind: AlertKind, rule: Rule, side: Direction | null, level: number | null): PlannedRule {
  const tag = level === null ? kind : `${kind}@${level}`;
  return {
    kind,
    rule,
    side,
    sign: side === 'up' ? 1 : side === 'down' ? -1 : 0,
    level,
    suffix: side === null ? tag : `${tag}:${side}`,
  };
}

/** The chat levels of one kind the engine runs: on the grid's floor or above, distinct, bounded. */
export function usableLevels(levels: AlertLevels | undefined, kind: LevelKind): readonly number[] {
  const wanted = levels?.[kind];
  if (wanted === undefined) return [];
  const floor = LEVEL_GRIDS[kind].floorValue;
  const clean = wanted.filter((v) => Number.isFinite(v) && v >= floor);
  return [...new Set(clean)].sort((a, b) => a - b).slice(0, MAX_LEVELS_PER_KIND);
}

function buildPlan(levels: AlertLevels | undefined): readonly PlannedRule[] {
  const plan: PlannedRule[] = [];
  for (const [kind, rule, directional] of SERVER_RULES) {
    for (const side of directional ? SIDES : [null]) plan.push(planned(kind, rule, side, null));
  }
  for (const kind of LEVEL_KINDS) {
    for (const level of usableLevels(levels, kind)) {
      for (const side of SIDES) plan.push(planned(kind, LEVEL_RULES[kind], side, level));
    }
  }
  return plan;
}

/** The plan per engine, rebuilt (and its key cache dropped) when the chat levels change. */
interface Plan {
  readonly levels: AlertLevels | undefined;
  readonly rules: readonly PlannedRule[];
  /** `enabled` the switches below were read from (a config object is reused while unchanged). */
  enabledFrom: AlertRulesConfig['enabled'] | null;
  /** Per rule of `rules`: not switched off (a keyed lookup per rule and step otherwise). */
  on: boolean[];
}

const plans = new WeakMap<AlertEngineState, Plan>();

function planFor(state: AlertEngineState, cfg: AlertRulesConfig): Plan {
  let plan = plans.get(state);
  if (plan === undefined || plan.levels !== cfg.chatLevels) {
    plan = { levels: cfg.chatLevels, rules: buildPlan(cfg.chatLevels), enabledFrom: null, on: [] };
    plans.set(state, plan);
    state.keyCache?.clear();
  }
  if (plan.enabledFrom !== cfg.enabled) {
    plan.on = plan.rules.map((p) => cfg.enabled[p.kind] !== false);
    plan.enabledFrom = cfg.enabled;
  }
  return plan;
}

/**
 * The rule-state key an alert was fired from (`pulse:alert-state` field): `${venue}:${symbol}:${kind}`,
 * then `@${forThreshold}` for a chat level and `:${direction}` for a rule with a side.
 */
export function alertStateKey(
  alert: Pick<AlertJson, 'venue' | 'symbol' | 'kind' | 'direction' | 'forThreshold'>,
): string {
  const level = alert.forThreshold === undefined ? '' : `@${alert.forThreshold}`;
  const side = alert.direction == null ? '' : `:${alert.direction}`;
  return `${alert.venue}:${alert.symbol}:${alert.kind}${level}${side}`;
}

/**
 * Evaluates every enabled rule on one snapshot. Returns the alerts fired and the rule states that
 * changed: persist those (e.g. `HSET key json`) with the alerts, and `restoreRuleStates` the stored
 * values at start.
 */
export function evaluateRules(
  state: AlertEngineState,
  snapshot: SnapshotJson,
  cfg: AlertRulesConfig,
): { alerts: AlertJson[]; changed: Array<{ key: string; json: string }> } {
  const alerts: AlertJson[] = [];
  const changed: Array<{ key: string; json: string }> = [];
  const { venue, symbol, ts } = snapshot;
  const { rules: plan, on } = planFor(state, cfg);
  const slots = ruleSlots(state, plan, venue, symbol);
  syncSlots(state, slots);
  const { keys, states } = slots;
  for (let r = 0; r < plan.length; r++) {
    if (!on[r]) continue;
    const p = plan[r]!;
    const key = keys[r]!;
    const prev = states[r];
    if (prev !== undefined && !(ts > prev.ts)) continue;
    const { next, fired } = p.rule(prev, snapshot, cfg, p);
    // A rule that never left its initial state keeps no entry (nothing to persist).
    if (next !== undefined && next !== prev && !sameState(prev ?? FRESH, next)) {
      // Field by field in RuleState's own order (what `{ ...next, ts }` gives): object spreads
      // were most of the cost of a state change, and one changes on about every fifth evaluation.
      const stamped: RuleState = {
        ts,
        armed: next.armed,
        lastFiredTs: next.lastFiredTs,
        lastFiredMagnitude: next.lastFiredMagnitude,
        lastSeen: next.lastSeen,
        pending: next.pending,
      };
      states[r] = stamped;
      // A key had to go (the engine is full): it may be one of these, so read them all again.
      if (putFromSlot(state, key, stamped)) syncSlots(state, slots);
      changed.push({ key, json: ruleStateJson(key, stamped) });
    }
    if (fired === undefined) continue;
    const kind = p.kind;
    const sideInId = p.side !== null && SIDE_IN_ID.has(kind) ? `:${p.side}` : '';
    alerts.push({
      v: 1,
      id:
        (p.level === null
          ? `${kind}:${venue}:${symbol}:${ts}`
          : `${kind}@${p.level}:${venue}:${symbol}:${ts}`) + sideInId,
      kind,
      venue,
      symbol,
      ts,
      text: fired.text,
      thresholdPct: fired.thresholdPct ?? 0,
      delta: fired.delta === undefined ? snapshot.oi.delta15m : fired.delta,
      windowMs: fired.windowMs ?? 0,
      snapshot,
      severity: fired.severity,
      figures: fired.figures,
      escalated: fired.escalated ?? false,
      direction: p.side,
      ...(p.level === null ? {} : { forThreshold: p.level }),
    });
  }
  return { alerts, changed };
}

function ruleSlots(
  state: AlertEngineState,
  plan: readonly PlannedRule[],
  venue: string,
  symbol: string,
): RuleSlots {
  const cache = state.keyCache;
  if (cache === undefined) return newSlots(plan, venue, symbol);
  let bySymbol = cache.get(venue);
  if (bySymbol === undefined) {
    bySymbol = new Map();
    cache.set(venue, bySymbol);
  }
  let slots = bySymbol.get(symbol);
  if (slots === undefined) {
    slots = newSlots(plan, venue, symbol);
    // Bounded to about `maxKeys` strings per venue: far more symbols than rule states allow are
    // never all alive at once, and many chat levels make each symbol's list long.
    if ((bySymbol.size + 1) * plan.length > state.maxKeys) bySymbol.clear();
    bySymbol.set(symbol, slots);
  }
  return slots;
}

/** Slots not read yet (epoch NaN: `syncSlots` reads them). */
function newSlots(plan: readonly PlannedRule[], venue: string, symbol: string): RuleSlots {
  return {
    keys: plan.map((p) => `${venue}:${symbol}:${p.suffix}`),
    states: new Array<RuleState | undefined>(plan.length).fill(undefined),
    epoch: Number.NaN,
  };
}
