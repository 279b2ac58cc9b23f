import type { Logger } from 'pino';
import { createAlertState, evaluateOiChange15m, type OiAlertConfig } from '../analytics/alerts.js';
import {
  checkpointInstrument,
  type InstrumentCheckpoint,
  restoreInstrument,
} from '../analytics/checkpoint.js';
import {
  applyMarketEvent,
  createInstrumentState,
  type InstrumentState,
  markGap,
  toSnapshot,
} from '../analytics/instrument.js';
import { oiDelta } from '../analytics/window.js';
import type { Bus } from '../bus/types.js';
import type { AlertJson, FeedEvent, MarketEvent } from '../domain/types.js';

export interface PipelineOptions {
  readonly bus: Bus;
  readonly alertRule: OiAlertConfig;
  /** At most one snapshot per instrument per interval reaches the bus. */
  readonly publishIntervalMs: number;
  readonly logger: Logger;
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
  publishErrors: number;
}

/**
 * Event-time analytics per instrument, throttled snapshot publishing, and the alert rule.
 * Analytics are pure functions (src/analytics); this class only keeps their state and does the I/O.
 */
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
    publishErrors: 0,
  };
  /** venue → venue instrument id → state. */
  private readonly instruments = new Map<string, Map<string, InstrumentState>>();
  private instrumentTotal = 0;
  private readonly dirty = new Set<InstrumentState>();
  private readonly alertState = createAlertState();
  private readonly pendingAlerts = new Set<Promise<void>>();
  private timer: NodeJS.Timeout | undefined;
  private publishing: Promise<void> | null = null;
  private lastPublishWallTs = 0;
  private closed = false;

  constructor(private readonly opts: PipelineOptions) {}

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
      byInstrument.set(ev.instrument, state);
      this.instrumentTotal++;
    }
    const bucketBefore = state.window15m.currentBucket;
    const changed = applyMarketEvent(state, ev);
    // Time moving on alone also moves the windows' reference points (one 9 s step at a time):
    // the snapshot and the rule must follow it even when no value changed.
    const stepped = !Object.is(state.window15m.currentBucket, bucketBefore);
    if (!changed && !stepped) return;
    this.dirty.add(state);
    if (ev.oiBase === undefined && !stepped) return;
    // Cheap pre-check on the 15m window; the full snapshot is built only when the rule may fire.
    if (state.oiBase === null || state.markPrice === null) return;
    const delta = oiDelta(state.window15m, state.lastEventTs, state.oiBase, state.markPrice);
    if (delta === null || Math.abs(delta.pct) < this.opts.alertRule.oiAlertPct15m) return;
    const alert = evaluateOiChange15m(this.alertState, toSnapshot(state), this.opts.alertRule);
    if (alert) this.fire(alert);
  }

  private fire(alert: AlertJson): void {
    this.counters.alertsFired++;
    const p = this.opts.bus
      .publishAlert(alert)
      .catch((err: Error) => {
        this.counters.publishErrors++;
        this.opts.logger.error({ err, alertId: alert.id }, 'alert publish failed');
      })
      .finally(() => this.pendingAlerts.delete(p));
    this.pendingAlerts.add(p);
    this.opts.onAlert?.(alert);
  }

  /**
   * Publishes the dirty instruments in slices of `PUBLISH_SLICE`, yielding to the event loop
   * between them: one big batch (1,500 snapshots to stringify and encode) would hold up frames
   * and alerts for milliseconds.
   */
  private publishDirty(): Promise<void> {
    if (this.dirty.size === 0 || this.publishing) return this.publishing ?? Promise.resolve();
    const states = [...this.dirty];
    this.dirty.clear();
    this.lastPublishWallTs = Date.now();
    this.publishing = (async () => {
      for (let i = 0; i < states.length; i += PUBLISH_SLICE) {
        const batch = states.slice(i, i + PUBLISH_SLICE).map(toSnapshot);
        const startedAt = performance.now();
        try {
          const written = await this.opts.bus.publishSnapshots(batch);
          this.opts.onPublished?.(performance.now() - startedAt, written);
          this.counters.snapshotsPublished += written;
          this.counters.snapshotsDropped += batch.length - written;
        } catch (err) {
          this.counters.publishErrors++;
          this.opts.logger.warn({ err }, 'snapshot publish failed');
        }
        if (i + PUBLISH_SLICE < states.length) await new Promise((r) => setImmediate(r));
      }
    })().finally(() => {
      this.publishing = null;
    });
    return this.publishing;
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
      let byInstrument = this.instruments.get(state.venue);
      if (!byInstrument) {
        byInstrument = new Map();
        this.instruments.set(state.venue, byInstrument);
      }
      if (byInstrument.has(state.instrument)) continue;
      byInstrument.set(state.instrument, state);
      this.instrumentTotal++;
      restored++;
    }
    return restored;
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
