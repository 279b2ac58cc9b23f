import { describe, expect, it } from 'vitest';
import {
  type AlertRulesConfig,
  alertStateKey,
  createAlertEngineState,
  DEFAULT_ALERT_RULES,
  evaluateRules,
  restoreRuleStates,
} from '../../src/analytics/alert-engine.js';
import type { AlertJson, SnapshotJson } from '../../src/domain/types.js';

const T0 = 1_700_000_000_000;
const MIN = 60_000;
const COOL = DEFAULT_ALERT_RULES.cooldownMs;

interface Over {
  pct15?: number;
  aprPct?: number;
  oiAccel?: number;
  priceChange15mPct?: number;
}

/** A covered, gap-free snapshot; funding from `aprPct` (sign = payer) on an 8h interval. */
function snap(ts: number, o: Over = {}): SnapshotJson {
  const pct15 = o.pct15 ?? 0.2;
  const aprPct = o.aprPct ?? 10;
  const rate = aprPct / 100 / (3 * 365);
  const delta = (pct: number) => ({
    base: 10 * pct,
    usd: 1000 * pct,
    pct,
    positionUsd: 990 * pct,
    priceEffectUsd: 10 * pct,
  });
  const abs = Math.abs(aprPct);
  return {
    v: 1,
    venue: 'bybit',
    symbol: 'ETH',
    instrument: 'ETHUSDT',
    ts,
    price: { mark: 100 },
    oi: { base: 1000, usd: 100_000, delta15m: delta(pct15), delta24h: delta(0.5) },
    funding: {
      rate,
      intervalHours: 8,
      hourly: rate / 8,
      aprPct,
      nextFundingTime: null,
      payer: aprPct > 0 ? 'longs' : aprPct < 0 ? 'shorts' : 'none',
      pressure: abs >= 100 ? 'extreme' : abs >= 50 ? 'high' : abs >= 20 ? 'elevated' : 'neutral',
    },
    momentum: {
      priceChange15mPct: o.priceChange15mPct ?? 0.1,
      priceChange24hPct: null,
      oiAccel: o.oiAccel ?? 1,
      state: null,
    },
  };
}

function feed(
  cfg: AlertRulesConfig,
  values: readonly Over[],
  store?: Map<string, string>,
  state = createAlertEngineState(),
) {
  const alerts: AlertJson[] = [];
  values.forEach((o, i) => {
    const r = evaluateRules(state, snap(T0 + i * MIN, o), cfg);
    alerts.push(...r.alerts);
    for (const c of r.changed) store?.set(c.key, c.json);
  });
  return { alerts, state };
}

const only = (kind: AlertJson['kind'], chatLevels: AlertRulesConfig['chatLevels']): AlertRulesConfig => ({
  ...DEFAULT_ALERT_RULES,
  chatLevels,
  enabled: {
    oi_change_15m: kind === 'oi_change_15m',
    oi_change_24h: false,
    funding_pressure: kind === 'funding_pressure',
    funding_interval_change: false,
    funding_at_bound: false,
    control_flip: false,
    momentum_spike: kind === 'momentum_spike',
  },
});

describe('chat levels in the engine', () => {
  it('funding at a chat level of 80% APR: fires at 80–100% that the server (high = 50%+ level, once) treats as one event; per payer', () => {
    const cfg = only('funding_pressure', { funding_pressure: [80] });
    const { alerts } = feed(cfg, [
      { aprPct: 60 }, // server: high (fires); level 80: below
      { aprPct: 85 }, // level 80 fires
      { aprPct: 95 }, // no repeat
      { aprPct: 45 }, // not below 40: still disarmed
      { aprPct: 90 },
      { aprPct: -85 }, // shorts pay now: a new event for both
      { aprPct: 170 }, // longs again, extreme and 2× the level alert's 85: escalations of the up side
    ]);
    expect(
      alerts.map((a) => [a.id.split(':')[0], a.direction, a.escalated, a.forThreshold ?? null]),
    ).toStrictEqual([
      ['funding_pressure', 'up', false, null],
      ['funding_pressure@80', 'up', false, 80],
      ['funding_pressure', 'down', false, null],
      ['funding_pressure@80', 'down', false, 80],
      ['funding_pressure', 'up', true, null],
      ['funding_pressure@80', 'up', true, 80],
    ]);
    const level = alerts[1]!;
    expect(level).toMatchObject({
      thresholdPct: 80,
      kind: 'funding_pressure',
      id: `funding_pressure@80:bybit:ETH:${T0 + MIN}`,
    });
    expect(level.figures).toMatchObject({ thresholdAprPct: 80, aprPct: 85 });
    expect(level.text).toMatch(/Longs pay shorts/);
  });

  it('momentum at a chat level needs the same price and OI size floors', () => {
    const cfg = only('momentum_spike', { momentum_spike: [2] });
    const { alerts } = feed(cfg, [
      { oiAccel: 2.5, priceChange15mPct: 1, pct15: 0.4 }, // OI move too small
      { oiAccel: 2.5, priceChange15mPct: 0.2, pct15: 1.5 }, // price move too small
      { oiAccel: 2.5, priceChange15mPct: 1, pct15: -1.5 }, // fires down at level 2, server (3) quiet
    ]);
    expect(alerts.map((a) => [a.id.split(':')[0], a.direction, a.forThreshold])).toStrictEqual([
      ['momentum_spike@2', 'down', 2],
    ]);
  });

  it('ignores levels below the floor, and levels of a kind switched off', () => {
    const below = only('oi_change_15m', { oi_change_15m: [0.5, 0.25] });
    expect(feed(below, [{ pct15: 0.9 }]).alerts).toEqual([]);
    const off = { ...only('oi_change_15m', { funding_pressure: [20] }) };
    expect(feed(off, [{ aprPct: 30 }]).alerts).toEqual([]);
  });

  it('runs each level as its own rule: one move crosses several levels, each fires once', () => {
    const cfg = only('oi_change_15m', { oi_change_15m: [1, 2] });
    const { alerts, state } = feed(cfg, [{ pct15: 1.2 }, { pct15: 2.4 }, { pct15: 3.1 }, { pct15: 3.2 }]);
    expect(alerts.map((a) => [a.id.split(':')[0], a.ts - T0])).toStrictEqual([
      ['oi_change_15m@1', 0],
      ['oi_change_15m@1', MIN], // 2× the level alert's 1.2: escalation
      ['oi_change_15m@2', MIN],
      ['oi_change_15m', 2 * MIN],
    ]);
    expect(alerts[1]!.escalated).toBe(true);
    expect(alerts.map(alertStateKey)).toStrictEqual([
      'bybit:ETH:oi_change_15m@1:up',
      'bybit:ETH:oi_change_15m@1:up',
      'bybit:ETH:oi_change_15m@2:up',
      'bybit:ETH:oi_change_15m:up',
    ]);
    for (const key of alerts.map(alertStateKey)) expect(state.rules.get(key)?.armed).toBe(false);
  });

  it('levels changing between calls take effect at once and keep the states of levels still asked for', () => {
    const state = createAlertEngineState();
    const a = only('oi_change_15m', { oi_change_15m: [1] });
    expect(evaluateRules(state, snap(T0, { pct15: 1.5 }), a).alerts).toHaveLength(1);
    const b = only('oi_change_15m', { oi_change_15m: [1, 1.5] });
    const next = evaluateRules(state, snap(T0 + MIN, { pct15: 1.6 }), b).alerts;
    expect(next.map((x) => x.forThreshold)).toStrictEqual([1.5]);
  });
});

describe('restoring state from before directions', () => {
  it('applies an entry without a direction to both sides: nothing re-fires, a reversal waits out that cooldown', () => {
    const legacy = JSON.stringify({
      v: 1,
      key: 'bybit:ETH:oi_change_15m',
      ts: T0,
      armed: false,
      lastFiredTs: T0,
      lastFiredMagnitude: 4,
      lastSeen: null,
      pending: null,
    });
    const state = createAlertEngineState();
    expect(restoreRuleStates(state, [legacy])).toBe(1);
    expect([...state.rules.keys()].sort()).toStrictEqual([
      'bybit:ETH:oi_change_15m:down',
      'bybit:ETH:oi_change_15m:up',
    ]);
    const cfg = only('oi_change_15m', undefined);
    const held = (ts: number, pct15: number) => evaluateRules(state, snap(ts, { pct15 }), cfg).alerts;
    expect(held(T0 + MIN, 4.5)).toEqual([]);
    expect(held(T0 + 2 * MIN, -4)).toEqual([]);
    expect(held(T0 + COOL + MIN, -4).map((a) => a.direction)).toStrictEqual(['down']);
  });

  it('skips the old entry once a directional entry of the same rule was written since', () => {
    const old = {
      v: 1,
      ts: T0,
      armed: false,
      lastFiredTs: T0,
      lastFiredMagnitude: 4,
      lastSeen: null,
      pending: null,
    };
    const legacy = JSON.stringify({ ...old, key: 'bybit:ETH:oi_change_15m' });
    const newer = JSON.stringify({
      ...old,
      key: 'bybit:ETH:oi_change_15m:up',
      ts: T0 + COOL,
      lastFiredTs: T0 + COOL,
    });
    const state = createAlertEngineState();
    expect(restoreRuleStates(state, [legacy, newer])).toBe(1);
    expect([...state.rules.keys()]).toStrictEqual(['bybit:ETH:oi_change_15m:up']);
  });
});
