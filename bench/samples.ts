/**
 * Prints a sample of every bot message (and the snapshot, aggregate and alert JSON) from a scripted
 * SOL squeeze on three venues, then a BTC short squeeze with liquidations on four venues (forced
 * flows): `npm run samples`. The README's samples come from here.
 */
import { aggregateSnapshots } from '../src/analytics/aggregate.js';
import { createAlertEngineState, DEFAULT_ALERT_RULES, evaluateRules } from '../src/analytics/alert-engine.js';
import { applyMarketEvent, createInstrumentState, toSnapshot } from '../src/analytics/instrument.js';
import { DEFAULT_INTEL_CONFIG } from '../src/analytics/intel-config.js';
import * as A from '../src/bot/alert-format.js';
import { thresholdConfirmation } from '../src/bot/chat-thresholds.js';
import { formatSettings } from '../src/bot/features/settings.js';
import * as F from '../src/bot/format.js';
import { formatLiqMessage } from '../src/bot/format-liq.js';
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

// ── forced flows: a BTC short squeeze (price +2%, OI −3.5% in 10 min) with short liquidations ──
const btc: {
  venue: VenueId;
  instrument: string;
  oi: number;
  liqShare: number;
  accounts?: number;
  top?: number;
}[] = [
  { venue: 'binance', instrument: 'BTCUSDT', oi: 80_000, liqShare: 0.004, accounts: 41.2, top: 38.5 },
  { venue: 'bybit', instrument: 'BTCUSDT', oi: 55_000, liqShare: 0.012, accounts: 44.0 },
  { venue: 'okx', instrument: 'BTC-USDT-SWAP', oi: 30_000, liqShare: 0.005, accounts: 43.1, top: 40.2 },
  { venue: 'hyperliquid', instrument: 'BTC', oi: 20_000, liqShare: 0 },
];
const btcEngine = createAlertEngineState();
const btcAlerts: AlertJson[] = [];
const btcStates = btc.map((v) => createInstrumentState(v.venue, 'BTC', v.instrument));
const SQUEEZE_MS = 10 * MIN;
for (let ts = T0; ts <= T1 + SQUEEZE_MS; ts += 15_000) {
  const f = ts < T1 ? 0 : (ts - T1) / SQUEEZE_MS;
  btc.forEach((v, i) => {
    const markPrice = 90_000 * (1 + 0.02 * f);
    const oiBase = v.oi * (1 - 0.035 * f);
    const ev = {
      type: 'market' as const,
      venue: v.venue,
      symbol: 'BTC',
      instrument: v.instrument,
      eventTs: ts,
      receiveTs: ts,
      oiBase,
      markPrice,
      // Per interval: Hyperliquid settles hourly, so its rate is an eighth of the others'.
      fundingRate: v.venue === 'hyperliquid' ? -0.00001 : -0.00008,
      fundingIntervalHours: v.venue === 'hyperliquid' ? 1 : 8,
      nextFundingTs: Math.ceil((ts + 1) / (8 * H)) * 8 * H,
    };
    applyMarketEvent(btcStates[i]!, ev);
    if (v.liqShare > 0) {
      // A background long or short now and then; during the squeeze shorts closed by force,
      // `liqShare` of the venue's OI over the 10 minutes, in 15 s pushes.
      const squeezeBase = ts > T1 ? (v.oi * v.liqShare * 15_000) / SQUEEZE_MS : 0;
      const background = ts % (7 * MIN) === 0 ? v.oi * 0.00002 : 0;
      const liquidations = [
        ...(squeezeBase > 0
          ? [{ side: 'short' as const, base: squeezeBase, usd: squeezeBase * markPrice, ts }]
          : []),
        ...(background > 0
          ? [
              {
                side: ts % (14 * MIN) === 0 ? ('long' as const) : ('short' as const),
                base: background,
                usd: background * markPrice,
                ts,
              },
            ]
          : []),
      ];
      if (liquidations.length > 0) applyMarketEvent(btcStates[i]!, { ...ev, liquidations });
      if (v.accounts !== undefined && ts % (5 * MIN) === 0) {
        applyMarketEvent(btcStates[i]!, {
          ...ev,
          accountsLongPct: v.accounts,
          ...(v.top !== undefined ? { topTradersLongPct: v.top } : {}),
          longShortTs: ts - 5 * MIN,
        });
      }
    }
    if (ts % MIN === 0)
      btcAlerts.push(...evaluateRules(btcEngine, toSnapshot(btcStates[i]!), DEFAULT_ALERT_RULES).alerts);
  });
  if (ts % (30 * 1000) === 0) {
    const agg = aggregateSnapshots(
      'BTC',
      btcStates.map((s) => toSnapshot(s)),
      DEFAULT_INTEL_CONFIG,
    );
    if (agg) btcAlerts.push(...evaluateRules(btcEngine, agg, DEFAULT_ALERT_RULES).alerts);
  }
}
const btcSnaps = btcStates.map((s) => toSnapshot(s));
const btcAll = aggregateSnapshots('BTC', btcSnaps, DEFAULT_INTEL_CONFIG) as SnapshotJson;
const btcNow = T1 + SQUEEZE_MS + 4000;
show('/liq BTC', formatLiqMessage('BTC', [btcAll, ...btcSnaps]));
show('/market BTC (all venues, 15m)', M.formatMarketMessage(btcAll, '15m', btcNow));
const btcSeen = new Set();
for (const a of btcAlerts) {
  if (btcSeen.has(a.kind + a.venue) || (a.venue !== 'all' && a.venue !== 'bybit')) continue;
  btcSeen.add(a.kind + a.venue);
  show(`alert ${a.kind} (${a.venue})`, A.formatAlert(a, btcNow));
}
console.log('\n### forced-flow fields of the BTC aggregate JSON\n');
console.log(
  JSON.stringify(
    { liquidations: btcAll.liquidations, longShort: btcAll.longShort, unavailable: btcAll.unavailable },
    null,
    2,
  ),
);
console.log('\n### forced-flow fields of the BTC hyperliquid snapshot JSON\n');
console.log(
  JSON.stringify(
    {
      liquidations: btcSnaps[3]!.liquidations,
      longShort: btcSnaps[3]!.longShort,
      unavailable: btcSnaps[3]!.unavailable,
    },
    null,
    2,
  ),
);
