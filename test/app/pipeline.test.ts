import { pino } from 'pino';
import { describe, expect, it } from 'vitest';
import { Pipeline } from '../../src/app/pipeline.js';
import { MemoryBus } from '../../src/bus/memory-bus.js';
import type { AlertJson, MarketEvent } from '../../src/domain/types.js';

const MIN = 60_000;
const t0 = Date.UTC(2026, 0, 1);

const ev = (ts: number, oiBase: number): MarketEvent => ({
  type: 'market',
  venue: 'okx',
  symbol: 'BTC',
  instrument: 'BTC-USDT-SWAP',
  eventTs: ts,
  receiveTs: ts,
  oiBase,
  markPrice: 100,
});

describe('pipeline and feed gaps', () => {
  it('flags deltas across a reported gap and fires no alert from them', async () => {
    const bus = new MemoryBus();
    const alerts: AlertJson[] = [];
    const p = new Pipeline({
      bus,
      alertRule: { oiAlertPct15m: 3, cooldownMs: 30 * MIN },
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
