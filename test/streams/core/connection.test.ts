import { pino } from 'pino';
import { afterEach, describe, expect, it } from 'vitest';
import type { FeedEvent, MarketEvent } from '../../../src/domain/types.js';
import type { VenueAdapter } from '../../../src/streams/core/adapter.js';
import { backoffDelayMs } from '../../../src/streams/core/backoff.js';
import { FeedConnection } from '../../../src/streams/core/connection.js';
import { type BybitSimulator, startBybitSimulator } from '../../../src/streams/sim/bybit-sim.js';
import { createBybitAdapter } from '../../../src/streams/venues/bybit.js';

const logger = pino({ level: 'silent' });
const fast = { initialMs: 20, maxMs: 100, jitter: 0.5 };

async function until(check: () => boolean, timeoutMs = 5000, what = 'condition'): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!check()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 10));
  }
}

let sim: BybitSimulator | undefined;
let conn: FeedConnection | undefined;

afterEach(async () => {
  await conn?.close();
  await sim?.close();
  conn = undefined;
  sim = undefined;
});

function open(
  url: string,
  events: FeedEvent[],
  staleAfterMs = 5000,
  heartbeatMs?: number,
  extra: { adapter?: Partial<VenueAdapter>; instruments?: () => readonly string[]; gapAfterMs?: number } = {},
): FeedConnection {
  const adapter = createBybitAdapter({ wsUrl: url });
  const withHeartbeat = heartbeatMs
    ? { ...adapter, heartbeat: { message: adapter.heartbeat!.message, intervalMs: heartbeatMs } }
    : adapter;
  conn = new FeedConnection({
    adapter: { ...withHeartbeat, ...extra.adapter },
    instruments: extra.instruments ?? (() => ['BTCUSDT', 'ETHUSDT']),
    staleAfterMs,
    backoff: fast,
    logger,
    onEvent: (ev) => events.push(ev),
    ...(extra.gapAfterMs !== undefined ? { gapAfterMs: extra.gapAfterMs } : {}),
  });
  conn.start();
  return conn;
}

const market = (events: FeedEvent[]) => events.filter((e): e is MarketEvent => e.type === 'market');
const statuses = (events: FeedEvent[], kind: string) =>
  events.filter((e) => e.type === 'status' && e.kind === kind);

describe('feed connection core', () => {
  it('subscribes, merges into full events, and pings on the adapter heartbeat', async () => {
    sim = await startBybitSimulator({ tickMs: 20 });
    const events: FeedEvent[] = [];
    open(sim.wsUrl, events, 5000, 50);
    await until(() => market(events).length >= 10, 5000, 'market events');
    expect(sim.subscriptions()).toEqual(['tickers.BTCUSDT', 'tickers.ETHUSDT']);
    expect(new Set(market(events).map((e) => e.symbol))).toEqual(new Set(['BTC', 'ETH']));
    // every event, delta or not, carries the merged OI and funding
    expect(market(events).every((e) => e.oiBase !== undefined && e.fundingRate !== undefined)).toBe(true);
    await until(() => sim!.pingCount() >= 2, 2000, 'pings');
  });

  it('reconnects and resubscribes after the server drops the connection', async () => {
    sim = await startBybitSimulator({ tickMs: 20 });
    const events: FeedEvent[] = [];
    const c = open(sim.wsUrl, events);
    await until(() => market(events).length > 0);
    sim.dropAll();
    await until(() => statuses(events, 'disconnected').length === 1, 2000, 'disconnect');
    const before = market(events).length;
    await until(
      () => c.counters.connects === 2 && market(events).length > before + 5,
      5000,
      'data after reconnect',
    );
    expect(sim.subscriptions()).toEqual(['tickers.BTCUSDT', 'tickers.ETHUSDT']);
    expect(sim.connectionCount()).toBe(1);
    expect(c.counters.subscribes).toBe(2);
  });

  it('replaces a connection that stays open but sends no data', async () => {
    sim = await startBybitSimulator({ tickMs: 20 });
    const events: FeedEvent[] = [];
    const c = open(sim.wsUrl, events, 300);
    await until(() => market(events).length > 0);
    sim.setSilent(true);
    await until(() => c.counters.staleTimeouts >= 1, 3000, 'stale timeout');
    expect(statuses(events, 'stale').length).toBeGreaterThanOrEqual(1);
    sim.setSilent(false);
    const before = market(events).length;
    await until(() => market(events).length > before, 5000, 'data after replacement');
    expect(c.counters.connects).toBeGreaterThanOrEqual(2);
  });

  it('counts and skips a malformed frame, then keeps going', async () => {
    sim = await startBybitSimulator({ tickMs: 20 });
    const events: FeedEvent[] = [];
    const c = open(sim.wsUrl, events);
    await until(() => market(events).length > 0);
    sim.broadcastRaw('{"topic":"tickers.BTCUSDT","type":"delta","data":');
    sim.broadcastRaw('not json at all');
    await until(() => c.counters.parseErrors === 2, 2000, 'parse errors');
    const before = market(events).length;
    await until(() => market(events).length > before + 3, 2000, 'data after bad frames');
    expect(c.counters.connects).toBe(1);
    expect(statuses(events, 'parse_error')).toHaveLength(2);
  });

  it('ignores a Bybit delta that arrives before its snapshot, without calling it malformed', async () => {
    sim = await startBybitSimulator({ tickMs: 20 });
    const events: FeedEvent[] = [];
    const c = open(sim.wsUrl, events);
    await until(() => market(events).length > 0);
    sim.sendFrame({
      topic: 'tickers.XRPUSDT',
      type: 'delta',
      data: { symbol: 'XRPUSDT', openInterest: '1' },
      cs: 1,
      ts: Date.now(),
    });
    const before = market(events).length;
    await until(() => market(events).length > before + 3, 2000, 'later data');
    expect(market(events).some((e) => e.symbol === 'XRP')).toBe(false);
    expect(c.counters.parseErrors).toBe(0);
  });

  it('keeps retrying with backoff while nothing listens', async () => {
    const events: FeedEvent[] = [];
    const c = open('ws://127.0.0.1:1/v5/public/linear', events);
    await until(() => c.counters.disconnects >= 3, 5000, 'three failed attempts');
    expect(c.counters.connects).toBe(0);
    expect(statuses(events, 'connecting').length).toBeGreaterThanOrEqual(3);
  });

  it('close() is idempotent and nothing outlives it', async () => {
    sim = await startBybitSimulator({ tickMs: 20 });
    const events: FeedEvent[] = [];
    const c = open(sim.wsUrl, events, 5000, 30);
    await until(() => market(events).length > 0);
    await Promise.all([c.close(), c.close()]);
    await until(() => sim!.connectionCount() === 0, 2000, 'server to see the close');
    const count = events.length;
    const pings = sim.pingCount();
    await new Promise((r) => setTimeout(r, 200));
    expect(events.length).toBe(count);
    expect(sim.pingCount()).toBe(pings);
    expect(sim.connectionCount()).toBe(0);
    expect(c.isOpen).toBe(false);
  });
});

describe('feed connection core: venue lifecycle rules', () => {
  it('counts an oversized frame, drops it and replaces the connection', async () => {
    sim = await startBybitSimulator({ tickMs: 20 });
    const events: FeedEvent[] = [];
    const c = open(sim.wsUrl, events, 5000, undefined, { adapter: { maxPayloadBytes: 64 * 1024 } });
    await until(() => market(events).length > 0);
    sim.broadcastRaw(`{"pad":"${'x'.repeat(100 * 1024)}"}`);
    await until(() => c.counters.oversized === 1 && c.counters.connects === 2, 5000, 'oversized + reconnect');
    expect(statuses(events, 'oversized')).toHaveLength(1);
    const before = market(events).length;
    await until(() => market(events).length > before, 3000, 'data after replacement');
  });

  it('reconnects at once when the parser reports that the venue will close the connection', async () => {
    sim = await startBybitSimulator({ tickMs: 20 });
    const events: FeedEvent[] = [];
    const base = createBybitAdapter({ wsUrl: sim.wsUrl });
    const c = open(sim.wsUrl, events, 5000, undefined, {
      adapter: {
        createParser: () => {
          const inner = base.createParser();
          return {
            reset: () => inner.reset(),
            parse: (text, t) =>
              text === 'closing soon' ? { events: [], control: 'reconnect' } : inner.parse(text, t),
          };
        },
      },
    });
    await until(() => market(events).length > 0);
    sim.broadcastRaw('closing soon');
    await until(() => c.counters.venueReconnects === 1 && c.counters.connects === 2, 5000, 'venue reconnect');
  });

  it('replaces a connection proactively at its maximum age', async () => {
    sim = await startBybitSimulator({ tickMs: 20 });
    const events: FeedEvent[] = [];
    const c = open(sim.wsUrl, events, 5000, undefined, { adapter: { maxConnectionAgeMs: 150 } });
    await until(() => c.counters.ageReconnects >= 2 && c.counters.connects >= 3, 5000, 'age reconnects');
  });

  it('reports a gap when data resumes after a silence longer than gapAfterMs', async () => {
    sim = await startBybitSimulator({ tickMs: 20 });
    const events: FeedEvent[] = [];
    open(sim.wsUrl, events, 5000, undefined, { gapAfterMs: 150 });
    await until(() => market(events).length > 0);
    sim.dropAll();
    // a quick reconnect (well under 150 ms of silence) is not a gap
    await until(() => statuses(events, 'connected').length === 2, 3000, 'reconnect');
    await new Promise((r) => setTimeout(r, 100));
    expect(statuses(events, 'gap')).toHaveLength(0);
    sim.setSilent(true);
    sim.dropAll();
    await new Promise((r) => setTimeout(r, 300));
    sim.setSilent(false);
    await until(() => statuses(events, 'gap').length === 1, 3000, 'gap status');
    const gap = statuses(events, 'gap')[0]!;
    expect(gap.type === 'status' && gap.gap?.instruments).toEqual(['BTCUSDT', 'ETHUSDT']);
    expect(gap.type === 'status' && gap.gap!.toTs - gap.gap!.fromTs).toBeGreaterThanOrEqual(150);
  });

  it('reports a gap after a stale timeout even when the reconnect itself is quick', async () => {
    sim = await startBybitSimulator({ tickMs: 20 });
    const events: FeedEvent[] = [];
    const c = open(sim.wsUrl, events, 300, undefined, { gapAfterMs: 250 });
    await until(() => market(events).length > 0);
    sim.setSilent(true);
    await until(() => c.counters.staleTimeouts >= 1, 3000, 'stale timeout');
    sim.setSilent(false);
    await until(() => statuses(events, 'gap').length >= 1, 3000, 'gap');
    const gap = statuses(events, 'gap')[0]!;
    expect(gap.type === 'status' && gap.gap!.toTs - gap.gap!.fromTs).toBeGreaterThanOrEqual(300);
  });

  it('follows a universe change on the open socket without reconnecting', async () => {
    sim = await startBybitSimulator({ tickMs: 20 });
    const events: FeedEvent[] = [];
    let instruments = ['BTCUSDT', 'ETHUSDT'];
    const c = open(sim.wsUrl, events, 5000, undefined, { instruments: () => instruments });
    await until(() => sim!.subscriptions().length === 2, 3000, 'subscriptions');
    instruments = ['ETHUSDT', 'SOLUSDT'];
    c.syncSubscriptions();
    await until(
      () => sim!.subscriptions().join() === 'tickers.ETHUSDT,tickers.SOLUSDT',
      3000,
      'resubscribed',
    );
    await until(() => market(events).some((e) => e.symbol === 'SOL'), 3000, 'SOL data');
    expect(c.counters.connects).toBe(1);
  });
});

describe('backoff', () => {
  it('grows exponentially to the cap, with jitter inside [1 - jitter, 1] of the ceiling', () => {
    const opts = { initialMs: 500, maxMs: 30_000, jitter: 0.5 };
    expect([0, 1, 2, 3, 10].map((a) => backoffDelayMs(a, opts, () => 0))).toEqual([
      500, 1000, 2000, 4000, 30_000,
    ]);
    expect(backoffDelayMs(3, opts, () => 1)).toBe(2000);
    expect(backoffDelayMs(100, opts, () => 0.999)).toBeGreaterThanOrEqual(15_000);
  });
});
