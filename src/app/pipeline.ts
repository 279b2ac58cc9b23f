import type { Logger } from 'pino';
import type { AlertRulesConfig } from '../analytics/alert-engine.js';
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
import type { AlertLevels } from '../domain/alert-levels.js';
import type { AlertJson, AlertKind, FeedEvent, MarketEvent, SnapshotJson } from '../domain/types.js';
import { AggregateBook } from './pipeline-aggregate.js';
import { SnapshotPublisher, type TrackedInstrument } from './pipeline-publish.js';
import { PipelineRules } from './pipeline-rules.js';

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

/** Rules run once per this much event time per instrument (the 15m OI rule also between). */
const RULE_STEP_MS = 60_000;

/**
 * Event-time analytics per instrument, throttled snapshot publishing, and the alert rules.
 * Analytics are pure functions (src/analytics); this class keeps their state per instrument and
 * decides when rules run; the alert side is `PipelineRules`, the publish side `SnapshotPublisher`,
 * the cross-venue bookkeeping `AggregateBook`.
 */
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
  /** venue → venue instrument id → the instrument's state and bookkeeping. */
  private readonly instruments = new Map<string, Map<string, TrackedInstrument>>();
  private instrumentTotal = 0;
  private readonly maxInstruments: number;
  private readonly intel: IntelConfig;
  private readonly rules: PipelineRules;
  private readonly aggregates: AggregateBook;
  private readonly publisher: SnapshotPublisher;
  private timer: NodeJS.Timeout | undefined;
  private closed = false;
  private closing: Promise<void> | undefined;

  constructor(private readonly opts: PipelineOptions) {
    this.intel = opts.intel ?? DEFAULT_INTEL_CONFIG;
    this.maxInstruments = opts.maxInstruments ?? 5000;
    const { bus, logger } = opts;
    this.rules = new PipelineRules(
      { bus, logger, counters: this.counters },
      {
        ...(opts.rules ? { rules: opts.rules } : {}),
        persistAlertState: opts.persistAlertState ?? true,
        awaitAlertState: opts.awaitAlertState ?? false,
        markReplay: opts.markReplay ?? false,
        maxInstruments: this.maxInstruments,
        ...(opts.onAlert ? { onAlert: opts.onAlert } : {}),
      },
    );
    this.aggregates = new AggregateBook(opts.aggregate ?? true, this.intel);
    this.publisher = new SnapshotPublisher({
      bus,
      logger,
      intel: this.intel,
      aggregates: this.aggregates,
      counters: this.counters,
      ...(opts.onPublished ? { onPublished: opts.onPublished } : {}),
    });
  }

  /** Alerts fired per rule (`--replay … --report`). */
  get alertsByKind(): Partial<Record<AlertKind, number>> {
    return this.rules.alertsByKind;
  }

  /**
   * The thresholds chats asked for (`pulse:alert-levels`): from the next evaluation on, each level
   * kind also runs at these (see AlertRulesConfig.chatLevels). Unchanged levels change nothing.
   */
  setAlertLevels(levels: AlertLevels): void {
    this.rules.setAlertLevels(levels);
  }

  /** Starts the publish timer. */
  start(): void {
    if (this.timer || this.closed) return;
    this.timer = setInterval(() => {
      if (!this.publisher.inProgress) void this.publishDirty();
    }, this.opts.publishIntervalMs);
  }

  handle(ev: FeedEvent): void {
    if (ev.type === 'status') {
      this.counters.statusEvents++;
      if (ev.kind === 'gap' && ev.gap) {
        for (const instrument of ev.gap.instruments) {
          const t = this.instruments.get(ev.venue)?.get(instrument);
          if (t) markGap(t.state);
        }
      }
      return;
    }
    this.onMarket(ev);
  }

  private onMarket(ev: MarketEvent): void {
    this.counters.events++;
    let t = this.instruments.get(ev.venue)?.get(ev.instrument);
    if (!t) {
      if (this.instrumentTotal >= this.maxInstruments) {
        this.counters.droppedInstruments++;
        return;
      }
      t = this.register(createInstrumentState(ev.venue, ev.symbol, ev.instrument));
    }
    const state = t.state;
    const bucketBefore = state.window15m.currentBucket;
    const changed = applyMarketEvent(state, ev);
    // Time moving on alone also moves the windows' reference points (one 9 s step at a time):
    // the snapshot and the rule must follow it even when no value changed.
    const stepped = !Object.is(state.window15m.currentBucket, bucketBefore);
    if (!changed && !stepped) return;
    this.publisher.markDirty(t);
    const ruleStep = Math.floor(state.lastEventTs / RULE_STEP_MS);
    if (ruleStep !== t.ruleStep) {
      // Every rule runs once per minute of event time per instrument (and once per half minute of
      // its symbol's aggregate): the same alerts whatever the wall-clock pace, so a replay at max
      // speed fires what live did. The 15m OI rule also runs between steps (below).
      t.ruleStep = ruleStep;
      const snapshot = toSnapshot(state, this.intel);
      this.aggregates.keepStepSnapshot(t, snapshot);
      this.rules.evaluate(snapshot, state);
      const all = this.aggregates.stepAggregate(state.symbol, state.lastEventTs);
      if (all !== null) this.rules.evaluate(all, null);
      return;
    }
    if (ev.oiBase === undefined) return;
    // Between steps, a cheap pre-check on the 15m window; the snapshot is built only when the OI rule may fire.
    if (state.oiBase === null || state.markPrice === null) return;
    const pct = oiDeltaPct(state.window15m, state.lastEventTs, state.oiBase);
    if (pct === null) return;
    if (this.rules.oiMayFire(state, pct)) this.rules.evaluate(toSnapshot(state, this.intel), state);
  }

  /** Adds a new instrument to both indexes (the caller checked the bound). */
  private register(state: InstrumentState): TrackedInstrument {
    let byInstrument = this.instruments.get(state.venue);
    if (!byInstrument) {
      byInstrument = new Map();
      this.instruments.set(state.venue, byInstrument);
    }
    const t: TrackedInstrument = { state, ruleStep: Number.NaN, dirty: false, stepSnapshot: null };
    byInstrument.set(state.instrument, t);
    this.instrumentTotal++;
    this.aggregates.add(t);
    return t;
  }

  /** One publish: the rule states changed without an alert, then the dirty instruments' snapshots. */
  private publishDirty(): Promise<void> {
    this.rules.savePending();
    return this.publisher.publish();
  }

  /** The `all` snapshot of one symbol from its latest state on every venue. */
  aggregateOf(symbol: string): SnapshotJson | null {
    return this.aggregates.aggregateOf(symbol);
  }

  /**
   * Publishes every pending snapshot and waits for alerts in flight. Waits out the rest of the
   * current interval first, so even the last snapshots keep the one-per-interval promise.
   */
  async flush(): Promise<void> {
    let publishing = this.publisher.inProgress;
    if (publishing) await publishing;
    const waitMs = this.publisher.lastPublishWallTs + this.opts.publishIntervalMs - Date.now();
    if (this.publisher.pending > 0 && waitMs > 0) await new Promise((r) => setTimeout(r, waitMs));
    publishing = this.publisher.inProgress;
    if (publishing) await publishing;
    await this.publishDirty();
    await this.rules.settled();
  }

  /** Every instrument's state as checkpoint documents (see analytics/checkpoint.ts). */
  checkpoint(): { id: string; json: string }[] {
    const out: { id: string; json: string }[] = [];
    for (const [venue, byInstrument] of this.instruments) {
      for (const [instrument, t] of byInstrument) {
        out.push({ id: `${venue}:${instrument}`, json: JSON.stringify(checkpointInstrument(t.state)) });
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
      if (!state || this.instrumentTotal >= this.maxInstruments) continue;
      if (this.instruments.get(state.venue)?.has(state.instrument)) continue;
      this.register(state);
      restored++;
    }
    return restored;
  }

  /** Resumes the alert engine from `pulse:alert-state` entries; returns how many were applied. */
  restoreAlertState(entries: readonly string[]): number {
    return this.rules.restore(entries);
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
    let t = this.instruments.get(venue)?.get(instrument);
    if (!t) {
      if (this.instrumentTotal >= this.maxInstruments) return 0;
      t = this.register(createInstrumentState(venue, symbol, instrument));
    }
    const used = applyHistory(t.state, points);
    if (used > 0) this.publisher.markDirty(t);
    return used;
  }

  /** Whether the instrument's 24 h window does not reach back a full day before `nowTs` (history would help). */
  needsHistory(venue: string, instrument: string, nowTs: number): boolean {
    const w = this.instruments.get(venue)?.get(instrument)?.state.window24h;
    if (!w || w.observationCount === 0) return true;
    return w.firstTs > nowTs - w.windowMs;
  }

  instrumentCount(): number {
    return this.instrumentTotal;
  }

  /** Idempotent: stops the timer after a final flush; every call resolves when that flush is done. */
  close(): Promise<void> {
    this.closing ??= (async () => {
      this.closed = true;
      clearInterval(this.timer);
      this.timer = undefined;
      await this.flush();
    })();
    return this.closing;
  }
}
