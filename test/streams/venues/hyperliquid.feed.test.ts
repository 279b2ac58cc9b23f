import { pino } from 'pino';
import { afterEach, describe, expect, it } from 'vitest';
import type { FeedEvent, MarketEvent } from '../../../src/domain/types.js';
import type { VenueAdapter } from '../../../src/streams/core/adapter.js';
import { FeedConnection } from '../../../src/streams/core/connection.js';
import {
  type HyperliquidSimulator,
  startHyperliquidSimulator,
} from '../../../src/streams/sim/hyperliquid-sim.js';
import { createHyperliquidAdapter } from '../../../src/streams/venues/hyperliquid.js';

const logger = pino({ level: 'silent' });
const fast = { initialMs: 20, maxMs: 100, jitter: 0.5 };
const COINS = ['BTC', 'ETH'];

async function until(check: () => boolean, timeoutMs = 5000, what = 'condition'): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!check()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 10));
  }
}

let sim: HyperliquidSimulator | undefined;
let conn: FeedConnection | undefined;

afterEach(async () => {
  await conn?.close();
  await sim?.close();
  conn = undefined;
  sim = undefined;
});

interface OpenOptions {
  staleAfterMs?: number;
  heartbeatMs?: number;
  maxPayloadBytes?: number;
}

function open(url: string, events: FeedEvent[], o: OpenOptions = {}): FeedConnection {
  const base = createHyperliquidAdapter({ wsUrl: url });
  const adapter: VenueAdapter = {
    ...base,
    ...(o.heartbeatMs ? { heartbeat: { message: base.heartbeat!.message, intervalMs: o.heartbeatMs } } : {}),
    ...(o.maxPayloadBytes ? { maxPayloadBytes: o.maxPayloadBytes } : {}),
  };
  conn = new FeedConnection({
    adapter,
    instruments: () => COINS,
    staleAfterMs: o.staleAfterMs ?? 5000,
    backoff: fast,
    logger,
    onEvent: (ev) => events.push(ev),
  });
  conn.start();
  return conn;
}

const market = (events: FeedEvent[]) => events.filter((e): e is MarketEvent => e.type === 'market');
const statuses = (events: FeedEvent[], kind: string) =>
  events.filter((e) => e.type === 'status' && e.kind === kind);

describe('hyperliquid feed against the simulator', () => {
  it('skips the greeting, subscribes one message per coin, gets full events, pings', async () => {
    sim = await startHyperliquidSimulator({ tickMs: 20 });
    const events: FeedEvent[] = [];
    const c = open(sim.wsUrl, events, { heartbeatMs: 50 });
    await until(() => market(events).length >= 10, 5000, 'market events');
    expect(sim.subscriptions()).toEqual(COINS);
    expect(new Set(market(events).map((e) => e.symbol))).toEqual(new Set(COINS));
    for (const e of market(events)) {
      expect(e).toMatchObject({ venue: 'hyperliquid', fundingIntervalHours: 1, eventTs: e.receiveTs });
      expect(e.oiBase).toBeGreaterThan(0);
      expect(e.markPrice).toBeGreaterThan(0);
      expect(e.fundingRate).toBeTypeOf('number');
      expect(e.nextFundingTs! % 3_600_000).toBe(0);
    }
    await until(() => sim!.pingCount() >= 2, 2000, 'pings');
    // the greeting, acks and pongs are control frames, not parse or venue errors
    expect(c.counters.parseErrors).toBe(0);
    expect(c.counters.venueErrors).toBe(0);
  });

  it('reconnects and resubscribes after the server drops the connection', async () => {
    sim = await startHyperliquidSimulator({ tickMs: 20 });
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
    expect(sim.subscriptions()).toEqual(COINS);
    expect(sim.connectionCount()).toBe(1);
    expect(c.counters.venueErrors).toBe(0);
  });

  it('replaces a connection that stays open but sends no data', async () => {
    sim = await startHyperliquidSimulator({ tickMs: 20 });
    const events: FeedEvent[] = [];
    const c = open(sim.wsUrl, events, { staleAfterMs: 300 });
    await until(() => market(events).length > 0);
    sim.setSilent(true);
    await until(() => c.counters.staleTimeouts >= 1, 3000, 'stale timeout');
    expect(statuses(events, 'stale').length).toBeGreaterThanOrEqual(1);
    sim.setSilent(false);
    const before = market(events).length;
    await until(() => market(events).length > before, 5000, 'data after replacement');
    expect(c.counters.connects).toBeGreaterThanOrEqual(2);
  });

  it('counts and skips malformed frames, then keeps going on the same connection', async () => {
    sim = await startHyperliquidSimulator({ tickMs: 20 });
    const events: FeedEvent[] = [];
    const c = open(sim.wsUrl, events);
    await until(() => market(events).length > 0);
    sim.broadcastRaw('{"channel":"activeAssetCtx","data":');
    sim.broadcastRaw('not json at all');
    sim.broadcastRaw('{"channel":"activeAssetCtx","data":{"coin":"BTC","ctx":{"markPx":"abc"}}}');
    await until(() => c.counters.parseErrors === 3, 2000, 'parse errors');
    const before = market(events).length;
    await until(() => market(events).length > before + 3, 2000, 'data after bad frames');
    expect(c.counters.connects).toBe(1);
    expect(statuses(events, 'parse_error')).toHaveLength(3);
  });

  it('counts a venue error without dropping the connection', async () => {
    sim = await startHyperliquidSimulator({ tickMs: 20 });
    const events: FeedEvent[] = [];
    const c = open(sim.wsUrl, events);
    await until(() => market(events).length > 0);
    sim.sendFrame({ channel: 'error', data: 'Cannot send more than 2000 messages per minute.' });
    await until(() => c.counters.venueErrors === 1, 2000, 'venue error');
    const before = market(events).length;
    await until(() => market(events).length > before, 2000, 'data after the error');
    expect(c.counters.connects).toBe(1);
  });

  it('counts an oversized frame and replaces the connection', async () => {
    sim = await startHyperliquidSimulator({ tickMs: 20 });
    const events: FeedEvent[] = [];
    const c = open(sim.wsUrl, events, { maxPayloadBytes: 4096 });
    await until(() => market(events).length > 0);
    sim.broadcastRaw(`{"channel":"activeAssetCtx","data":"${'x'.repeat(8192)}"}`);
    await until(() => c.counters.oversized === 1, 2000, 'oversized frame');
    const before = market(events).length;
    await until(
      () => c.counters.connects === 2 && market(events).length > before,
      5000,
      'data on a new connection',
    );
    expect(c.counters.parseErrors).toBe(0);
    expect(sim.connectionCount()).toBe(1);
  });

  it('close() is idempotent and nothing outlives it', async () => {
    sim = await startHyperliquidSimulator({ tickMs: 20 });
    const events: FeedEvent[] = [];
    const c = open(sim.wsUrl, events, { heartbeatMs: 30 });
    await until(() => market(events).length > 0 && sim!.pingCount() > 0);
    await Promise.all([c.close(), c.close()]);
    await c.close();
    await until(() => sim!.connectionCount() === 0, 2000, 'server to see the close');
    const count = events.length;
    const pings = sim.pingCount();
    await new Promise((r) => setTimeout(r, 200));
    expect(events.length).toBe(count);
    expect(sim.pingCount()).toBe(pings);
    expect(sim.connectionCount()).toBe(0);
    expect(sim.subscriptions()).toEqual([]);
    expect(c.isOpen).toBe(false);
  });
});
