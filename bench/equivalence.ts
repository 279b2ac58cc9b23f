/**
 * Proof that an engine change left the output alone: a seeded recording (all four wire formats,
 * history then live phase, OI surges) goes through the venue parsers and `Pipeline`, snapshots are
 * published at fixed frame counts (not on a timer), and every snapshot JSON, alert JSON and rule
 * state entry is hashed in order. Run it before and after a change: the digests must match.
 *
 * `npm run build && node dist/bench/equivalence.js [--instruments N] [--dump FILE]`
 * (`--dump` writes every line hashed, to diff when the digests differ).
 */
import { createHash } from 'node:crypto';
import { rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { parseArgs } from 'node:util';
import { Pipeline } from '../src/app/pipeline.js';
import { MemoryBus } from '../src/bus/memory-bus.js';
import type { AlertStateEntry } from '../src/bus/types.js';
import type { AlertLevels } from '../src/domain/alert-levels.js';
import type { AlertJson, SnapshotJson } from '../src/domain/types.js';
import { parseFrame } from '../src/streams/core/parse.js';
import { silentLogger } from './common.js';
import { RecordingReader, venueParsers, writeRecording } from './generate.js';

const MIN_MS = 60_000;
const HOUR_MS = 60 * MIN_MS;

/** Chat levels on every level kind, so the per-level rule states are part of the proof. */
const LEVELS: AlertLevels = {
  oi_change_15m: [1.5, 5],
  oi_change_24h: [4],
  funding_pressure: [10, 40],
  momentum_spike: [2],
};

/** Everything the pipeline hands to its bus, as the bytes a Redis bus would write. */
class RecordingBus extends MemoryBus {
  readonly lines: string[] = [];
  override async publishSnapshots(snapshots: readonly SnapshotJson[]): Promise<number> {
    for (const s of snapshots) this.lines.push(`S ${JSON.stringify(s)}`);
    return super.publishSnapshots(snapshots);
  }
  override async publishAlert(alert: AlertJson, state: readonly AlertStateEntry[] = []): Promise<void> {
    this.lines.push(`A ${JSON.stringify(alert)}`);
    for (const e of state) this.lines.push(`a ${e.key} ${e.json}`);
    return super.publishAlert(alert, state);
  }
  override async saveAlertState(state: readonly AlertStateEntry[]): Promise<void> {
    for (const e of state) this.lines.push(`R ${e.key} ${e.json}`);
    return super.saveAlertState(state);
  }
}

export interface EquivalenceResult {
  readonly frames: number;
  readonly snapshots: number;
  readonly alerts: number;
  readonly ruleStates: number;
  readonly sha256: string;
}

/** Frames between two publishes: the snapshots of the dirty instruments at that point. */
const PUBLISH_EVERY_FRAMES = 5000;

export async function runEquivalence(instruments: number, dumpPath?: string): Promise<EquivalenceResult> {
  const path = join(tmpdir(), `perp-pulse-equivalence-${process.pid}.tsv`);
  writeRecording(path, {
    seed: 20_261_207,
    instruments,
    startTs: Date.UTC(2026, 8, 1),
    historyMs: 24 * HOUR_MS + 40 * MIN_MS,
    historyStepMs: 5 * MIN_MS,
    liveMs: 240_000,
    liveStepMs: 1000,
  });
  const parsers = venueParsers();
  const bus = new RecordingBus(1_000_000, 1_000_000);
  // Interval 0: `flush()` publishes at once, so what is published depends on frames only.
  const pipeline = new Pipeline({
    bus,
    rules: { cooldownMs: 10 * MIN_MS, controlFlipVenues: 'every' },
    publishIntervalMs: 0,
    logger: silentLogger,
  });
  pipeline.setAlertLevels(LEVELS);
  const reader = new RecordingReader(path);
  let frames = 0;
  try {
    for (let chunk = reader.next(PUBLISH_EVERY_FRAMES); chunk; chunk = reader.next(PUBLISH_EVERY_FRAMES)) {
      for (let i = 0; i < chunk.n; i++) {
        const out = parseFrame(parsers[chunk.venue[i]!]!, chunk.frame[i]!, chunk.t[i]!, chunk.source[i]);
        if (out.kind === 'ok') for (const ev of out.result.events) pipeline.handle(ev);
      }
      frames += chunk.n;
      await pipeline.flush();
    }
  } finally {
    reader.close();
    rmSync(path, { force: true });
  }
  await pipeline.close();
  const hash = createHash('sha256');
  let snapshots = 0;
  let alerts = 0;
  let ruleStates = 0;
  for (const line of bus.lines) {
    hash.update(line).update('\n');
    if (line.startsWith('S ')) snapshots++;
    else if (line.startsWith('A ')) alerts++;
    else ruleStates++;
  }
  if (dumpPath) writeFileSync(dumpPath, `${bus.lines.join('\n')}\n`);
  return { frames, snapshots, alerts, ruleStates, sha256: hash.digest('hex') };
}

if (import.meta.url === pathToFileURL(process.argv[1] ?? '').href) {
  const { values } = parseArgs({
    options: { instruments: { type: 'string', default: '300' }, dump: { type: 'string' } },
  });
  runEquivalence(Number(values.instruments), values.dump).then(
    (r) => console.log(JSON.stringify(r)),
    (err: unknown) => {
      console.error(err);
      process.exitCode = 1;
    },
  );
}
