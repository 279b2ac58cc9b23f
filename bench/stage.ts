/**
 * One benchmark stage over one recording, in a fresh Node process (`--expose-gc`), so no stage
 * inherits another's heap or JIT state:
 * - `parse`: `JSON.parse` of every frame, nothing else (the floor for any JavaScript consumer);
 * - `normalize`: each venue's parser via `parseFrame` (REST lines with their `source`), one parser
 *   per venue as a replay uses;
 * - `pipeline`: the same, every event into `Pipeline.handle` with a `MemoryBus`;
 * - `redis`: the same with a `RedisBus` on a real Redis.
 *
 * Only the processing is timed. The recording is read in chunks; reading a chunk and a full GC
 * after it are not timed (so the chunk's strings are old before the clock starts and the stage
 * pays only for its own garbage). Every 2,000 frames the stage yields to the event loop inside the
 * timed window, as a replay does, so the publish timer, Redis replies and alert writes run and are
 * counted.
 */
import { pathToFileURL } from 'node:url';
import { Redis } from 'ioredis';
import { Pipeline } from '../src/app/pipeline.js';
import { MemoryBus } from '../src/bus/memory-bus.js';
import { RedisBus } from '../src/bus/redis-bus.js';
import type { Bus } from '../src/bus/types.js';
import type { FrameParser } from '../src/streams/core/adapter.js';
import { parseFrame } from '../src/streams/core/parse.js';
import { gcNow, settledGc, silentLogger } from './common.js';
import { type Chunk, RecordingReader, universe, venueParsers } from './generate.js';

export type StageName = 'parse' | 'normalize' | 'pipeline' | 'redis';

export interface StageArgs {
  readonly stage: StageName;
  readonly recording: string;
  /** Keep instruments with index below this (the first N of the universe). */
  readonly instruments: number;
  readonly chunkFrames: number;
  readonly redisUrl: string;
  readonly publishIntervalMs: number;
  readonly oiAlertPct15m: number;
  readonly alertCooldownMs: number;
  /** Frames run untimed through throwaway instances first (JIT warm-up). */
  readonly warmupFrames: number;
  /** Full GC after reading each chunk (untimed); default true. */
  readonly gcBetweenChunks?: boolean;
}

export interface MemoryResult {
  /** Before parsers, bus and pipeline existed (after GC). */
  readonly baseline: NodeJS.MemoryUsage;
  /** With every instrument's state held, after GC. */
  readonly after: NodeJS.MemoryUsage;
  readonly heapUsedDelta: number;
  /** Typed-array backing stores live outside the V8 heap (`arrayBuffers`); counted here. */
  readonly arrayBuffersDelta: number;
  readonly rssDelta: number;
  readonly heapPerInstrument: number;
  readonly heapPlusBuffersPerInstrument: number;
}

export interface StageResult {
  readonly stage: StageName;
  readonly instruments: number;
  readonly frames: number;
  readonly events: number;
  readonly parseErrors: number;
  /** Timed: processing plus the event-loop turns after each chunk. */
  readonly wallMs: number;
  readonly cpuUserMs: number;
  readonly cpuSystemMs: number;
  /** The final `flush()` (publishes the last snapshots, waits for alerts): its CPU is added to the stage's CPU; its wall time (mostly waiting out the publish interval) is not in frames/s. */
  readonly flush?: { readonly wallMs: number; readonly cpuMs: number };
  readonly framesPerSec: number;
  readonly cpuUsPerFrame: number;
  readonly untimedMs: number;
  readonly warmupMs: number;
  readonly chunks: number;
  readonly pipeline?: Record<string, number>;
  readonly bus?: Record<string, number>;
  /** Instruments whose final snapshot has a 15 m / 24 h delta (windows full). */
  readonly fullWindows?: { readonly delta15m: number; readonly delta24h: number; readonly of: number };
  readonly memory?: MemoryResult;
}

const yieldToLoop = () => new Promise<void>((resolve) => setImmediate(resolve));

function cpuMsSince(start: NodeJS.CpuUsage): { user: number; system: number } {
  const d = process.cpuUsage(start);
  return { user: d.user / 1000, system: d.system / 1000 };
}

interface Instances {
  readonly parsers: FrameParser[];
  readonly bus?: Bus;
  readonly pipeline?: Pipeline;
}

async function createInstances(args: StageArgs, startTimer: boolean): Promise<Instances> {
  if (args.stage === 'parse') return { parsers: [] };
  const parsers = venueParsers();
  if (args.stage === 'normalize') return { parsers };
  const bus =
    args.stage === 'redis' ? new RedisBus({ url: args.redisUrl, logger: silentLogger }) : new MemoryBus();
  await bus.ready(5000);
  const pipeline = new Pipeline({
    bus,
    rules: { oiChange15mPct: args.oiAlertPct15m, cooldownMs: args.alertCooldownMs },
    publishIntervalMs: args.publishIntervalMs,
    logger: silentLogger,
  });
  if (startTimer) pipeline.start();
  return { parsers, bus, pipeline };
}

interface Tally {
  events: number;
  parseErrors: number;
  sink: number;
}

/** Frames between two event-loop turns, as a replay yields (src/streams/replay.ts). */
const YIELD_EVERY = 2000;

type Work = (c: Chunk, from: number, to: number) => void;

function workFor(stage: StageName, { parsers, pipeline }: Instances, tally: Tally): Work {
  if (stage === 'parse') {
    return (c, from, to) => {
      for (let i = from; i < to; i++) {
        const v: unknown = JSON.parse(c.frame[i]!);
        if (v !== null) tally.sink++;
      }
    };
  }
  if (stage === 'normalize') {
    return (c, from, to) => {
      for (let i = from; i < to; i++) {
        const out = parseFrame(parsers[c.venue[i]!]!, c.frame[i]!, c.t[i]!, c.source[i]);
        if (out.kind === 'ok') tally.events += out.result.events.length;
        else tally.parseErrors++;
      }
    };
  }
  const p = pipeline!;
  return (c, from, to) => {
    for (let i = from; i < to; i++) {
      const out = parseFrame(parsers[c.venue[i]!]!, c.frame[i]!, c.t[i]!, c.source[i]);
      if (out.kind === 'ok') {
        for (const ev of out.result.events) {
          tally.events++;
          p.handle(ev);
        }
      } else tally.parseErrors++;
    }
  };
}

/** Runs a chunk, turning the event loop every YIELD_EVERY frames (timers, Redis I/O, alert writes). */
async function runChunk(work: Work, c: Chunk): Promise<void> {
  for (let i = 0; i < c.n; i += YIELD_EVERY) {
    work(c, i, Math.min(c.n, i + YIELD_EVERY));
    await yieldToLoop();
  }
}

/**
 * JIT warm-up, not timed: at least `frames` frames through throwaway instances of the stage (the
 * recording again, with fresh instances, when it is shorter), so the measurement sees optimized
 * code as a long-running process would.
 */
async function warmUp(args: StageArgs, frames: number): Promise<void> {
  for (let left = frames; left > 0; ) {
    const inst = await createInstances(args, false);
    const work = workFor(args.stage, inst, { events: 0, parseErrors: 0, sink: 0 });
    const reader = new RecordingReader(args.recording, args.instruments);
    while (left > 0) {
      const chunk = reader.next(Math.min(left, args.chunkFrames));
      if (!chunk) break;
      await runChunk(work, chunk);
      left -= chunk.n;
    }
    reader.close();
    await inst.pipeline?.flush();
    await inst.pipeline?.close();
    await inst.bus?.close();
  }
}

export async function runStage(args: StageArgs): Promise<StageResult> {
  const redisAdmin =
    args.stage === 'redis' ? new Redis(args.redisUrl, { protocol: 2, lazyConnect: true }) : undefined;
  if (redisAdmin) await redisAdmin.connect();
  const wu0 = performance.now();
  await warmUp(args, args.warmupFrames);
  const warmupMs = performance.now() - wu0;
  await redisAdmin?.flushdb();
  await settledGc();
  const baseline = process.memoryUsage();

  const instances = await createInstances(args, true);
  const { bus, pipeline } = instances;
  const tally: Tally = { events: 0, parseErrors: 0, sink: 0 };
  const work = workFor(args.stage, instances, tally);

  const reader = new RecordingReader(args.recording, args.instruments);
  let frames = 0;
  let wallMs = 0;
  let cpuUser = 0;
  let cpuSystem = 0;
  let untimedMs = 0;
  let chunks = 0;

  for (;;) {
    const u0 = performance.now();
    let chunk = reader.next(args.chunkFrames);
    if (!chunk) break;
    if (args.gcBetweenChunks !== false) gcNow();
    untimedMs += performance.now() - u0;
    const c0 = process.cpuUsage();
    const w0 = performance.now();
    await runChunk(work, chunk);
    frames += chunk.n;
    chunk = null;
    wallMs += performance.now() - w0;
    const d = cpuMsSince(c0);
    cpuUser += d.user;
    cpuSystem += d.system;
    chunks++;
  }
  reader.close();

  let flush: StageResult['flush'];
  if (pipeline) {
    const c0 = process.cpuUsage();
    const w0 = performance.now();
    await pipeline.flush();
    const d = cpuMsSince(c0);
    flush = { wallMs: performance.now() - w0, cpuMs: d.user + d.system };
  }

  let memory: MemoryResult | undefined;
  let fullWindows: StageResult['fullWindows'];
  const instruments = pipeline?.instrumentCount() ?? 0;
  if (pipeline && bus) {
    await settledGc();
    const after = process.memoryUsage();
    const heapUsedDelta = after.heapUsed - baseline.heapUsed;
    const arrayBuffersDelta = after.arrayBuffers - baseline.arrayBuffers;
    memory = {
      baseline,
      after,
      heapUsedDelta,
      arrayBuffersDelta,
      rssDelta: after.rss - baseline.rss,
      heapPerInstrument: heapUsedDelta / instruments,
      heapPlusBuffersPerInstrument: (heapUsedDelta + arrayBuffersDelta) / instruments,
    };
    let d15 = 0;
    let d24 = 0;
    const all = universe(args.instruments);
    for (const inst of all) {
      const snap = await bus.latest(inst.venue, inst.symbol);
      if (snap?.oi.delta15m) d15++;
      if (snap?.oi.delta24h) d24++;
    }
    fullWindows = { delta15m: d15, delta24h: d24, of: all.length };
  }
  const busCounters = bus instanceof RedisBus ? { ...bus.counters } : undefined;
  const pipelineCounters = pipeline ? { ...pipeline.counters } : undefined;
  await pipeline?.close();
  await bus?.close();
  if (redisAdmin) {
    await redisAdmin.flushdb();
    await redisAdmin.quit();
  }
  if (tally.sink < 0) console.log(tally.sink);

  const cpuMs = cpuUser + cpuSystem + (flush?.cpuMs ?? 0);
  return {
    stage: args.stage,
    instruments,
    frames,
    events: tally.events,
    parseErrors: tally.parseErrors,
    warmupMs,
    wallMs,
    cpuUserMs: cpuUser,
    cpuSystemMs: cpuSystem,
    ...(flush ? { flush } : {}),
    framesPerSec: frames / (wallMs / 1000),
    cpuUsPerFrame: (cpuMs * 1000) / frames,
    untimedMs,
    chunks,
    ...(pipelineCounters ? { pipeline: { ...pipelineCounters } } : {}),
    ...(busCounters ? { bus: { ...busCounters } } : {}),
    ...(fullWindows ? { fullWindows } : {}),
    ...(memory ? { memory } : {}),
  };
}

/** As a child: `node --expose-gc stage.js '<StageArgs json>'`; sends the StageResult back. */
if (import.meta.url === pathToFileURL(process.argv[1] ?? '').href) {
  const args = JSON.parse(process.argv[2] ?? '{}') as StageArgs;
  runStage(args).then(
    (r) => {
      if (process.send) process.send(r, () => process.exit(0));
      else {
        console.log(JSON.stringify(r, null, 2));
        process.exit(0);
      }
    },
    (err: unknown) => {
      console.error(err);
      process.exit(1);
    },
  );
}
