import { pino } from 'pino';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Pipeline } from '../../src/app/pipeline.js';
import { MemoryBus } from '../../src/bus/memory-bus.js';
import { RedisBus } from '../../src/bus/redis-bus.js';
import type { Bus } from '../../src/bus/types.js';
import type { MarketEvent, VenueId } from '../../src/domain/types.js';
import { flushTestDb, testRedisUrl, uniqueSymbol } from '../support/redis.js';

const SEC = 1_000;
const MIN = 60_000;
const T0 = Date.UTC(2026, 0, 1);
const logger = pino({ level: 'silent' });
const url = testRedisUrl(30);

const INSTRUMENT: Record<VenueId, string> = {
  binance: 'BTCUSDT',
  bybit: 'BTCUSDT',
  okx: 'BTC-USDT-SWAP',
  hyperliquid: 'BTC',
};

function ev(venue: VenueId, ts: number, fields: Partial<MarketEvent>, symbol = 'BTC'): MarketEvent {
  return {
    type: 'market',
    venue,
    symbol,
    instrument: INSTRUMENT[venue],
    eventTs: ts,
    receiveTs: ts,
    ...fields,
  };
}

const pipelineOn = (bus: Bus) => new Pipeline({ bus, publishIntervalMs: 10, logger, aggregate: true });

beforeAll(() => flushTestDb(url));
afterAll(() => flushTestDb(url));

describe('pipeline and forced flows', () => {
  it('publishes a snapshot for an event carrying only liquidations or only long/short', async () => {
    const bus = new MemoryBus();
    const p = pipelineOn(bus);
    for (const venue of ['bybit', 'hyperliquid'] as const) {
      for (let s = 0; s <= 30; s++) p.handle(ev(venue, T0 + s * SEC, { oiBase: 1000, markPrice: 100 }));
    }
    await p.flush();
    expect((await bus.latest('bybit', 'BTC'))!.liquidations!['15m'].count).toBe(0);
    // the same second as the last market event: only the new field can make the snapshot dirty
    const t = T0 + 30 * SEC;
    p.handle(ev('bybit', t, { liquidations: [{ side: 'short', base: 2, usd: 200, ts: t - SEC }] }));
    await p.flush();
    const snap = (await bus.latest('bybit', 'BTC'))!;
    expect(snap.liquidations!['15m']).toMatchObject({ shortBase: 2, shortUsd: 200, count: 1 });
    expect(snap.freshness!.priceTs).toBe(t);
    p.handle(ev('bybit', t, { accountsLongPct: 58.25, longShortTs: t - 5 * MIN }));
    await p.flush();
    expect((await bus.latest('bybit', 'BTC'))!.longShort).toEqual({
      accountsLongPct: 58.25,
      topTradersLongPct: null,
      ts: t - 5 * MIN,
    });
    // the aggregate of the two venues counts Bybit and lists Hyperliquid as missing
    const all = p.aggregateOf('BTC')!;
    expect(all.liquidations).toMatchObject({ coverage: 'complete', missingVenues: ['hyperliquid'] });
    expect(all.liquidations!['15m'].shortBase).toBe(2);
    expect(all.longShort!.accountsLongPct).toBe(58.25);
    const hl = (await bus.latest('hyperliquid', 'BTC'))!;
    expect(hl.liquidations).toBeNull();
    expect(hl.unavailable).toMatchObject({ liquidations: expect.any(String), longShort: expect.any(String) });
    await p.close();
  });

  it('keeps liquidations and long/short across a checkpoint in Redis and a restarted pipeline', async () => {
    // snapshot channels are shared by every database: a symbol of its own
    const symbol = uniqueSymbol('LIQ');
    const first = new RedisBus({ url, logger });
    await first.ready(5000);
    const p = pipelineOn(first);
    for (let s = 0; s <= 60; s += 5) {
      const ts = T0 + s * SEC;
      p.handle(ev('okx', ts, { oiBase: 5000, markPrice: 100 }, symbol));
      p.handle(ev('okx', ts, { liquidations: [{ side: 'long', base: 0.5, usd: 50, ts }] }, symbol));
    }
    p.handle(
      ev('okx', T0 + 60 * SEC, { accountsLongPct: 47, topTradersLongPct: 52, longShortTs: T0 }, symbol),
    );
    await p.close();
    const published = (await first.latest('okx', symbol))!;
    expect(published.liquidations!['15m']).toMatchObject({ longBase: 6.5, count: 13, partial: true });
    await first.saveCheckpoint('pulse:checkpoint:test', p.checkpoint());
    await first.close();

    const second = new RedisBus({ url, logger });
    await second.ready(5000);
    const q = pipelineOn(second);
    expect(q.restore(await second.loadCheckpoint('pulse:checkpoint:test'))).toBe(1);
    q.handle(ev('okx', T0 + 70 * SEC, { oiBase: 5000, markPrice: 100 }, symbol));
    await q.close();
    const resumed = (await second.latest('okx', symbol))!;
    expect(resumed.ts).toBe(T0 + 70 * SEC);
    expect(resumed.liquidations).toEqual(published.liquidations);
    expect(resumed.longShort).toEqual({ accountsLongPct: 47, topTradersLongPct: 52, ts: T0 });
    await second.close();
  });
});
