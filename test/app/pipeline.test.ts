import { pino } from 'pino';
import { describe, expect, it } from 'vitest';
import { Pipeline } from '../../src/app/pipeline.js';
import { MemoryBus } from '../../src/bus/memory-bus.js';
import type { AlertJson, MarketEvent } from '../../src/domain/types.js';
import { btcEvent } from '../support/events.js';

const MIN = 60_000;
const t0 = Date.UTC(2026, 0, 1);

const ev = (ts: number, oiBase: number) => btcEvent('okx', ts, { oiBase, markPrice: 100 });

describe('pipeline and feed gaps', () => {
  it('flags deltas across a reported gap and fires no alert from them', async () => {
    const bus = new MemoryBus();
    const alerts: AlertJson[] = [];
    const p = new Pipeline({
      bus,
      rules: { oiChange15mPct: 3, cooldownMs: 30 * MIN },
      publishIntervalMs: 10,
      logger: pino({ level: 'silent' }),
      onAlert: (a) => alerts.push(a),
    });
    for (let m = 0; m <= 20; m++) p.handle(ev(t0 + m * MIN, 1000));
    p.handle({
      type: 'status',
      venue: 'okx',
      kind: 'gap',
      receiveTs: t0 + 25 * MIN,
      gap: { fromTs: t0 + 20 * MIN, toTs: t0 + 25 * MIN, instruments: ['BTC-USDT-SWAP'] },
    });
    // after the gap OI is 10% higher: a real move or missed data, we cannot tell
    p.handle(ev(t0 + 25 * MIN, 1100));
    await p.flush();
    const snap = await bus.latest('okx', 'BTC');
    expect(snap?.oi.delta15m).toMatchObject({ gap: true, pct: 10 });
    expect(alerts).toEqual([]);
    // once the window has moved past the gap, deltas are clean and the rule fires again
    for (let m = 26; m <= 45; m++) p.handle(ev(t0 + m * MIN, 1100 + (m === 45 ? 50 : 0)));
    await p.close();
    const later = await bus.latest('okx', 'BTC');
    expect(later?.oi.delta15m).toMatchObject({ gap: false });
    expect(alerts.map((a) => a.delta?.pct)).toEqual([expect.closeTo(4.545, 2)]);
  });
});

describe('pipeline and the cross-venue aggregate', () => {
  it('publishes venue `all` for a symbol on two venues, summing OI and weighting funding by OI', async () => {
    const bus = new MemoryBus();
    const p = new Pipeline({
      bus,
      rules: { oiChange15mPct: 3, cooldownMs: 30 * MIN },
      publishIntervalMs: 10,
      logger: pino({ level: 'silent' }),
    });
    const at = (
      venue: 'okx' | 'bybit',
      instrument: string,
      ts: number,
      oiBase: number,
      rate: number,
    ): MarketEvent => ({
      type: 'market',
      venue,
      symbol: 'ETH',
      instrument,
      eventTs: ts,
      receiveTs: ts,
      oiBase,
      markPrice: 2000,
      fundingRate: rate,
      fundingIntervalHours: 8,
    });
    p.handle(at('okx', 'ETH-USDT-SWAP', t0, 300, 0.0001));
    p.handle(at('bybit', 'ETHUSDT', t0 + 1000, 100, 0.0005));
    // a symbol on one venue only has no aggregate
    p.handle({ ...ev(t0, 50), symbol: 'SOLO', instrument: 'SOLO-USDT-SWAP' });
    await p.close();
    const all = await bus.latest('all', 'ETH');
    expect(all).toMatchObject({ v: 1, venue: 'all', symbol: 'ETH', venues: ['bybit', 'okx'], ts: t0 + 1000 });
    expect(all!.oi.base).toBe(400);
    expect(all!.oi.usd).toBe(800_000);
    // OI-weighted APR: (3 × 10.95% + 1 × 54.75%) / 4
    expect(all!.funding.aprPct).toBeCloseTo((3 * 10.95 + 54.75) / 4, 6);
    expect(all!.fundingSpread).toMatchObject({ maxVenue: 'bybit', minVenue: 'okx' });
    expect(all!.fundingSpread!.aprPct).toBeCloseTo(43.8, 6);
    expect(await bus.latest('all', 'SOLO')).toBeNull();
    expect(p.counters.aggregatesPublished).toBe(1);
  });
});

describe('pipeline close', () => {
  it('close() called twice at once: both resolve only after the final snapshots are on the bus', async () => {
    const bus = new MemoryBus();
    const p = new Pipeline({
      bus,
      rules: { oiChange15mPct: 3, cooldownMs: 30 * MIN },
      publishIntervalMs: 60_000,
      logger: pino({ level: 'silent' }),
    });
    p.start();
    p.handle(ev(t0, 1000));
    const first = p.close();
    const second = p.close();
    await second;
    expect((await bus.latest('okx', 'BTC'))?.oi.base).toBe(1000);
    await first;
    expect(p.close()).toBe(second);
  });
});
