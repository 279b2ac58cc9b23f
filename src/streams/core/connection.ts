import type { Logger } from 'pino';
import WebSocket from 'ws';
import type { FeedEvent, FeedStatusKind, RawFrame } from '../../domain/types.js';
import type { FrameParser, VenueAdapter } from './adapter.js';
import { type BackoffOptions, backoffDelayMs, DEFAULT_BACKOFF } from './backoff.js';
import { parseFrame } from './parse.js';

export interface ConnectionOptions {
  readonly adapter: VenueAdapter;
  /** Venue instrument ids to subscribe to; read on every (re)connect so a resubscribe uses the current set. */
  readonly instruments: () => readonly string[];
  /** No market data for this long on an open socket means the connection is dead: terminate and reconnect. */
  readonly staleAfterMs: number;
  readonly handshakeTimeoutMs?: number;
  /** Largest frame accepted; a bigger one closes the socket (ws `maxPayload`). */
  readonly maxPayloadBytes?: number;
  readonly backoff?: BackoffOptions;
  /** A silence (disconnect included) at least this long is reported as a `gap` status event. Default 5 s. */
  readonly gapAfterMs?: number;
  readonly logger: Logger;
  /** Receives every event (market data and feed status), in order. */
  readonly onEvent: (event: FeedEvent) => void;
  /** Receives every frame as received (for `--record`). */
  readonly onRawFrame?: (frame: RawFrame) => void;
  readonly now?: () => number;
  readonly random?: () => number;
}

export interface ConnectionCounters {
  connects: number;
  /** Subscribe rounds sent: one per connect (a reconnect resubscribes everything). */
  subscribes: number;
  disconnects: number;
  staleTimeouts: number;
  frames: number;
  events: number;
  parseErrors: number;
  venueErrors: number;
  oversized: number;
  venueReconnects: number;
  ageReconnects: number;
}

/**
 * The one connection core every venue shares: connect, subscribe, heartbeat, staleness,
 * reconnect with exponential backoff and jitter, resubscribe, close. The adapter only
 * supplies data (URL, messages, parser).
 */
export class FeedConnection {
  readonly counters: ConnectionCounters = {
    connects: 0,
    subscribes: 0,
    disconnects: 0,
    staleTimeouts: 0,
    frames: 0,
    events: 0,
    parseErrors: 0,
    venueErrors: 0,
    oversized: 0,
    venueReconnects: 0,
    ageReconnects: 0,
  };
  private ws: WebSocket | undefined;
  private parser: FrameParser;
  private attempt = 0;
  private closed = false;
  private closing: Promise<void> | undefined;
  /** Receive time of the last market event (0 = none yet). */
  private lastDataTs = 0;
  /** Start of the current silence for the staleness timer: the last data, or the (re)connect. */
  private silentSinceTs = 0;
  private reconnectTimer: NodeJS.Timeout | undefined;
  private heartbeatTimer: NodeJS.Timeout | undefined;
  private staleTimer: NodeJS.Timeout | undefined;
  private ageTimer: NodeJS.Timeout | undefined;
  private disconnectedAt = 0;
  /** Instruments the open socket is subscribed to (for live universe changes). */
  private subscribed: readonly string[] = [];
  private readonly now: () => number;

  constructor(private readonly opts: ConnectionOptions) {
    this.parser = opts.adapter.createParser();
    this.now = opts.now ?? Date.now;
  }

  get isOpen(): boolean {
    return this.ws?.readyState === WebSocket.OPEN;
  }

  /** Receive time of the last market event, epoch ms (0 = none yet). */
  get lastDataAt(): number {
    return this.lastDataTs;
  }

  start(): void {
    if (this.closed || this.ws) return;
    this.connect();
  }

  private status(kind: FeedStatusKind, detail?: string): void {
    this.opts.onEvent({
      type: 'status',
      venue: this.opts.adapter.venue,
      kind,
      receiveTs: this.now(),
      ...(detail ? { detail } : {}),
    });
  }

  private connect(): void {
    const { adapter, logger } = this.opts;
    this.status('connecting', adapter.wsUrl);
    const ws = new WebSocket(adapter.wsUrl, {
      handshakeTimeout: this.opts.handshakeTimeoutMs ?? 10_000,
      maxPayload: this.opts.maxPayloadBytes ?? adapter.maxPayloadBytes ?? 4 * 1024 * 1024,
      perMessageDeflate: false,
    });
    this.ws = ws;
    this.parser.reset();

    ws.on('open', () => {
      if (ws !== this.ws) return;
      this.counters.connects++;
      this.silentSinceTs = this.now();
      logger.info({ url: adapter.wsUrl, attempt: this.attempt }, 'connected');
      this.status('connected');
      const instruments = this.opts.instruments();
      for (const msg of adapter.subscribeMessages(instruments)) ws.send(msg);
      this.subscribed = [...instruments];
      this.counters.subscribes++;
      this.status('subscribed', `${instruments.length} instruments`);
      this.startTimers(ws);
    });
    ws.on('message', (data: WebSocket.RawData, isBinary: boolean) => {
      if (ws !== this.ws) return;
      const text = isBinary ? '' : data.toString();
      this.onFrame(text);
    });
    ws.on('error', (err) => {
      if (ws !== this.ws) return;
      const code = (err as NodeJS.ErrnoException).code;
      if (code === 'WS_ERR_UNSUPPORTED_MESSAGE_LENGTH') {
        // ws closes the socket itself (1009): the frame is lost and the connection replaced.
        this.counters.oversized++;
        this.status('oversized', err.message);
      }
      logger.warn({ err: { message: err.message, code } }, 'socket error');
    });
    ws.on('close', (code, reason) => {
      if (ws !== this.ws) return;
      this.stopTimers();
      this.ws = undefined;
      this.counters.disconnects++;
      this.disconnectedAt = this.now();
      this.status('disconnected', `code ${code}${reason.length ? ` ${reason.toString()}` : ''}`);
      if (!this.closed) this.scheduleReconnect(code);
    });
  }

  private onFrame(text: string): void {
    const receiveTs = this.now();
    this.counters.frames++;
    this.opts.onRawFrame?.({ t: receiveTs, venue: this.opts.adapter.venue, frame: text });
    const outcome = parseFrame(this.parser, text, receiveTs);
    if (outcome.kind === 'error') {
      this.counters.parseErrors++;
      this.status('parse_error', outcome.message);
      return;
    }
    if (outcome.result.control === 'error') {
      this.counters.venueErrors++;
      this.status('venue_error', outcome.result.detail);
      this.opts.logger.warn({ detail: outcome.result.detail }, 'venue reported an error');
    } else if (outcome.result.control === 'reconnect') {
      this.counters.venueReconnects++;
      this.opts.logger.info(
        { detail: outcome.result.detail },
        'venue announced a disconnect; reconnecting now',
      );
      this.ws?.terminate();
      return;
    }
    if (outcome.result.events.length > 0) {
      if (this.disconnectedAt > 0) {
        const silentFromTs = Math.min(this.disconnectedAt, this.lastDataTs || this.disconnectedAt);
        if (receiveTs - silentFromTs >= (this.opts.gapAfterMs ?? 5000)) {
          this.opts.onEvent({
            type: 'status',
            venue: this.opts.adapter.venue,
            kind: 'gap',
            receiveTs,
            detail: `no data for ${receiveTs - silentFromTs} ms`,
            gap: { fromTs: silentFromTs, toTs: receiveTs, instruments: this.subscribed },
          });
        }
        this.disconnectedAt = 0;
      }
      this.lastDataTs = receiveTs;
      this.silentSinceTs = receiveTs;
      this.attempt = 0;
      for (const ev of outcome.result.events) {
        this.counters.events++;
        this.opts.onEvent(ev);
      }
    }
  }

  private startTimers(ws: WebSocket): void {
    const maxAgeMs = this.opts.adapter.maxConnectionAgeMs;
    if (maxAgeMs) {
      this.ageTimer = setTimeout(() => {
        this.counters.ageReconnects++;
        this.opts.logger.info({ maxAgeMs }, 'connection reached its maximum age; replacing it');
        ws.terminate();
      }, maxAgeMs);
    }
    const hb = this.opts.adapter.heartbeat;
    if (hb) {
      this.heartbeatTimer = setInterval(() => {
        if (ws.readyState === WebSocket.OPEN) ws.send(hb.message);
      }, hb.intervalMs);
    }
    const staleAfterMs = this.opts.staleAfterMs;
    this.staleTimer = setInterval(
      () => {
        const silentMs = this.now() - this.silentSinceTs;
        if (silentMs > staleAfterMs) {
          this.counters.staleTimeouts++;
          this.opts.logger.warn(
            { silentMs, staleAfterMs },
            'no market data: connection is stale, replacing it',
          );
          this.status('stale', `no data for ${silentMs} ms`);
          ws.terminate();
        }
      },
      Math.max(50, Math.min(1000, Math.floor(staleAfterMs / 4))),
    );
  }

  private stopTimers(): void {
    clearInterval(this.heartbeatTimer);
    clearInterval(this.staleTimer);
    clearTimeout(this.ageTimer);
    this.heartbeatTimer = undefined;
    this.staleTimer = undefined;
    this.ageTimer = undefined;
  }

  private scheduleReconnect(code: number): void {
    const delayMs = backoffDelayMs(this.attempt, this.opts.backoff ?? DEFAULT_BACKOFF, this.opts.random);
    this.attempt++;
    this.opts.logger.warn({ code, delayMs, attempt: this.attempt }, 'disconnected; reconnecting');
    this.reconnectTimer = setTimeout(() => {
      this.reconnectTimer = undefined;
      if (!this.closed) this.connect();
    }, delayMs);
  }

  /**
   * Follows a universe change without reconnecting: subscribes what was added and unsubscribes
   * what was removed on the open socket (a closed one resubscribes `instruments()` on connect).
   */
  syncSubscriptions(): void {
    const ws = this.ws;
    if (!ws || ws.readyState !== WebSocket.OPEN) return;
    const next = this.opts.instruments();
    const before = new Set(this.subscribed);
    const after = new Set(next);
    const added = next.filter((i) => !before.has(i));
    const removed = this.subscribed.filter((i) => !after.has(i));
    if (added.length === 0 && removed.length === 0) return;
    for (const msg of this.opts.adapter.unsubscribeMessages(removed)) ws.send(msg);
    for (const msg of this.opts.adapter.subscribeMessages(added)) ws.send(msg);
    this.subscribed = [...next];
    this.opts.logger.info({ added, removed }, 'subscriptions follow the universe');
  }

  /** Idempotent (every call returns the same promise). Closes the socket and every timer; no callback fires after it resolves. */
  close(): Promise<void> {
    this.closing ??= this.shutdown();
    return this.closing;
  }

  private async shutdown(): Promise<void> {
    this.closed = true;
    clearTimeout(this.reconnectTimer);
    this.stopTimers();
    const ws = this.ws;
    this.ws = undefined;
    if (!ws) return;
    await new Promise<void>((resolve) => {
      if (ws.readyState === WebSocket.CLOSED) return resolve();
      const timer = setTimeout(() => {
        ws.terminate();
        resolve();
      }, 1000);
      ws.once('close', () => {
        clearTimeout(timer);
        resolve();
      });
      ws.on('error', () => {});
      if (ws.readyState === WebSocket.CONNECTING) ws.terminate();
      else ws.close(1000, 'closing');
    });
  }
}
