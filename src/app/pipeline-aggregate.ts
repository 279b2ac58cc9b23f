import { aggregateSnapshots } from '../analytics/aggregate.js';
import { toSnapshot } from '../analytics/instrument.js';
import type { IntelConfig } from '../analytics/intel-config.js';
import type { SnapshotJson } from '../domain/types.js';
import type { TrackedInstrument } from './pipeline-publish.js';

/** The aggregate's rules run once per this much event time per symbol. */
const AGGREGATE_STEP_MS = 30_000;

/**
 * The cross-venue bookkeeping: each symbol's instruments on every venue, the snapshot each one
 * built at its latest rule step, and the aggregate's own rule steps. A symbol seen on one venue
 * only has no aggregate.
 */
export class AggregateBook {
  /** SYMBOL → its instruments on every venue. */
  private readonly bySymbol = new Map<string, TrackedInstrument[]>();
  /** Last aggregate rule step (half minute of event time) per symbol. */
  private readonly steps = new Map<string, number>();

  constructor(
    /** False: no aggregate is published or evaluated (nothing is kept). */
    readonly enabled: boolean,
    private readonly intel: IntelConfig,
  ) {}

  add(t: TrackedInstrument): void {
    const siblings = this.bySymbol.get(t.state.symbol);
    if (siblings) siblings.push(t);
    else this.bySymbol.set(t.state.symbol, [t]);
  }

  /** Whether `symbol` has an aggregate: enabled, and seen on two or more venues. */
  has(symbol: string): boolean {
    return this.enabled && (this.bySymbol.get(symbol)?.length ?? 0) > 1;
  }

  /** Keeps the snapshot of `state`'s rule step for its aggregate (a retained snapshot is old-space garbage: only where needed). */
  keepStepSnapshot(t: TrackedInstrument, snapshot: SnapshotJson): void {
    if (this.has(t.state.symbol)) t.stepSnapshot = snapshot;
  }

  /** The `all` snapshot of one symbol from its latest state on every venue. */
  aggregateOf(symbol: string): SnapshotJson | null {
    const states = this.bySymbol.get(symbol);
    if (!states || states.length < 2) return null;
    return aggregateSnapshots(
      symbol,
      states.map((t) => toSnapshot(t.state, this.intel)),
      this.intel,
    );
  }

  /**
   * The aggregate to run the rules on at event time `ts`, once per half minute of event time per
   * symbol, from each venue's snapshot of its latest rule step (event time only: a replay
   * evaluates exactly what live did); null when it is not this symbol's step or no aggregate.
   */
  stepAggregate(symbol: string, ts: number): SnapshotJson | null {
    if (!this.enabled) return null;
    const states = this.bySymbol.get(symbol);
    if (!states || states.length < 2) return null;
    const step = Math.floor(ts / AGGREGATE_STEP_MS);
    if (step <= (this.steps.get(symbol) ?? Number.NEGATIVE_INFINITY)) return null;
    this.steps.set(symbol, step);
    const snapshots: SnapshotJson[] = [];
    for (const t of states) if (t.stepSnapshot !== null) snapshots.push(t.stepSnapshot);
    if (snapshots.length < 2) return null;
    return aggregateSnapshots(symbol, snapshots, this.intel);
  }
}
