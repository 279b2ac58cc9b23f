/**
 * Two focused timings for A/B on a busy machine, each the fastest of N runs (CPU time, after a
 * full GC), so two builds can be alternated in a minute instead of a full `npm run bench`:
 *
 * - `parse`: a seeded recording's frames (all four wire formats) through `parseFrame`, one parser
 *   per venue, against `JSON.parse` alone on the same frames: what the parsers add per frame.
 * - `snapshot`: the instruments' state at the recording's end, then `toSnapshot` and
 *   `JSON.stringify(toSnapshot(...))` per instrument: what one snapshot publish costs before Redis.
 * - `publish`: the same snapshots through `RedisBus.publishSnapshots` in the pipeline's slices of
 *   25, on `BENCH_REDIS_URL` under a prefix of its own (deleted after): the whole publish, client
 *   side (stringify, ioredis, socket writes, replies, and the garbage they leave).
 *
 * `npm run build && node --expose-gc dist/bench/micro.js [--what parse|snapshot|publish] [--runs 7]`
 */
import { rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { parseArgs } from 'node:util';
import { Redis } from 'ioredis';
import {
  applyMarketEvent,
  createInstrumentState,
  type InstrumentState,
  toSnapshot,
} from '../src/analytics/instrument.js';
import { DEFAULT_INTEL_CONFIG } from '../src/analytics/intel-config.js';
import { RedisBus } from '../src/bus/redis-bus.js';
import type { FeedEvent } from '../src/domain/types.js';
import { parseFrame } from '../src/streams/core/parse.js';
import { BENCH_REDIS_URL, gcNow, round, silentLogger } from './common.js';
import { type Chunk as RecordingChunk, RecordingReader, venueParsers, writeRecording } from './generate.js';

const MIN_MS = 60_000;

function recording(instruments: number): RecordingChunk[] {
  const path = join(tmpdir(), `perp-pulse-micro-${process.pid}.tsv`);
  // An hour of 10-minute history, then five minutes at the live cadence (82% of the frames, as in the main bench).
  writeRecording(path, {
    seed: 20_260_901,
    instruments,
    startTs: Date.UTC(2026, 8, 1),
    historyMs: 60 * MIN_MS,
    historyStepMs: 10 * MIN_MS,
    liveMs: 5 * MIN_MS,
    liveStepMs: 1000,
  });
  const chunks: RecordingChunk[] = [];
  const reader = new RecordingReader(path);
  try {
    for (let c = reader.next(50_000); c; c = reader.next(50_000)) chunks.push(c);
  } finally {
    reader.close();
    rmSync(path, { force: true });
  }
  return chunks;
}

/** The fastest of `runs` runs of `body`, in CPU µs per item. */
async function fastest(runs: number, items: number, body: () => void | Promise<void>): Promise<number> {
  let best = Number.POSITIVE_INFINITY;
  for (let r = 0; r < runs; r++) {
    gcNow();
    const c0 = process.cpuUsage();
    await body();
    const d = process.cpuUsage(c0);
    best = Math.min(best, (d.user + d.system) / items);
  }
  return round(best, 3);
}

async function parseFigures(chunks: readonly RecordingChunk[], runs: number) {
  let frames = 0;
  for (const c of chunks) frames += c.n;
  let sink = 0;
  const jsonParseUs = await fastest(runs, frames, () => {
    for (const c of chunks) for (let i = 0; i < c.n; i++) if (JSON.parse(c.frame[i]!) !== null) sink++;
  });
  const parseFrameUs = await fastest(runs, frames, () => {
    const parsers = venueParsers();
    for (const c of chunks) {
      for (let i = 0; i < c.n; i++) {
        const out = parseFrame(parsers[c.venue[i]!]!, c.frame[i]!, c.t[i]!, c.source[i]);
        if (out.kind === 'ok') sink += out.result.events.length;
      }
    }
  });
  return { frames, jsonParseUsPerFrame: jsonParseUs, parseFrameUsPerFrame: parseFrameUs, sink };
}

function finalStates(chunks: readonly RecordingChunk[]): InstrumentState[] {
  const parsers = venueParsers();
  const states = new Map<string, InstrumentState>();
  for (const c of chunks) {
    for (let i = 0; i < c.n; i++) {
      const out = parseFrame(parsers[c.venue[i]!]!, c.frame[i]!, c.t[i]!, c.source[i]);
      if (out.kind !== 'ok') continue;
      for (const ev of out.result.events as readonly FeedEvent[]) {
        if (ev.type !== 'market') continue;
        const key = `${ev.venue}:${ev.instrument}`;
        let state = states.get(key);
        if (!state) {
          state = createInstrumentState(ev.venue, ev.symbol, ev.instrument);
          states.set(key, state);
        }
        applyMarketEvent(state, ev);
      }
    }
  }
  return [...states.values()];
}

async function snapshotFigures(chunks: readonly RecordingChunk[], runs: number) {
  const states = finalStates(chunks);
  const repeat = 40;
  const items = states.length * repeat;
  let sink = 0;
  const toSnapshotUs = await fastest(runs, items, () => {
    for (let r = 0; r < repeat; r++) for (const s of states) sink += toSnapshot(s, DEFAULT_INTEL_CONFIG).ts;
  });
  const withJsonUs = await fastest(runs, items, () => {
    for (let r = 0; r < repeat; r++) {
      for (const s of states) sink += JSON.stringify(toSnapshot(s, DEFAULT_INTEL_CONFIG)).length;
    }
  });
  return { snapshots: states.length, toSnapshotUs, toSnapshotAndStringifyUs: withJsonUs, sink };
}

/** The pipeline's publish slice (see pipeline-publish.ts). */
const PUBLISH_SLICE = 25;

async function publishFigures(chunks: readonly RecordingChunk[], runs: number) {
  const snapshots = finalStates(chunks).map((s) => toSnapshot(s, DEFAULT_INTEL_CONFIG));
  const prefix = `perp-pulse-micro-${process.pid}`;
  const bus = new RedisBus({ url: BENCH_REDIS_URL, logger: silentLogger, prefix });
  const repeat = 10;
  try {
    await bus.ready(5000);
    const publishUs = await fastest(runs, snapshots.length * repeat, async () => {
      for (let r = 0; r < repeat; r++) {
        for (let i = 0; i < snapshots.length; i += PUBLISH_SLICE) {
          await bus.publishSnapshots(snapshots.slice(i, i + PUBLISH_SLICE));
        }
      }
    });
    return {
      snapshots: snapshots.length,
      publishUsPerSnapshot: publishUs,
      published: bus.counters.snapshotsPublished,
    };
  } finally {
    await bus.close();
    const admin = new Redis(BENCH_REDIS_URL);
    const keys = snapshots.map((s) => bus.names.latestKey(s.venue, s.symbol));
    for (let i = 0; i < keys.length; i += 500) await admin.del(...keys.slice(i, i + 500));
    await admin.quit();
  }
}

if (import.meta.url === pathToFileURL(process.argv[1] ?? '').href) {
  const { values } = parseArgs({
    options: {
      what: { type: 'string', default: 'parse' },
      instruments: { type: 'string', default: '500' },
      runs: { type: 'string', default: '7' },
    },
  });
  const chunks = recording(Number(values.instruments));
  const runs = Number(values.runs);
  const figures =
    values.what === 'publish'
      ? await publishFigures(chunks, runs)
      : values.what === 'snapshot'
        ? await snapshotFigures(chunks, runs)
        : await parseFigures(chunks, runs);
  console.log(JSON.stringify(figures));
}
