import type { Logger } from 'pino';
import type { Subscription } from 'rxjs';
import type { Bus } from '../bus/types.js';
import type { FeedEvent, RawFrame } from '../domain/types.js';
import type { VenueAdapter } from '../streams/core/adapter.js';
import type { FeedConnection } from '../streams/core/connection.js';
import { RestPoller } from '../streams/core/rest-poller.js';
import type { UniverseEntry, UniverseWant } from '../streams/core/universe.js';
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
}

/**
 * One venue at run time: its universe (refreshed periodically), its connections (as many as the
 * adapter's per-connection limit requires) and its REST poller, if it needs one.
 */
export class VenueRuntime {
  private entries: UniverseEntry[] = [];
  /** Instruments per connection; a connection reads its chunk on every (re)connect. */
  private readonly chunks: string[][] = [];
  private readonly conns: FeedConnection[] = [];
  private readonly subscriptions: Subscription[] = [];
  private poller: RestPoller | undefined;
  private refreshTimer: NodeJS.Timeout | undefined;
  private readonly abort = new AbortController();
  private readonly ctx: VenueContext;
  /** One adapter per venue: connections and the poller share it (Binance keeps funding intervals in it). */
  private adapter: VenueAdapter | undefined;

  constructor(private readonly opts: VenueRuntimeOptions) {
    this.ctx = { wsUrl: opts.wsUrl, restUrl: opts.restUrl, universe: () => this.entries };
  }

  get venue() {
    return this.opts.module.id;
  }

  connections(): readonly FeedConnection[] {
    return this.conns;
  }

  universe(): readonly UniverseEntry[] {
    return this.entries;
  }

  /** The REST poller's counters, when the venue polls. */
  restCounters(): RestPoller['counters'] | undefined {
    return this.poller?.counters;
  }

  /** Resolves the universe (retrying until the venue answers or close()), then connects. */
  async start(): Promise<void> {
    const { module, logger } = this.opts;
    this.entries = await resolveUniverse(
      module.fetchUniverse,
      this.opts.restUrl,
      this.opts.want,
      logger,
      this.abort.signal,
    );
    if (this.abort.signal.aborted) return;
    await this.publishTracked();
    const adapter = module.createAdapter(this.ctx);
    this.adapter = adapter;
    const per = adapter.maxInstrumentsPerConnection;
    for (let i = 0; i < this.entries.length; i += per) {
      this.chunks.push(this.entries.slice(i, i + per).map((e) => e.instrument));
    }
    for (let i = 0; i < this.chunks.length; i++) {
      if (i > 0 && this.opts.connectStaggerMs)
        await new Promise((r) => setTimeout(r, this.opts.connectStaggerMs));
      if (this.abort.signal.aborted) return;
      this.openConnection(i);
    }
    const plan = module.createRestPlan?.(this.ctx);
    if (plan && this.entries.length > 0) {
      this.poller = new RestPoller({
        plan,
        parser: adapter.createParser(),
        logger: logger.child({ component: 'rest' }),
        onEvent: this.opts.onEvent,
        ...(this.opts.onRawFrame ? { onRawFrame: this.opts.onRawFrame } : {}),
      });
      this.poller.start();
    }
    this.refreshTimer = setInterval(() => void this.refresh(), this.opts.universeRefreshMs);
  }

  private openConnection(index: number): void {
    const events$ = feed$(
      {
        adapter: this.adapter ?? this.opts.module.createAdapter(this.ctx),
        instruments: () => this.chunks[index] ?? [],
        staleAfterMs: this.opts.staleAfterMs,
        logger: this.opts.logger.child({ connection: index }),
        ...(this.opts.onRawFrame ? { onRawFrame: this.opts.onRawFrame } : {}),
      },
      (conn) => {
        this.conns[index] = conn;
      },
    );
    this.subscriptions.push(events$.subscribe(this.opts.onEvent));
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
    let listing: Awaited<ReturnType<typeof module.fetchUniverse>>;
    try {
      listing = await module.fetchUniverse(this.opts.restUrl, this.opts.want);
    } catch (err) {
      logger.warn({ message: (err as Error).message }, 'universe refresh failed; keeping the current one');
      return;
    }
    if (this.abort.signal.aborted) return;
    const next = listing.entries;
    const nextIds = new Set(next.map((e) => e.instrument));
    const known = new Set(this.entries.map((e) => e.instrument));
    const added = next.filter((e) => !known.has(e.instrument)).map((e) => e.instrument);
    const removed = this.entries.filter((e) => !nextIds.has(e.instrument)).map((e) => e.instrument);
    this.entries = [...next];
    if (added.length === 0 && removed.length === 0) return;
    logger.info({ added, removed }, 'universe changed');
    const per = (this.adapter ?? module.createAdapter(this.ctx)).maxInstrumentsPerConnection;
    for (const chunk of this.chunks) {
      for (let i = chunk.length - 1; i >= 0; i--) if (!nextIds.has(chunk[i]!)) chunk.splice(i, 1);
    }
    for (const instrument of added) {
      let index = this.chunks.findIndex((c) => c.length < per);
      if (index < 0) {
        index = this.chunks.push([]) - 1;
      }
      this.chunks[index]!.push(instrument);
    }
    for (let i = 0; i < this.chunks.length; i++) {
      if (this.conns[i]) this.conns[i]!.syncSubscriptions();
      else this.openConnection(i);
    }
    await this.publishTracked();
  }

  /** Idempotent: stops the refresh, the poller and every connection. */
  async close(): Promise<void> {
    this.abort.abort();
    clearInterval(this.refreshTimer);
    for (const s of this.subscriptions) s.unsubscribe();
    await Promise.all([...this.conns.map((c) => c.close()), this.poller?.close()]);
  }
}
