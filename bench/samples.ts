/**
 * Prints a sample of every bot message (and the snapshot, aggregate and alert JSON) from a scripted
 * SOL squeeze on three venues: `npm run samples`. The README's samples come from here.
 */
import { aggregateSnapshots } from '../src/analytics/aggregate.js';
import { createAlertEngineState, DEFAULT_ALERT_RULES, evaluateRules } from '../src/analytics/alert-engine.js';
import { applyMarketEvent, createInstrumentState, toSnapshot } from '../src/analytics/instrument.js';
import { DEFAULT_INTEL_CONFIG } from '../src/analytics/intel-config.js';
import * as A from '../src/bot/alert-format.js';
import { thresholdConfirmation } from '../src/bot/chat-thresholds.js';
import { formatSettings } from '../src/bot/features/settings.js';
import * as F from '../src/bot/format.js';
import * as M from '../src/bot/format-market.js';
import { formatQuietSummary, formatReminderLine } from '../src/bot/schedules.js';
import type { FeedHealthJson } from '../src/bus/types.js';
import type { AlertJson, SnapshotJson, VenueId } from '../src/domain/types.js';

const MIN = 60000,
  H = 60 * MIN;
const T1 = Date.UTC(2026, 10, 29, 12, 0, 0);
const T0 = T1 - 25 * H;
const venues: {
  venue: VenueId;
  instrument: string;
  oi: number;
  rate: number;
  hours: number;
  cap: number;
  k: number;
}[] = [
  { venue: 'binance', instrument: 'SOLUSDT', oi: 3.1e6, rate: 0.00042, hours: 8, cap: 0.02, k: 1 },
  { venue: 'bybit', instrument: 'SOLUSDT', oi: 2.4e6, rate: 0.00031, hours: 8, cap: 0.005, k: 0.8 },
  { venue: 'okx', instrument: 'SOL-USDT-SWAP', oi: 1.2e6, rate: 0.00012, hours: 8, cap: 0.015, k: 0.5 },
];
const engine = createAlertEngineState();
const alerts: AlertJson[] = [];
const states = venues.map((v) => createInstrumentState(v.venue, 'SOL', v.instrument));
for (let ts = T0; ts <= T1 + 20 * MIN; ts += MIN) {
  const calm = ts < T1;
  const f = calm ? 0 : (ts - T1) / (20 * MIN);
  venues.forEach((v, i) => {
    const oiBase =
      v.oi *
      (1 + (calm ? (0.02 * (ts - T0)) / (25 * H) + 0.001 * Math.sin(ts / 4e5) : 0.02 + 0.045 * v.k * f));
    const markPrice = 150 * (1 + (calm ? 0.01 * Math.sin(ts / 9e6) : 0.012 * f));
    const rate = calm ? 0.0001 : v.rate;
    applyMarketEvent(states[i]!, {
      type: 'market',
      venue: v.venue,
      symbol: 'SOL',
      instrument: v.instrument,
      eventTs: ts,
      receiveTs: ts,
      oiBase,
      markPrice,
      lastPrice: markPrice,
      indexPrice: markPrice,
      fundingRate: rate,
      fundingIntervalHours: v.hours,
      nextFundingTs: Math.ceil((ts + 1) / (8 * H)) * 8 * H,
      fundingRateCap: v.cap,
      fundingRateFloor: -v.cap,
      turnover24hUsd: 2.1 * v.oi * 150,
    });
    const snap = toSnapshot(states[i]!);
    alerts.push(...evaluateRules(engine, snap, DEFAULT_ALERT_RULES).alerts);
  });
}
const snaps = states.map((s) => toSnapshot(s));
const all = aggregateSnapshots('SOL', snaps, DEFAULT_INTEL_CONFIG) as SnapshotJson;
alerts.push(...evaluateRules(engine, all, DEFAULT_ALERT_RULES).alerts);
const now = T1 + 20 * MIN + 4000;
const strip = (h: string) =>
  h
    .replace(/<[^>]+>/g, '')
    .replace(/&lt;/g, '<')
    .replace(/&gt;/g, '>')
    .replace(/&amp;/g, '&')
    .replace(/&quot;/g, '"');
const show = (title: string, html: string) =>
  console.log(`\n### ${title}\n\n\`\`\`text\n${strip(html)}\n\`\`\``);
show('/oi SOL (bybit)', F.formatOiMessage(snaps[1]!, now));
const bybit = snaps[1]!;
show(
  '/oi SOL (bybit) after a warm start: the 24h change starts in the venue history, the 15m one spans a feed gap',
  F.formatOiMessage(
    {
      ...bybit,
      oi: {
        ...bybit.oi,
        delta15m: { ...bybit.oi.delta15m!, gap: true, gapMs: 600_000 },
        delta24h: { ...bybit.oi.delta24h!, backfilled: true },
      },
    },
    now,
  ),
);
show('/funding SOL (binance)', F.formatFundingMessage(snaps[0]!, now));
show('/market SOL (all venues, both windows)', M.formatMarketMessage(all, 'both', now));
show(
  '/top (ARB is listed on bybit only: ranked on that venue)',
  M.formatTopMessage([
    all,
    {
      ...bybit,
      symbol: 'ARB',
      instrument: 'ARBUSDT',
      price: { ...bybit.price, mark: 0.42 },
      oi: {
        ...bybit.oi,
        delta15m: { base: -4.2e6, usd: -1.9e6, pct: -2.1, positionUsd: -1.76e6, priceEffectUsd: -1.4e5 },
        delta24h: { base: 9e6, usd: 4.1e6, pct: 4.6, backfilled: true },
      },
    },
    {
      ...all,
      symbol: 'ETH',
      price: { ...all.price, mark: 3200 },
      oi: {
        ...all.oi,
        delta15m: { base: -5000, usd: -1.75e7, pct: -1.2, positionUsd: -1.6e7, priceEffectUsd: -1.5e6 },
        delta24h: { base: 2e4, usd: 7e7, pct: 2.4, positionUsd: 6.4e7, priceEffectUsd: 6e6 },
      },
    },
  ]),
);
show(
  '/status',
  F.formatStatusMessage(
    {
      statuses: ['binance', 'bybit', 'okx', 'hyperliquid'].map(
        (v, i): FeedHealthJson => ({
          v: 1,
          venue: v,
          shard: 'all',
          ts: now,
          ok: i !== 3,
          connections: i === 0 ? 2 : 1,
          open: i === 0 ? 2 : 1,
          lastDataTs: i === 3 ? now - 95000 : now - 800,
          staleAfterMs: 30000,
          instruments: 20,
        }),
      ),
      newestSnapshotTs: { binance: now - 1000, bybit: now - 1000, okx: now - 1000, hyperliquid: now - 95000 },
    },
    now,
  ),
);
show(
  '/settings',
  formatSettings({
    kinds: { oi_change_15m: { enabled: true, threshold: 5 }, momentum_spike: { enabled: false } },
    venues: ['binance', 'bybit'],
    quietHours: { startHour: 22, endHour: 7 },
    fundingReminderMin: 15,
  }),
);
show('/settings threshold oi_change_15m 0.5', `✅ ${thresholdConfirmation('oi_change_15m', 0.5, true)}`);
const seen = new Set();
for (const a of alerts) {
  if (seen.has(a.kind + a.venue)) continue;
  seen.add(a.kind + a.venue);
  show(`alert ${a.kind} (${a.venue})`, A.formatAlert(a, now));
}
const oiAlert = alerts.find((a) => a.kind === 'oi_change_15m');
if (oiAlert) {
  show(
    "alert oi_change_15m at a chat's own threshold (forThreshold 1.5)",
    A.formatAlert({ ...oiAlert, id: `oi_change_15m@1.5:${oiAlert.id}`, forThreshold: 1.5 }, now),
  );
}
show('merged burst', A.formatMergedAlerts(alerts.slice(0, 3), now));
show('quiet-hours summary', formatQuietSummary(alerts.slice(0, 3)));
show('funding reminder', formatReminderLine(snaps[1]!, Math.ceil((now + 1) / (8 * H)) * 8 * H - 15 * MIN));
console.log('\n### snapshot JSON (bybit)\n');
console.log(JSON.stringify(snaps[1], null, 2));
console.log('\n### aggregate JSON\n');
console.log(JSON.stringify(all, null, 2));
console.log('\n### alert JSON\n');
console.log(
  JSON.stringify(
    { ...alerts[0]!, snapshot: { v: 1, '...': 'the snapshot at the moment it fired' } },
    null,
    2,
  ),
);
