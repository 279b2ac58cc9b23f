import { setTimeout as sleep } from 'node:timers/promises';
import type { Logger } from 'pino';
import type { FeedEvent, FeedStatusKind, RawFrame } from '../../domain/types.js';
import type { FrameParser, RestPollPlan, RestRequest } from './adapter.js';
import { parseFrame } from './parse.js';

export interface RestPollerOptions {
  readonly plan: RestPollPlan;
  /** Parses response bodies (called with `source` = the request path). */
  readonly parser: FrameParser;
  readonly logger: Logger;
  readonly onEvent: (event: FeedEvent) => void;
  /** Receives every response body as a recording line with `source` set (for `--record`). */
  readonly onRawFrame?: (frame: RawFrame) => void;
  readonly timeoutMs?: number;
  /** Default `plan.clock`'s, else `Date.now`. */
  readonly now?: () => number;
  /** Length of the budget window; the venues count per minute (tests shorten it). */
  readonly windowMs?: number;
  /** An instrument unrefreshed for longer than this (and 3 cycles) is reported as a gap. Default 60 s. */
  readonly gapAfterMs?: number;
}

export interface RestPollerCounters {
  requests: number;
  responses: number;
  events: number;
  errors: number;
  parseErrors: number;
  /** 429 answers: the venue says we are over its limit. */
  rateLimited: number;
  /** 418 answers: the venue banned the IP for a while (Binance, after ignoring 429s). */
  banned: number;
  /** Times a request waited for our own weight budget or the venue's reported usage. */
  budgetWaits: number;
}

/**
 * Polls a venue's REST-only data in cycles, inside an explicit weight budget: our own rolling
 * minute (`weightPerMinute`), the venue's own count when it reports one (`usedWeightHeader`), and
 * `Retry-After` on 429/418. Never more than one request in flight.
 */
export class RestPoller {
  readonly counters: RestPollerCounters = {
    requests: 0,
    responses: 0,
    events: 0,
    errors: 0,
    parseErrors: 0,
    rateLimited: 0,
    banned: 0,
    budgetWaits: 0,
  };
  /** Weight spent in the last minute, oldest first; bounded by `weightPerMinute` entries. */
  private readonly spent: { ts: number; weight: number }[] = [];
  private venueUsed: { minute: number; weight: number } | undefined;
  /** Last successful answer per instrument, to notice when one went unrefreshed for too long. */
  private readonly lastOkByInstrument = new Map<string, number>();
  /** Duration of the last cycle without pauses or errors: what "normal" refresh looks like. */
  private lastCycleMs = 0;
  private cycleDisturbed = false;
  private readonly abort = new AbortController();
  private running: Promise<void> | undefined;
  private readonly now: () => number;
  private readonly windowMs: number;
  /** Clock ms per wall ms: every wait is in clock time, slept in wall time. */
  private readonly timeScale: number;

  constructor(private readonly opts: RestPollerOptions) {
    this.now = opts.now ?? opts.plan.clock?.now ?? Date.now;
    this.timeScale = opts.plan.clock?.timeScale ?? 1;
    this.windowMs = opts.windowMs ?? 60_000;
  }

  /** Waits `clockMs` of the poller's clock; resolves early (never rejects) on close. */
  private wait(clockMs: number): Promise<void> {
    const wallMs = this.timeScale === 1 ? clockMs : clockMs / this.timeScale;
    return sleep(wallMs, undefined, { signal: this.abort.signal }).catch(() => {});
  }

  start(): void {
    if (this.running || this.abort.signal.aborted) return;
    this.running = this.loop().catch((err: Error) => {
      if (!this.abort.signal.aborted) this.opts.logger.error({ err }, 'REST poller stopped');
    });
  }

  private status(kind: FeedStatusKind, detail: string): void {
    this.opts.onEvent({ type: 'status', venue: this.opts.plan.venue, kind, receiveTs: this.now(), detail });
  }

  private async loop(): Promise<void> {
    const { plan } = this.opts;
    const signal = this.abort.signal;
    while (!signal.aborted) {
      const cycleStart = this.now();
      const requests = plan.requests();
      if (this.lastOkByInstrument.size > requests.length * 2) this.lastOkByInstrument.clear();
      for (const req of requests) {
        if (signal.aborted) return;
        await this.waitForBudget(req.weight);
        if (signal.aborted) return;
        await this.request(req);
      }
      if (!this.cycleDisturbed) this.lastCycleMs = this.now() - cycleStart;
      this.cycleDisturbed = false;
      const restMs = cycleStart + plan.cycleMs - this.now();
      if (restMs > 0) await this.wait(restMs);
    }
  }

  /** Waits until `weight` fits our rolling-minute budget and the venue's reported usage. */
  private async waitForBudget(weight: number): Promise<void> {
    const { plan } = this.opts;
    const signal = this.abort.signal;
    for (;;) {
      const now = this.now();
      while (this.spent.length > 0 && this.spent[0]!.ts <= now - this.windowMs) this.spent.shift();
      const used = this.spent.reduce((sum, s) => sum + s.weight, 0);
      let waitMs =
        used + weight > plan.weightPerMinute && this.spent.length > 0
          ? this.spent[0]!.ts + this.windowMs - now
          : 0;
      const limit = plan.venueWeightLimitPerMinute;
      const minute = Math.floor(now / this.windowMs);
      // The venue counts per clock minute; stay under 90% of its limit whatever else shares the IP.
      if (limit && this.venueUsed?.minute === minute && this.venueUsed.weight + weight > limit * 0.9) {
        waitMs = Math.max(waitMs, (minute + 1) * this.windowMs - now);
      }
      if (waitMs <= 0 || signal.aborted) break;
      this.counters.budgetWaits++;
      await this.wait(waitMs);
    }
    if (weight > 0) this.spent.push({ ts: this.now(), weight });
  }

  private async request(req: RestRequest): Promise<void> {
    const { plan, logger } = this.opts;
    const signal = this.abort.signal;
    this.counters.requests++;
    let res: Response;
    let body: string;
    try {
      res = await fetch(`${plan.restUrl}${req.path}`, {
        method: req.method ?? 'GET',
        ...(req.body ? { body: req.body, headers: { 'content-type': 'application/json' } } : {}),
        signal: AbortSignal.any([signal, AbortSignal.timeout(this.opts.timeoutMs ?? 10_000)]),
      });
      body = await res.text();
    } catch (err) {
      if (signal.aborted) return;
      this.cycleDisturbed = true;
      this.counters.errors++;
      this.status('rest_error', `${req.path}: ${(err as Error).message}`);
      logger.warn({ path: req.path, message: (err as Error).message }, 'REST request failed');
      await this.wait(1000);
      return;
    }
    const receiveTs = this.now();
    if (plan.usedWeightHeader) {
      const used = Number(res.headers.get(plan.usedWeightHeader));
      if (Number.isFinite(used) && used > 0)
        this.venueUsed = { minute: Math.floor(receiveTs / this.windowMs), weight: used };
    }
    if (res.status === 429 || res.status === 418) {
      const retryAfterSec = Number(res.headers.get('retry-after'));
      const waitMs =
        Number.isFinite(retryAfterSec) && retryAfterSec > 0
          ? retryAfterSec * 1000
          : res.status === 418
            ? 120_000
            : this.windowMs;
      this.cycleDisturbed = true;
      if (res.status === 429) this.counters.rateLimited++;
      else this.counters.banned++;
      this.status('rest_error', `${req.path}: HTTP ${res.status}; pausing ${waitMs} ms`);
      logger.warn(
        { path: req.path, status: res.status, waitMs },
        'venue rate limit hit; pausing REST polling',
      );
      await this.wait(waitMs);
      return;
    }
    if (!res.ok) {
      this.counters.errors++;
      this.status('rest_error', `${req.path}: HTTP ${res.status}`);
      logger.warn({ path: req.path, status: res.status }, 'REST request failed');
      return;
    }
    this.counters.responses++;
    if (req.instrument) this.noteRefreshed(req.instrument, receiveTs);
    this.opts.onRawFrame?.({ t: receiveTs, venue: plan.venue, frame: body, source: req.path });
    const outcome = parseFrame(this.opts.parser, body, receiveTs, req.path);
    if (outcome.kind === 'error') {
      this.counters.parseErrors++;
      this.status('parse_error', `${req.path}: ${outcome.message}`);
      return;
    }
    if (outcome.result.control === 'error') {
      // A venue's error in a 200 answer (Bybit `retCode`, OKX `code`): counted and reported
      // like an HTTP error, never read as "no data".
      this.counters.errors++;
      this.status('rest_error', `${req.path}: ${outcome.result.detail ?? 'venue error'}`);
      logger.warn({ path: req.path, detail: outcome.result.detail }, 'venue answered with an error');
      return;
    }
    for (const ev of outcome.result.events) {
      this.counters.events++;
      this.opts.onEvent(ev);
    }
  }

  /**
   * An instrument's REST data that went unrefreshed much longer than a normal cycle (429/418
   * pauses, errors) is a gap like a WebSocket disconnect: the analytics flag deltas across it.
   */
  private noteRefreshed(instrument: string, receiveTs: number): void {
    const previous = this.lastOkByInstrument.get(instrument);
    this.lastOkByInstrument.set(instrument, receiveTs);
    const expectedMs = Math.max(this.opts.plan.cycleMs, this.lastCycleMs);
    if (
      previous !== undefined &&
      receiveTs - previous > Math.max(this.opts.gapAfterMs ?? 60_000, 3 * expectedMs)
    ) {
      this.opts.onEvent({
        type: 'status',
        venue: this.opts.plan.venue,
        kind: 'gap',
        receiveTs,
        detail: `${instrument}: no REST data for ${receiveTs - previous} ms`,
        gap: { fromTs: previous, toTs: receiveTs, instruments: [instrument] },
      });
    }
  }

  /** Idempotent: aborts the request in flight and every wait; resolves when the loop has ended. */
  async close(): Promise<void> {
    this.abort.abort();
    await this.running;
  }
}
