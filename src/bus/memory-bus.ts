import { type AlertLevels, parseAlertLevels, stringifyAlertLevels } from '../domain/alert-levels.js';
import type { AlertJson, SnapshotJson } from '../domain/types.js';
import { latestKey } from './keys.js';
import type { AlertStateEntry, Bus, FeedHealthJson } from './types.js';

/**
 * The in-process bus used when no Redis is available: keeps the latest snapshot per
 * instrument and the last alerts in memory, for the bot in the same process. Like the alert stream,
 * it takes each alert id once: an id among the last `maxRecentIds` published is skipped.
 */
export class MemoryBus implements Bus {
  readonly kind = 'memory' as const;
  private readonly latestByKey = new Map<string, SnapshotJson>();
  private readonly symbols = new Map<string, string[]>();
  private readonly alerts: AlertJson[] = [];
  /** Ids published, oldest first (a Set keeps insertion order): bounded by `maxRecentIds`. */
  private readonly recentIds = new Set<string>();
  /** Alerts skipped because their id was published before (the same counter as `RedisBus`'s). */
  readonly counters = { alertsDuplicate: 0 };

  constructor(
    private readonly maxAlerts = 1000,
    private readonly maxRecentIds = 10_000,
  ) {}

  async publishSnapshots(snapshots: readonly SnapshotJson[]): Promise<number> {
    for (const s of snapshots) this.latestByKey.set(latestKey(s.venue, s.symbol), s);
    return snapshots.length;
  }

  async ready(): Promise<void> {}

  private readonly alertState = new Map<string, string>();

  async publishAlert(alert: AlertJson, state: readonly AlertStateEntry[] = []): Promise<void> {
    // Rule state is stored either way, as RedisBus does: it is idempotent.
    await this.saveAlertState(state);
    if (this.recentIds.has(alert.id)) {
      this.counters.alertsDuplicate++;
      return;
    }
    this.recentIds.add(alert.id);
    if (this.recentIds.size > this.maxRecentIds) {
      this.recentIds.delete(this.recentIds.values().next().value as string);
    }
    this.alerts.push(alert);
    if (this.alerts.length > this.maxAlerts) this.alerts.shift();
  }

  async saveAlertState(state: readonly AlertStateEntry[]): Promise<void> {
    for (const e of state) this.alertState.set(e.key, e.json);
  }

  async loadAlertState(): Promise<string[]> {
    return [...this.alertState.values()];
  }

  recentAlerts(): readonly AlertJson[] {
    return this.alerts;
  }

  async latest(venue: string, symbol: string): Promise<SnapshotJson | null> {
    return this.latestByKey.get(latestKey(venue, symbol)) ?? null;
  }

  async latestMany(venue: string, symbols: readonly string[]): Promise<(SnapshotJson | null)[]> {
    return symbols.map((s) => this.latestByKey.get(latestKey(venue, s)) ?? null);
  }

  private readonly statuses = new Map<string, FeedHealthJson>();

  async publishFeedStatus(statuses: readonly FeedHealthJson[]): Promise<void> {
    for (const s of statuses) this.statuses.set(`${s.venue}@${s.shard}`, s);
  }

  async feedStatus(): Promise<FeedHealthJson[]> {
    return [...this.statuses.values()].sort(
      (a, b) => a.venue.localeCompare(b.venue) || a.shard.localeCompare(b.shard),
    );
  }

  async trackedSymbols(venue: string): Promise<string[]> {
    return [...(this.symbols.get(venue) ?? [])].sort();
  }

  async setTrackedSymbols(venue: string, symbols: readonly string[]): Promise<void> {
    this.symbols.set(venue, [...symbols]);
  }

  private levelsJson: string | null = null;

  async publishAlertLevels(levels: AlertLevels): Promise<void> {
    this.levelsJson = stringifyAlertLevels(levels);
  }

  async alertLevels(): Promise<AlertLevels> {
    return parseAlertLevels(this.levelsJson);
  }

  private readonly checkpoints = new Map<string, string[]>();

  async saveCheckpoint(key: string, documents: readonly { id: string; json: string }[]): Promise<void> {
    this.checkpoints.set(
      key,
      documents.map((d) => d.json),
    );
  }

  async loadCheckpoint(key: string): Promise<string[]> {
    return this.checkpoints.get(key) ?? [];
  }

  async close(): Promise<void> {}
}
