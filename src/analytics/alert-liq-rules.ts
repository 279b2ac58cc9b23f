/**
 * `liquidation_cascade`: one side's positions liquidated over 15 minutes reach a share of the
 * instrument's OI value and a USD floor. Same contract as the rules in alert-rules.ts.
 */
import type { SnapshotJson } from '../domain/types.js';
import { formatUsd } from '../domain/units.js';
import { atLeast, cascadeMeaning, coverageParts, isLowerBound } from './alert-liq-text.js';
import { levelStep, NOTHING, type Rule, unchangedOr } from './alert-rules.js';
import { FRESH } from './alert-state.js';
import { venueLabel } from './alert-text.js';
import { OI_WINDOW_15M_MS } from './instrument.js';

/**
 * One side of the 15m liquidation window: `down` reads the longs liquidated (forced sells), `up`
 * the shorts (forced buys). Its figure is that side's USD as a percent of `oi.usd`; it fires at
 * `liqAlertPctOi` percent together with `liqAlertMinUsd` USD, stays quiet while the window stays
 * above (one cascade, one alert per side), re-arms once the side is below `rearmFraction` of
 * either threshold, and escalates through the cooldown at `escalationFactor` times the last
 * alert's USD, but only for a new cascade (re-armed since): one cascade is one alert per side,
 * however large it grows. The two sides are independent: a window with
 * both fires both. A `partial` window or a sampled feed still fires: its sums are a lower bound,
 * which the text says. On the aggregate the OI includes venues without a feed (`missingVenues`),
 * so its percent is a lower bound too. No liquidations (no feed, not counted yet) or no OI value:
 * nothing, and no state change.
 */
export const liquidationCascade: Rule = (prev, s, cfg, p) => {
  const liq = s.liquidations;
  const oiUsd = s.oi.usd;
  if (liq == null || oiUsd === null || !(oiUsd > 0) || p.side === null) return NOTHING;
  const w = liq['15m'];
  if (w === undefined) return NOTHING;
  const side = p.side === 'down' ? 'longs' : 'shorts';
  const sideUsd = side === 'longs' ? w.longUsd : w.shortUsd;
  if (!Number.isFinite(sideUsd)) return NOTHING;
  const pctOfOi = (100 * sideUsd) / oiUsd;
  const thresholdPct = cfg.liqAlertPctOi;
  const minUsd = cfg.liqAlertMinUsd;
  const before = prev ?? FRESH;
  const last = before.lastFiredMagnitude;
  const step = levelStep(
    before,
    s.ts,
    cfg.cooldownMs,
    sideUsd,
    pctOfOi >= thresholdPct && sideUsd >= minUsd,
    pctOfOi < cfg.rearmFraction * thresholdPct || sideUsd < cfg.rearmFraction * minUsd,
    // Escalation only for a new cascade (the side re-armed since the last alert): a cascade's
    // 15m sum grows while it runs, and a second message for the same cascade is noise.
    before.armed && last !== null && last > 0 && sideUsd >= cfg.escalationFactor * last,
  );
  if (step.fire === null) return unchangedOr(step);
  const escalated = step.fire === 'escalated';
  const lowerBound = isLowerBound(liq, w);
  return {
    next: step.next,
    fired: {
      severity: pctOfOi >= 2 * thresholdPct ? 'critical' : 'warning',
      text: cascadeText(s, side, sideUsd, pctOfOi, lowerBound, escalated ? last : null),
      figures: {
        side,
        longUsd: w.longUsd,
        shortUsd: w.shortUsd,
        longBase: w.longBase,
        shortBase: w.shortBase,
        sideUsd,
        pctOfOi,
        oiUsd,
        count: w.count,
        oiShare: w.oiShare,
        coverage: liq.coverage,
        partial: w.partial,
        lowerBound,
        missingVenues: liq.missingVenues && liq.missingVenues.length > 0 ? liq.missingVenues.join(',') : null,
        thresholdPctOi: thresholdPct,
        minUsd,
        lastAlertUsd: escalated ? last : null,
      },
      thresholdPct,
      windowMs: OI_WINDOW_15M_MS,
      escalated,
    },
  };
};

/**
 * `BTC on all venues: at least $42.1M of shorts liquidated in 15m (0.90% of OI) · short squeeze ·
 * Bybit complete, Binance/OKX sampled · Hyperliquid: no public liquidation feed.`
 */
function cascadeText(
  s: SnapshotJson,
  side: 'longs' | 'shorts',
  sideUsd: number,
  pctOfOi: number,
  lowerBound: boolean,
  lastUsd: number | null,
): string {
  const liq = s.liquidations!;
  const parts = [
    `${s.symbol} on ${venueLabel(s.venue)}: ${atLeast(lowerBound)}${formatUsd(sideUsd)} of ${side} ` +
      `liquidated in 15m (${pctOfOi.toFixed(2)}% of OI)`,
    cascadeMeaning(side),
    ...coverageParts(s, liq),
  ];
  if (liq['15m'].partial) parts.push('counting began inside the window');
  const escalation =
    lastUsd !== null && lastUsd > 0 ? ` Escalated: ${(sideUsd / lastUsd).toFixed(1)}× the last alert.` : '';
  return `${parts.join(' · ')}.${escalation}`;
}
