import { setTimeout as sleep } from 'node:timers/promises';
import type { Logger } from 'pino';
import type { Subscription } from 'rxjs';
import type { Bus } from '../bus/types.js';
import type { FeedEvent, RawFrame } from '../domain/types.js';
import type { RestPollPlan, VenueAdapter } from '../streams/core/adapter.js';
import type { FeedConnection } from '../streams/core/connection.js';
import { RestPoller } from '../streams/core/rest-poller.js';
import { inShard, type Shard, type UniverseEntry, type UniverseWant } from '../streams/core/universe.js';
import { feed$ } from '../streams/feed.js';
import type { VenueContext, VenueModule } from '../streams/venues/registry.js';
import { resolveUniverse } from './universe.js';

export interface VenueRuntimeOptions {
  readonly module: VenueModule;
  readonly wsUrl: string;
  readonly restUrl: string;
  readonly want: UniverseWant;
  readonly universeRefreshMs: number;
  readonly staleAfterMs: number;
  readonly bus: Pick<Bus, 'setTrackedSymbols'>;
  readonly logger: Logger;
  readonly onEvent: (event: FeedEvent) => void;
  readonly onRawFrame?: (frame: RawFrame) => void;
  /** Pause between opening two connections (OKX allows 3 connection requests per second per IP). */
  readonly connectStaggerMs?: number;
  /** Follow only this shard of the venue's universe. */
  readonly shard?: Shard | null;
}

/** One connection and the instruments it carries (read on every (re)connect). */
interface Slot {
  readonly instruments: string[];
  conn?: FeedConnection;
  sub?: Subscription;
}

/**
 * One venue at run time: its universe (refreshed periodically), its connections (as many as the
 * adapter's per-connection limit requires) and its REST poller, if it needs one.
 */
export class VenueRuntime {
  private entries: UniverseEntry[] = [];
  private readonly slots: Slot[] = [];
  private poller: RestPoller | undefined;
  /** Polls the long/short statistics, where the venue publishes them. */
  private longShortPoller: RestPoller | undefined;
  private refreshTimer: NodeJS.Timeout | undefined;
  private readonly abort = new AbortController();
  private readonly ctx: VenueContext & { readonly universe: () => readonly UniverseEntry[] };
  /** One adapter per venue: connections and the poller share it (Binance keeps funding intervals in it). */
  private adapter: VenueAdapter | undefined;
  private connectChain: Promise<void> = Promise.resolve();

  constructor(private readonly opts: VenueRuntimeOptions) {
    this.ctx = { wsUrl: opts.wsUrl, restUrl: opts.restUrl, universe: () => this.entries };
  }

  get venue() {
    return this.opts.module.id;
  }

  connections(): readonly FeedConnection[] {
    return this.slots.flatMap((s) => (s.conn ? [s.conn] : []));
  }

  universe(): readonly UniverseEntry[] {
    return this.entries;
  }

  /** The REST poller's counters, when the venue polls. */
  restCounters(): RestPoller['counters'] | undefined {
    return this.poller?.counters;
  }

  /** The long/short poller's counters, when the venue publishes the statistics. */
  longShortCounters(): RestPoller['counters'] | undefined {
    return this.longShortPoller?.counters;
  }

  /** Resolves the universe (retrying until the venue answers or close()), then connects. */
  async start(): Promise<void> {
    const { module, logger } = this.opts;
    this.entries = this.mine(
      await resolveUniverse(
        module.fetchUniverse,
        this.opts.restUrl,
        this.opts.want,
        logger,
        this.abort.signal,
      ),
    );
    if (this.abort.signal.aborted) return;
    await this.publishTracked();
    if (this.abort.signal.aborted) return;
    const adapter = module.createAdapter(this.ctx);
    this.adapter = adapter;
    this.place(this.entries.map((e) => e.instrument));
    this.openMissing();
    // Even with an empty universe: a refresh may add instruments, and the plans follow it.
    this.poller = this.startPoller(module.createRestPlan?.(this.ctx), adapter, 'rest');
    this.longShortPoller = this.startPoller(module.createLongShortPlan?.(this.ctx), adapter, 'long-short');
    this.refreshTimer = setInterval(() => void this.refresh(), this.opts.universeRefreshMs);
  }

  private startPoller(
    plan: RestPollPlan | undefined,
    adapter: VenueAdapter,
    component: string,
  ): RestPoller | undefined {
    if (!plan) return undefined;
    const poller = new RestPoller({
      plan,
      parser: adapter.createParser(),
      logger: this.opts.logger.child({ component }),
      onEvent: this.opts.onEvent,
      ...(this.opts.onRawFrame ? { onRawFrame: this.opts.onRawFrame } : {}),
    });
    poller.start();
    return poller;
  }

  private mine(entries: readonly UniverseEntry[]): UniverseEntry[] {
    return entries.filter((e) => inShard(this.opts.shard, this.venue, e.symbol));
  }

  /** Puts instruments into slots with room, adding slots at the adapter's per-connection limit. */
  private place(instruments: readonly string[]): void {
    const per = this.adapter!.maxInstrumentsPerConnection;
    for (const instrument of instruments) {
      let slot = this.slots.find((s) => s.instruments.length < per);
      if (!slot) {
        slot = { instruments: [] };
        this.slots.push(slot);
      }
      slot.instruments.push(instrument);
    }
  }

  /** Opens a connection for every slot without one, one at a time, `connectStaggerMs` apart. */
  private openMissing(): void {
    for (const slot of this.slots) {
      if (slot.conn || slot.instruments.length === 0) continue;
      const index = this.slots.indexOf(slot);
      this.connectChain = this.connectChain.then(async () => {
        if (this.abort.signal.aborted || slot.sub || !this.slots.includes(slot)) return;
        this.open(slot, index);
        if (this.opts.connectStaggerMs) {
          await sleep(this.opts.connectStaggerMs, undefined, { signal: this.abort.signal }).catch(() => {});
        }
      });
    }
  }

  private open(slot: Slot, index: number): void {
    const events$ = feed$(
      {
        adapter: this.adapter!,
        instruments: () => slot.instruments,
        staleAfterMs: this.opts.staleAfterMs,
        logger: this.opts.logger.child({ connection: index }),
        ...(this.opts.onRawFrame ? { onRawFrame: this.opts.onRawFrame } : {}),
      },
      (conn) => {
        slot.conn = conn;
      },
    );
    slot.sub = events$.subscribe(this.opts.onEvent);
  }

  private async publishTracked(): Promise<void> {
    await this.opts.bus
      .setTrackedSymbols(
        this.venue,
        this.entries.map((e) => e.symbol),
      )
      .catch((err: Error) => this.opts.logger.warn({ err }, 'could not store the tracked symbol list'));
  }

  /** Picks up listings and delistings without reconnecting the instruments that stay. */
  async refresh(): Promise<void> {
    const { module, logger } = this.opts;
    if (!this.adapter) return;
    let listing: Awaited<ReturnType<typeof module.fetchUniverse>>;
    try {
      listing = await module.fetchUniverse(this.opts.restUrl, this.opts.want);
    } catch (err) {
      logger.warn({ message: (err as Error).message }, 'universe refresh failed; keeping the current one');
      return;
    }
    if (this.abort.signal.aborted) return;
    const next = this.mine(listing.entries);
    const nextIds = new Set(next.map((e) => e.instrument));
    const known = new Set(this.entries.map((e) => e.instrument));
    const added = next.filter((e) => !known.has(e.instrument)).map((e) => e.instrument);
    const removed = this.entries.filter((e) => !nextIds.has(e.instrument)).map((e) => e.instrument);
    this.entries = [...next];
    if (added.length === 0 && removed.length === 0) return;
    logger.info({ added, removed }, 'universe changed');
    for (const slot of this.slots) {
      for (let i = slot.instruments.length - 1; i >= 0; i--) {
        if (!nextIds.has(slot.instruments[i]!)) slot.instruments.splice(i, 1);
      }
    }
    // A connection left with nothing to carry is closed, not kept reconnecting to silence.
    for (let i = this.slots.length - 1; i >= 0; i--) {
      const slot = this.slots[i]!;
      if (slot.instruments.length > 0) continue;
      this.slots.splice(i, 1);
      slot.sub?.unsubscribe();
      await slot.conn?.close();
    }
    this.place(added);
    for (const slot of this.slots) slot.conn?.syncSubscriptions();
    this.openMissing();
    await this.publishTracked();
  }

  /** Idempotent: stops the refresh, the poller and every connection. */
  async close(): Promise<void> {
    this.abort.abort();
    clearInterval(this.refreshTimer);
    for (const s of this.slots) s.sub?.unsubscribe();
    await Promise.all([
      ...this.slots.map((s) => s.conn?.close()),
      this.poller?.close(),
      this.longShortPoller?.close(),
    ]);
  }
}
