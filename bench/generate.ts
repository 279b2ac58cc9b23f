/**
 * Deterministic multi-venue recording for the benchmark, encoded by the venues' own encoders
 * (src/streams/sim): Binance (`!markPrice@arr@1s`, `!ticker@arr`, REST `openInterest` and
 * `fundingInfo` with `source`), Bybit (`tickers.*` snapshot then deltas), OKX (four channels) and
 * Hyperliquid (`activeAssetCtx`).
 *
 * The universe is an ordered list of instruments; venue shares follow the README's full universe
 * (Binance 6 : Bybit 4 : OKX 3 : Hyperliquid 2 per 15 instruments, interleaved), so the first N
 * instruments of any recording are a smaller universe with the same venue mix.
 *
 * Time has two phases:
 * - history: one point per instrument every `historyStepMs` (10 min) for a little over 24 h, so
 *   every instrument ends up holding full 15-minute and 24-hour windows;
 * - live: one point per instrument per second, thinned the way the venues push (Binance open
 *   interest polled every 30 s per instrument, OKX open-interest every 3 s and funding-rate every
 *   30 s; everything else every second).
 * Prices and OI follow seeded random walks (one PRNG per instrument) with OI surges of 4–10% over
 * 5 minutes about every 10 hours per instrument, so alerts fire at a plausible rate.
 *
 * Forced flows, on Binance, Bybit and OKX (Hyperliquid publishes none), from a PRNG of their own
 * so the market itself is the same as without them: a liquidation on about one instrument-minute
 * in 60 of the history and once a minute per instrument on average live (about 22 frames/s over
 * 1,300 instruments, the order of the venues' all-market streams on an ordinary day), and during
 * an OI drain (a falling surge) a cascade of one order per second of about 0.003% of OI, one side
 * per surge (about 1% of OI in 5 minutes: a `liquidation_cascade`). Each venue's frame is its own
 * encoder's (`!forceOrder@arr`, `allLiquidation.*`, `liquidation-orders` in contracts). Long/short
 * statistics: every 5 minutes of the live phase, each followed instrument's REST bodies (Binance
 * two, Bybit one, OKX two), with `source` set.
 *
 * The file is one line per frame: `venue \t instrumentIndex \t receiveTs \t source \t frame`.
 * Frames are plain ASCII JSON (no tab or newline), so a line splits on its first four tabs.
 */
import { createHash } from 'node:crypto';
import { closeSync, openSync, readSync, writeSync } from 'node:fs';
import { pathToFileURL } from 'node:url';
import { canonicalSymbol } from '../src/domain/symbols.js';
import type { VenueId } from '../src/domain/types.js';
import type { FrameParser } from '../src/streams/core/adapter.js';
import { forceOrderPayload } from '../src/streams/sim/binance-sim-forced.js';
import { encodeBinanceFrames } from '../src/streams/sim/binance-sim-rest.js';
import {
  bybitAccountRatioResult,
  bybitLiquidationFrame,
  createBybitEncoder,
} from '../src/streams/sim/bybit-encode.js';
import { encodeHyperliquidFrames } from '../src/streams/sim/hyperliquid-sim.js';
import { formatPrice, type SimLiquidation } from '../src/streams/sim/market.js';
import { encodeOkxFrames } from '../src/streams/sim/okx-sim.js';
import { okxLiquidationDetail, okxLiquidationFrame } from '../src/streams/sim/okx-sim-liquidations.js';
import { OKX_LONG_SHORT_PATHS, okxLongShortAnswer } from '../src/streams/sim/okx-sim-long-short.js';
import { okxContractValue } from '../src/streams/sim/okx-sim-rest.js';
import type { EncodedFrame, SyntheticPoint } from '../src/streams/sim/synthetic.js';
import { VENUES } from '../src/streams/venues/registry.js';

const MIN_MS = 60_000;
const HOUR_MS = 3_600_000;
const DAY_MS = 24 * HOUR_MS;

export const VENUE_ORDER: readonly VenueId[] = ['binance', 'bybit', 'okx', 'hyperliquid'];

/** One parser per venue, indexed like `VENUE_ORDER` (a recording's venue column), as a replay uses them. */
export function venueParsers(): FrameParser[] {
  return VENUE_ORDER.map((id) =>
    VENUES[id]
      .createAdapter({ wsUrl: VENUES[id].defaultWsUrl, restUrl: VENUES[id].defaultRestUrl })
      .createParser(),
  );
}
/** 6 Binance, 4 Bybit, 3 OKX, 2 Hyperliquid per 15, interleaved so any prefix keeps the mix. */
const PATTERN = 'BYOBHBYBOYBHOBY';
const LETTER_VENUE: Record<string, number> = { B: 0, Y: 1, O: 2, H: 3 };

export interface RecordingSpec {
  readonly seed: number;
  /** Instruments across the four venues (the first N of the universe order). */
  readonly instruments: number;
  /** Event time of the first point. */
  readonly startTs: number;
  /** Length of the sparse history phase. */
  readonly historyMs: number;
  readonly historyStepMs: number;
  /** Length of the dense live phase. */
  readonly liveMs: number;
  readonly liveStepMs: number;
}

export interface RecordingInfo {
  readonly path: string;
  readonly spec: RecordingSpec;
  readonly frames: number;
  readonly bytes: number;
  readonly sha256: string;
  /** Event-time span of the points, first to last, ms. */
  readonly eventSpanMs: number;
  readonly framesByVenue: Record<VenueId, number>;
  readonly instrumentsByVenue: Record<VenueId, number>;
  readonly historyFrames: number;
  readonly liveFrames: number;
  readonly generateMs: number;
}

export interface Instrument {
  /** Index in the universe order. */
  readonly g: number;
  readonly venue: VenueId;
  readonly symbol: string;
  readonly instrument: string;
}

/** Base assets `QAAA`, `QAAB`, … that every venue's symbol rule maps to themselves. */
function symbolNames(count: number): string[] {
  const out: string[] = [];
  for (let j = 0; out.length < count; j++) {
    let s = '';
    let x = j;
    for (let d = 0; d < 3; d++) {
      s = String.fromCharCode(65 + (x % 26)) + s;
      x = Math.floor(x / 26);
    }
    const name = `Q${s}`;
    if (canonicalSymbol(name) === name && canonicalSymbol(`${name}USDT`) === name) out.push(name);
  }
  return out;
}

export function universe(n: number): Instrument[] {
  const names = symbolNames(n);
  const perVenue = [0, 0, 0, 0];
  const out: Instrument[] = [];
  for (let g = 0; g < n; g++) {
    const v = LETTER_VENUE[PATTERN[g % PATTERN.length]!]!;
    const venue = VENUE_ORDER[v]!;
    const symbol = names[perVenue[v]!++]!;
    const instrument =
      venue === 'okx' ? `${symbol}-USDT-SWAP` : venue === 'hyperliquid' ? symbol : `${symbol}USDT`;
    out.push({ g, venue, symbol, instrument });
  }
  return out;
}

/** mulberry32: small, fast, seeded. */
function prng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4_294_967_296;
  };
}

function gauss(rand: () => number): number {
  const u = Math.max(rand(), 1e-12);
  return Math.sqrt(-2 * Math.log(u)) * Math.cos(2 * Math.PI * rand());
}

const SURGE_MS = 5 * MIN_MS;
const SURGE_EVERY_MS = 10 * HOUR_MS;

/** One instrument's market: random walks plus OI surges. Advanced point by point in time order. */
class Model {
  private readonly rand: () => number;
  private price: number;
  private oi: number;
  private readonly rate0: number;
  private readonly turnover0: number;
  readonly intervalHours: number;
  private lastTs = Number.NaN;
  private nextSurgeTs: number;
  private surgeStartTs = Number.NaN;
  private surgeLog = 0;
  private k = 0;
  /** Liquidations draw from their own PRNG, so the market is the same with or without them. */
  private readonly liqRand: () => number;

  constructor(
    readonly inst: Instrument,
    seed: number,
    startTs: number,
  ) {
    this.rand = prng((seed * 2_654_435_761) ^ Math.imul(inst.g + 1, 0x9e3779b1));
    this.liqRand = prng((seed * 40_503) ^ Math.imul(inst.g + 7, 0x85ebca6b));
    const r = this.rand;
    this.price = 10 ** (-2.5 + 7.3 * r());
    this.oi = 10 ** (6.3 + 2.7 * r()) / this.price;
    this.intervalHours = inst.venue === 'hyperliquid' ? 1 : r() < 0.25 ? 4 : 8;
    const perInterval = 0.0001 + 0.00008 * gauss(r);
    this.rate0 = inst.venue === 'hyperliquid' ? perInterval / 8 : perInterval;
    this.turnover0 = this.oi * this.price * (0.5 + 2.5 * r());
    this.nextSurgeTs = startTs + -Math.log(Math.max(r(), 1e-9)) * SURGE_EVERY_MS;
  }

  private px(x: number): number {
    return this.inst.venue === 'hyperliquid' ? Number(x.toPrecision(5)) : Number(formatPrice(x));
  }

  /**
   * The liquidations of the span that ended at the last point (`spanMs` long): a cascade order
   * while OI drains in a surge (one per second of the span, at most 10 per point), else at most
   * one with probability `spanMs / backgroundEveryMs`.
   */
  liquidationsAt(p: SyntheticPoint, spanMs: number, backgroundEveryMs: number): SimLiquidation[] {
    const r = this.liqRand;
    const out: SimLiquidation[] = [];
    const draining = !Number.isNaN(this.surgeStartTs) && this.surgeLog < 0;
    const side = (n: number) => (n < 0.5 ? 'long' : 'short');
    if (draining) {
      const cascadeSide = side(((this.surgeStartTs / 1000) % 2) / 2);
      const n = Math.min(10, Math.max(1, Math.round(spanMs / 1000)));
      for (let i = 0; i < n; i++) {
        const base = p.oiBase * 0.00003 * (0.5 + r());
        out.push({ symbol: p.symbol, side: cascadeSide, base, price: p.markPrice, ts: p.ts - i * 1000 });
      }
      return out.reverse();
    }
    if (r() < spanMs / backgroundEveryMs) {
      const base = p.oiBase * 0.000004 * (0.2 + 1.6 * r());
      out.push({ symbol: p.symbol, side: side(r()), base, price: p.markPrice, ts: p.ts });
    }
    return out;
  }

  pointAt(ts: number): SyntheticPoint {
    const r = this.rand;
    if (!Number.isNaN(this.lastTs)) {
      const dtDays = (ts - this.lastTs) / DAY_MS;
      this.price *= Math.exp(0.04 * Math.sqrt(dtDays) * gauss(r));
      this.oi *= Math.exp(0.03 * Math.sqrt(dtDays) * gauss(r));
      // Surges: OI moves by `surgeLog` (in log terms) linearly over SURGE_MS.
      if (ts >= this.nextSurgeTs && Number.isNaN(this.surgeStartTs)) {
        this.surgeStartTs = this.nextSurgeTs;
        this.surgeLog = Math.log(1 + (r() < 0.5 ? -1 : 1) * (0.04 + 0.06 * r()));
        this.nextSurgeTs += SURGE_MS - Math.log(Math.max(r(), 1e-9)) * SURGE_EVERY_MS;
      }
      if (!Number.isNaN(this.surgeStartTs)) {
        const from = Math.max(this.lastTs, this.surgeStartTs);
        const to = Math.min(ts, this.surgeStartTs + SURGE_MS);
        if (to > from) this.oi *= Math.exp((this.surgeLog * (to - from)) / SURGE_MS);
        if (ts >= this.surgeStartTs + SURGE_MS) this.surgeStartTs = Number.NaN;
      }
    }
    this.lastTs = ts;
    this.k++;
    const mark = this.px(this.price);
    const intervalMs = this.intervalHours * HOUR_MS;
    const sway = Math.sin(ts / (3 * HOUR_MS) + this.inst.g);
    return {
      symbol: this.inst.symbol,
      instrument: this.inst.instrument,
      ts,
      markPrice: mark,
      lastPrice: this.px(mark * (1 + 0.0003 * gauss(r))),
      indexPrice: this.px(mark * (1 - 0.0002 * r())),
      oiBase: Number(this.oi.toFixed(this.inst.venue === 'hyperliquid' ? 2 : 3)),
      fundingRate: Number((this.rate0 * (1 + 0.3 * sway)).toFixed(8)),
      fundingIntervalHours: this.intervalHours,
      nextFundingTs: Math.floor(ts / intervalMs) * intervalMs + intervalMs,
      turnover24hUsd: Number((this.turnover0 * (1 + 0.2 * sway) + this.k * 1.25).toFixed(2)),
    };
  }
}

const HISTORY_LIQUIDATION_EVERY_MS = 60 * 60_000;
const LIVE_LIQUIDATION_EVERY_MS = 60_000;
/** Live points per instrument between two long/short polls (one point a second: 5 minutes). */
const LONG_SHORT_EVERY_STEPS = 300;

/** Receive delays after the event, ms: WebSocket pushes and the REST answers of a poll. */
const PUSH_DELAY_MS = 4;
const REST_DELAY_MS = 40;

/** One instrument's liquidation frames and, when due, its long/short REST bodies, in its venue's format. */
function forcedFrames(
  inst: Instrument,
  p: SyntheticPoint,
  liqs: readonly SimLiquidation[],
  statsDue: boolean,
): EncodedFrame[] {
  const out: EncodedFrame[] = [];
  const t = p.ts + PUSH_DELAY_MS;
  const bucketTs = Math.floor(p.ts / 300_000) * 300_000 - 300_000;
  const share = (0.4 + 0.3 * ((inst.g * 0.618) % 1)).toFixed(4);
  switch (inst.venue) {
    case 'binance': {
      // One push per order: the stream carries the latest order per symbol per second.
      for (const liq of liqs) {
        const data = forceOrderPayload(liq, inst.instrument, liq.ts + PUSH_DELAY_MS);
        if (data)
          out.push({ t: liq.ts + PUSH_DELAY_MS, frame: JSON.stringify({ stream: '!forceOrder@arr', data }) });
      }
      if (statsDue) {
        const row = {
          symbol: inst.instrument,
          longShortRatio: '1.0000',
          longAccount: share,
          shortAccount: (1 - Number(share)).toFixed(4),
          timestamp: String(bucketTs),
        };
        for (const path of [
          '/futures/data/globalLongShortAccountRatio',
          '/futures/data/topLongShortPositionRatio',
        ])
          out.push({
            t: t + REST_DELAY_MS,
            frame: JSON.stringify([row]),
            source: `${path}?symbol=${inst.instrument}&period=5m&limit=1`,
          });
      }
      break;
    }
    case 'bybit':
      if (liqs.length > 0) out.push({ t, frame: bybitLiquidationFrame(inst.instrument, liqs, p.ts) });
      if (statsDue) {
        const body = {
          retCode: 0,
          retMsg: 'OK',
          result: bybitAccountRatioResult(inst.instrument, 300_000, 1, p.ts),
          retExtInfo: {},
          time: p.ts,
        };
        out.push({
          t: t + REST_DELAY_MS,
          frame: JSON.stringify(body),
          source: `/v5/market/account-ratio?category=linear&symbol=${inst.instrument}&period=5min&limit=1`,
        });
      }
      break;
    case 'okx': {
      const ctVal = okxContractValue(inst.symbol);
      for (const liq of liqs) {
        const contracts = Math.max(1, Math.round((liq.base / ctVal) * 100)) / 100;
        const element = {
          details: [okxLiquidationDetail(liq, contracts)],
          instFamily: `${inst.symbol}-USDT`,
          instId: inst.instrument,
          instType: 'SWAP' as const,
          uly: `${inst.symbol}-USDT`,
        };
        out.push({ t: liq.ts + PUSH_DELAY_MS, frame: okxLiquidationFrame([element]) });
      }
      if (statsDue) {
        for (const path of OKX_LONG_SHORT_PATHS) {
          const query = new URLSearchParams({ instId: inst.instrument, period: '5m', limit: '1' });
          const body = okxLongShortAnswer(new Map([[inst.instrument, inst.symbol]]), path, query, p.ts).body;
          out.push({ t: t + REST_DELAY_MS, frame: JSON.stringify(body), source: `${path}?${query}` });
        }
      }
      break;
    }
    case 'hyperliquid':
      break;
  }
  return out;
}

/** Buffered writer that hashes what it writes. */
class Sink {
  private readonly fd: number;
  private parts: string[] = [];
  private size = 0;
  readonly hash = createHash('sha256');
  bytes = 0;

  constructor(path: string) {
    this.fd = openSync(path, 'w');
  }

  push(line: string): void {
    this.parts.push(line);
    this.size += line.length;
    if (this.size > 4_000_000) this.drain();
  }

  private drain(): void {
    const text = this.parts.join('');
    this.parts = [];
    this.size = 0;
    const buf = Buffer.from(text, 'latin1');
    this.hash.update(buf);
    writeSync(this.fd, buf);
    this.bytes += buf.length;
  }

  close(): void {
    this.drain();
    closeSync(this.fd);
  }
}

/** Writes the recording to `path`. Same spec, same bytes (the SHA-256 says so). */
export function writeRecording(path: string, spec: RecordingSpec): RecordingInfo {
  const t0 = performance.now();
  const insts = universe(spec.instruments);
  const models = insts.map((inst) => new Model(inst, spec.seed, spec.startTs));
  const bybit = createBybitEncoder();
  const sink = new Sink(path);
  const framesByVenue: Record<VenueId, number> = { binance: 0, bybit: 0, okx: 0, hyperliquid: 0 };
  const instrumentsByVenue: Record<VenueId, number> = { binance: 0, bybit: 0, okx: 0, hyperliquid: 0 };
  for (const i of insts) instrumentsByVenue[i.venue]++;
  let frames = 0;
  let historyFrames = 0;
  const emit = (v: number, g: number, f: EncodedFrame) => {
    if (f.frame.includes('\t') || f.frame.includes('\n')) throw new Error('frame with tab or newline');
    sink.push(`${v}\t${g}\t${f.t}\t${f.source ?? ''}\t${f.frame}\n`);
    frames++;
    framesByVenue[VENUE_ORDER[v]!]++;
  };
  // Binance lists only the symbols whose interval is not the default 8 h.
  const fundingInfo = JSON.stringify(
    models
      .filter((m) => m.inst.venue === 'binance' && m.intervalHours !== 8)
      .map((m) => ({
        symbol: m.inst.instrument,
        adjustedFundingRateCap: '0.02000000',
        adjustedFundingRateFloor: '-0.02000000',
        fundingIntervalHours: m.intervalHours,
        disclaimer: false,
      })),
  );
  let nextFundingInfoTs = spec.startTs;
  let firstTs = Number.NaN;
  let lastTs = Number.NaN;
  const phases = [
    { live: false, from: spec.startTs, ms: spec.historyMs, step: spec.historyStepMs },
    { live: true, from: spec.startTs + spec.historyMs, ms: spec.liveMs, step: spec.liveStepMs },
  ];
  let first = true;
  for (const phase of phases) {
    const steps = Math.floor(phase.ms / phase.step);
    for (let k = 0; k < steps; k++) {
      const stepTs = phase.from + k * phase.step;
      for (let g = 0; g < models.length; g++) {
        const m = models[g]!;
        // Instruments are spread over the step, as a real feed interleaves them.
        const ts = stepTs + Math.floor((g * phase.step) / models.length);
        if (ts >= nextFundingInfoTs) {
          // The REST poller asks for fundingInfo on its first cycle and every 15 minutes after.
          emit(0, 0, { t: ts, frame: fundingInfo, source: '/fapi/v1/fundingInfo' });
          nextFundingInfoTs += 15 * MIN_MS;
        }
        const p = m.pointAt(ts);
        if (Number.isNaN(firstTs)) firstTs = ts;
        lastTs = ts;
        const phaseK = (k + g) % 30;
        // Forced flows: liquidations of the span since this instrument's last point, then its
        // long/short bodies once per 5 minutes of the live phase.
        const liqs =
          m.inst.venue === 'hyperliquid'
            ? []
            : m.liquidationsAt(
                p,
                phase.step,
                phase.live ? LIVE_LIQUIDATION_EVERY_MS : HISTORY_LIQUIDATION_EVERY_MS,
              );
        const statsDue =
          phase.live && m.inst.venue !== 'hyperliquid' && (k + g) % LONG_SHORT_EVERY_STEPS === 0;
        switch (m.inst.venue) {
          case 'binance': {
            const [mark, ticker, oi] = encodeBinanceFrames(p, first);
            emit(0, g, mark!);
            emit(0, g, ticker!);
            if (!phase.live || phaseK === 0) emit(0, g, oi!);
            break;
          }
          case 'bybit':
            for (const f of bybit(p, k === 0 && !phase.live)) emit(1, g, f);
            break;
          case 'okx': {
            const [oi, funding, mark, tickers] = encodeOkxFrames(p, first);
            if (!phase.live || phaseK % 3 === 0) emit(2, g, oi!);
            if (!phase.live || phaseK === 0) emit(2, g, funding!);
            emit(2, g, mark!);
            emit(2, g, tickers!);
            break;
          }
          case 'hyperliquid':
            for (const f of encodeHyperliquidFrames(p, first)) emit(3, g, f);
            break;
        }
        for (const f of forcedFrames(m.inst, p, liqs, statsDue))
          emit(VENUE_ORDER.indexOf(m.inst.venue), g, f);
      }
      first = false;
    }
    if (!phase.live) historyFrames = frames;
  }
  sink.close();
  return {
    path,
    spec,
    frames,
    bytes: sink.bytes,
    sha256: sink.hash.digest('hex'),
    eventSpanMs: lastTs - firstTs,
    framesByVenue,
    instrumentsByVenue,
    historyFrames,
    liveFrames: frames - historyFrames,
    generateMs: performance.now() - t0,
  };
}

/** A chunk of recording lines, columns as arrays. */
export interface Chunk {
  readonly n: number;
  readonly venue: Uint8Array;
  readonly inst: Int32Array;
  readonly t: Float64Array;
  readonly source: (string | undefined)[];
  readonly frame: string[];
}

/**
 * Reads a recording back in chunks, keeping only instruments with index < `maxInstruments`
 * (plus Binance's `fundingInfo` bodies): the first N instruments of a bigger recording are a
 * smaller universe over the same time line. Each frame becomes its own string, as a socket's
 * `data.toString()` would make it.
 */
export class RecordingReader {
  private readonly fd: number;
  private buf = Buffer.allocUnsafe(8 << 20);
  private start = 0;
  private end = 0;
  private eof = false;

  constructor(
    path: string,
    private readonly maxInstruments = Number.POSITIVE_INFINITY,
  ) {
    this.fd = openSync(path, 'r');
  }

  private fill(): void {
    if (this.start > 0) {
      this.buf.copy(this.buf, 0, this.start, this.end);
      this.end -= this.start;
      this.start = 0;
    }
    if (this.end === this.buf.length) {
      const bigger = Buffer.allocUnsafe(this.buf.length * 2);
      this.buf.copy(bigger, 0, 0, this.end);
      this.buf = bigger;
    }
    const n = readSync(this.fd, this.buf, this.end, this.buf.length - this.end, null);
    if (n === 0) this.eof = true;
    this.end += n;
  }

  private int(from: number, to: number): number {
    let x = 0;
    for (let i = from; i < to; i++) x = x * 10 + (this.buf[i]! - 48);
    return x;
  }

  /** The next up to `size` frames, or null at the end. */
  next(size: number): Chunk | null {
    const venue = new Uint8Array(size);
    const inst = new Int32Array(size);
    const t = new Float64Array(size);
    const source: (string | undefined)[] = [];
    const frame: string[] = [];
    let n = 0;
    while (n < size) {
      let nl = this.buf.indexOf(10, this.start);
      if (nl < 0 || nl >= this.end) {
        if (this.eof) break;
        this.fill();
        continue;
      }
      const b = this.buf;
      const s = this.start;
      this.start = nl + 1;
      const t1 = b.indexOf(9, s);
      const t2 = b.indexOf(9, t1 + 1);
      const t3 = b.indexOf(9, t2 + 1);
      const t4 = b.indexOf(9, t3 + 1);
      const g = this.int(t1 + 1, t2);
      const isFundingInfo = t4 > t3 + 1 && g === 0 && b[s] === 48 && b[t4 + 1] === 91;
      if (g >= this.maxInstruments && !isFundingInfo) continue;
      venue[n] = b[s]! - 48;
      inst[n] = g;
      t[n] = this.int(t2 + 1, t3);
      source.push(t4 > t3 + 1 ? b.toString('latin1', t3 + 1, t4) : undefined);
      frame.push(b.toString('latin1', t4 + 1, nl));
      n++;
      nl = -1;
    }
    if (n === 0) return null;
    return { n, venue, inst, t, source, frame };
  }

  close(): void {
    closeSync(this.fd);
    this.buf = Buffer.alloc(0);
  }
}

/** Run as a child: `node generate.js <path> <spec json>`; sends the RecordingInfo back. */
if (import.meta.url === pathToFileURL(process.argv[1] ?? '').href) {
  const [path, specJson] = process.argv.slice(2);
  if (!path || !specJson) throw new Error('usage: generate.js <path> <spec json>');
  const info = writeRecording(path, JSON.parse(specJson) as RecordingSpec);
  if (process.send) process.send(info);
  else console.log(JSON.stringify(info));
}
