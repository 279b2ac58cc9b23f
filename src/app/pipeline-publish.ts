import type { Logger } from 'pino';
import { type InstrumentState, toSnapshot } from '../analytics/instrument.js';
import type { IntelConfig } from '../analytics/intel-config.js';
import type { Bus } from '../bus/types.js';
import type { SnapshotJson } from '../domain/types.js';
import type { AggregateBook } from './pipeline-aggregate.js';

/** Snapshots per Redis round trip when publishing (small: each slice blocks the event loop ~0.35 ms). */
const PUBLISH_SLICE = 25;

export interface SnapshotPublisherDeps {
  readonly bus: Bus;
  readonly logger: Logger;
  readonly intel: IntelConfig;
  readonly aggregates: AggregateBook;
  readonly counters: {
    snapshotsPublished: number;
    snapshotsDropped: number;
    aggregatesPublished: number;
    publishErrors: number;
  };
  /** Told how long each snapshot batch took to publish (for the latency histogram). */
  readonly onPublished?: (durationMs: number, snapshots: number) => void;
}

/** The pipeline's record of one instrument: its analytics state and what the pipeline keeps beside it. */
export interface TrackedInstrument {
  readonly state: InstrumentState;
  /** Last rule step (minute of event time); NaN before the first. */
  ruleStep: number;
  /** Changed since the last publish (listed once in the publisher's queue). */
  dirty: boolean;
  /** The snapshot of its latest rule step, kept only where an aggregate needs it (see AggregateBook). */
  stepSnapshot: SnapshotJson | null;
}

const turn = () => new Promise<void>((resolve) => setImmediate(resolve));

/**
 * The publish side: instruments that changed since the last publish, and one publish of their
 * snapshots (and their symbols' aggregates) at a time, in slices that yield to the event loop.
 */
export class SnapshotPublisher {
  /** Changed since the last publish, in the order they first changed (a flag on each, not a Set: one check per event). */
  private dirty: TrackedInstrument[] = [];
  private publishing: Promise<void> | null = null;
  /** Wall-clock time the last publish started. */
  lastPublishWallTs = 0;

  constructor(private readonly deps: SnapshotPublisherDeps) {}

  markDirty(t: TrackedInstrument): void {
    if (t.dirty) return;
    t.dirty = true;
    this.dirty.push(t);
  }

  get pending(): number {
    return this.dirty.length;
  }

  /** The publish in progress, if any. */
  get inProgress(): Promise<void> | null {
    return this.publishing;
  }

  /**
   * Publishes the dirty instruments in slices of `PUBLISH_SLICE`, yielding to the event loop
   * between them: one big batch (1,500 snapshots to stringify and encode) would hold up frames
   * and alerts for milliseconds. Returns the publish in progress when one is.
   */
  publish(): Promise<void> {
    if (this.dirty.length === 0 || this.publishing) return this.publishing ?? Promise.resolve();
    const states = this.dirty;
    this.dirty = [];
    for (const t of states) t.dirty = false;
    this.lastPublishWallTs = Date.now();
    this.publishing = this.publishStates(states).finally(() => {
      this.publishing = null;
    });
    return this.publishing;
  }

  private async publishStates(states: readonly TrackedInstrument[]): Promise<void> {
    const { aggregates, intel } = this.deps;
    // Symbols whose aggregate must be recomputed: any of their venues changed.
    const symbols = new Set<string>();
    for (let i = 0; i < states.length; i += PUBLISH_SLICE) {
      const batch: SnapshotJson[] = [];
      const end = Math.min(states.length, i + PUBLISH_SLICE);
      for (let j = i; j < end; j++) {
        const { state } = states[j]!;
        batch.push(toSnapshot(state, intel));
        if (aggregates.has(state.symbol)) symbols.add(state.symbol);
      }
      await this.publishBatch(batch);
      if (end < states.length) await turn();
    }
    if (symbols.size === 0) return;
    const list = [...symbols];
    for (let i = 0; i < list.length; i += PUBLISH_SLICE) {
      const batch: SnapshotJson[] = [];
      for (const symbol of list.slice(i, i + PUBLISH_SLICE)) {
        const snapshot = aggregates.aggregateOf(symbol);
        if (snapshot !== null) batch.push(snapshot);
      }
      this.deps.counters.aggregatesPublished += await this.publishBatch(batch);
      await turn();
    }
  }

  private async publishBatch(batch: readonly SnapshotJson[]): Promise<number> {
    if (batch.length === 0) return 0;
    const { counters } = this.deps;
    const startedAt = performance.now();
    try {
      const written = await this.deps.bus.publishSnapshots(batch);
      this.deps.onPublished?.(performance.now() - startedAt, written);
      counters.snapshotsPublished += written;
      counters.snapshotsDropped += batch.length - written;
      return written;
    } catch (err) {
      counters.publishErrors++;
      this.deps.logger.warn({ err }, 'snapshot publish failed');
      return 0;
    }
  }
}
