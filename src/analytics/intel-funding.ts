import type { FundingPayer, FundingPressure, LongShortJson } from '../domain/types.js';
import { fundingMetrics, fundingPayer } from './funding.js';
import type { IntelConfig } from './intel-config.js';

const HOURS_PER_YEAR = 24 * 365;
const HOUR_MS = 3_600_000;
/** The longest hint; the optional parts (reset, bound) are left out rather than exceed it. */
export const HINT_MAX_CHARS = 120;

/** The funding fields of the snapshot beyond rate, interval, hourly, APR and next time. */
export interface FundingPressureJson {
  /** Rate per 8 hours, whatever the venue's interval. */
  readonly rate8h: number | null;
  readonly payer: FundingPayer;
  readonly pressure: FundingPressure | null;
  /** `10,000 × hourly × 8,760`: what a $10,000 long pays (positive) or earns (negative) in a year. */
  readonly annualCostUsdPer10kLong: number | null;
  /** `nextFundingTs − nowTs`; null when unknown or already passed (the venue has not moved it on yet). */
  readonly msToNextFunding: number | null;
  readonly hint: string | null;
  readonly atBound: 'cap' | 'floor' | null;
}

/** Level of |aprPct| against the thresholds; null for an unknown APR. */
export function pressureLevel(
  aprPct: number | null | undefined,
  thresholds: IntelConfig['pressureAprPct'],
): FundingPressure | null {
  if (aprPct == null || !Number.isFinite(aprPct)) return null;
  const abs = Math.abs(aprPct);
  if (abs >= thresholds.extreme) return 'extreme';
  if (abs >= thresholds.high) return 'high';
  if (abs >= thresholds.elevated) return 'elevated';
  return 'neutral';
}

/**
 * Whether the rate sits at the venue's cap or floor. Venues quote rates to 8 decimals, so a rate
 * within half that step (or one millionth of the bound, whichever is larger) of a bound, or beyond
 * it, is at the bound. Null when inside the bounds or when they are unknown.
 */
export function fundingAtBound(
  rate: number | null | undefined,
  cap: number | null | undefined,
  floor: number | null | undefined,
): 'cap' | 'floor' | null {
  if (rate == null || !Number.isFinite(rate)) return null;
  if (cap != null && Number.isFinite(cap) && rate >= cap - boundTolerance(cap)) return 'cap';
  if (floor != null && Number.isFinite(floor) && rate <= floor + boundTolerance(floor)) return 'floor';
  return null;
}

function boundTolerance(bound: number): number {
  return Math.max(5e-9, Math.abs(bound) * 1e-6);
}

/** `62%`, or `6.5%` below 10%: the hint's rendering of an APR. */
export function formatAprForHint(aprPct: number): string {
  const abs = Math.abs(aprPct);
  return `${abs < 10 ? abs.toFixed(1) : abs.toFixed(0)}%`;
}

/** The share of accounts on one side from which the crowd is lopsided enough to name, percent. */
export const CROWDED_SIDE_MIN_PCT = 60;

/**
 * The long/short figures the hint may use (a snapshot's `longShort`): the share of accounts net
 * long, else of top traders' positions long, percent.
 */
export type Crowding = Pick<LongShortJson, 'accountsLongPct' | 'topTradersLongPct'>;

/**
 * `74% of accounts long` when the crowd leans at least `CROWDED_SIDE_MIN_PCT` to the side that
 * pays (longs when `aprPct > 0`): the positioning and the price of holding it agree. Null otherwise.
 */
function crowdText(crowding: Crowding | null | undefined, aprPct: number): string | null {
  if (!crowding) return null;
  const accounts = crowding.accountsLongPct;
  const top = crowding.topTradersLongPct;
  const [longPct, who] =
    accounts != null && Number.isFinite(accounts)
      ? [accounts, 'accounts']
      : top != null && Number.isFinite(top)
        ? [top, "top traders' positions"]
        : [null, ''];
  if (longPct === null) return null;
  const payersLong = aprPct > 0;
  const payerSharePct = payersLong ? longPct : 100 - longPct;
  if (payerSharePct < CROWDED_SIDE_MIN_PCT) return null;
  return `${Math.round(payerSharePct)}% of ${who} ${payersLong ? 'long' : 'short'}`;
}

/**
 * One plain-text line (≤ HINT_MAX_CHARS) that follows from the numbers: who pays how much, what
 * that means for each side, and, when the pressure is not neutral, the reset within the hour and
 * the rate pinned at a bound. Null when the APR is unknown. With `crowding` (the snapshot's
 * long/short figures), a non-neutral pressure whose payers are also the lopsided crowd (at least
 * `CROWDED_SIDE_MIN_PCT`% of accounts on the paying side) reads
 * `Longs crowded: 74% of accounts long, paying 48% APR; …`; otherwise the hint is as without it.
 */
export function fundingHint(
  aprPct: number | null,
  pressure: FundingPressure | null,
  msToNextFunding: number | null,
  atBound: 'cap' | 'floor' | null,
  crowding?: Crowding | null,
): string | null {
  if (aprPct == null || pressure == null || !Number.isFinite(aprPct)) return null;
  if (aprPct === 0) return 'Funding is zero: holding either side costs nothing';
  const apr = formatAprForHint(aprPct);
  if (pressure === 'neutral') return `Funding is cheap (${apr} APR): holding either side costs little`;
  const [payers, payer, earners] = aprPct > 0 ? ['longs', 'long', 'shorts'] : ['shorts', 'short', 'longs'];
  const Payers = payers.charAt(0).toUpperCase() + payers.slice(1);
  const crowd = crowdText(crowding, aprPct);
  let hint =
    crowd !== null
      ? `${Payers} crowded: ${crowd}, paying ${apr} APR; ` +
        (pressure === 'elevated'
          ? `${earners} collect it`
          : pressure === 'high'
            ? `a carry for ${earners}`
            : `a large carry for ${earners}, squeeze risk`)
      : pressure === 'elevated'
        ? `${Payers} pay ${apr} APR: holding ${payers} costs more than usual; ${earners} collect it`
        : pressure === 'high'
          ? `Crowded ${payers} pay ${apr} APR: a carry exists for ${earners}; ${payer} entries pay to wait`
          : `Extreme: ${payers} pay ${apr} APR: a large carry for ${earners}; ${payer} entries pay heavily to wait`;
  const extras: string[] = [];
  if (msToNextFunding !== null && msToNextFunding < HOUR_MS) {
    extras.push(`; reset in ${Math.max(1, Math.ceil(msToNextFunding / 60_000))}m`);
  }
  if (atBound !== null) extras.push(`; at venue ${atBound}`);
  for (const extra of extras) if (hint.length + extra.length <= HINT_MAX_CHARS) hint += extra;
  return hint.length <= HINT_MAX_CHARS ? hint : `${hint.slice(0, HINT_MAX_CHARS - 1)}…`;
}

/**
 * Funding pressure of one instrument at `nowTs` (event time). `rate` is per interval of
 * `intervalHours`; `cap`/`floor` are the venue's bounds on it when published; `crowding` the
 * latest long/short figures, when known (see `fundingHint`).
 */
export function fundingPressure(
  rate: number | null | undefined,
  intervalHours: number | null | undefined,
  nextFundingTs: number | null | undefined,
  nowTs: number,
  cap: number | null | undefined,
  floor: number | null | undefined,
  cfg: IntelConfig,
  crowding?: Crowding | null,
): FundingPressureJson {
  const { hourly, aprPct } = fundingMetrics(rate, intervalHours);
  const pressure = pressureLevel(aprPct, cfg.pressureAprPct);
  const untilMs =
    nextFundingTs != null && Number.isFinite(nextFundingTs) && Number.isFinite(nowTs)
      ? nextFundingTs - nowTs
      : null;
  const msToNextFunding = untilMs !== null && untilMs >= 0 ? untilMs : null;
  const atBound = fundingAtBound(rate, cap, floor);
  return {
    rate8h: hourly === null ? null : hourly * 8,
    payer: fundingPayer(rate),
    pressure,
    annualCostUsdPer10kLong: hourly === null ? null : 10_000 * hourly * HOURS_PER_YEAR,
    msToNextFunding,
    hint: fundingHint(aprPct, pressure, msToNextFunding, atBound, crowding),
    atBound,
  };
}
