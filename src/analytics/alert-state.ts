/**
 * The alert rules' memory: one JSON-serializable `RuleState` per rule key, bounded (least recently
 * changed forgotten first), its stored form (`pulse:alert-state` values: written by
 * `ruleStateJson`, read back and validated by `restoreRuleStates`).
 */

/** One rule's state for one venue, symbol, direction and threshold. JSON-serializable. */
export interface RuleState {
  /** Event time of the last change; the rule ignores snapshots at or before it. */
  readonly ts: number;
  readonly armed: boolean;
  readonly lastFiredTs: number | null;
  /**
   * The last alert's figure, positive in the rule's direction: the signed OI change percent
   * (× −1 on the down side), oiAccel (momentum), level rank 0–3 (server funding pressure),
   * |APR| percent (funding pressure at a chat level), USD of the side liquidated in 15m
   * (`liquidation_cascade`).
   */
  readonly lastFiredMagnitude: number | null;
  /** Pressure level, interval hours, bound (`cap`/`floor`/null) or confirmed control state last seen. */
  readonly lastSeen: string | number | null;
  /** `control_flip`: the state waiting for confirmation and the event time it was first seen. */
  readonly pending: { readonly value: string; readonly sinceTs: number } | null;
}

export interface AlertEngineState {
  /** By rule key (see `alertStateKey`), least recently changed first. */
  readonly rules: Map<string, RuleState>;
  readonly maxKeys: number;
  /**
   * venue → symbol → the rule keys of the current plan, built once, and their states: looking up
   * a long-lived string is much cheaper than hashing a freshly built one a dozen times per
   * snapshot, and reading a slot cheaper still. Bounded: at most about `maxKeys` keys per venue.
   */
  readonly keyCache?: Map<string, Map<string, RuleSlots>>;
  /**
   * Bumped whenever `rules` changes other than through a source's own slots (a restore, a key
   * evicted): slots read at an older epoch are read again from `rules`.
   */
  epoch: number;
}

/** One venue and symbol's rule keys (in plan order) and their states as of `epoch`. */
export interface RuleSlots {
  readonly keys: readonly string[];
  readonly states: (RuleState | undefined)[];
  epoch: number;
}

export function createAlertEngineState(maxKeys = 20_000): AlertEngineState {
  if (!(maxKeys >= 1)) throw new RangeError(`maxKeys must be >= 1: ${maxKeys}`);
  return { rules: new Map(), maxKeys, keyCache: new Map(), epoch: 0 };
}

/** Re-reads `slots` from `state.rules` when something else changed the rules since they were read. */
export function syncSlots(state: AlertEngineState, slots: RuleSlots): void {
  if (slots.epoch === state.epoch) return;
  for (let r = 0; r < slots.keys.length; r++) slots.states[r] = state.rules.get(slots.keys[r]!);
  slots.epoch = state.epoch;
}

export const FRESH: RuleState = {
  ts: -Infinity,
  armed: true,
  lastFiredTs: null,
  lastFiredMagnitude: null,
  lastSeen: null,
  pending: null,
};

export function sameState(a: RuleState, b: RuleState): boolean {
  return (
    a.armed === b.armed &&
    a.lastFiredTs === b.lastFiredTs &&
    a.lastFiredMagnitude === b.lastFiredMagnitude &&
    a.lastSeen === b.lastSeen &&
    a.pending?.value === b.pending?.value &&
    a.pending?.sinceTs === b.pending?.sinceTs
  );
}

/**
 * The stored form of one rule state (a `pulse:alert-state` value):
 * `{"v":1,"key":…,"ts":…,"armed":…,"lastFiredTs":…,"lastFiredMagnitude":…,"lastSeen":…,"pending":…}`.
 */
export function ruleStateJson(key: string, state: RuleState): string {
  return JSON.stringify({
    v: 1,
    key,
    ts: state.ts,
    armed: state.armed,
    lastFiredTs: state.lastFiredTs,
    lastFiredMagnitude: state.lastFiredMagnitude,
    lastSeen: state.lastSeen,
    pending: state.pending,
  });
}

/** Re-inserting keeps the Map in last-changed order, so the first key is the one to drop. */
export function put(state: AlertEngineState, key: string, rule: RuleState): void {
  store(state, key, rule);
  state.epoch++;
}

/**
 * `put` from a source's own slots (the caller updates its slot): the other sources' slots stay
 * valid unless a key had to go, which bumps the epoch. Returns whether one went.
 */
export function putFromSlot(state: AlertEngineState, key: string, rule: RuleState): boolean {
  if (!store(state, key, rule)) return false;
  state.epoch++;
  return true;
}

function store(state: AlertEngineState, key: string, rule: RuleState): boolean {
  state.rules.delete(key);
  state.rules.set(key, rule);
  let evicted = false;
  while (state.rules.size > state.maxKeys) {
    const oldest = state.rules.keys().next();
    if (oldest.done) break;
    state.rules.delete(oldest.value);
    evicted = true;
  }
  return evicted;
}

/**
 * Kinds whose state is kept per direction (`…:up` / `…:down`). A stored key of one of these
 * without a direction comes from a version that compared magnitudes only.
 */
const LEGACY = /:(oi_change_15m|oi_change_24h|funding_pressure|control_flip|momentum_spike)$/;
const SIDE_SUFFIX = /:(up|down)$/;

/**
 * Restores persisted `changed` JSON values (unreadable ones skipped; an entry older than the
 * state already held for its key is skipped too). Returns how many were applied.
 * An entry from before directions (key without `:up`/`:down`) is applied to both directions: it
 * does not say which side fired, and holding both means nothing re-fires on upgrade; for at most
 * one cooldown after it, a reversal is held as it was before. Once a directional entry of the same
 * rule exists (written since), the old entry is stale and skipped: it stays in the stored hash.
 */
export function restoreRuleStates(state: AlertEngineState, entries: readonly string[]): number {
  let applied = 0;
  // Oldest first: when more entries than `maxKeys` come back, the most recent ones stay.
  const parsedAll = entries
    .map(parseEntry)
    .filter((p): p is { key: string; state: RuleState } => p !== null)
    .sort((a, b) => a.state.ts - b.state.ts);
  const directional = new Set<string>();
  for (const { key } of parsedAll) {
    const side = SIDE_SUFFIX.exec(key);
    if (side !== null) directional.add(key.slice(0, side.index));
  }
  for (const parsed of parsedAll) {
    let keys = [parsed.key];
    if (LEGACY.test(parsed.key)) {
      if (directional.has(parsed.key)) continue;
      keys = [`${parsed.key}:up`, `${parsed.key}:down`];
    }
    let used = false;
    for (const key of keys) {
      const held = state.rules.get(key);
      if (held !== undefined && held.ts > parsed.state.ts) continue;
      put(state, key, parsed.state);
      used = true;
    }
    if (used) applied++;
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
