import type { Logger } from 'pino';
import { aggregateSnapshots } from '../analytics/aggregate.js';
import {
  type AlertEngineState,
  type AlertRulesConfig,
  alertStateKey,
  createAlertEngineState,
  DEFAULT_ALERT_RULES,
  evaluateRules,
  restoreRuleStates,
  usableLevels,
} from '../analytics/alert-engine.js';
import {
  checkpointInstrument,
  type InstrumentCheckpoint,
  restoreInstrument,
} from '../analytics/checkpoint.js';
import {
  applyHistory,
  applyMarketEvent,
  createInstrumentState,
  type InstrumentState,
  markGap,
  toSnapshot,
} from '../analytics/instrument.js';
import { DEFAULT_INTEL_CONFIG, type IntelConfig } from '../analytics/intel-config.js';
import { oiDeltaPct } from '../analytics/window.js';
import type { Bus } from '../bus/types.js';
import { type AlertLevels, stringifyAlertLevels } from '../domain/alert-levels.js';
import type { AlertJson, AlertKind, FeedEvent, MarketEvent, SnapshotJson } from '../domain/types.js';
import { OiRearmWatch } from './oi-rearm-watch.js';

export interface PipelineOptions {
  readonly bus: Bus;
  /** The rules' settings, one config for every rule; what is left out keeps DEFAULT_ALERT_RULES. */
  readonly rules?: Partial<AlertRulesConfig>;
  /** Market-intelligence thresholds (defaults: DEFAULT_INTEL_CONFIG). */
  readonly intel?: IntelConfig;
  /** Publish the cross-venue aggregate (venue `all`) of every symbol seen on two or more venues; default true. */
  readonly aggregate?: boolean;
  /** Write the rules' state to the bus (`pulse:alert-state`) so a restart resumes it; default true. A replay does not. */
  readonly persistAlertState?: boolean;
  /**
   * Rules wait for `restoreAlertState` before they run (a live processor restoring its state from
   * Redis): without its state, an engine would re-fire every alert still in effect. Default false.
   */
  readonly awaitAlertState?: boolean;
  /** At most one snapshot per instrument per interval reaches the bus. */
  readonly publishIntervalMs: number;
  readonly logger: Logger;
  /** Mark every alert `"replay": true` (a `--replay` run); default false. */
  readonly markReplay?: boolean;
  /** Called once per fired alert, after it was handed to the bus. */
  readonly onAlert?: (alert: AlertJson) => void;
  /** Instruments kept in memory; events for more are dropped and counted. */
  readonly maxInstruments?: number;
  /** Told how long each snapshot batch took to publish (for the latency histogram). */
  readonly onPublished?: (durationMs: number, snapshots: number) => void;
}

export interface PipelineCounters {
  events: number;
  statusEvents: number;
  droppedInstruments: number;
  snapshotsPublished: number;
  /** Snapshots the bus could not write (Redis down): the next one supersedes them. */
  snapshotsDropped: number;
  alertsFired: number;
  aggregatesPublished: number;
  publishErrors: number;
}

/**
 * Event-time analytics per instrument, throttled snapshot publishing, and the alert rule.
 * Analytics are pure functions (src/analytics); this class only keeps their state and does the I/O.
 */
/** Rules run once per this much event time per instrument (the 15m OI rule also between). */
const RULE_STEP_MS = 60_000;
/** The aggregate's rules run once per this much event time per symbol. */
const AGGREGATE_STEP_MS = 30_000;

/** Snapshots per Redis round trip when publishing (small: each slice blocks the event loop ~0.35 ms). */
const PUBLISH_SLICE = 25;

export class Pipeline {
  readonly counters: PipelineCounters = {
    events: 0,
    statusEvents: 0,
    droppedInstruments: 0,
    snapshotsPublished: 0,
    snapshotsDropped: 0,
    alertsFired: 0,
    aggregatesPublished: 0,
    publishErrors: 0,
  };
  /** venue → venue instrument id → state. */
  private readonly instruments = new Map<string, Map<string, InstrumentState>>();
  private instrumentTotal = 0;
  /** Alerts fired per rule (`--replay … --report`). */
  readonly alertsByKind: Partial<Record<AlertKind, number>> = {};
  /** Last rule step (minute of event time) per instrument, and the snapshot built then. */
  private readonly ruleSteps = new Map<InstrumentState, number>();
  private readonly stepSnapshots = new Map<InstrumentState, SnapshotJson>();
  /** Rule states changed without an alert since the last publish, latest per rule key. */
  private readonly pendingRuleState = new Map<string, string>();
  /** Instruments whose 15m OI rules fired, per side and threshold, waiting to re-arm. */
  private readonly oiRearm = new OiRearmWatch<InstrumentState>();
  /** The lowest 15m OI threshold evaluated (the server's or a chat level): the pre-check's trigger. */
  private oiCheckPct: number;
  /** The chat levels in effect, as stored text (to see whether a poll changed anything). */
  private levelsText = stringifyAlertLevels({});
  /** Last aggregate rule step (half minute of event time) per symbol. */
  private readonly aggregateSteps = new Map<string, number>();
  /** SYMBOL → its instruments on every venue, for the aggregate. */
  private readonly bySymbol = new Map<string, InstrumentState[]>();
  private readonly dirty = new Set<InstrumentState>();
  private readonly engine: AlertEngineState;
  private readonly persistAlertState: boolean;
  private rulesPaused: boolean;
  private rules: AlertRulesConfig;
  private readonly intel: IntelConfig;
  private readonly aggregate: boolean;
  private readonly pendingAlerts = new Set<Promise<void>>();
  private timer: NodeJS.Timeout | undefined;
  private publishing: Promise<void> | null = null;
  private lastPublishWallTs = 0;
  private closed = false;

  constructor(private readonly opts: PipelineOptions) {
    this.rules = { ...DEFAULT_ALERT_RULES, ...opts.rules };
    this.intel = opts.intel ?? DEFAULT_INTEL_CONFIG;
    this.aggregate = opts.aggregate ?? true;
    this.persistAlertState = opts.persistAlertState ?? true;
    this.rulesPaused = opts.awaitAlertState ?? false;
    this.oiCheckPct = this.lowest15mThresholdPct();
    // Room for every instrument and an aggregate per symbol, each with its 12 server rule states
    // (7 rules, 5 of them per direction) and as many chat-level states again; beyond that the
    // least recently changed states go (quiet ones that never fired keep none anyway).
    this.engine = createAlertEngineState(2 * (opts.maxInstruments ?? 5000) * 24);
  }

  /**
   * The thresholds chats asked for (`pulse:alert-levels`): from the next evaluation on, each level
   * kind also runs at these (see AlertRulesConfig.chatLevels). Unchanged levels change nothing.
   */
  setAlertLevels(levels: AlertLevels): void {
    const text = stringifyAlertLevels(levels);
    if (text === this.levelsText) return;
    this.levelsText = text;
    this.rules = { ...this.rules, chatLevels: levels };
    this.oiCheckPct = this.lowest15mThresholdPct();
  }

  private lowest15mThresholdPct(): number {
    return Math.min(this.rules.oiChange15mPct, ...usableLevels(this.rules.chatLevels, 'oi_change_15m'));
  }

  /** Starts the publish timer. */
  start(): void {
    if (this.timer || this.closed) return;
    this.timer = setInterval(() => {
      if (!this.publishing) void this.publishDirty();
    }, this.opts.publishIntervalMs);
  }

  handle(ev: FeedEvent): void {
    if (ev.type === 'status') {
      this.counters.statusEvents++;
      if (ev.kind === 'gap' && ev.gap) {
        for (const instrument of ev.gap.instruments) {
          const state = this.instruments.get(ev.venue)?.get(instrument);
          if (state) markGap(state);
        }
      }
      return;
    }
    this.onMarket(ev);
  }

  private onMarket(ev: MarketEvent): void {
    this.counters.events++;
    let byInstrument = this.instruments.get(ev.venue);
    if (!byInstrument) {
      byInstrument = new Map();
      this.instruments.set(ev.venue, byInstrument);
    }
    let state = byInstrument.get(ev.instrument);
    if (!state) {
      if (this.instrumentTotal >= (this.opts.maxInstruments ?? 5000)) {
        this.counters.droppedInstruments++;
        return;
      }
      state = createInstrumentState(ev.venue, ev.symbol, ev.instrument);
      this.register(state);
    }
    const bucketBefore = state.window15m.currentBucket;
    const changed = applyMarketEvent(state, ev);
    // Time moving on alone also moves the windows' reference points (one 9 s step at a time):
    // the snapshot and the rule must follow it even when no value changed.
    const stepped = !Object.is(state.window15m.currentBucket, bucketBefore);
    if (!changed && !stepped) return;
    this.dirty.add(state);
    const ruleStep = Math.floor(state.lastEventTs / RULE_STEP_MS);
    if (ruleStep !== this.ruleSteps.get(state)) {
      // Every rule runs once per minute of event time per instrument (and once per half minute of
      // its symbol's aggregate): the same alerts whatever the wall-clock pace, so a replay at max
      // speed fires what live did. The 15m OI rule also runs between steps (below).
      this.ruleSteps.set(state, ruleStep);
      const snapshot = toSnapshot(state, this.intel);
      // Kept only where an aggregate needs it: a retained snapshot per instrument is old-space garbage.
      if (this.aggregate && (this.bySymbol.get(state.symbol)?.length ?? 0) > 1) {
        this.stepSnapshots.set(state, snapshot);
      }
      this.evaluate(snapshot);
      this.evaluateAggregate(state.symbol, state.lastEventTs);
      return;
    }
    if (ev.oiBase === undefined) return;
    // Between steps, a cheap pre-check on the 15m window; the snapshot is built only when the OI rule may fire.
    if (state.oiBase === null || state.markPrice === null) return;
    const pct = oiDeltaPct(state.window15m, state.lastEventTs, state.oiBase);
    if (pct === null) return;
    if (Math.abs(pct) >= this.oiCheckPct || this.oiRearm.rearms(state, pct)) {
      // At a threshold either way (a drain right after a surge is a new event), or a fired side
      // is back under its re-arm level: the move is over, re-arm at once (a new jump seconds
      // later is a new alert), not at the next step.
      this.evaluate(toSnapshot(state, this.intel));
    }
  }

  /** Adds a new instrument to both indexes (the caller checked the bound). */
  private register(state: InstrumentState): void {
    let byInstrument = this.instruments.get(state.venue);
    if (!byInstrument) {
      byInstrument = new Map();
      this.instruments.set(state.venue, byInstrument);
    }
    byInstrument.set(state.instrument, state);
    this.instrumentTotal++;
    const siblings = this.bySymbol.get(state.symbol);
    if (siblings) siblings.push(state);
    else this.bySymbol.set(state.symbol, [state]);
  }

  /**
   * Runs every alert rule on one snapshot. Alerts go out with the rule state that fired them in
   * one Redis transaction; state that changed without an alert (a rule re-armed) follows in order.
   */
  private evaluate(snapshot: SnapshotJson): void {
    if (this.rulesPaused) return;
    const { alerts, changed } = evaluateRules(this.engine, snapshot, this.rules);
    if (!this.persistAlertState) {
      for (const alert of alerts) this.fire(alert, []);
      return;
    }
    // Each alert goes out in one transaction with its own rule's state. Other state changes
    // (re-arms, levels seen) are kept, latest per rule, and written with the next publish: an
    // alert's own state supersedes an older pending one, so nothing older overwrites it.
    for (const c of changed) this.pendingRuleState.set(c.key, c.json);
    for (const alert of alerts) {
      const key = alertStateKey(alert);
      const json = this.pendingRuleState.get(key);
      this.pendingRuleState.delete(key);
      this.fire(alert, json === undefined ? [] : [{ key, json }]);
    }
  }

  /** Writes the rule states changed without an alert (at most once per publish interval). */
  private savePendingRuleState(): void {
    if (this.pendingRuleState.size === 0) return;
    const entries = [...this.pendingRuleState].map(([key, json]) => ({ key, json }));
    this.pendingRuleState.clear();
    this.track(this.opts.bus.saveAlertState(entries), null);
  }

  private track(p: Promise<void>, alert: AlertJson | null): void {
    const tracked = p
      .catch((err: Error) => {
        this.counters.publishErrors++;
        this.opts.logger.error(
          { err, alertId: alert?.id },
          alert ? 'alert publish failed' : 'alert state not saved',
        );
      })
      .finally(() => this.pendingAlerts.delete(tracked));
    this.pendingAlerts.add(tracked);
  }

  private fire(fired: AlertJson, state: readonly { key: string; json: string }[]): void {
    const alert: AlertJson = this.opts.markReplay ? { ...fired, replay: true } : fired;
    this.counters.alertsFired++;
    if (alert.kind === 'oi_change_15m' && alert.venue !== 'all' && alert.direction) {
      const inst = this.instruments.get(alert.venue)?.get(alert.snapshot.instrument);
      if (inst) this.oiRearm.fired(inst, alert.direction, this.rules.rearmFraction * alert.thresholdPct);
    }
    this.alertsByKind[alert.kind] = (this.alertsByKind[alert.kind] ?? 0) + 1;
    this.track(this.opts.bus.publishAlert(alert, state), alert);
    this.opts.onAlert?.(alert);
  }

  /**
   * Publishes the dirty instruments in slices of `PUBLISH_SLICE`, yielding to the event loop
   * between them: one big batch (1,500 snapshots to stringify and encode) would hold up frames
   * and alerts for milliseconds.
   */
  private publishDirty(): Promise<void> {
    this.savePendingRuleState();
    if (this.dirty.size === 0 || this.publishing) return this.publishing ?? Promise.resolve();
    const states = [...this.dirty];
    this.dirty.clear();
    this.lastPublishWallTs = Date.now();
    this.publishing = (async () => {
      // Symbols whose aggregate must be recomputed: any of their venues changed.
      const symbols = this.aggregate ? new Set<string>() : null;
      for (let i = 0; i < states.length; i += PUBLISH_SLICE) {
        const batch: SnapshotJson[] = [];
        for (const state of states.slice(i, i + PUBLISH_SLICE)) {
          batch.push(toSnapshot(state, this.intel));
          if (symbols && (this.bySymbol.get(state.symbol)?.length ?? 0) > 1) symbols.add(state.symbol);
        }
        await this.publishBatch(batch);
        if (i + PUBLISH_SLICE < states.length) await new Promise((r) => setImmediate(r));
      }
      if (symbols === null || symbols.size === 0) return;
      const list = [...symbols];
      for (let i = 0; i < list.length; i += PUBLISH_SLICE) {
        const batch: SnapshotJson[] = [];
        for (const symbol of list.slice(i, i + PUBLISH_SLICE)) {
          const snapshot = this.aggregateOf(symbol);
          if (snapshot !== null) batch.push(snapshot);
        }
        this.counters.aggregatesPublished += await this.publishBatch(batch);
        await new Promise((r) => setImmediate(r));
      }
    })().finally(() => {
      this.publishing = null;
    });
    return this.publishing;
  }

  /** The `all` snapshot of one symbol from its latest state on every venue. */
  aggregateOf(symbol: string): SnapshotJson | null {
    const states = this.bySymbol.get(symbol);
    if (!states || states.length < 2) return null;
    return aggregateSnapshots(
      symbol,
      states.map((s) => toSnapshot(s, this.intel)),
      this.intel,
    );
  }

  /**
   * The aggregate's rules, once per half minute of event time per symbol, from each venue's
   * snapshot of its latest rule step (event time only: a replay evaluates exactly what live did).
   */
  private evaluateAggregate(symbol: string, ts: number): void {
    if (!this.aggregate) return;
    const states = this.bySymbol.get(symbol);
    if (!states || states.length < 2) return;
    const step = Math.floor(ts / AGGREGATE_STEP_MS);
    if (step <= (this.aggregateSteps.get(symbol) ?? Number.NEGATIVE_INFINITY)) return;
    this.aggregateSteps.set(symbol, step);
    const snapshots: SnapshotJson[] = [];
    for (const s of states) {
      const snap = this.stepSnapshots.get(s);
      if (snap) snapshots.push(snap);
    }
    if (snapshots.length < 2) return;
    const all = aggregateSnapshots(symbol, snapshots, this.intel);
    if (all) this.evaluate(all);
  }

  private async publishBatch(batch: readonly SnapshotJson[]): Promise<number> {
    if (batch.length === 0) return 0;
    const startedAt = performance.now();
    try {
      const written = await this.opts.bus.publishSnapshots(batch);
      this.opts.onPublished?.(performance.now() - startedAt, written);
      this.counters.snapshotsPublished += written;
      this.counters.snapshotsDropped += batch.length - written;
      return written;
    } catch (err) {
      this.counters.publishErrors++;
      this.opts.logger.warn({ err }, 'snapshot publish failed');
      return 0;
    }
  }

  /**
   * Publishes every pending snapshot and waits for alerts in flight. Waits out the rest of the
   * current interval first, so even the last snapshots keep the one-per-interval promise.
   */
  async flush(): Promise<void> {
    if (this.publishing) await this.publishing;
    const waitMs = this.lastPublishWallTs + this.opts.publishIntervalMs - Date.now();
    if (this.dirty.size > 0 && waitMs > 0) await new Promise((r) => setTimeout(r, waitMs));
    if (this.publishing) await this.publishing;
    await this.publishDirty();
    await Promise.all([...this.pendingAlerts]);
  }

  /** Every instrument's state as checkpoint documents (see analytics/checkpoint.ts). */
  checkpoint(): { id: string; json: string }[] {
    const out: { id: string; json: string }[] = [];
    for (const [venue, byInstrument] of this.instruments) {
      for (const [instrument, state] of byInstrument) {
        out.push({ id: `${venue}:${instrument}`, json: JSON.stringify(checkpointInstrument(state)) });
      }
    }
    return out;
  }

  /** Resumes instruments from checkpoint documents (unreadable ones are skipped); returns how many. */
  restore(documents: readonly string[]): number {
    let restored = 0;
    for (const json of documents) {
      let state: InstrumentState | null = null;
      try {
        state = restoreInstrument(JSON.parse(json) as InstrumentCheckpoint);
      } catch {
        state = null;
      }
      if (!state || this.instrumentTotal >= (this.opts.maxInstruments ?? 5000)) continue;
      if (this.instruments.get(state.venue)?.has(state.instrument)) continue;
      this.register(state);
      restored++;
    }
    return restored;
  }

  /** Resumes the alert engine from `pulse:alert-state` entries; returns how many were applied. */
  restoreAlertState(entries: readonly string[]): number {
    const applied = restoreRuleStates(this.engine, entries);
    this.rulesPaused = false;
    return applied;
  }

  /**
   * Warm start: a venue's OI history for one instrument (see applyHistory). Creates the
   * instrument when it is new. Returns the points used (0 where the feed already covers them).
   */
  backfill(
    venue: MarketEvent['venue'],
    symbol: string,
    instrument: string,
    points: readonly { readonly ts: number; readonly oiBase: number; readonly markPrice: number | null }[],
  ): number {
    let state = this.instruments.get(venue)?.get(instrument);
    if (!state) {
      if (this.instrumentTotal >= (this.opts.maxInstruments ?? 5000)) return 0;
      state = createInstrumentState(venue, symbol, instrument);
      this.register(state);
    }
    const used = applyHistory(state, points);
    if (used > 0) this.dirty.add(state);
    return used;
  }

  /** Whether the instrument's 24 h window does not reach back a full day before `nowTs` (history would help). */
  needsHistory(venue: string, instrument: string, nowTs: number): boolean {
    const state = this.instruments.get(venue)?.get(instrument);
    if (!state || state.window24h.observationCount === 0) return true;
    return state.window24h.firstTs > nowTs - state.window24h.windowMs;
  }

  instrumentCount(): number {
    return this.instrumentTotal;
  }

  /** Idempotent: stops the timer after a final flush. */
  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    clearInterval(this.timer);
    this.timer = undefined;
    await this.flush();
  }
}
