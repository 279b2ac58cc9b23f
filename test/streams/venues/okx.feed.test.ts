import { pino } from 'pino';
import { afterEach, describe, expect, it } from 'vitest';
import type { FeedEvent, MarketEvent } from '../../../src/domain/types.js';
import type { VenueAdapter } from '../../../src/streams/core/adapter.js';
import { FeedConnection } from '../../../src/streams/core/connection.js';
import { type OkxSimulator, startOkxSimulator } from '../../../src/streams/sim/okx-sim.js';
import { createOkxAdapter } from '../../../src/streams/venues/okx.js';

const logger = pino({ level: 'silent' });
const fast = { initialMs: 20, maxMs: 100, jitter: 0.5 };
const INSTRUMENTS = ['BTC-USDT-SWAP', 'ETH-USDT-SWAP'];
const CHANNELS = ['funding-rate', 'mark-price', 'open-interest', 'tickers'];
const ALL_SUBS = INSTRUMENTS.flatMap((i) => CHANNELS.map((c) => `${c}:${i}`)).sort();

async function until(check: () => boolean, timeoutMs = 5000, what = 'condition'): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!check()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 10));
  }
}

let sim: OkxSimulator | undefined;
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
  instruments?: string[];
}

function open(url: string, events: FeedEvent[], o: OpenOptions = {}): FeedConnection {
  const base = createOkxAdapter({ wsUrl: url });
  const adapter: VenueAdapter = {
    ...base,
    ...(o.heartbeatMs ? { heartbeat: { message: base.heartbeat!.message, intervalMs: o.heartbeatMs } } : {}),
    ...(o.maxPayloadBytes ? { maxPayloadBytes: o.maxPayloadBytes } : {}),
  };
  conn = new FeedConnection({
    adapter,
    instruments: () => o.instruments ?? INSTRUMENTS,
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

describe('okx feed against the simulator', () => {
  it('subscribes every channel, receives each channel’s fields, and pings with the text ping', async () => {
    sim = await startOkxSimulator({ tickMs: 20 });
    const events: FeedEvent[] = [];
    const c = open(sim.wsUrl, events, { heartbeatMs: 50 });
    const has = (symbol: string, key: keyof MarketEvent) =>
      market(events).some((e) => e.symbol === symbol && e[key] !== undefined);
    const keys = ['markPrice', 'lastPrice', 'oiBase', 'oiUsd', 'fundingRate', 'turnover24hUsd'] as const;
    await until(() => ['BTC', 'ETH'].every((s) => keys.every((k) => has(s, k))), 5000, 'all fields');
    expect(sim.subscriptions()).toEqual(ALL_SUBS);
    const funding = market(events).find((e) => e.fundingRate !== undefined)!;
    expect(funding.fundingIntervalHours).toBe(8);
    expect(funding.nextFundingTs! % (8 * 3_600_000)).toBe(0);
    // Each event carries only its channel's fields: a mark-price push has no OI.
    expect(market(events).some((e) => e.markPrice !== undefined && e.oiBase === undefined)).toBe(true);
    await until(() => sim!.pingCount() >= 2, 2000, 'pings');
    // pongs are control frames: no parse error, no venue error
    expect(c.counters.parseErrors).toBe(0);
    expect(c.counters.venueErrors).toBe(0);
  });

  it('reconnects and resubscribes after the server drops the connection', async () => {
    sim = await startOkxSimulator({ tickMs: 20 });
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
    expect(sim.subscriptions()).toEqual(ALL_SUBS);
    expect(sim.connectionCount()).toBe(1);
  });

  it('replaces a connection that stays open but sends nothing', async () => {
    sim = await startOkxSimulator({ tickMs: 20 });
    const events: FeedEvent[] = [];
    const c = open(sim.wsUrl, events, { staleAfterMs: 300, heartbeatMs: 50 });
    await until(() => market(events).length > 0);
    sim.setSilent(true);
    await until(() => c.counters.staleTimeouts >= 1, 3000, 'stale timeout');
    expect(statuses(events, 'stale').length).toBeGreaterThanOrEqual(1);
    sim.setSilent(false);
    const before = market(events).length;
    await until(() => market(events).length > before, 5000, 'data after replacement');
    expect(c.counters.connects).toBeGreaterThanOrEqual(2);
  });

  it('counts and skips malformed frames, then keeps going', async () => {
    sim = await startOkxSimulator({ tickMs: 20 });
    const events: FeedEvent[] = [];
    const c = open(sim.wsUrl, events);
    await until(() => market(events).length > 0);
    sim.broadcastRaw('{"arg":{"channel":"tickers","instId":"BTC-USDT-SWAP"},"data":');
    sim.broadcastRaw('not json at all');
    await until(() => c.counters.parseErrors === 2, 2000, 'parse errors');
    const before = market(events).length;
    await until(() => market(events).length > before + 3, 2000, 'data after bad frames');
    expect(c.counters.connects).toBe(1);
    expect(statuses(events, 'parse_error')).toHaveLength(2);
  });

  it('counts an oversized frame and replaces the connection', async () => {
    sim = await startOkxSimulator({ tickMs: 20 });
    const events: FeedEvent[] = [];
    const c = open(sim.wsUrl, events, { maxPayloadBytes: 4096 });
    await until(() => market(events).length > 0);
    sim.broadcastRaw(
      JSON.stringify({ arg: { channel: 'tickers', instId: 'BTC-USDT-SWAP' }, pad: 'x'.repeat(10_000) }),
    );
    await until(() => c.counters.oversized === 1, 2000, 'oversized');
    expect(statuses(events, 'oversized')).toHaveLength(1);
    const before = market(events).length;
    await until(
      () => c.counters.connects === 2 && market(events).length > before,
      5000,
      'data after replacement',
    );
    expect(sim.subscriptions()).toEqual(ALL_SUBS);
  });

  it('reconnects at once on the 64008 service-upgrade notice', async () => {
    sim = await startOkxSimulator({ tickMs: 20 });
    const events: FeedEvent[] = [];
    const c = open(sim.wsUrl, events);
    await until(() => market(events).length > 0);
    sim.sendNotice64008();
    await until(() => c.counters.venueReconnects === 1, 2000, 'venue reconnect');
    const before = market(events).length;
    await until(() => c.counters.connects === 2 && market(events).length > before, 5000, 'data after notice');
    expect(c.counters.venueErrors).toBe(0);
    expect(sim.connectionCount()).toBe(1);
  });

  it('reports a rejected subscription as a venue error and keeps the rest', async () => {
    sim = await startOkxSimulator({ tickMs: 20 });
    const events: FeedEvent[] = [];
    const c = open(sim.wsUrl, events, { instruments: ['BTC-USDT-SWAP', 'NOPE-USDT-SWAP'] });
    await until(() => c.counters.venueErrors === 4, 2000, 'four 60018 errors');
    expect(statuses(events, 'venue_error')[0]).toMatchObject({ detail: expect.stringMatching(/^60018 /) });
    await until(() => market(events).length > 0);
    expect(new Set(market(events).map((e) => e.instrument))).toEqual(new Set(['BTC-USDT-SWAP']));
  });

  it('close() is idempotent and nothing outlives it', async () => {
    sim = await startOkxSimulator({ tickMs: 20 });
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
    expect(c.isOpen).toBe(false);
  });
});
