import type { Logger } from 'pino';
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
import type { InstrumentState } from '../analytics/instrument.js';
import type { AlertStateEntry, Bus } from '../bus/types.js';
import { type AlertLevels, stringifyAlertLevels } from '../domain/alert-levels.js';
import type { AlertJson, AlertKind, SnapshotJson } from '../domain/types.js';
import { OiRearmWatch } from './oi-rearm-watch.js';

/** What the rule runner shares with the pipeline: the bus, the log and the error counter. */
export interface PipelineRulesDeps {
  readonly bus: Bus;
  readonly logger: Logger;
  readonly counters: { alertsFired: number; publishErrors: number };
}

export interface PipelineRulesOptions {
  readonly rules?: Partial<AlertRulesConfig>;
  readonly persistAlertState: boolean;
  readonly awaitAlertState: boolean;
  readonly markReplay: boolean;
  readonly maxInstruments: number;
  readonly onAlert?: (alert: AlertJson) => void;
}

/**
 * The pipeline's alert side: the rule engine's state, the chat levels in effect, the 15m OI
 * re-arm watch, and the writes of alerts and rule state to the bus (in order, tracked until
 * settled). Time is the snapshots' event time only.
 */
export class PipelineRules {
  /** Alerts fired per rule (`--replay … --report`). */
  readonly alertsByKind: Partial<Record<AlertKind, number>> = {};
  private readonly engine: AlertEngineState;
  private rules: AlertRulesConfig;
  private paused: boolean;
  /** Rule states changed without an alert since the last publish, latest per rule key. */
  private readonly pendingRuleState = new Map<string, string>();
  /** Instruments whose 15m OI rules fired, per side and threshold, waiting to re-arm. */
  private readonly oiRearm = new OiRearmWatch<InstrumentState>();
  /** The lowest 15m OI threshold evaluated (the server's or a chat level): the pre-check's trigger. */
  private oiCheckPct: number;
  /** The chat levels in effect, as stored text (to see whether a poll changed anything). */
  private levelsText = stringifyAlertLevels({});
  private readonly inFlight = new Set<Promise<void>>();

  constructor(
    private readonly deps: PipelineRulesDeps,
    private readonly opts: PipelineRulesOptions,
  ) {
    this.rules = { ...DEFAULT_ALERT_RULES, ...opts.rules };
    this.paused = opts.awaitAlertState;
    this.oiCheckPct = this.lowest15mThresholdPct();
    // Room for every instrument and an aggregate per symbol, each with its 14 server rule states
    // (8 rules, 6 of them per direction) and as many chat-level states again; beyond that the
    // least recently changed states go (quiet ones that never fired keep none anyway).
    this.engine = createAlertEngineState(2 * opts.maxInstruments * 28);
  }

  /** See `Pipeline.setAlertLevels`. */
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

  /**
   * Whether a 15m OI change of `pct` between rule steps may change a 15m OI rule: at a threshold
   * either way (a drain right after a surge is a new event), or a fired side is back under its
   * re-arm level (the move is over: re-arm at once, a new jump seconds later is a new alert).
   */
  oiMayFire(instrument: InstrumentState, pct: number): boolean {
    return Math.abs(pct) >= this.oiCheckPct || this.oiRearm.rearms(instrument, pct);
  }

  /**
   * Runs every alert rule on one snapshot (of `instrument`, or null for an aggregate). Alerts go
   * out with the rule state that fired them in one Redis transaction; state that changed without
   * an alert (a rule re-armed) follows in order.
   */
  evaluate(snapshot: SnapshotJson, instrument: InstrumentState | null): void {
    if (this.paused) return;
    const { alerts, changed } = evaluateRules(this.engine, snapshot, this.rules);
    if (!this.opts.persistAlertState) {
      for (const alert of alerts) this.fire(alert, instrument, []);
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
      this.fire(alert, instrument, json === undefined ? [] : [{ key, json }]);
    }
  }

  private fire(
    fired: AlertJson,
    instrument: InstrumentState | null,
    state: readonly AlertStateEntry[],
  ): void {
    const alert: AlertJson = this.opts.markReplay ? { ...fired, replay: true } : fired;
    this.deps.counters.alertsFired++;
    if (alert.kind === 'oi_change_15m' && instrument !== null && alert.direction) {
      this.oiRearm.fired(instrument, alert.direction, this.rules.rearmFraction * alert.thresholdPct);
    }
    this.alertsByKind[alert.kind] = (this.alertsByKind[alert.kind] ?? 0) + 1;
    this.track(this.deps.bus.publishAlert(alert, state), alert);
    this.opts.onAlert?.(alert);
  }

  /** Writes the rule states changed without an alert (the pipeline calls it once per publish). */
  savePending(): void {
    if (this.pendingRuleState.size === 0) return;
    const entries: AlertStateEntry[] = [];
    for (const [key, json] of this.pendingRuleState) entries.push({ key, json });
    this.pendingRuleState.clear();
    this.track(this.deps.bus.saveAlertState(entries), null);
  }

  private track(p: Promise<void>, alert: AlertJson | null): void {
    const tracked = p
      .catch((err: Error) => {
        this.deps.counters.publishErrors++;
        this.deps.logger.error(
          { err, alertId: alert?.id },
          alert ? 'alert publish failed' : 'alert state not saved',
        );
      })
      .finally(() => this.inFlight.delete(tracked));
    this.inFlight.add(tracked);
  }

  /** Resolves once every alert and state write handed to the bus so far has settled. */
  async settled(): Promise<void> {
    await Promise.all([...this.inFlight]);
  }

  /** Resumes the engine from `pulse:alert-state` entries and lets the rules run; returns how many applied. */
  restore(entries: readonly string[]): number {
    const applied = restoreRuleStates(this.engine, entries);
    this.paused = false;
    return applied;
  }
}
