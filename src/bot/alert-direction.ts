import type { AlertJson, AlertKind, ControlState } from '../domain/types.js';

/** The side of a move: `up` (OI growing, longs paying, longs in control) or `down`. */
export type AlertDirection = 'up' | 'down';

const isNum = (v: unknown): v is number => typeof v === 'number' && Number.isFinite(v);

const CONTROL_SIDE: Readonly<Record<ControlState, AlertDirection | null>> = {
  longs_opening: 'up',
  short_covering: 'up',
  shorts_opening: 'down',
  long_unwinding: 'down',
  neutral: null,
};

const signOf = (v: unknown): AlertDirection | null => (isNum(v) && v !== 0 ? (v > 0 ? 'up' : 'down') : null);

/**
 * The alert's side: its `direction` when the engine set one (null = the rule has no side), else
 * derived the way the engine defines it, so alerts written before the field existed (held alerts,
 * the stream's backlog) are judged the same: OI rules and `momentum_spike` the sign of the OI
 * change; `funding_pressure` who pays (longs = up); `control_flip` the new side;
 * `liquidation_cascade` the side liquidated (longs = down). Null when unknown.
 */
export function alertDirection(alert: AlertJson): AlertDirection | null {
  if (alert.direction === 'up' || alert.direction === 'down') return alert.direction;
  if (alert.direction === null) return null;
  const figures = alert.figures ?? {};
  switch (alert.kind as AlertKind) {
    case 'oi_change_15m':
    case 'oi_change_24h':
    case 'momentum_spike':
      return signOf(alert.delta?.pct) ?? signOf(figures.oiChangePct) ?? signOf(figures.pct);
    case 'funding_pressure': {
      const payer = figures.payer ?? alert.snapshot?.funding?.payer;
      if (payer === 'longs') return 'up';
      if (payer === 'shorts') return 'down';
      return signOf(figures.aprPct) ?? signOf(alert.snapshot?.funding?.aprPct);
    }
    case 'control_flip': {
      const control = figures.control ?? alert.snapshot?.control?.['15m'];
      return typeof control === 'string' ? (CONTROL_SIDE[control as ControlState] ?? null) : null;
    }
    case 'liquidation_cascade':
      // Longs liquidated are forced sells (down), shorts forced buys (up).
      return figures.side === 'longs' ? 'down' : figures.side === 'shorts' ? 'up' : null;
    default:
      return null;
  }
}

/**
 * Kinds whose alerts from two venues (or a venue and the aggregate) can be one fact: the same
 * move seen twice (a cascade seen on Bybit and in the aggregate is one cascade). A funding-interval change or a rate at its bound is a fact about one venue's
 * contract, so two venues' alerts of those kinds are two facts, never merged.
 */
export const CROSS_VENUE_KINDS: ReadonlySet<AlertKind> = new Set<AlertKind>([
  'oi_change_15m',
  'oi_change_24h',
  'funding_pressure',
  'control_flip',
  'momentum_spike',
  'liquidation_cascade',
]);
