import { describe, expect, it } from 'vitest';
import {
  type AlertEngineState,
  type AlertRulesConfig,
  createAlertEngineState,
  DEFAULT_ALERT_RULES,
  evaluateRules,
  restoreRuleStates,
} from '../../src/analytics/alert-engine.js';
import {
  ALERT_KINDS,
  type AlertJson,
  type LiquidationCoverage,
  type SnapshotJson,
} from '../../src/domain/types.js';

const T0 = 1_700_000_000_000;
const MIN = 60_000;
const cfg: AlertRulesConfig = {
  ...DEFAULT_ALERT_RULES,
  enabled: Object.fromEntries(ALERT_KINDS.map((k) => [k, k === 'liquidation_cascade'])),
};
const COOL = cfg.cooldownMs;
/** OI value of the test instrument: 10,000 BTC at $50,000. 0.5% of it is $2.5M. */
const OI_USD = 500_000_000;
const M = 1_000_000;

interface Liq {
  longUsd?: number;
  shortUsd?: number;
  oiUsd?: number | null;
  venue?: string;
  venues?: readonly string[];
  missingVenues?: readonly string[];
  coverage?: LiquidationCoverage;
  partial?: boolean;
  /** null: the venue has no feed (Hyperliquid). */
  none?: boolean;
}

/** A snapshot with the fields the liquidation rule reads; USD amounts at $50,000 a BTC. */
function snap(ts: number, o: Liq = {}): SnapshotJson {
  const longUsd = o.longUsd ?? 0;
  const shortUsd = o.shortUsd ?? 0;
  const oiUsd = o.oiUsd === undefined ? OI_USD : o.oiUsd;
  const window = {
    longUsd,
    shortUsd,
    longBase: longUsd / 50_000,
    shortBase: shortUsd / 50_000,
    count: Math.round((longUsd + shortUsd) / 100_000),
    oiShare: null,
    partial: o.partial ?? false,
  };
  const venue = o.venue ?? 'bybit';
  return {
    v: 1,
    venue,
    symbol: 'BTC',
    instrument: venue === 'all' ? 'BTC' : 'BTCUSDT',
    ts,
    price: { mark: 50_000 },
    oi: { base: oiUsd === null ? null : oiUsd / 50_000, usd: oiUsd, delta15m: null, delta24h: null },
    funding: { rate: null, intervalHours: null, hourly: null, aprPct: null, nextFundingTime: null },
    ...(o.venues ? { venues: o.venues } : {}),
    liquidations: o.none
      ? null
      : {
          '15m': window,
          '24h': { ...window, partial: false },
          coverage: o.coverage ?? 'complete',
          ...(o.missingVenues ? { missingVenues: o.missingVenues } : {}),
        },
    ...(o.none ? { unavailable: { liquidations: 'venue publishes no market-wide liquidation feed' } } : {}),
  };
}

type Store = Map<string, string>;

function feed(state: AlertEngineState, snaps: readonly SnapshotJson[], store?: Store, c = cfg): AlertJson[] {
  const out: AlertJson[] = [];
  for (const s of snaps) {
    const { alerts, changed } = evaluateRules(state, s, c);
    out.push(...alerts);
    for (const { key, json } of changed) store?.set(key, json);
  }
  return out;
}

/** One snapshot per minute from `startTs`. */
const series = (startTs: number, values: readonly Liq[]) => values.map((o, i) => snap(startTs + i * MIN, o));

describe('liquidation_cascade', () => {
  it('fires once per cascade and side: the window staying above fires nothing more', () => {
    const alerts = feed(
      createAlertEngineState(),
      series(T0, [
        { shortUsd: 0.5 * M },
        { shortUsd: 2 * M },
        { shortUsd: 2.5 * M }, // 0.5% of OI and over $1M: fires
        { shortUsd: 3 * M },
        { shortUsd: 3.5 * M },
        { shortUsd: 2.6 * M },
      ]),
    );
    expect(alerts).toHaveLength(1);
    const a = alerts[0]!;
    expect(a).toMatchObject({
      kind: 'liquidation_cascade',
      ts: T0 + 2 * MIN,
      direction: 'up',
      id: `liquidation_cascade:bybit:BTC:${T0 + 2 * MIN}:up`,
      thresholdPct: 0.5,
      windowMs: 15 * MIN,
      severity: 'warning',
      escalated: false,
    });
    expect(a.figures).toMatchObject({ side: 'shorts', shortUsd: 2.5 * M, longUsd: 0, coverage: 'complete' });
    expect(a.figures?.pctOfOi).toBeCloseTo(0.5, 10);
    expect(a.text).toBe(
      'BTC on bybit: $2.50M of shorts liquidated in 15m (0.50% of OI) · short squeeze · Bybit complete.',
    );
  });

  it('longs liquidated are the down side, and 2× the percent is critical', () => {
    const [a] = feed(createAlertEngineState(), [snap(T0, { longUsd: 5 * M })]);
    expect(a).toMatchObject({ direction: 'down', severity: 'critical', figures: { side: 'longs' } });
    expect(a!.text).toContain('$5.00M of longs liquidated in 15m (1.00% of OI) · long flush');
  });

  it('stays quiet for a burst below the percent, or below the USD floor', () => {
    // $2.4M of $500M: 0.48%, under 0.5%
    expect(feed(createAlertEngineState(), [snap(T0, { shortUsd: 2.4 * M, longUsd: 2.4 * M })])).toEqual([]);
    // $0.9M of $100M: 0.9% of OI, but under the $1M floor
    expect(feed(createAlertEngineState(), [snap(T0, { shortUsd: 0.9 * M, oiUsd: 100 * M })])).toEqual([]);
    // the same burst fires once the floor allows it
    const lowFloor = { ...cfg, liqAlertMinUsd: 500_000 };
    expect(
      feed(createAlertEngineState(), [snap(T0, { shortUsd: 0.9 * M, oiUsd: 100 * M })], undefined, lowFloor),
    ).toHaveLength(1);
    // and the percent comes from the config
    const lowPct = { ...cfg, liqAlertPctOi: 0.4 };
    expect(feed(createAlertEngineState(), [snap(T0, { shortUsd: 2.4 * M })], undefined, lowPct)).toHaveLength(
      1,
    );
  });

  it('fires both sides at one event time with distinct ids', () => {
    const alerts = feed(createAlertEngineState(), [snap(T0, { longUsd: 3 * M, shortUsd: 4 * M })]);
    expect(alerts.map((a) => [a.direction, a.figures?.side])).toEqual([
      ['up', 'shorts'],
      ['down', 'longs'],
    ]);
    const ids = alerts.map((a) => a.id);
    expect(new Set(ids).size).toBe(2);
    expect(ids).toEqual([
      `liquidation_cascade:bybit:BTC:${T0}:up`,
      `liquidation_cascade:bybit:BTC:${T0}:down`,
    ]);
  });

  it('re-arms once the side falls back below half a threshold, and fires the next cascade after the cooldown', () => {
    const s = createAlertEngineState();
    expect(feed(s, [snap(T0, { shortUsd: 3 * M })])).toHaveLength(1);
    // above again after the cooldown without having fallen back: the same cascade
    expect(feed(s, [snap(T0 + COOL + MIN, { shortUsd: 3 * M })])).toEqual([]);
    // falls to 0.3% (above half of 0.5%): not re-armed
    expect(
      feed(s, [
        snap(T0 + COOL + 2 * MIN, { shortUsd: 1.5 * M }),
        snap(T0 + COOL + 3 * MIN, { shortUsd: 3 * M }),
      ]),
    ).toEqual([]);
    // falls to 0.2%: re-armed; the next cascade fires
    const next = feed(s, [
      snap(T0 + COOL + 4 * MIN, { shortUsd: 1 * M }),
      snap(T0 + COOL + 5 * MIN, { shortUsd: 3 * M }),
    ]);
    expect(next.map((a) => a.ts)).toEqual([T0 + COOL + 5 * MIN]);
  });

  it('also re-arms once the side falls below half the USD floor (a thin market)', () => {
    const s = createAlertEngineState();
    const thin = (ts: number, shortUsd: number) => snap(ts, { shortUsd, oiUsd: 100 * M });
    expect(feed(s, [thin(T0, 1.2 * M)])).toHaveLength(1);
    // $0.6M is still 0.6% of this OI, but over half the $1M floor: the same cascade
    expect(feed(s, [thin(T0 + COOL, 0.6 * M), thin(T0 + COOL + MIN, 1.2 * M)])).toEqual([]);
    // $0.45M: 0.45% of OI (above half the percent) but under half the floor: re-armed
    expect(feed(s, [thin(T0 + COOL + 2 * MIN, 0.45 * M), thin(T0 + COOL + 3 * MIN, 1.2 * M)])).toHaveLength(
      1,
    );
  });

  it('holds a re-armed side during the cooldown, then fires at the first evaluation after it', () => {
    const s = createAlertEngineState();
    expect(feed(s, [snap(T0, { longUsd: 3 * M })])).toHaveLength(1);
    const during = feed(s, [snap(T0 + 5 * MIN, { longUsd: 0 }), snap(T0 + 20 * MIN, { longUsd: 3 * M })]);
    expect(during).toEqual([]);
    const after = feed(s, [snap(T0 + COOL, { longUsd: 3 * M })]);
    expect(after.map((a) => [a.ts, a.escalated])).toEqual([[T0 + COOL, false]]);
  });

  it('one cascade is one alert however large it grows; a new one at twice the last escalates through the cooldown', () => {
    const s = createAlertEngineState();
    expect(feed(s, [snap(T0, { shortUsd: 3 * M })])).toHaveLength(1);
    // the same cascade doubling and more inside its window: no second message
    expect(feed(s, [snap(T0 + MIN, { shortUsd: 6 * M }), snap(T0 + 2 * MIN, { shortUsd: 12 * M })])).toEqual(
      [],
    );
    // it ends (re-armed), and a new cascade inside the cooldown at twice the last alert escalates
    expect(feed(s, [snap(T0 + 16 * MIN, { shortUsd: 0.5 * M })])).toEqual([]);
    expect(feed(s, [snap(T0 + 17 * MIN, { shortUsd: 5.9 * M })])).toEqual([]);
    const [esc] = feed(s, [snap(T0 + 18 * MIN, { shortUsd: 6 * M })]);
    expect(esc).toMatchObject({ escalated: true, direction: 'up', figures: { lastAlertUsd: 3 * M } });
    expect(esc!.text).toContain('Escalated: 2.0× the last alert.');
    // the next escalation is measured from this one, and again needs a new cascade
    expect(feed(s, [snap(T0 + 19 * MIN, { shortUsd: 12 * M })])).toEqual([]);
    expect(
      feed(s, [snap(T0 + 20 * MIN, { shortUsd: 1 * M }), snap(T0 + 21 * MIN, { shortUsd: 12 * M })]).map(
        (a) => a.escalated,
      ),
    ).toEqual([true]);
  });

  it('a cascade on the other side is a new event, not held by this side', () => {
    const s = createAlertEngineState();
    expect(feed(s, [snap(T0, { shortUsd: 3 * M })]).map((a) => a.direction)).toEqual(['up']);
    expect(feed(s, [snap(T0 + MIN, { shortUsd: 3 * M, longUsd: 3 * M })]).map((a) => a.direction)).toEqual([
      'down',
    ]);
  });

  it('fires on the aggregate, naming the coverage of each venue and the ones without a feed', () => {
    const all = snap(T0, {
      venue: 'all',
      shortUsd: 42.1 * M,
      oiUsd: 4_680 * M,
      coverage: 'sampled',
      venues: ['binance', 'bybit', 'okx', 'hyperliquid'],
      missingVenues: ['hyperliquid'],
    });
    const [a] = feed(createAlertEngineState(), [all]);
    expect(a).toMatchObject({ id: `liquidation_cascade:all:BTC:${T0}:up`, venue: 'all' });
    expect(a!.figures).toMatchObject({ coverage: 'sampled', lowerBound: true, missingVenues: 'hyperliquid' });
    expect(a!.text).toBe(
      'BTC on all venues: at least $42.1M of shorts liquidated in 15m (0.90% of OI) · short squeeze · ' +
        'Bybit complete, Binance/OKX sampled · Hyperliquid: no public liquidation feed.',
    );
  });

  it('fires on a partial window and says the sum is a lower bound', () => {
    const [a] = feed(createAlertEngineState(), [snap(T0, { longUsd: 3 * M, partial: true })]);
    expect(a!.figures).toMatchObject({ partial: true, lowerBound: true });
    expect(a!.text).toBe(
      'BTC on bybit: at least $3.00M of longs liquidated in 15m (0.60% of OI) · long flush · Bybit complete · ' +
        'counting began inside the window.',
    );
    const [sampled] = feed(createAlertEngineState(), [
      snap(T0, { venue: 'binance', longUsd: 3 * M, coverage: 'sampled' }),
    ]);
    expect(sampled!.text).toContain('at least $3.00M of longs');
    expect(sampled!.text).toContain('Binance sampled');
  });

  it('does nothing, and keeps no state, without a feed or an OI value', () => {
    const store: Store = new Map();
    const s = createAlertEngineState();
    expect(feed(s, [snap(T0, { venue: 'hyperliquid', none: true })], store)).toEqual([]);
    expect(feed(s, [snap(T0, { shortUsd: 50 * M, oiUsd: null })], store)).toEqual([]);
    expect(feed(s, [snap(T0, { shortUsd: 50 * M, oiUsd: 0 })], store)).toEqual([]);
    expect(store.size).toBe(0);
  });

  it('is switched off by its kind', () => {
    const off = { ...cfg, enabled: { liquidation_cascade: false } };
    expect(feed(createAlertEngineState(), [snap(T0, { shortUsd: 50 * M })], undefined, off)).toEqual([]);
  });

  it('resumes from its stored state: no second alert for the same cascade, re-arm and escalation kept', () => {
    const store: Store = new Map();
    const first = createAlertEngineState();
    expect(feed(first, [snap(T0, { shortUsd: 3 * M, longUsd: 3 * M })], store)).toHaveLength(2);
    expect([...store.keys()].sort()).toEqual([
      'bybit:BTC:liquidation_cascade:down',
      'bybit:BTC:liquidation_cascade:up',
    ]);
    const restarted = createAlertEngineState();
    expect(restoreRuleStates(restarted, [...store.values()])).toBe(2);
    // the same snapshot again (a replay after a restart) and the same cascade going on: nothing
    expect(feed(restarted, [snap(T0, { shortUsd: 3 * M, longUsd: 3 * M })])).toEqual([]);
    expect(feed(restarted, [snap(T0 + 5 * MIN, { shortUsd: 3 * M, longUsd: 3 * M })])).toEqual([]);
    // the escalation is measured from the stored alert: a new short cascade inside the cooldown
    const esc = feed(restarted, [
      snap(T0 + 6 * MIN, { shortUsd: 0.5 * M, longUsd: 3 * M }),
      snap(T0 + 7 * MIN, { shortUsd: 6 * M, longUsd: 3 * M }),
    ]);
    expect(esc.map((a) => [a.direction, a.escalated])).toEqual([['up', true]]);
    // a fresh engine without the stored state would have fired both sides again
    expect(
      feed(createAlertEngineState(), [snap(T0 + COOL + MIN, { shortUsd: 3 * M, longUsd: 3 * M })]),
    ).toHaveLength(2);
  });
});
