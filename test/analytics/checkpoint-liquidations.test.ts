import { describe, expect, it } from 'vitest';
import {
  checkpointInstrument,
  type InstrumentCheckpoint,
  restoreInstrument,
} from '../../src/analytics/checkpoint.js';
import {
  applyHistory,
  applyMarketEvent,
  createInstrumentState,
  type InstrumentState,
  toSnapshot,
} from '../../src/analytics/instrument.js';
import type { Liquidation, MarketEvent } from '../../src/domain/types.js';
import { btcEvent } from '../support/events.js';

const SEC = 1_000;
const MIN = 60_000;
const HOUR = 3_600_000;
const T0 = 20_000 * 864_000;

const ev = (ts: number, fields: Partial<MarketEvent>) => btcEvent('bybit', ts, fields);
const liq = (side: Liquidation['side'], base: number, ts: number): Liquidation => ({
  side,
  base,
  usd: base * 101.5,
  ts,
});

/** 25 hours of a minute feed with a liquidation or two every 7 minutes, some late, and long/short. */
function filled(): InstrumentState {
  const s = createInstrumentState('bybit', 'BTC', 'BTCUSDT');
  for (let m = 0; m <= 25 * 60; m++) {
    const ts = T0 + m * MIN;
    applyMarketEvent(s, ev(ts, { oiBase: 10_000 - m, markPrice: 100 + (m % 13) }));
    if (m % 7 === 0) {
      applyMarketEvent(
        s,
        ev(ts, { liquidations: [liq('long', m / 4, ts), liq('short', 0.5, ts - 3 * MIN)] }),
      );
    }
  }
  applyMarketEvent(s, ev(T0 + 25 * HOUR, { accountsLongPct: 61.5, longShortTs: T0 + 25 * HOUR - 5 * MIN }));
  applyMarketEvent(s, ev(T0 + 25 * HOUR, { topTradersLongPct: 44, longShortTs: T0 + 25 * HOUR - 10 * MIN }));
  return s;
}

const roundTrip = (cp: unknown): InstrumentState => restoreInstrument(JSON.parse(JSON.stringify(cp)))!;

describe('checkpoint of liquidations and long/short', () => {
  it('restores the windows, their counting start and the long/short figures', () => {
    const original = filled();
    const cp = checkpointInstrument(original);
    // 50 closed buckets and the open one, on the 2% grid
    expect(cp.liquidations!.w15m).toMatchObject({ windowMs: 15 * MIN, resolutionMs: 18 * SEC });
    expect(cp.liquidations!.w24h).toMatchObject({ windowMs: 24 * HOUR, resolutionMs: 28.8 * MIN });
    expect(cp.liquidations!.w15m.buckets.length).toBeLessThanOrEqual(51);
    expect(cp.liquidations!.w24h.buckets.length).toBeLessThanOrEqual(51);
    expect(cp.liquidations!.w24h.buckets.length).toBe(51); // a liquidation in every 28.8 min
    const restored = roundTrip(cp);
    const a = toSnapshot(original);
    const b = toSnapshot(restored);
    expect(a.liquidations!['24h'].count).toBeGreaterThan(100);
    expect(a.liquidations!['24h'].partial).toBe(false);
    expect(b.liquidations).toEqual(a.liquidations);
    expect(b.longShort).toEqual({
      accountsLongPct: 61.5,
      topTradersLongPct: 44,
      ts: T0 + 25 * HOUR - 10 * MIN,
    });
    expect(b.longShort).toEqual(a.longShort);
    // each figure keeps its own bucket time: an answer older than the top traders' is still refused
    for (const s of [original, restored]) {
      applyMarketEvent(
        s,
        ev(T0 + 25 * HOUR, { topTradersLongPct: 1, longShortTs: T0 + 25 * HOUR - 15 * MIN }),
      );
    }
    expect(toSnapshot(restored).longShort).toEqual(toSnapshot(original).longShort);
    // the same later liquidations and events give the same sums; the restart is a hole: partial
    for (const s of [original, restored]) {
      applyMarketEvent(s, ev(T0 + 25 * HOUR + 2 * MIN, { oiBase: 9000, markPrice: 100 }));
      applyMarketEvent(
        s,
        ev(T0 + 25 * HOUR + 2 * MIN, { liquidations: [liq('short', 3, T0 + 25 * HOUR + MIN)] }),
      );
    }
    const a2 = toSnapshot(original).liquidations!;
    const b2 = toSnapshot(restored).liquidations!;
    for (const w of ['15m', '24h'] as const) {
      expect({ ...b2[w], partial: null }).toEqual({ ...a2[w], partial: null });
      expect(a2[w].partial).toBe(false);
      expect(b2[w].partial).toBe(true);
    }
  });

  it('an older checkpoint without them restores partial windows, never zeros presented as complete', () => {
    const cp = JSON.parse(JSON.stringify(checkpointInstrument(filled()))) as InstrumentCheckpoint;
    delete cp.liquidations;
    for (const f of ['accountsLongPct', 'accountsLongTs', 'topTradersLongPct', 'topTradersLongTs'])
      delete cp.fields[f];
    const s = restoreInstrument(cp)!;
    const snap = toSnapshot(s);
    expect(snap.liquidations!['15m']).toMatchObject({ count: 0, partial: true });
    expect(snap.liquidations!['24h']).toMatchObject({ count: 0, partial: true });
    expect(snap.longShort).toBeNull();
    // live again a few seconds later, without gaps since: still partial until the windows start after
    // the checkpoint's last event (restoring it closed a hole there too): 15 minutes and an 18 s step
    const restartTs = cp.lastEventTs + 5 * SEC;
    for (let ts = restartTs; ts <= restartTs + 15 * MIN + 20 * SEC; ts += 10 * SEC) {
      applyMarketEvent(s, ev(ts, { oiBase: 9000, markPrice: 100 }));
    }
    expect(toSnapshot(s).liquidations!['15m'].partial).toBe(false);
    expect(toSnapshot(s).liquidations!['24h'].partial).toBe(true);
  });

  it('a checkpoint on the 1% grid (100 buckets, no resolutionMs) restores partial, then counts live ones', () => {
    const current = JSON.parse(JSON.stringify(checkpointInstrument(filled()))) as InstrumentCheckpoint;
    // what the 1% writer stored: the same sums, bucket numbers on a grid twice as fine, no grid
    const onePercent = structuredClone(current);
    for (const w of [onePercent.liquidations!.w15m, onePercent.liquidations!.w24h]) {
      delete w.resolutionMs;
      w.buckets = w.buckets.map(([b, ...figures]) => [2 * b, ...figures]);
    }
    // read on the 2% grid, those bucket numbers lie as far ahead as the event time itself: not loaded
    const s = restoreInstrument(onePercent)!;
    expect(s.liquidations!.w15m.ring).toBeNull();
    expect(s.liquidations!.w24h.ring).toBeNull();
    const snap = toSnapshot(s);
    expect(snap.liquidations!['15m']).toMatchObject({ count: 0, partial: true });
    expect(snap.liquidations!['24h']).toMatchObject({ count: 0, partial: true });
    // live liquidations are taken (a head bucket from the future would drop them)
    const t = onePercent.lastEventTs + 2 * MIN;
    applyMarketEvent(s, ev(t, { oiBase: 9000, markPrice: 100 }));
    applyMarketEvent(s, ev(t, { liquidations: [liq('short', 3, t - MIN)] }));
    expect(toSnapshot(s).liquidations!['15m']).toMatchObject({ shortBase: 3, count: 1, partial: true });
    expect(toSnapshot(s).liquidations!['24h']).toMatchObject({ shortBase: 3, count: 1, partial: true });
    expect(s.liquidations!.w24h.droppedCount).toBe(0);
    // each check alone refuses what would mis-count: another grid, even with every bucket in the past
    const coarser = structuredClone(current);
    for (const w of [coarser.liquidations!.w15m, coarser.liquidations!.w24h]) {
      w.resolutionMs = 2 * w.resolutionMs!;
      w.buckets = w.buckets.map(([b, ...figures]) => [Math.floor(b / 2), ...figures]);
    }
    expect(restoreInstrument(coarser)!.liquidations!.w24h.ring).toBeNull();
    expect(toSnapshot(restoreInstrument(coarser)!).liquidations!['24h']).toMatchObject({
      count: 0,
      partial: true,
    });
    // and, on the right grid, a bucket after the one of the last event time
    const ahead = structuredClone(current);
    const last = ahead.liquidations!.w15m.buckets.at(-1)!;
    last[0] = Math.floor(ahead.lastEventTs / (18 * SEC)) + 1;
    expect(restoreInstrument(ahead)!.liquidations!.w15m.ring).toBeNull();
    last[0] -= 1;
    expect(restoreInstrument(ahead)!.liquidations!.w15m.ring).not.toBeNull();
  });

  it('without the hole of the restart, the counting start alone keeps an old checkpoint partial', () => {
    const cp = JSON.parse(JSON.stringify(checkpointInstrument(filled()))) as InstrumentCheckpoint;
    delete cp.liquidations;
    const s = restoreInstrument(cp)!;
    s.holes.length = 0;
    s.gapOpen = false;
    applyMarketEvent(s, ev(cp.lastEventTs + 15 * MIN + 9 * SEC, { oiBase: 9000, markPrice: 100 }));
    // the 15m window now starts after the checkpoint's last event; the 24h one before it
    expect(toSnapshot(s).liquidations!['15m'].partial).toBe(false);
    expect(toSnapshot(s).liquidations!['24h'].partial).toBe(true);
  });

  it('history alone (a warm start, the demo past) starts no counting: the first live event does', () => {
    const s = createInstrumentState('bybit', 'BTC', 'BTCUSDT');
    const points = [];
    for (let m = 0; m <= 24 * 60; m += 5) points.push({ ts: T0 + m * MIN, oiBase: 1000, markPrice: 100 });
    applyHistory(s, points);
    const cp = JSON.parse(JSON.stringify(checkpointInstrument(s))) as InstrumentCheckpoint;
    expect(cp.liquidations!.countingSinceTs).toBeNull();
    const restored = restoreInstrument(cp)!;
    const liveTs = T0 + 24 * HOUR + 10 * SEC;
    applyMarketEvent(restored, ev(liveTs, { oiBase: 1000, markPrice: 100 }));
    expect(restored.liquidations!.countingSinceTs).toBe(liveTs);
    expect(toSnapshot(restored).liquidations!['24h'].partial).toBe(true);
  });

  it('a venue without a feed checkpoints no windows and restores as it was', () => {
    const s = createInstrumentState('hyperliquid', 'BTC', 'BTC');
    applyMarketEvent(s, { ...ev(T0, { oiBase: 1, markPrice: 1 }), venue: 'hyperliquid', instrument: 'BTC' });
    const cp = checkpointInstrument(s);
    expect(cp.liquidations).toBeUndefined();
    const snap = toSnapshot(roundTrip(cp));
    expect(snap.liquidations).toBeNull();
    expect(snap.unavailable!.liquidations).toBeDefined();
  });
});
