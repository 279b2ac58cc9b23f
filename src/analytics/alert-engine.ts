import type {
  AlertJson,
  AlertKind,
  AlertSeverity,
  ControlState,
  DeltaJson,
  FundingPressure,
  SnapshotJson,
} from '../domain/types.js';
import { formatAmount, formatSignedAmount, formatSignedPct, formatUsd } from '../domain/units.js';
import { fundingPayer } from './funding.js';
import { OI_WINDOW_15M_MS, OI_WINDOW_24H_MS } from './instrument.js';

/**
 * The alert rules (issue #4). Every rule has a state per `${venue}:${symbol}:${kind}`:
 * - hysteresis: after firing a rule is disarmed and re-arms only once its figure falls back below
 *   a lower level;
 * - cooldown: an armed rule waits `cooldownMs` of event time after its last alert (it fires at the
 *   first evaluation after the cooldown if the figure is still at the threshold);
 * - escalation: a move `escalationFactor` times the last alert's (funding: a higher level) fires
 *   during the cooldown and while disarmed, marked `escalated`.
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
 * - `momentum_spike`: oiAccel ≥ `momentumAccel` with a price move; `warning`, `critical` from 2× it.
 * A first sight at or above a level (OI, pressure, bound, momentum) fires like a crossing would.
 */
export interface AlertRulesConfig {
  /** `oi_change_15m` fires when |delta15m.pct| reaches this (inclusive). Default 3. */
  readonly oiChange15mPct: number;
  /** `oi_change_24h` fires when |delta24h.pct| reaches this (inclusive). Default 10. */
  readonly oiChange24hPct: number;
  /** OI and momentum rules re-arm once their figure is below `rearmFraction × threshold`. Default 0.5. */
  readonly rearmFraction: number;
  /** Event time between two alerts of one venue, symbol and rule. Default 30 min. */
  readonly cooldownMs: number;
  /** A move at least this many times the last alert's breaks the cooldown and the hysteresis. Default 2. */
  readonly escalationFactor: number;
  /**
   * `funding_pressure` fires when the level rises to this or higher; a further rise (high → extreme)
   * is an escalation. It re-arms once the level is two below this (at least down to `neutral`):
   * with `high`, only `neutral` re-arms, so high ↔ elevated flapping fires once. Default `high`.
   */
  readonly fundingPressureMin: FundingPressure;
  /** `momentum_spike` fires when `momentum.oiAccel` reaches this (inclusive)... Default 3. */
  readonly momentumAccel: number;
  /** ...and |momentum.priceChange15mPct| reaches this (inclusive). Default 0.5. */
  readonly momentumMinPriceChangePct: number;
  /** `all`: `control_flip` on the aggregate (venue `all`) only; `every`: on every snapshot. Default `all`. */
  readonly controlFlipVenues: 'all' | 'every';
  /**
   * A new 15m control state counts once seen at every evaluation for this long (event time);
   * a `neutral` in between starts over. 0: at first sight. Default 1 min.
   */
  readonly controlConfirmMs: number;
  /** Rules switched off here are not evaluated and keep no state; absent means on. */
  readonly enabled: Readonly<Partial<Record<AlertKind, boolean>>>;
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
  controlFlipVenues: 'all',
  controlConfirmMs: 60_000,
  enabled: {},
};

/** One rule's state for one venue and symbol. JSON-serializable. */
export interface RuleState {
  /** Event time of the last change; the rule ignores snapshots at or before it. */
  readonly ts: number;
  readonly armed: boolean;
  readonly lastFiredTs: number | null;
  /** The last alert's figure: |pct| (OI rules), oiAccel (momentum), level rank 0–3 (funding pressure). */
  readonly lastFiredMagnitude: number | null;
  /** Pressure level, interval hours, bound (`cap`/`floor`/null) or confirmed control state last seen. */
  readonly lastSeen: string | number | null;
  /** `control_flip`: the state waiting for confirmation and the event time it was first seen. */
  readonly pending: { readonly value: string; readonly sinceTs: number } | null;
}

export interface AlertEngineState {
  /** By `${venue}:${symbol}:${kind}`, least recently changed first. */
  readonly rules: Map<string, RuleState>;
  readonly maxKeys: number;
  /**
   * venue → symbol → the rule keys, built once: looking up a long-lived string is much cheaper
   * than hashing a freshly built one seven times per snapshot. Bounded like `rules`.
   */
  readonly keyCache?: Map<string, Map<string, readonly string[]>>;
}

export function createAlertEngineState(maxKeys = 20_000): AlertEngineState {
  if (!(maxKeys >= 1)) throw new RangeError(`maxKeys must be >= 1: ${maxKeys}`);
  return { rules: new Map(), maxKeys, keyCache: new Map() };
}

const PRESSURE_RANK: Readonly<Record<FundingPressure, number>> = {
  neutral: 0,
  elevated: 1,
  high: 2,
  extreme: 3,
};
const PRESSURE_SEVERITY: readonly AlertSeverity[] = ['info', 'info', 'warning', 'critical'];
const UP_SIDE: ReadonlySet<ControlState> = new Set(['longs_opening', 'short_covering']);
const FRESH: RuleState = {
  ts: -Infinity,
  armed: true,
  lastFiredTs: null,
  lastFiredMagnitude: null,
  lastSeen: null,
  pending: null,
};

interface Fired {
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
interface Outcome {
  readonly next?: RuleState;
  readonly fired?: Fired;
}

type Rule = (prev: RuleState | undefined, s: SnapshotJson, cfg: AlertRulesConfig) => Outcome;

/**
 * A window the feed did not fully cover never alerts, and neither does one whose start came from
 * a venue's REST history (warm start): that history is coarse and its mark prices are filled in,
 * good enough to show a change but not to claim one happened. Rules built on the 15m window
 * (control, momentum) follow the same rule, and such a window changes no rule state either.
 */
function usable(d: DeltaJson | null): d is DeltaJson {
  return d !== null && d.gap !== true && d.backfilled !== true && Number.isFinite(d.pct);
}

/**
 * The shared hysteresis + cooldown + escalation step. `atThreshold`: the figure fires an armed rule;
 * `rearms`: it is back below the lower level; `escalates(last)`: it beats the last alert's enough.
 */
function levelStep(
  prev: RuleState,
  ts: number,
  cfg: AlertRulesConfig,
  v: {
    magnitude: number;
    atThreshold: boolean;
    rearms: boolean;
    escalates: (last: number) => boolean;
    seen?: string | number | null;
  },
): { next: RuleState; fire: 'normal' | 'escalated' | null } {
  const armed = prev.armed || v.rearms;
  const cooling = prev.lastFiredTs !== null && ts - prev.lastFiredTs < cfg.cooldownMs;
  let fire: 'normal' | 'escalated' | null = null;
  if (v.atThreshold) {
    if (armed && !cooling) fire = 'normal';
    else if (prev.lastFiredMagnitude !== null && v.escalates(prev.lastFiredMagnitude)) fire = 'escalated';
  }
  const lastSeen = v.seen === undefined ? prev.lastSeen : v.seen;
  // Hot path (every rule of every instrument each step): nothing changed, nothing allocated.
  if (fire === null && armed === prev.armed && lastSeen === prev.lastSeen) return { next: prev, fire };
  const next: RuleState =
    fire === null
      ? { ...prev, armed, lastSeen }
      : { ...prev, armed: false, lastFiredTs: ts, lastFiredMagnitude: v.magnitude, lastSeen };
  return { next, fire };
}

function oiRule(which: '15m' | '24h'): Rule {
  return (prev, s, cfg) => {
    const delta = which === '15m' ? s.oi.delta15m : s.oi.delta24h;
    if (!usable(delta)) return {};
    const thresholdPct = which === '15m' ? cfg.oiChange15mPct : cfg.oiChange24hPct;
    const magnitude = Math.abs(delta.pct);
    const { next, fire } = levelStep(prev ?? FRESH, s.ts, cfg, {
      magnitude,
      atThreshold: magnitude >= thresholdPct,
      rearms: magnitude < cfg.rearmFraction * thresholdPct,
      escalates: (last) => magnitude >= cfg.escalationFactor * last,
    });
    if (fire === null) return { next };
    const escalated = fire === 'escalated';
    const lastPct = prev?.lastFiredMagnitude ?? null;
    const text =
      `${s.symbol} on ${venueLabel(s.venue)}: open interest ${formatSignedPct(delta.pct)} in ${which}: ` +
      `${formatSignedAmount(delta.base)} ${s.symbol} (${formatUsd(delta.usd)}).` +
      nowText(s) +
      fundingText(s) +
      (escalated && lastPct !== null
        ? ` Escalated: ${(magnitude / lastPct).toFixed(1)}× the last alert.`
        : '');
    return {
      next,
      fired: {
        severity: magnitude >= 2 * thresholdPct ? 'critical' : 'warning',
        text,
        figures: {
          deltaPct: delta.pct,
          deltaBase: delta.base,
          deltaUsd: delta.usd,
          positionUsd: delta.positionUsd ?? null,
          priceEffectUsd: delta.priceEffectUsd ?? null,
          thresholdPct,
          lastAlertAbsPct: escalated ? lastPct : null,
        },
        thresholdPct,
        windowMs: which === '15m' ? OI_WINDOW_15M_MS : OI_WINDOW_24H_MS,
        delta,
        escalated,
      },
    };
  };
}

const fundingPressure: Rule = (prev, s, cfg) => {
  const level = s.funding.pressure;
  if (level == null) return {};
  const rank = PRESSURE_RANK[level];
  const minRank = PRESSURE_RANK[cfg.fundingPressureMin];
  const before = prev ?? FRESH;
  const { next, fire } = levelStep(before, s.ts, cfg, {
    magnitude: rank,
    atThreshold: rank >= minRank,
    rearms: rank <= Math.max(0, minRank - 2),
    escalates: (last) => rank > last,
    seen: level,
  });
  if (fire === null) return { next };
  const previous = typeof before.lastSeen === 'string' ? before.lastSeen : null;
  const payer = s.funding.payer ?? fundingPayer(s.funding.rate);
  const text =
    `${s.symbol} on ${venueLabel(s.venue)}: funding pressure ${level}` +
    (previous !== null && previous !== level ? ` (was ${previous}).` : '.') +
    fundingText(s) +
    (payer === 'longs' ? ' Longs pay shorts.' : payer === 'shorts' ? ' Shorts pay longs.' : '') +
    (s.funding.hint ? ` ${s.funding.hint}` : '');
  return {
    next,
    fired: {
      severity: PRESSURE_SEVERITY[rank]!,
      text,
      figures: {
        aprPct: s.funding.aprPct,
        rate: s.funding.rate,
        pressure: level,
        previousPressure: previous,
      },
      escalated: fire === 'escalated',
    },
  };
};

const fundingIntervalChange: Rule = (prev, s) => {
  const hours = s.funding.intervalHours;
  if (hours === null || !Number.isFinite(hours)) return {};
  if (prev === undefined || typeof prev.lastSeen !== 'number')
    return { next: { ...(prev ?? FRESH), ts: s.ts, lastSeen: hours } };
  const before = prev.lastSeen;
  if (before === hours) return {};
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

const fundingAtBound: Rule = (prev, s, cfg) => {
  const bound = s.funding.atBound;
  if (bound === undefined) return {};
  const before = prev ?? FRESH;
  const { next, fire } = levelStep(before, s.ts, cfg, {
    magnitude: 0,
    atThreshold: bound !== null,
    // Leaving the bound re-arms; so does moving straight from one bound to the other.
    rearms: bound === null || (before.lastSeen !== null && before.lastSeen !== bound),
    escalates: () => false,
    seen: bound,
  });
  if (fire === null || bound === null) return { next };
  const text = `${s.symbol} on ${venueLabel(s.venue)}: funding at the venue's ${bound}.${fundingText(s)}`;
  return {
    next,
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

const controlFlip: Rule = (prev, s, cfg) => {
  if (cfg.controlFlipVenues === 'all' && s.venue !== 'all') return {};
  const control = s.control?.['15m'] ?? null;
  // Control is read from the 15m OI window: an uncovered or gapped window says nothing.
  if (control === null || !usable(s.oi.delta15m)) return {};
  const before = prev ?? FRESH;
  const confirmed = typeof before.lastSeen === 'string' ? (before.lastSeen as ControlState) : null;
  if (control === 'neutral' || control === confirmed) {
    return before.pending === null ? {} : { next: { ...before, ts: s.ts, pending: null } };
  }
  const pending = before.pending?.value === control ? before.pending : { value: control, sinceTs: s.ts };
  if (s.ts - pending.sinceTs < cfg.controlConfirmMs) {
    return pending === before.pending ? {} : { next: { ...before, ts: s.ts, pending } };
  }
  const flips = confirmed !== null && UP_SIDE.has(confirmed) !== UP_SIDE.has(control);
  const cooling = before.lastFiredTs !== null && s.ts - before.lastFiredTs < cfg.cooldownMs;
  // A flip during the cooldown is not announced, but the confirmed state follows the market.
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

const momentumSpike: Rule = (prev, s, cfg) => {
  const accel = s.momentum?.oiAccel ?? null;
  const pricePct = s.momentum?.priceChange15mPct ?? null;
  // oiAccel compares the 15m change with the mean 15m step over 24 h: both windows must be whole,
  // gap-free and live (a downtime bridged by one flat value would inflate it).
  if (accel === null || !Number.isFinite(accel) || !usable(s.oi.delta15m) || !usable(s.oi.delta24h))
    return {};
  const priceMoves = pricePct !== null && Math.abs(pricePct) >= cfg.momentumMinPriceChangePct;
  const { next, fire } = levelStep(prev ?? FRESH, s.ts, cfg, {
    magnitude: accel,
    atThreshold: accel >= cfg.momentumAccel && priceMoves,
    rearms: accel < cfg.rearmFraction * cfg.momentumAccel,
    escalates: (last) => accel >= cfg.escalationFactor * last,
  });
  if (fire === null) return { next };
  const d = s.oi.delta15m;
  const text =
    `${s.symbol} on ${venueLabel(s.venue)}: open interest moving ${accel.toFixed(1)}× its usual 15m pace ` +
    `(${formatSignedPct(d.pct)}), price ${formatSignedPct(pricePct!)} in 15m.` +
    nowText(s);
  return {
    next,
    fired: {
      severity: accel >= 2 * cfg.momentumAccel ? 'critical' : 'warning',
      text,
      figures: {
        oiAccel: accel,
        priceChange15mPct: pricePct,
        deltaPct: d.pct,
        momentumState: s.momentum?.state ?? null,
      },
      thresholdPct: cfg.momentumAccel,
      windowMs: OI_WINDOW_15M_MS,
      delta: d,
      escalated: fire === 'escalated',
    },
  };
};

const RULES: ReadonlyArray<readonly [AlertKind, Rule]> = [
  ['oi_change_15m', oiRule('15m')],
  ['oi_change_24h', oiRule('24h')],
  ['funding_pressure', fundingPressure],
  ['funding_interval_change', fundingIntervalChange],
  ['funding_at_bound', fundingAtBound],
  ['control_flip', controlFlip],
  ['momentum_spike', momentumSpike],
];

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
  const keys = ruleKeys(state, venue, symbol);
  for (let r = 0; r < RULES.length; r++) {
    const [kind, rule] = RULES[r]!;
    if (cfg.enabled[kind] === false) continue;
    const key = keys[r]!;
    const prev = state.rules.get(key);
    if (prev !== undefined && !(ts > prev.ts)) continue;
    const { next, fired } = rule(prev, snapshot, cfg);
    // A rule that never left its initial state keeps no entry (nothing to persist).
    if (next !== undefined && next !== prev && !sameState(prev ?? FRESH, next)) {
      const stamped: RuleState = { ...next, ts };
      put(state, key, stamped);
      changed.push({ key, json: JSON.stringify({ v: 1, key, ...stamped }) });
    }
    if (fired === undefined) continue;
    alerts.push({
      v: 1,
      id: `${kind}:${venue}:${symbol}:${ts}`,
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
    });
  }
  return { alerts, changed };
}

/**
 * Restores persisted `changed` JSON values (unreadable ones skipped; an entry older than the
 * state already held for its key is skipped too). Returns how many were applied.
 */
export function restoreRuleStates(state: AlertEngineState, entries: readonly string[]): number {
  let applied = 0;
  // Oldest first: when more entries than `maxKeys` come back, the most recent ones stay.
  const parsedAll = entries
    .map(parseEntry)
    .filter((p): p is { key: string; state: RuleState } => p !== null)
    .sort((a, b) => a.state.ts - b.state.ts);
  for (const parsed of parsedAll) {
    const held = state.rules.get(parsed.key);
    if (held !== undefined && held.ts > parsed.state.ts) continue;
    put(state, parsed.key, parsed.state);
    applied++;
  }
  return applied;
}

function parseEntry(entry: string): { key: string; state: RuleState } | null {
  let o: unknown;
  try {
    o = JSON.parse(entry);
  } catch {
    return null;
  }
  if (typeof o !== 'object' || o === null) return null;
  const r = o as Record<string, unknown>;
  const numOrNull = (x: unknown): x is number | null =>
    x === null || (typeof x === 'number' && Number.isFinite(x));
  const p = r.pending as Record<string, unknown> | null | undefined;
  const pendingOk =
    p === null ||
    (typeof p === 'object' &&
      p !== undefined &&
      typeof p.value === 'string' &&
      typeof p.sinceTs === 'number');
  const seenOk =
    r.lastSeen === null ||
    typeof r.lastSeen === 'string' ||
    (typeof r.lastSeen === 'number' && Number.isFinite(r.lastSeen));
  if (
    r.v !== 1 ||
    typeof r.key !== 'string' ||
    typeof r.ts !== 'number' ||
    !Number.isFinite(r.ts) ||
    typeof r.armed !== 'boolean' ||
    !numOrNull(r.lastFiredTs) ||
    !numOrNull(r.lastFiredMagnitude) ||
    !seenOk ||
    !pendingOk
  ) {
    return null;
  }
  const pending = p ? { value: p.value as string, sinceTs: p.sinceTs as number } : null;
  return {
    key: r.key,
    state: {
      ts: r.ts,
      armed: r.armed,
      lastFiredTs: r.lastFiredTs,
      lastFiredMagnitude: r.lastFiredMagnitude,
      lastSeen: r.lastSeen as string | number | null,
      pending,
    },
  };
}

function sameState(a: RuleState, b: RuleState): boolean {
  return (
    a.armed === b.armed &&
    a.lastFiredTs === b.lastFiredTs &&
    a.lastFiredMagnitude === b.lastFiredMagnitude &&
    a.lastSeen === b.lastSeen &&
    a.pending?.value === b.pending?.value &&
    a.pending?.sinceTs === b.pending?.sinceTs
  );
}

function ruleKeys(state: AlertEngineState, venue: string, symbol: string): readonly string[] {
  const cache = state.keyCache;
  if (cache === undefined) return RULES.map(([kind]) => `${venue}:${symbol}:${kind}`);
  let bySymbol = cache.get(venue);
  if (bySymbol === undefined) {
    bySymbol = new Map();
    cache.set(venue, bySymbol);
  }
  let keys = bySymbol.get(symbol);
  if (keys === undefined) {
    keys = RULES.map(([kind]) => `${venue}:${symbol}:${kind}`);
    // Bounded: far more symbols than rule states allow are never all alive at once.
    if (bySymbol.size >= state.maxKeys) bySymbol.clear();
    bySymbol.set(symbol, keys);
  }
  return keys;
}

/** Re-inserting keeps the Map in last-changed order, so the first key is the one to drop. */
function put(state: AlertEngineState, key: string, rule: RuleState): void {
  state.rules.delete(key);
  state.rules.set(key, rule);
  while (state.rules.size > state.maxKeys) {
    const oldest = state.rules.keys().next();
    if (oldest.done) break;
    state.rules.delete(oldest.value);
  }
}

function venueLabel(venue: string): string {
  return venue === 'all' ? 'all venues' : venue;
}

function words(control: ControlState): string {
  return control.replace('_', ' ');
}

/** `0.0001` → `0.0100%`: funding is quoted unsigned when positive, as venues show it. */
function formatRatePct(rate: number): string {
  const text = (rate * 100).toFixed(4);
  return Number(text) === 0 ? `${(0).toFixed(4)}%` : `${text}%`;
}

function fundingText(s: SnapshotJson): string {
  const { rate, intervalHours, aprPct } = s.funding;
  if (rate === null || !Number.isFinite(rate)) return '';
  if (intervalHours === null || aprPct === null) return ` Funding ${formatRatePct(rate)}.`;
  return ` Funding ${formatRatePct(rate)} per ${formatAmount(intervalHours)}h (${aprPct.toFixed(2)}% APR).`;
}

function nowText(s: SnapshotJson): string {
  const parts: string[] = [];
  if (s.oi.base !== null) {
    const usd = s.oi.usd !== null ? ` (${formatUsd(s.oi.usd)})` : '';
    parts.push(`Now ${formatAmount(s.oi.base)} ${s.symbol}${usd}`);
  }
  if (s.price.mark !== null) parts.push(`mark ${formatAmount(s.price.mark)}`);
  return parts.length > 0 ? ` ${parts.join(', ')}.` : '';
}
