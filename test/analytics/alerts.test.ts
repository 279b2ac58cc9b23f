import { describe, expect, it } from 'vitest';
import { createAlertState, evaluateOiChange15m, type OiAlertConfig } from '../../src/analytics/alerts.js';
import { applyMarketEvent, createInstrumentState, toSnapshot } from '../../src/analytics/instrument.js';
import type { DeltaJson, MarketEvent, SnapshotJson } from '../../src/domain/types.js';

const T0 = 1_700_000_000_000;
const MIN = 60_000;
const cfg: OiAlertConfig = { oiAlertPct15m: 5, cooldownMs: 30 * MIN };

function snapshot(
  ts: number,
  pct: number | null,
  over: { venue?: string; symbol?: string } = {},
): SnapshotJson {
  const delta: DeltaJson | null = pct === null ? null : { base: 500 * pct, usd: 500 * pct * 85_000, pct };
  return {
    v: 1,
    venue: over.venue ?? 'bybit',
    symbol: over.symbol ?? 'BTC',
    instrument: `${over.symbol ?? 'BTC'}USDT`,
    ts,
    price: { mark: 85_000, last: null, index: null },
    oi: { base: 50_000, usd: 50_000 * 85_000, delta15m: delta, delta24h: null },
    funding: { rate: null, intervalHours: null, hourly: null, aprPct: null, nextFundingTime: null },
    turnover24hUsd: null,
  };
}

describe('rule oi_change_15m', () => {
  it('fires at the threshold in both directions, not below', () => {
    expect(evaluateOiChange15m(createAlertState(), snapshot(T0, 5), cfg)?.delta?.pct).toBe(5);
    expect(evaluateOiChange15m(createAlertState(), snapshot(T0, -5), cfg)?.delta?.pct).toBe(-5);
    expect(evaluateOiChange15m(createAlertState(), snapshot(T0, 4.999), cfg)).toBeNull();
    expect(evaluateOiChange15m(createAlertState(), snapshot(T0, -4.999), cfg)).toBeNull();
  });

  it('never fires on a null delta, and does not start a cooldown', () => {
    const state = createAlertState();
    expect(evaluateOiChange15m(state, snapshot(T0, null), cfg)).toBeNull();
    expect(evaluateOiChange15m(state, snapshot(T0, 2), cfg)).toBeNull();
    expect(state.lastFiredTs.size).toBe(0);
    expect(evaluateOiChange15m(state, snapshot(T0 + 1, 6), cfg)).not.toBeNull();
  });

  it('never fires from a window that spans a feed gap', () => {
    const state = createAlertState();
    const s = snapshot(T0, 12);
    const gapped = { ...s, oi: { ...s.oi, delta15m: { ...s.oi.delta15m!, gap: true } } };
    expect(evaluateOiChange15m(state, gapped, cfg)).toBeNull();
    expect(evaluateOiChange15m(state, s, cfg)).not.toBeNull();
  });

  it('applies the cooldown in event time', () => {
    const state = createAlertState();
    expect(evaluateOiChange15m(state, snapshot(T0, 6), cfg)).not.toBeNull();
    expect(evaluateOiChange15m(state, snapshot(T0 + 30 * MIN - 1, -7), cfg)).toBeNull();
    const again = evaluateOiChange15m(state, snapshot(T0 + 30 * MIN, 6), cfg);
    expect(again?.ts).toBe(T0 + 30 * MIN);
    // The cooldown restarts from the latest alert, and an older event stays suppressed.
    expect(evaluateOiChange15m(state, snapshot(T0 + 45 * MIN, 6), cfg)).toBeNull();
    expect(evaluateOiChange15m(state, snapshot(T0 + 10 * MIN, 6), cfg)).toBeNull();
  });

  it('keeps cooldowns independent per venue and symbol', () => {
    const state = createAlertState();
    expect(evaluateOiChange15m(state, snapshot(T0, 6), cfg)).not.toBeNull();
    expect(evaluateOiChange15m(state, snapshot(T0 + 1, 6, { symbol: 'ETH' }), cfg)?.symbol).toBe('ETH');
    expect(evaluateOiChange15m(state, snapshot(T0 + 2, 6, { venue: 'okx' }), cfg)?.venue).toBe('okx');
    expect(evaluateOiChange15m(state, snapshot(T0 + 3, 6), cfg)).toBeNull();
    expect([...state.lastFiredTs.keys()].sort()).toStrictEqual([
      'bybit:BTC:oi_change_15m',
      'bybit:ETH:oi_change_15m',
      'okx:BTC:oi_change_15m',
    ]);
  });

  it('builds the same alert, id included, from the same input', () => {
    const a = evaluateOiChange15m(createAlertState(), snapshot(T0, 5), cfg);
    const b = evaluateOiChange15m(createAlertState(), snapshot(T0, 5), cfg);
    expect(a).toStrictEqual(b);
    expect(a?.id).toBe(`oi_change_15m:bybit:BTC:${T0}`);
    expect(a).toMatchObject({ v: 1, kind: 'oi_change_15m', thresholdPct: 5, windowMs: 900_000, ts: T0 });
    expect(a?.snapshot).toStrictEqual(snapshot(T0, 5));
  });

  it('forgets the least recently fired key beyond maxKeys', () => {
    const state = createAlertState(3);
    for (const [i, symbol] of ['A', 'B', 'C', 'D', 'E'].entries()) {
      expect(evaluateOiChange15m(state, snapshot(T0 + i, 6, { symbol }), cfg)).not.toBeNull();
    }
    expect(state.lastFiredTs.size).toBe(3);
    expect(evaluateOiChange15m(state, snapshot(T0 + 10, 6, { symbol: 'A' }), cfg)).not.toBeNull();
    expect(evaluateOiChange15m(state, snapshot(T0 + 11, 6, { symbol: 'E' }), cfg)).toBeNull();
    expect(state.lastFiredTs.size).toBe(3);
    expect([...state.lastFiredTs.keys()]).toStrictEqual([
      'bybit:D:oi_change_15m',
      'bybit:E:oi_change_15m',
      'bybit:A:oi_change_15m',
    ]);
  });

  it('summarizes the change in plain text from a real instrument snapshot', () => {
    const midnight = 1_699_920_000_000;
    const s = createInstrumentState('bybit', 'BTC', 'BTCUSDT');
    const ev = (eventTs: number, f: Partial<MarketEvent>): MarketEvent => ({
      type: 'market',
      venue: 'bybit',
      symbol: 'BTC',
      instrument: 'BTCUSDT',
      eventTs,
      receiveTs: eventTs,
      ...f,
    });
    applyMarketEvent(s, ev(midnight, { oiBase: 50_000, markPrice: 85_200 }));
    applyMarketEvent(s, ev(midnight + 16 * MIN, { oiBase: 52_500, markPrice: 85_200 }));
    const alert = evaluateOiChange15m(createAlertState(), toSnapshot(s), cfg);
    expect(alert?.text).toBe(
      'BTC on bybit: open interest +5.00% in 15m: +2,500 BTC ($213.0M). Now 52,500 BTC ($4.47B), mark 85,200.',
    );
    applyMarketEvent(s, ev(midnight + 16 * MIN, { fundingRate: 0.0001, fundingIntervalHours: 8 }));
    const withFunding = evaluateOiChange15m(createAlertState(), toSnapshot(s), cfg);
    expect(withFunding?.text).toBe(
      'BTC on bybit: open interest +5.00% in 15m: +2,500 BTC ($213.0M). Now 52,500 BTC ($4.47B), mark 85,200.' +
        ' Funding 0.0100% per 8h (10.95% APR).',
    );
  });

  it('shows negative changes and negative funding with their sign', () => {
    const base = snapshot(T0, -6);
    const snap: SnapshotJson = {
      ...base,
      funding: { rate: -0.0005, intervalHours: 4, hourly: -0.000125, aprPct: -109.5, nextFundingTime: null },
    };
    expect(evaluateOiChange15m(createAlertState(), snap, cfg)?.text).toBe(
      'BTC on bybit: open interest -6.00% in 15m: -3,000 BTC (-$255.0M). Now 50,000 BTC ($4.25B), mark 85,000.' +
        ' Funding -0.0500% per 4h (-109.50% APR).',
    );
  });
});
