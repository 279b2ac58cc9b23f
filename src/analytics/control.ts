import type { ControlState } from '../domain/types.js';

/** Moves smaller than these (in percent, either direction) count as flat. */
export interface ControlDeadBand {
  readonly oiPct: number;
  readonly pricePct: number;
}

/**
 * Who drives the move, from the OI change and the price change over one window:
 * price up & OI up → `longs_opening`, price down & OI up → `shorts_opening`,
 * price up & OI down → `short_covering`, price down & OI down → `long_unwinding`;
 * `neutral` when either move is inside the dead band. Null when either input is unknown.
 */
export function controlState(
  oiPct: number | null | undefined,
  pricePct: number | null | undefined,
  band: ControlDeadBand,
): ControlState | null {
  if (oiPct == null || pricePct == null || !Number.isFinite(oiPct) || !Number.isFinite(pricePct)) return null;
  if (Math.abs(oiPct) < band.oiPct || Math.abs(pricePct) < band.pricePct) return 'neutral';
  if (oiPct > 0) return pricePct > 0 ? 'longs_opening' : 'shorts_opening';
  return pricePct > 0 ? 'short_covering' : 'long_unwinding';
}

/**
 * Whether the funding sign supports the control state: longs opening while longs pay (rate > 0),
 * shorts opening while shorts pay (rate < 0). Covering and unwinding close positions, so funding
 * says nothing about them: null, as for `neutral`, an unknown state or no rate.
 */
export function fundingSupportsControl(
  control: ControlState | null,
  fundingRate: number | null | undefined,
): boolean | null {
  if (fundingRate == null || !Number.isFinite(fundingRate) || fundingRate === 0) return null;
  if (control === 'longs_opening') return fundingRate > 0;
  if (control === 'shorts_opening') return fundingRate < 0;
  return null;
}
