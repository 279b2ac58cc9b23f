import { describe, expect, it } from 'vitest';
import {
  type AlertEngineState,
  type AlertRulesConfig,
  createAlertEngineState,
  DEFAULT_ALERT_RULES,
  evaluateRules,
  restoreRuleStates,
} from '../../src/analytics/alert-engine.js';
import type {
  AlertJson,
  AlertKind,
  ControlState,
  DeltaJson,
  FundingPressure,
  SnapshotJson,
} from '../../src/domain/types.js';

const T0 = 1_700_000_000_000;
const SEC = 1000;
const MIN = 60_000;
const cfg: AlertRulesConfig = DEFAULT_ALERT_RULES;
const COOL = cfg.cooldownMs;
const TH15 = cfg.oiChange15mPct;
const TH24 = cfg.oiChange24hPct;
const REARM15 = cfg.rearmFraction * TH15;

interface Over {
  venue?: string;
  symbol?: string;
  /** 15m OI change, percent; null: window not covered. */
  pct15?: number | null;
  flags15?: Pick<DeltaJson, 'gap' | 'backfilled'>;
  pct24?: number | null;
  flags24?: Pick<DeltaJson, 'gap' | 'backfilled'>;
  pressure?: FundingPressure | null;
  intervalHours?: number | null;
  atBound?: 'cap' | 'floor' | null;
  control?: ControlState | null;
  oiAccel?: number | null;
  priceChange15mPct?: number | null;
}

function delta(pct: number, flags: Pick<DeltaJson, 'gap' | 'backfilled'> = {}): DeltaJson {
  const base = 500 * pct;
  return {
    base,
    usd: base * 85_000,
    pct,
    positionUsd: base * 84_000,
    priceEffectUsd: base * 1_000,
    ...flags,
  };
}

/** A snapshot with only the fields the rules read set; everything else unknown. */
function snap(ts: number, o: Over = {}): SnapshotJson {
  const pct15 = o.pct15 === undefined ? 0.2 : o.pct15;
  // covered by default: momentum_spike needs a whole, gap-free 24h window too
  const pct24 = o.pct24 === undefined ? 0.5 : o.pct24;
  const intervalHours = o.intervalHours === undefined ? 8 : o.intervalHours;
  const rate = 0.0003;
  const aprPct = intervalHours === null ? null : (rate / intervalHours) * 24 * 365 * 100;
  return {
    v: 1,
    venue: o.venue ?? 'bybit',
    symbol: o.symbol ?? 'BTC',
    instrument: `${o.symbol ?? 'BTC'}USDT`,
    ts,
    price: { mark: 85_000, last: null, index: null },
    oi: {
      base: 50_000,
      usd: 50_000 * 85_000,
      delta15m: pct15 === null ? null : delta(pct15, o.flags15),
      delta24h: pct24 === null ? null : delta(pct24, o.flags24),
    },
    funding: {
      rate,
      intervalHours,
      hourly: intervalHours === null ? null : rate / intervalHours,
      aprPct,
      nextFundingTime: null,
      pressure: o.pressure === undefined ? 'neutral' : o.pressure,
      atBound: o.atBound === undefined ? null : o.atBound,
    },
    turnover24hUsd: null,
    momentum: {
      priceChange15mPct: o.priceChange15mPct === undefined ? 0.1 : o.priceChange15mPct,
      priceChange24hPct: null,
      oiAccel: o.oiAccel === undefined ? 1 : o.oiAccel,
      state: null,
    },
    control: { '15m': o.control === undefined ? 'neutral' : o.control, '24h': null },
  };
}

/** Persists `changed` the way the pipeline would (`HSET key json`: the latest value per key wins). */
type Store = Map<string, string>;

function feed(
  state: AlertEngineState,
  snaps: readonly SnapshotJson[],
  c: AlertRulesConfig = cfg,
  store?: Store,
): AlertJson[] {
  const out: AlertJson[] = [];
  for (const s of snaps) {
    const { alerts, changed } = evaluateRules(state, s, c);
    out.push(...alerts);
    for (const { key, json } of changed) store?.set(key, json);
  }
  return out;
}

/** One value per minute from `startTs`, each built by `over`. */
function series(startTs: number, values: readonly Over[], stepMs = MIN): SnapshotJson[] {
  return values.map((o, i) => snap(startTs + i * stepMs, o));
}

const only = (kind: AlertKind): AlertRulesConfig => ({
  ...cfg,
  enabled: Object.fromEntries(
    (
      [
        'oi_change_15m',
        'oi_change_24h',
        'funding_pressure',
        'funding_interval_change',
        'funding_at_bound',
        'control_flip',
        'momentum_spike',
        'liquidation_cascade',
      ] as const
    ).map((k) => [k, k === kind]),
  ),
});

describe('oi_change_15m', () => {
  const c = only('oi_change_15m');

  it('fires once at the threshold (inclusive, either way) and stays quiet while above', () => {
    expect(feed(createAlertEngineState(), [snap(T0, { pct15: TH15 - 0.001 })], c)).toHaveLength(0);
    expect(feed(createAlertEngineState(), [snap(T0, { pct15: -TH15 })], c)).toHaveLength(1);
    const state = createAlertEngineState();
    // Above the threshold for two hours (past several cooldowns) but never twice the first move.
    const above = Array.from({ length: 120 }, (_, i) => ({ pct15: TH15 + (i % 5) * 0.2 }));
    const alerts = feed(state, series(T0, above), c);
    expect(alerts.map((a) => a.ts)).toStrictEqual([T0]);
    expect(alerts[0]).toMatchObject({
      id: `oi_change_15m:bybit:BTC:${T0}`,
      severity: 'warning',
      escalated: false,
      thresholdPct: TH15,
      windowMs: 15 * MIN,
      figures: {
        deltaPct: TH15,
        thresholdPct: TH15,
        deltaBase: 500 * TH15,
        positionUsd: 500 * TH15 * 84_000,
      },
    });
    expect(alerts[0]!.delta?.pct).toBe(TH15);
  });

  it('re-arms only below the lower level, then fires again once the cooldown is over', () => {
    const state = createAlertEngineState();
    expect(feed(state, [snap(T0, { pct15: TH15 })], c)).toHaveLength(1);
    // After the cooldown: dipping to just above the re-arm level and back does not fire.
    const t1 = T0 + COOL + MIN;
    expect(feed(state, [snap(t1, { pct15: REARM15 }), snap(t1 + MIN, { pct15: TH15 })], c)).toHaveLength(0);
    const rearmed = feed(
      state,
      [snap(t1 + 2 * MIN, { pct15: REARM15 * 0.99 }), snap(t1 + 3 * MIN, { pct15: -TH15 })],
      c,
    );
    expect(rearmed.map((a) => [a.ts, a.delta?.pct])).toStrictEqual([[t1 + 3 * MIN, -TH15]]);
  });

  it('holds a re-armed crossing during the cooldown and fires when the cooldown ends', () => {
    const state = createAlertEngineState();
    const alerts = feed(
      state,
      [
        snap(T0, { pct15: TH15 }),
        snap(T0 + MIN, { pct15: 0 }),
        snap(T0 + 2 * MIN, { pct15: TH15 + 1 }),
        snap(T0 + COOL - 1, { pct15: TH15 + 1 }),
        snap(T0 + COOL, { pct15: TH15 + 1 }),
        snap(T0 + COOL + MIN, { pct15: TH15 + 1 }),
      ],
      c,
    );
    expect(alerts.map((a) => a.ts)).toStrictEqual([T0, T0 + COOL]);
  });

  it('escalates on a move twice the last alert, during the cooldown and while disarmed', () => {
    const state = createAlertEngineState();
    const f = cfg.escalationFactor;
    const alerts = feed(
      state,
      [
        snap(T0, { pct15: TH15 }),
        snap(T0 + MIN, { pct15: f * TH15 - 0.01 }),
        snap(T0 + 2 * MIN, { pct15: f * TH15 }),
        snap(T0 + 3 * MIN, { pct15: f * f * TH15 - 0.01 }),
        // Past the cooldown but still disarmed (never fell back): only another doubling fires.
        snap(T0 + COOL + 3 * MIN, { pct15: f * f * TH15 - 0.01 }),
        snap(T0 + COOL + 4 * MIN, { pct15: f * f * f * TH15 }),
      ],
      c,
    );
    expect(alerts.map((a) => [a.ts, a.escalated, a.severity, a.direction])).toStrictEqual([
      [T0, false, 'warning', 'up'],
      [T0 + 2 * MIN, true, 'critical', 'up'],
      [T0 + COOL + 4 * MIN, true, 'critical', 'up'],
    ]);
    expect(alerts[1]!.figures).toMatchObject({ deltaPct: f * TH15, lastAlertAbsPct: TH15 });
    expect(alerts[1]!.text).toContain(`Escalated: ${f.toFixed(1)}× the last alert.`);
  });

  it('never fires from, nor re-arms on, a window that is uncovered, gapped or backfilled', () => {
    const state = createAlertEngineState();
    const suppressed: Over[] = [
      { pct15: null },
      { pct15: 4 * TH15, flags15: { gap: true } },
      { pct15: 4 * TH15, flags15: { backfilled: true } },
      { pct15: 4 * TH15, flags15: { gap: false, backfilled: true } },
    ];
    const store: Store = new Map();
    expect(feed(state, series(T0, suppressed), c, store)).toHaveLength(0);
    expect(store.size).toBe(0);
    expect(feed(state, [snap(T0 + 10 * MIN, { pct15: TH15, flags15: { gap: false } })], c)).toHaveLength(1);
    // A gapped window near zero would re-arm the rule; it must not.
    const t1 = T0 + 10 * MIN + COOL;
    const after = feed(
      state,
      [snap(t1, { pct15: 0, flags15: { gap: true } }), snap(t1 + MIN, { pct15: TH15 })],
      c,
    );
    expect(after).toHaveLength(0);
  });

  it('keeps the walking skeleton text and id format (subscribers parse them)', () => {
    const s = snap(T0, { pct15: -(TH15 + 1.5) });
    const [alert] = feed(createAlertEngineState(), [s], c);
    expect(alert?.text).toBe(
      'BTC on bybit: open interest -4.50% in 15m: -2,250 BTC (-$189.0M); OI value -$191.3M incl. price effect -$2.25M. ' +
        'Now 50,000 BTC ($4.25B), mark 85,000. Funding 0.0300% per 8h (32.85% APR).',
    );
    expect(alert?.id).toBe(`oi_change_15m:bybit:BTC:${T0}`);
    expect(alert?.direction).toBe('down');
    expect(alert?.forThreshold).toBeUndefined();
  });
});

describe('oi_change_24h', () => {
  it('reads the 24h window with its own threshold and state, independent of the 15m rule', () => {
    const state = createAlertEngineState();
    const c = { ...cfg, enabled: { oi_change_15m: true, oi_change_24h: true } };
    const alerts = feed(
      state,
      [
        snap(T0, { pct15: TH15, pct24: TH24 - 0.01 }),
        snap(T0 + MIN, { pct15: TH15, pct24: TH24 }),
        snap(T0 + 2 * MIN, { pct15: TH15, pct24: TH24, flags24: { backfilled: true } }),
        snap(T0 + 3 * MIN, { pct15: TH15, pct24: 2 * TH24 }),
      ],
      only('oi_change_24h'),
    );
    expect(alerts.map((a) => [a.kind, a.ts, a.escalated, a.severity, a.windowMs])).toStrictEqual([
      ['oi_change_24h', T0 + MIN, false, 'warning', 24 * 60 * MIN],
      ['oi_change_24h', T0 + 3 * MIN, true, 'critical', 24 * 60 * MIN],
    ]);
    expect(alerts[0]!.text).toContain(`open interest +${TH24.toFixed(2)}% in 24h`);
    // The 15m rule was off while those ran; switched on, it has its own fresh state.
    expect(
      feed(state, [snap(T0 + 4 * MIN, { pct15: TH15, pct24: 2 * TH24 })], c).map((a) => a.kind),
    ).toStrictEqual(['oi_change_15m']);
  });
});

describe('funding_pressure', () => {
  const c = only('funding_pressure');

  it('fires on entering the minimum level, escalates on a higher one, re-arms only two levels down', () => {
    const state = createAlertEngineState();
    const levels: FundingPressure[] = [
      'neutral',
      'elevated',
      'high',
      'high',
      'elevated',
      'high',
      'extreme',
      'high',
    ];
    const first = feed(
      state,
      series(
        T0,
        levels.map((pressure) => ({ pressure })),
      ),
      c,
    );
    expect(
      first.map((a) => [a.ts, a.severity, a.escalated, a.figures?.pressure, a.figures?.previousPressure]),
    ).toStrictEqual([
      [T0 + 2 * MIN, 'warning', false, 'high', 'elevated'],
      [T0 + 6 * MIN, 'critical', true, 'extreme', 'high'],
    ]);
    expect(first[0]!.text).toBe(
      'BTC on bybit: funding pressure high (was elevated). Funding 0.0300% per 8h (32.85% APR). Longs pay shorts.',
    );
    expect(first[0]!.delta).toStrictEqual(snap(T0).oi.delta15m);
    // After the cooldown: elevated does not re-arm, neutral does.
    const t1 = T0 + 6 * MIN + COOL;
    const later: FundingPressure[] = ['elevated', 'high', 'neutral', 'high'];
    const second = feed(
      state,
      series(
        t1,
        later.map((pressure) => ({ pressure })),
      ),
      c,
    );
    expect(second.map((a) => [a.ts, a.escalated])).toStrictEqual([[t1 + 3 * MIN, false]]);
  });

  it('ignores snapshots without a level', () => {
    const state = createAlertEngineState();
    expect(feed(state, [snap(T0, { pressure: null })], c)).toHaveLength(0);
    expect(state.rules.size).toBe(0);
  });
});

describe('funding_interval_change', () => {
  const c = only('funding_interval_change');

  it('fires once per change, never on first sight, and is not held back by the cooldown', () => {
    const state = createAlertEngineState();
    const hours = [null, 8, 8, 1, 1, 1, null, 4, 4];
    const alerts = feed(
      state,
      series(
        T0,
        hours.map((intervalHours) => ({ intervalHours })),
      ),
      c,
    );
    expect(alerts.map((a) => [a.ts, a.severity, a.figures])).toStrictEqual([
      [
        T0 + 3 * MIN,
        'warning',
        { intervalHoursBefore: 8, intervalHoursAfter: 1, rate: 0.0003, aprPct: 262.8 },
      ],
      [
        T0 + 7 * MIN,
        'info',
        {
          intervalHoursBefore: 1,
          intervalHoursAfter: 4,
          rate: 0.0003,
          aprPct: (0.0003 / 4) * 24 * 365 * 100,
        },
      ],
    ]);
    expect(alerts[0]!.text).toBe(
      'BTC on bybit: funding interval shortened from 8h to 1h. Funding 0.0300% per 1h (262.80% APR).',
    );
  });
});

describe('funding_at_bound', () => {
  const c = only('funding_at_bound');

  it('fires when the rate reaches a bound, re-arms on leaving it, and respects the cooldown', () => {
    const state = createAlertEngineState();
    const bounds: Array<'cap' | 'floor' | null> = [null, 'cap', 'cap', null, 'cap'];
    const first = feed(
      state,
      series(
        T0,
        bounds.map((atBound) => ({ atBound })),
      ),
      c,
    );
    expect(first.map((a) => [a.ts, a.figures?.bound, a.severity])).toStrictEqual([
      [T0 + MIN, 'cap', 'warning'],
    ]);
    // Re-armed and still at the cap when the cooldown ends: fires then; then straight to the floor.
    const t1 = T0 + MIN + COOL;
    const second = feed(
      state,
      [
        snap(t1, { atBound: 'cap' }),
        snap(t1 + COOL, { atBound: 'floor' }),
        snap(t1 + COOL + MIN, { atBound: 'floor' }),
      ],
      c,
    );
    expect(second.map((a) => [a.ts, a.figures?.bound])).toStrictEqual([
      [t1, 'cap'],
      [t1 + COOL, 'floor'],
    ]);
  });
});

describe('control_flip', () => {
  const c = only('control_flip');
  const agg = (ts: number, control: ControlState | null, o: Over = {}) =>
    snap(ts, { venue: 'all', control, ...o });

  it('fires on a confirmed flip to the other side, not on flapping, neutral or same-side changes', () => {
    const state = createAlertEngineState();
    const confirmMs = cfg.controlConfirmMs;
    const alerts = feed(
      state,
      [
        agg(T0, 'longs_opening'),
        agg(T0 + confirmMs, 'longs_opening'), // confirmed, nothing to flip from
        agg(T0 + confirmMs + 10 * SEC, 'shorts_opening'),
        agg(T0 + confirmMs + 40 * SEC, 'longs_opening'), // flap: the candidate is dropped
        agg(T0 + confirmMs + 50 * SEC, 'shorts_opening'),
        agg(T0 + confirmMs + 60 * SEC, 'neutral'), // starts over
        agg(T0 + 2 * confirmMs + 50 * SEC, 'shorts_opening'),
        agg(T0 + 2 * confirmMs + 60 * SEC, 'shorts_opening', { pct15: null }), // no information
        agg(T0 + 3 * confirmMs + 40 * SEC, 'shorts_opening', { flags15: { gap: true } }),
        agg(T0 + 3 * confirmMs + 50 * SEC - 1, 'shorts_opening'),
        agg(T0 + 3 * confirmMs + 50 * SEC, 'shorts_opening', { pct15: -1.2, priceChange15mPct: -0.8 }),
        agg(T0 + 3 * confirmMs + 70 * SEC, 'shorts_opening'),
      ],
      c,
    );
    expect(alerts.map((a) => [a.ts, a.severity, a.figures])).toStrictEqual([
      [
        T0 + 3 * confirmMs + 50 * SEC,
        'warning',
        {
          control: 'shorts_opening',
          previousControl: 'longs_opening',
          deltaPct: -1.2,
          priceChange15mPct: -0.8,
        },
      ],
    ]);
    expect(alerts[0]!.text).toBe(
      'BTC on all venues: control flipped from longs opening to shorts opening in 15m. Open interest -1.20%, ' +
        'price -0.80%. Now 50,000 BTC ($4.25B), mark 85,000.',
    );
    // Past the cooldown, the same side (price still down): no flip.
    const tFlip = alerts[0]!.ts;
    const t1 = tFlip + COOL;
    const held = (ts: number, control: ControlState) => [agg(ts, control), agg(ts + confirmMs, control)];
    expect(feed(state, held(t1, 'long_unwinding'), c)).toHaveLength(0);
    // Up again: an info flip (from unwinding, not a full reversal); back down right after: a new
    // event on the down side (its own cooldown is over). Flapping on within both cooldowns: quiet.
    const up = feed(
      state,
      [
        ...held(t1 + 2 * confirmMs, 'short_covering'),
        ...held(t1 + 4 * confirmMs, 'long_unwinding'),
        ...held(t1 + 6 * confirmMs, 'short_covering'),
        ...held(t1 + 8 * confirmMs, 'long_unwinding'),
      ],
      c,
    );
    expect(up.map((a) => [a.ts, a.severity, a.figures?.previousControl, a.direction])).toStrictEqual([
      [t1 + 3 * confirmMs, 'info', 'long_unwinding', 'up'],
      [t1 + 5 * confirmMs, 'info', 'short_covering', 'down'],
    ]);
    // The swallowed flips still moved the confirmed state: the next flip is counted from it.
    const t2 = t1 + 3 * confirmMs + COOL;
    const back = feed(state, held(t2, 'short_covering'), c);
    expect(back.map((a) => [a.ts, a.figures?.previousControl, a.direction])).toStrictEqual([
      [t2 + confirmMs, 'long_unwinding', 'up'],
    ]);
  });

  it('never confirms neutral: a pause between two moves of one side is no flip', () => {
    const seq = [
      agg(T0, 'longs_opening'),
      agg(T0 + 2 * MIN, 'longs_opening'),
      ...Array.from({ length: 10 }, (_, i) => agg(T0 + (3 + i) * MIN, 'neutral')),
      agg(T0 + 13 * MIN, 'short_covering'),
      agg(T0 + 15 * MIN, 'short_covering'),
    ];
    const store: Store = new Map();
    expect(feed(createAlertEngineState(), seq, c, store)).toHaveLength(0);
    expect(JSON.parse(store.get('all:BTC:control_flip:up')!)).toMatchObject({
      lastSeen: 'short_covering',
      pending: null,
    });
  });

  it('watches the aggregate only, unless configured for every venue', () => {
    const seq = (venue: string) => [
      snap(T0, { venue, control: 'longs_opening' }),
      snap(T0 + 2 * MIN, { venue, control: 'longs_opening' }),
      snap(T0 + 3 * MIN, { venue, control: 'shorts_opening' }),
      snap(T0 + 5 * MIN, { venue, control: 'shorts_opening' }),
    ];
    expect(feed(createAlertEngineState(), seq('bybit'), c)).toHaveLength(0);
    expect(feed(createAlertEngineState(), seq('all'), c).map((a) => a.venue)).toStrictEqual(['all']);
    const every = { ...c, controlFlipVenues: 'every' as const };
    expect(feed(createAlertEngineState(), seq('bybit'), every).map((a) => a.id)).toStrictEqual([
      `control_flip:bybit:BTC:${T0 + 5 * MIN}`,
    ]);
  });
});

describe('momentum_spike', () => {
  it('never fires while the 24h window behind the usual pace is uncovered, gapped or backfilled', () => {
    const spike = { oiAccel: 10, priceChange15mPct: 2, pct15: 2 };
    for (const over of [{ pct24: null }, { flags24: { gap: true } }, { flags24: { backfilled: true } }]) {
      const fired = feed(createAlertEngineState(), [snap(T0, { ...spike, ...over })]);
      expect(
        fired.filter((a) => a.kind === 'momentum_spike'),
        JSON.stringify(over),
      ).toEqual([]);
    }
    expect(feed(createAlertEngineState(), [snap(T0, spike)]).map((a) => a.kind)).toContain('momentum_spike');
  });

  const c = only('momentum_spike');
  const A = cfg.momentumAccel;
  const P = cfg.momentumMinPriceChangePct;

  it('needs both the OI acceleration and a price move; hysteresis and escalation as for OI', () => {
    const state = createAlertEngineState();
    const alerts = feed(
      state,
      series(T0, [
        { pct15: 2, oiAccel: A, priceChange15mPct: P * 0.99 },
        { pct15: 2, oiAccel: A * 0.99, priceChange15mPct: -P },
        { pct15: 2, oiAccel: A, priceChange15mPct: -P },
        { pct15: 2, oiAccel: A * 1.5, priceChange15mPct: -P }, // no repeat
        { pct15: 2, oiAccel: A * 2, priceChange15mPct: -P, flags15: { gap: true } }, // suppressed
        { pct15: 2, oiAccel: A * 2, priceChange15mPct: -P }, // escalation during the cooldown
      ]),
      c,
    );
    expect(alerts.map((a) => [a.ts, a.severity, a.escalated, a.thresholdPct])).toStrictEqual([
      [T0 + 2 * MIN, 'warning', false, A],
      [T0 + 5 * MIN, 'critical', true, A],
    ]);
    expect(alerts[0]!.figures).toMatchObject({ oiAccel: A, priceChange15mPct: -P });
    const t1 = T0 + 5 * MIN + COOL;
    const later = feed(
      state,
      series(t1, [
        { pct15: 2, oiAccel: A, priceChange15mPct: P },
        { pct15: 2, oiAccel: cfg.rearmFraction * A, priceChange15mPct: 0 },
        { pct15: 2, oiAccel: A, priceChange15mPct: P },
        { pct15: 2, oiAccel: cfg.rearmFraction * A * 0.99, priceChange15mPct: 0 },
        { pct15: 2, oiAccel: A, priceChange15mPct: P },
      ]),
      c,
    );
    expect(later.map((a) => a.ts)).toStrictEqual([t1 + 4 * MIN]);
  });
});

describe('engine state', () => {
  it('keeps nothing for a rule that never left its initial state, and nothing for disabled rules', () => {
    const state = createAlertEngineState();
    const { alerts, changed } = evaluateRules(state, snap(T0), cfg);
    expect(alerts).toHaveLength(0);
    // Only the levels seen first (the interval, to detect a change; the pressure, to name the one before).
    expect(changed.map((e) => e.key).sort()).toStrictEqual([
      'bybit:BTC:funding_interval_change',
      'bybit:BTC:funding_pressure:down',
      'bybit:BTC:funding_pressure:up',
    ]);
    // The same values again change nothing.
    expect(evaluateRules(state, snap(T0 + MIN), cfg).changed).toHaveLength(0);
    const off = {
      ...cfg,
      enabled: { funding_interval_change: false, funding_pressure: false, oi_change_15m: false },
    };
    const r = evaluateRules(createAlertEngineState(), snap(T0, { pct15: 10, intervalHours: 1 }), off);
    expect(r.alerts).toHaveLength(0);
    expect(r.changed).toHaveLength(0);
  });

  it('forgets the least recently changed keys beyond maxKeys', () => {
    const state = createAlertEngineState(3);
    const c = only('oi_change_15m');
    for (const [i, symbol] of ['A', 'B', 'C', 'D', 'E'].entries()) {
      expect(feed(state, [snap(T0 + i, { symbol, pct15: TH15 })], c)).toHaveLength(1);
    }
    expect([...state.rules.keys()]).toStrictEqual([
      'bybit:C:oi_change_15m:up',
      'bybit:D:oi_change_15m:up',
      'bybit:E:oi_change_15m:up',
    ]);
    // A was forgotten (fires again, even within the cooldown); E was not.
    expect(
      feed(
        state,
        [snap(T0 + 10, { symbol: 'A', pct15: TH15 }), snap(T0 + 11, { symbol: 'E', pct15: TH15 })],
        c,
      ),
    ).toHaveLength(1);
    expect(state.rules.size).toBe(3);
    // Now D, E, A. A change (D re-arms) makes a key the most recent: E goes next, not D.
    feed(state, [snap(T0 + 12, { symbol: 'D', pct15: 0 }), snap(T0 + 13, { symbol: 'F', pct15: TH15 })], c);
    expect([...state.rules.keys()]).toStrictEqual([
      'bybit:A:oi_change_15m:up',
      'bybit:D:oi_change_15m:up',
      'bybit:F:oi_change_15m:up',
    ]);
    expect(() => createAlertEngineState(0)).toThrow(RangeError);
  });

  it('reads rule states from its per-symbol slots exactly as from the map, through evictions and restores', () => {
    // One symbol on four venues: each keeps its slots (the key cache holds 14 keys per venue),
    // while the engine holds 14 states in all, so states of one venue are evicted by the others.
    const cached = createAlertEngineState(14);
    // The reference engine has no key cache: every rule reads `rules` itself.
    const plain: AlertEngineState = { rules: new Map(), maxKeys: 14, epoch: 0 };
    const venues = ['binance', 'bybit', 'okx', 'hyperliquid'];
    const seen: string[] = [];
    let evicted = 0;
    for (let m = 0; m < 120; m++) {
      const venue = venues[m % 4]!;
      const pct15 = [TH15, -TH15, 0, 2 * TH15, REARM15 / 2][(m * 7) % 5]!;
      const pressure = (['neutral', 'high', 'extreme'] as const)[m % 3];
      const s = snap(T0 + m * MIN, {
        venue,
        pct15,
        pct24: -pct15 * 4,
        pressure,
        intervalHours: m % 9 < 5 ? 8 : 4,
      });
      const before = cached.rules.size;
      const a = evaluateRules(cached, s, cfg);
      const b = evaluateRules(plain, s, cfg);
      expect(a).toStrictEqual(b);
      expect([...cached.rules]).toStrictEqual([...plain.rules]);
      if (before + a.changed.length > cached.rules.size) evicted++;
      seen.push(...a.changed.map((c) => c.json));
      if (m === 61) {
        // A restore changes states behind the slots' back: early states, stamped now so they apply.
        const older = seen.slice(0, 20).map((j) => JSON.stringify({ ...JSON.parse(j), ts: s.ts }));
        expect(restoreRuleStates(cached, older)).toBe(restoreRuleStates(plain, older));
      }
    }
    expect(evicted).toBeGreaterThan(10);
  });

  it('sees a state restored after its slots were read', () => {
    const state = createAlertEngineState();
    const c = only('oi_change_15m');
    expect(evaluateRules(state, snap(T0, { pct15: 0 }), c).alerts).toHaveLength(0);
    const firedJust = {
      v: 1,
      key: 'bybit:BTC:oi_change_15m:up',
      ts: T0 + 1,
      armed: false,
      lastFiredTs: T0 + 1,
      lastFiredMagnitude: TH15,
      lastSeen: null,
      pending: null,
    };
    expect(restoreRuleStates(state, [JSON.stringify(firedJust)])).toBe(1);
    // Disarmed and within the restored alert's cooldown: nothing fires.
    expect(evaluateRules(state, snap(T0 + MIN, { pct15: TH15 }), c).alerts).toHaveLength(0);
  });

  it('restores readable entries only, and never an older one over a newer state', () => {
    const src = createAlertEngineState();
    const store: Store = new Map();
    feed(src, [snap(T0, { pct15: TH15 }), snap(T0 + MIN, { pct15: 0 })], only('oi_change_15m'), store);
    const [entry] = [...store.values()];
    const state = createAlertEngineState();
    const junk = ['not json', 'null', '{"v":1}', JSON.stringify({ ...JSON.parse(entry!), armed: 'yes' })];
    expect(restoreRuleStates(state, [...junk, entry!])).toBe(1);
    expect(state.rules.get('bybit:BTC:oi_change_15m:up')).toMatchObject({
      armed: true,
      lastFiredTs: T0,
      ts: T0 + MIN,
    });
    const older = JSON.stringify({ ...JSON.parse(entry!), ts: T0, armed: false });
    expect(restoreRuleStates(state, [older])).toBe(0);
    expect(state.rules.get('bybit:BTC:oi_change_15m:up')?.armed).toBe(true);
  });
});

describe('restart', () => {
  /** Every rule fires at least once in this hour, for a venue and for the aggregate. */
  function session(venue: string): SnapshotJson[] {
    const values: Over[] = [
      { pct15: 0.5, pressure: 'neutral', control: 'longs_opening', intervalHours: 8 },
      { pct15: 1, pressure: 'elevated', control: 'longs_opening' },
      { pct15: TH15, pressure: 'high', control: 'longs_opening', pct24: TH24 },
      { pct15: TH15 + 1, pressure: 'high', control: 'shorts_opening', atBound: 'cap', intervalHours: 4 },
      { pct15: 2 * TH15, pressure: 'extreme', control: 'shorts_opening', atBound: 'cap', intervalHours: 4 },
      { pct15: 1, pressure: 'extreme', control: 'shorts_opening', oiAccel: 4, priceChange15mPct: -1 },
      { pct15: 0.1, pressure: 'high', control: 'shorts_opening', oiAccel: 5, priceChange15mPct: -1 },
      { pct15: 0.1, pressure: 'high', control: 'neutral', atBound: null, oiAccel: 1 },
    ];
    return series(T0, values, 2 * MIN).map((s) => ({ ...s, venue }));
  }
  const both = [...session('bybit'), ...session('all')].sort((a, b) => a.ts - b.ts);

  it('replaying the same data into restored state fires nothing; a new move after re-arming does', () => {
    const store: Store = new Map();
    const live = createAlertEngineState();
    const firstRun = feed(live, both, cfg, store);
    const kinds = new Set(firstRun.map((a) => a.kind));
    expect([...kinds].sort()).toStrictEqual([
      'control_flip',
      'funding_at_bound',
      'funding_interval_change',
      'funding_pressure',
      'momentum_spike',
      'oi_change_15m',
      'oi_change_24h',
    ]);
    expect(new Set(firstRun.map((a) => a.id)).size).toBe(firstRun.length);
    // The same data again, in the same process: nothing either.
    expect(feed(live, both, cfg)).toHaveLength(0);

    const restarted = createAlertEngineState();
    expect(restoreRuleStates(restarted, [...store.values()])).toBe(store.size);
    expect(feed(restarted, both, cfg)).toHaveLength(0);
    // The state restored is the state the live engine had.
    expect(restarted.rules).toStrictEqual(live.rules);

    // A fresh engine without the persisted state would repeat them: the persistence is what matters.
    expect(feed(createAlertEngineState(), both, cfg).map((a) => a.id)).toStrictEqual(
      firstRun.map((a) => a.id),
    );

    // Later, the OI move falls back (re-arms) and a larger one comes, past the cooldown.
    const t1 = T0 + 20 * MIN + COOL;
    const fresh = feed(
      restarted,
      [snap(t1, { pct15: 0 }), snap(t1 + MIN, { pct15: 3 * TH15 })],
      only('oi_change_15m'),
    );
    expect(fresh.map((a) => [a.id, a.severity])).toStrictEqual([
      [`oi_change_15m:bybit:BTC:${t1 + MIN}`, 'critical'],
    ]);
  });

  it('a restart in the middle continues exactly like an uninterrupted run', () => {
    const whole = feed(createAlertEngineState(), both, cfg);
    for (const cut of [3, 7, 11]) {
      const store: Store = new Map();
      const before = feed(createAlertEngineState(), both.slice(0, cut), cfg, store);
      const restarted = createAlertEngineState();
      restoreRuleStates(restarted, [...store.values()]);
      // The restarted process sees the whole recording again from the start.
      const after = feed(restarted, both, cfg);
      expect([...before, ...after].map((a) => a.id)).toStrictEqual(whole.map((a) => a.id));
    }
  });
});
