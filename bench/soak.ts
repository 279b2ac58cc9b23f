/**
 * Soak: several simulated days of all four venues, replayed as fast as the CPU allows through the
 * same parsers and pipeline as live, sampling heap and RSS (after a full GC) every 6 simulated
 * hours. Memory must be flat once the 24 h windows are full: it depends on instruments, not time.
 *
 *   npm run soak            (defaults: 4 days, 50 instruments per venue, a frame set per minute)
 *   SOAK_DAYS=7 SOAK_PER_VENUE=100 npm run soak
 */
import { pino } from 'pino';
import { Pipeline } from '../src/app/pipeline.js';
import { MemoryBus } from '../src/bus/memory-bus.js';
import type { VenueId } from '../src/domain/types.js';
import type { FrameParser } from '../src/streams/core/adapter.js';
import { parseFrame } from '../src/streams/core/parse.js';
import { encodeBinanceFrames } from '../src/streams/sim/binance-sim-rest.js';
import { createBybitEncoder } from '../src/streams/sim/bybit-encode.js';
import { encodeHyperliquidFrames } from '../src/streams/sim/hyperliquid-sim.js';
import { createScriptedMarket, type MarketSymbolSpec } from '../src/streams/sim/market.js';
import { encodeOkxFrames } from '../src/streams/sim/okx-sim.js';
import type { EncodeFrames, SyntheticPoint } from '../src/streams/sim/synthetic.js';
import { VENUES } from '../src/streams/venues/registry.js';

const HOUR = 3_600_000;
const days = Number(process.env.SOAK_DAYS ?? 4);
const perVenue = Number(process.env.SOAK_PER_VENUE ?? 50);
const stepMs = Number(process.env.SOAK_STEP_MS ?? 60_000);
const gc = (globalThis as { gc?: () => void }).gc;
if (!gc) throw new Error('run with node --expose-gc (npm run soak does)');

const specs: MarketSymbolSpec[] = Array.from({ length: perVenue }, (_, i) => ({
  symbol: `S${i.toString(36).toUpperCase()}X`,
  basePrice: 1 + ((i * 7919) % 5000),
  baseOiBase: 10_000 + ((i * 104_729) % 5_000_000),
}));
const startTs = Date.UTC(2026, 0, 1);
const market = createScriptedMarket({ symbols: specs, startTs, seed: 11 });
const encoders: Record<VenueId, EncodeFrames> = {
  binance: encodeBinanceFrames,
  bybit: createBybitEncoder(),
  okx: encodeOkxFrames,
  hyperliquid: encodeHyperliquidFrames,
};
const instrumentOf: Record<VenueId, (s: string) => string> = {
  binance: (s) => `${s}USDT`,
  bybit: (s) => `${s}USDT`,
  okx: (s) => `${s}-USDT-SWAP`,
  hyperliquid: (s) => s,
};
const venues = Object.keys(encoders) as VenueId[];
const parsers = new Map<VenueId, FrameParser>(
  venues.map((v) => [
    v,
    VENUES[v].createAdapter({ wsUrl: 'ws://unused', restUrl: 'http://unused' }).createParser(),
  ]),
);

function point(venue: VenueId, symbol: string, ts: number): SyntheticPoint {
  const s = market.stateAt(symbol, ts);
  const hourly = venue === 'hyperliquid';
  return {
    symbol,
    instrument: instrumentOf[venue](symbol),
    ts,
    markPrice: s.markPrice,
    lastPrice: s.lastPrice,
    indexPrice: s.indexPrice,
    oiBase: s.oiBase,
    fundingRate: hourly ? s.fundingRate / 8 : s.fundingRate,
    fundingIntervalHours: hourly ? 1 : s.fundingIntervalHours,
    nextFundingTs: hourly ? Math.floor(ts / HOUR) * HOUR + HOUR : s.nextFundingTs,
    turnover24hUsd: s.turnover24hUsd,
  };
}

async function main(): Promise<void> {
  const bus = new MemoryBus();
  const pipeline = new Pipeline({
    bus,
    rules: { oiChange15mPct: 3, cooldownMs: 30 * 60_000 },
    publishIntervalMs: 1000,
    logger: pino({ level: 'silent' }),
  });
  pipeline.start();
  const mb = (n: number) => Math.round((n / 1024 / 1024) * 10) / 10;
  gc!();
  const base = process.memoryUsage();
  const samples: { hour: number; frames: number; heapMb: number; rssMb: number }[] = [];
  const t0 = performance.now();
  let frames = 0;
  let parseErrors = 0;
  const steps = Math.floor((days * 24 * HOUR) / stepMs);
  for (let k = 0; k <= steps; k++) {
    const ts = startTs + k * stepMs;
    for (const venue of venues) {
      const parser = parsers.get(venue)!;
      for (const spec of specs) {
        for (const f of encoders[venue](point(venue, spec.symbol, ts), k === 0)) {
          frames++;
          const outcome = parseFrame(parser, f.frame, f.t, f.source);
          if (outcome.kind === 'error') {
            parseErrors++;
            continue;
          }
          for (const ev of outcome.result.events) pipeline.handle(ev);
        }
      }
    }
    if ((k * stepMs) % (6 * HOUR) === 0) {
      await pipeline.flush();
      gc!();
      const m = process.memoryUsage();
      samples.push({
        hour: (k * stepMs) / HOUR,
        frames,
        heapMb: mb(m.heapUsed - base.heapUsed),
        rssMb: mb(m.rss),
      });
    }
    if (k % 200 === 0) await new Promise((r) => setImmediate(r));
  }
  await pipeline.close();
  const seconds = (performance.now() - t0) / 1000;
  const afterWarmup = samples.filter((s) => s.hour >= 30);
  const heaps = afterWarmup.map((s) => s.heapMb);
  const rsss = afterWarmup.map((s) => s.rssMb);
  // Flat = the second half after warm-up holds no more than the first (RSS moves with GC timing,
  // so halves are compared by their mean, not point to point).
  const mean = (xs: number[]) => xs.reduce((a, b) => a + b, 0) / Math.max(1, xs.length);
  const growth = (xs: number[]) => {
    const half = Math.floor(xs.length / 2);
    return mean(xs.slice(half)) - mean(xs.slice(0, half));
  };
  const instruments = pipeline.instrumentCount();
  console.table(samples);
  const heapDriftMb = Math.round(growth(heaps) * 100) / 100;
  const rssDriftMb = Math.round(growth(rsss) * 10) / 10;
  const flat =
    heapDriftMb <= Math.max(0.5, 0.05 * mean(heaps)) && rssDriftMb <= Math.max(5, 0.1 * mean(rsss));
  const summary = {
    days,
    instruments,
    frames,
    parseErrors,
    seconds: Math.round(seconds * 10) / 10,
    framesPerSecond: Math.round(frames / seconds),
    heapAfterWarmupMb: [Math.min(...heaps), Math.max(...heaps)],
    rssAfterWarmupMb: [Math.min(...rsss), Math.max(...rsss)],
    heapPerInstrumentBytes: Math.round((Math.max(...heaps) * 1024 * 1024) / instruments),
    heapGrowthMb: heapDriftMb,
    rssGrowthMb: rssDriftMb,
    flat,
  };
  console.log(JSON.stringify(summary));
  console.log(flat ? 'PASS: heap and RSS flat after warm-up' : 'FAIL: memory grows after warm-up');
  process.exitCode = flat && parseErrors === 0 ? 0 : 1;
}

main().catch((err) => {
  console.error(err);
  process.exit(1);
});
