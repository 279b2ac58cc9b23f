/**
 * A synthetic Bybit recording (NDJSON of `RawFrame`) whose end-of-recording OI deltas are known
 * by construction: OI and mark are constant on plateaus around end−15m (±1 min), end−24h
 * (±15 min, i.e. wider than 1% of the 24 h window) and the last 2 minutes, so any consumer that
 * quantizes its windows to 1% of their length reads exactly the plateau values.
 */
import { writeFile } from 'node:fs/promises';
import type { DeltaJson, RawFrame } from '../../src/domain/types.js';
import { bybitTickerData } from '../../src/streams/sim/bybit-sim.js';
import { createScriptedMarket, DEFAULT_MARKET_SYMBOLS, formatPrice } from '../../src/streams/sim/market.js';

const MIN_MS = 60_000;
const HOUR_MS = 3_600_000;

export interface RecordingOptions {
  /** Base assets; the instrument is `<symbol>USDT`. */
  readonly symbols: readonly string[];
  /** Event time of the first frame. */
  readonly startTs: number;
  /** Length; at least 24 h 15 min plus one step. */
  readonly hours: number;
  /** Event ms between frames of one symbol, e.g. 10_000. */
  readonly stepMs: number;
  readonly seed?: number;
}

export interface ExpectedAtEnd {
  /** One-side OI at `endTs`, base units. */
  readonly oiBase: number;
  readonly markPrice: number;
  readonly delta15m: DeltaJson;
  readonly delta24h: DeltaJson;
}

export interface Recording {
  readonly lines: string[];
  readonly startTs: number;
  /** Event time of the last data frame of every symbol. */
  readonly endTs: number;
  readonly expected: Record<string, ExpectedAtEnd>;
  /** Lines whose frame is not JSON (the consumer must count and skip them). */
  readonly malformedFrames: number;
  /** Subscribe acks and pongs. */
  readonly controlFrames: number;
}

/** Multipliers of the base level at [end−24h, end−15m, end]; the first symbol crosses +3% in 15m. */
export const OI_PLATEAUS = [
  [1.0, 1.1, 1.144],
  [0.96, 1.0, 0.985],
  [1.2, 1.0, 1.05],
] as const;
export const MARK_PLATEAUS = [
  [1.0, 1.02, 1.03],
  [1.0, 0.99, 0.995],
  [1.05, 1.0, 1.01],
] as const;

export type Knot = readonly [number, number];

/** Piecewise-linear script through the plateaus, with a few wiggles in between. */
export function knots(endTs: number, startTs: number, levels: readonly number[], wiggle: number): Knot[] {
  const [at24h = 1, at15m = 1, atEnd = 1] = levels;
  const mids = [20, 16, 12, 8, 4, 1].map((h, k): Knot => {
    const frac = (24 - h) / 24;
    return [endTs - h * HOUR_MS, at24h + (at15m - at24h) * frac + wiggle * Math.sin(k * 1.7 + wiggle * 100)];
  });
  return [
    [startTs, at24h * 0.97],
    [endTs - 24 * HOUR_MS - 15 * MIN_MS, at24h],
    [endTs - 24 * HOUR_MS + 15 * MIN_MS, at24h],
    ...mids,
    [endTs - 16 * MIN_MS, at15m],
    [endTs - 14 * MIN_MS, at15m],
    [endTs - 2 * MIN_MS, atEnd],
    [endTs, atEnd],
  ];
}

export function valueAt(script: readonly Knot[], ts: number): number {
  for (let i = 1; i < script.length; i++) {
    const [t1, v1] = script[i]!;
    const [t0, v0] = script[i - 1]!;
    if (ts <= t1) return ts <= t0 ? v0 : v0 + (v1 - v0) * ((ts - t0) / (t1 - t0));
  }
  return script.at(-1)![1];
}

function line(t: number, frame: string): { t: number; text: string } {
  const raw: RawFrame = { t, venue: 'bybit', frame };
  return { t, text: JSON.stringify(raw) };
}

export function generateRecording(opts: RecordingOptions): Recording {
  const steps = Math.floor((opts.hours * HOUR_MS) / opts.stepMs);
  const endTs = opts.startTs + steps * opts.stepMs;
  if (endTs - opts.startTs < 24 * HOUR_MS + 15 * MIN_MS + opts.stepMs) {
    throw new RangeError('a recording needs at least 24 h 15 min plus one step');
  }
  const specs = opts.symbols.map((symbol, i) => {
    const known = DEFAULT_MARKET_SYMBOLS.find((s) => s.symbol === symbol);
    return known ?? { symbol, basePrice: 10 + 7 * i, baseOiBase: 1_000_000 * (i + 1) };
  });
  const market = createScriptedMarket({ symbols: specs, startTs: opts.startTs, seed: opts.seed ?? 7 });
  const scripts = specs.map((s, i) => {
    const oi = knots(endTs, opts.startTs, OI_PLATEAUS[i % 3]!, 0.01);
    const mark = knots(endTs, opts.startTs, MARK_PLATEAUS[i % 3]!, 0.005);
    return {
      oiAt: (ts: number) => (s.baseOiBase * valueAt(oi, ts)).toFixed(3),
      markAt: (ts: number) => formatPrice(s.basePrice * valueAt(mark, ts)),
    };
  });

  const out: Array<{ t: number; text: string }> = [];
  const cs = new Map<string, number>();
  const frame = (topic: string, type: string, data: Record<string, string>, ts: number) => {
    const n = (cs.get(topic) ?? 5_000_000) + 1;
    cs.set(topic, n);
    return JSON.stringify({ topic, type, data, cs: n, ts });
  };
  const ack = { success: true, ret_msg: '', conn_id: 'rec-conn', req_id: 'sub-1', op: 'subscribe' };
  out.push(line(opts.startTs - 20, JSON.stringify(ack)));

  const oiFields = (single: string, mark: string) => {
    const both = (2 * Number(single)).toFixed(3);
    return {
      openInterest: both,
      openInterestValue: (Number(both) * Number(mark)).toFixed(2),
      singleOpenInterest: single,
      singleOpenInterestValue: (Number(single) * Number(mark)).toFixed(2),
    };
  };
  const last: Array<Record<string, string>> = specs.map(() => ({}));
  for (let k = 0; k <= steps; k++) {
    const ts = opts.startTs + k * opts.stepMs;
    specs.forEach((s, i) => {
      const topic = `tickers.${s.symbol}USDT`;
      const t = ts + 3 + ((k + i) % 5);
      const markPrice = scripts[i]!.markAt(ts);
      const single = scripts[i]!.oiAt(ts);
      const m = market.stateAt(s.symbol, ts);
      const now = { markPrice, indexPrice: formatPrice((Number(markPrice) * m.indexPrice) / m.markPrice) };
      const prev = last[i]!;
      if (k === 0) {
        const quotes = { lastPrice: markPrice, bid1Price: markPrice, ask1Price: markPrice };
        const data = {
          ...bybitTickerData(market, s.symbol, ts),
          ...quotes,
          ...now,
          ...oiFields(single, markPrice),
        };
        out.push(line(t, frame(topic, 'snapshot', data, ts)));
      } else {
        const delta: Record<string, string> = { symbol: `${s.symbol}USDT` };
        // Bybit sends the OI group whenever OI moves; its USD value follows the mark.
        if (single !== prev.singleOpenInterest) Object.assign(delta, oiFields(single, markPrice));
        for (const [key, value] of Object.entries(now)) if (value !== prev[key]) delta[key] = value;
        out.push(line(t, frame(topic, 'delta', delta, ts)));
      }
      last[i] = { ...now, singleOpenInterest: single };
      if (k < steps && (k + 11 * i) % 37 === 5) {
        const bid = formatPrice(Number(markPrice) * (1 - 0.0001 * ((k % 3) + 1)));
        const half = ts + Math.floor(opts.stepMs / 2);
        out.push(line(half + 2, frame(topic, 'delta', { symbol: `${s.symbol}USDT`, bid1Price: bid }, half)));
      }
    });
  }

  const midTs = opts.startTs + Math.floor(steps / 2) * opts.stepMs;
  const pong = { success: true, ret_msg: 'pong', conn_id: 'rec-conn', req_id: 'ping-1', op: 'ping' };
  out.push(line(midTs + 1, JSON.stringify(pong)));
  const first = specs[0]?.symbol ?? 'BTC';
  out.push(line(midTs + 2, `{"topic":"tickers.${first}USDT","type":"delta","data":`));
  out.sort((a, b) => a.t - b.t);

  const expected: Record<string, ExpectedAtEnd> = {};
  specs.forEach((s, i) => {
    const oiAt = (ts: number) => Number(scripts[i]!.oiAt(ts));
    const markAt = (ts: number) => Number(scripts[i]!.markAt(ts));
    const delta = (thenTs: number): DeltaJson => {
      const base = oiAt(endTs) - oiAt(thenTs);
      return {
        base,
        usd: oiAt(endTs) * markAt(endTs) - oiAt(thenTs) * markAt(thenTs),
        pct: (100 * base) / oiAt(thenTs),
      };
    };
    expected[s.symbol] = {
      oiBase: oiAt(endTs),
      markPrice: markAt(endTs),
      delta15m: delta(endTs - 15 * MIN_MS),
      delta24h: delta(endTs - 24 * HOUR_MS),
    };
  });
  return {
    lines: out.map((l) => l.text),
    startTs: opts.startTs,
    endTs,
    expected,
    malformedFrames: 1,
    controlFrames: 2,
  };
}

/** Writes NDJSON, one line per frame. */
export async function writeRecording(path: string, lines: readonly string[]): Promise<void> {
  await writeFile(path, lines.length > 0 ? `${lines.join('\n')}\n` : '');
}
