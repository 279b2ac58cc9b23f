/**
 * The engine alone, for comparing two versions on a busy machine: a seeded recording is parsed
 * once, untimed, and its events go through a fresh `Pipeline` (MemoryBus, no timer, a publish
 * every 5,000 events) several times; the figure is the fastest run's CPU per event (the least
 * disturbed by other processes). Parsing, Redis and the event loop are left out, so it moves only
 * with the analytics, the rules and the snapshot building.
 *
 * `npm run build && node --expose-gc dist/bench/engine.js [--instruments N] [--runs N]`
 */
import { rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { parseArgs } from 'node:util';
import { Pipeline } from '../src/app/pipeline.js';
import { MemoryBus } from '../src/bus/memory-bus.js';
import type { FeedEvent } from '../src/domain/types.js';
import { parseFrame } from '../src/streams/core/parse.js';
import { gcNow, silentLogger } from './common.js';
import { RecordingReader, venueParsers, writeRecording } from './generate.js';

const MIN_MS = 60_000;
const PUBLISH_EVERY_EVENTS = 5000;

function recordedEvents(instruments: number): FeedEvent[] {
  const path = join(tmpdir(), `perp-pulse-engine-${process.pid}.tsv`);
  // The main bench recording's time line (a point per 10 min for a day, then one per second).
  writeRecording(path, {
    seed: 20_260_901,
    instruments,
    startTs: Date.UTC(2026, 8, 1),
    historyMs: 24 * 60 * MIN_MS + 20 * MIN_MS,
    historyStepMs: 10 * MIN_MS,
    liveMs: 600_000,
    liveStepMs: 1000,
  });
  const parsers = venueParsers();
  const events: FeedEvent[] = [];
  const reader = new RecordingReader(path);
  try {
    for (let c = reader.next(50_000); c; c = reader.next(50_000)) {
      for (let i = 0; i < c.n; i++) {
        const out = parseFrame(parsers[c.venue[i]!]!, c.frame[i]!, c.t[i]!, c.source[i]);
        if (out.kind === 'ok') events.push(...out.result.events);
      }
    }
  } finally {
    reader.close();
    rmSync(path, { force: true });
  }
  return events;
}

async function runOnce(events: readonly FeedEvent[]): Promise<{ cpuUs: number; alerts: number }> {
  const pipeline = new Pipeline({ bus: new MemoryBus(), publishIntervalMs: 0, logger: silentLogger });
  gcNow();
  const c0 = process.cpuUsage();
  for (let i = 0; i < events.length; i += PUBLISH_EVERY_EVENTS) {
    const end = Math.min(events.length, i + PUBLISH_EVERY_EVENTS);
    for (let j = i; j < end; j++) pipeline.handle(events[j]!);
    await pipeline.flush();
  }
  const d = process.cpuUsage(c0);
  await pipeline.close();
  return { cpuUs: d.user + d.system, alerts: pipeline.counters.alertsFired };
}

if (import.meta.url === pathToFileURL(process.argv[1] ?? '').href) {
  const { values } = parseArgs({
    options: { instruments: { type: 'string', default: '500' }, runs: { type: 'string', default: '7' } },
  });
  const events = recordedEvents(Number(values.instruments));
  const perEvent: number[] = [];
  let alerts = 0;
  for (let r = 0; r < Number(values.runs); r++) {
    const run = await runOnce(events);
    perEvent.push(run.cpuUs / events.length);
    alerts = run.alerts;
  }
  const sorted = [...perEvent].sort((a, b) => a - b);
  console.log(
    JSON.stringify({
      events: events.length,
      alerts,
      minCpuUsPerEvent: Number(sorted[0]!.toFixed(3)),
      medianCpuUsPerEvent: Number(sorted[Math.floor(sorted.length / 2)]!.toFixed(3)),
      runs: perEvent.map((x) => Number(x.toFixed(3))),
    }),
  );
}
