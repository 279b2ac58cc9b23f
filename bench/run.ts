/**
 * `npm run bench`: generates the recordings, runs every stage in a fresh process, measures memory,
 * the live-rate latency and the scaling curve, prints one table with PASS/FAIL per target, and
 * writes `bench/results/latest.json`. See bench/README.md for what each figure means.
 *
 * Options: `--quick` (small recordings, for trying the harness), `--profile` (also writes CPU
 * profiles of the pipeline + Redis stage and of the live processor under bench/results/profiles
 * and prints their hot spots), `--skip-curve`, `--skip-latency`.
 */

import { execSync } from 'node:child_process';
import { mkdirSync, rmSync, writeFileSync } from 'node:fs';
import { cpus, tmpdir, totalmem } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { BENCH_REDIS_URL, MIB, round, runChild } from './common.js';
import type { RecordingInfo, RecordingSpec } from './generate.js';
import { type LatencyOptions, type LatencyResult, runLatency } from './latency.js';
import { formatSummary, type ProfileSummary, summarize } from './profile-summary.js';
import type { StageArgs, StageName, StageResult } from './stage.js';

const MIN_MS = 60_000;
const HOUR_MS = 60 * MIN_MS;
const argv = new Set(process.argv.slice(2));
const QUICK = argv.has('--quick');
const PROFILE = argv.has('--profile');
const RESULTS_DIR = fileURLToPath(new URL('../../bench/results/', import.meta.url));
const PROFILE_DIR = join(RESULTS_DIR, 'profiles');

/** 1,500 instruments (Binance 600, Bybit 400, OKX 300, Hyperliquid 200), ~3M frames, ~24.6 h. */
const MAIN: RecordingSpec = {
  seed: 20_260_901,
  instruments: 1500,
  startTs: Date.UTC(2026, 8, 1),
  historyMs: 24 * HOUR_MS + 20 * MIN_MS,
  historyStepMs: 10 * MIN_MS,
  liveMs: (QUICK ? 60 : 980) * 1000,
  liveStepMs: 1000,
};
/** 5,000 instruments; the curve's smaller universes are its first 100, 500 and 1,500. */
const CURVE: RecordingSpec = {
  seed: 20_260_902,
  instruments: 5000,
  startTs: Date.UTC(2026, 8, 1),
  historyMs: 24 * HOUR_MS + 30 * MIN_MS,
  historyStepMs: 15 * MIN_MS,
  liveMs: 30 * 1000,
  liveStepMs: 1000,
};
const CURVE_SIZES = [100, 500, 1500, 5000];
const STAGES: readonly StageName[] = ['parse', 'normalize', 'pipeline', 'redis'];
const STAGE_LABEL: Record<StageName, string> = {
  parse: '1 JSON.parse only (baseline)',
  normalize: '2 parse + normalize',
  pipeline: '3 full pipeline, no Redis',
  redis: '4 full pipeline + Redis',
};
const LATENCY: LatencyOptions = {
  instruments: 1500,
  fps: 10_000,
  measuredSeconds: QUICK ? 8 : 30,
  spikeEvery: 1000,
  warmPoints: 100,
  warmFps: 50_000,
  publishIntervalMs: 1000,
};
const TARGETS = {
  redisRatio: 0.38,
  heapPerInstrumentBytes: 16 * 1024,
  rssBytes: 150 * MIB,
  p99Ms: 5,
};

function stageArgs(stage: StageName, recording: string, instruments: number): StageArgs {
  return {
    stage,
    recording,
    instruments,
    chunkFrames: 50_000,
    redisUrl: BENCH_REDIS_URL,
    publishIntervalMs: 1000,
    oiAlertPct15m: 3,
    alertCooldownMs: 30 * MIN_MS,
    warmupFrames: 100_000,
  };
}

async function runStageChild(args: StageArgs, profileName?: string): Promise<StageResult> {
  const execArgv = ['--expose-gc'];
  if (profileName) {
    mkdirSync(PROFILE_DIR, { recursive: true });
    execArgv.push('--cpu-prof', `--cpu-prof-dir=${PROFILE_DIR}`, `--cpu-prof-name=${profileName}.cpuprofile`);
  }
  return runChild<StageResult>('stage', [JSON.stringify(args)], execArgv);
}

const fmtInt = (x: number) => Math.round(x).toLocaleString('en-US');
const kb = (bytes: number) => `${(bytes / 1024).toFixed(1)} KB`;
const mb = (bytes: number) => `${(bytes / MIB).toFixed(1)} MB`;
const pad = (s: string, n: number) => s.padEnd(n);
const lpad = (s: string, n: number) => s.padStart(n);
const hm = (ms: number) => `${Math.floor(ms / HOUR_MS)}h ${Math.round((ms % HOUR_MS) / MIN_MS)}m`;

function log(msg: string): void {
  process.stderr.write(`[bench ${((performance.now() - T0) / 1000).toFixed(1)}s] ${msg}\n`);
}

const T0 = performance.now();

/** The commit measured, and whether src/ had uncommitted changes. */
function sourceVersion(): { commit: string; srcDirty: boolean } {
  try {
    const cwd = fileURLToPath(new URL('../../', import.meta.url));
    const commit = execSync('git rev-parse --short HEAD', { cwd, encoding: 'utf8' }).trim();
    const dirty = execSync('git status --porcelain -- src', { cwd, encoding: 'utf8' }).trim() !== '';
    return { commit, srcDirty: dirty };
  } catch {
    return { commit: 'unknown', srcDirty: false };
  }
}
const SOURCE = sourceVersion();

async function main(): Promise<void> {
  const dir = join(tmpdir(), `perp-pulse-bench-${process.pid}`);
  mkdirSync(dir, { recursive: true });
  const out: Record<string, unknown> = {};
  try {
    // 1. Recordings, generated in two processes at once (not measured).
    log('generating recordings (main and curve, in parallel)');
    const g0 = performance.now();
    const [mainRec, curveRec] = await Promise.all([
      runChild<RecordingInfo>('generate', [join(dir, 'main.rec'), JSON.stringify(MAIN)]),
      argv.has('--skip-curve')
        ? Promise.resolve(undefined)
        : runChild<RecordingInfo>('generate', [join(dir, 'curve.rec'), JSON.stringify(CURVE)]),
    ]);
    const generateWallMs = performance.now() - g0;
    log(
      `generated ${fmtInt(mainRec.frames)} + ${fmtInt(curveRec?.frames ?? 0)} frames in ${(generateWallMs / 1000).toFixed(1)} s`,
    );

    // 2. The four stages over the main recording, each in a fresh process.
    const main: Partial<Record<StageName, StageResult>> = {};
    for (const stage of STAGES) {
      log(`main recording: ${stage}`);
      main[stage] = await runStageChild(stageArgs(stage, mainRec.path, MAIN.instruments));
    }
    // The baseline once more after the others: the machine's speed drifts between runs, so the
    // ratio uses the mean of the two baseline runs that bracket the other stages.
    log('main recording: parse (second baseline run)');
    const parseAgain = await runStageChild(stageArgs('parse', mainRec.path, MAIN.instruments));

    // 3. Scaling curve.
    const curve: { instruments: number; stages: Partial<Record<StageName, StageResult>> }[] = [];
    if (curveRec) {
      for (const n of CURVE_SIZES) {
        const stages: Partial<Record<StageName, StageResult>> = {};
        for (const stage of STAGES) {
          log(`curve ${n} instruments: ${stage}`);
          stages[stage] = await runStageChild(stageArgs(stage, curveRec.path, n));
        }
        curve.push({ instruments: n, stages });
      }
    }

    // 4. Live rate over a WebSocket: latency, CPU, memory of a live process.
    let latency: LatencyResult | undefined;
    if (!argv.has('--skip-latency')) {
      log(`live: ${LATENCY.fps} frames/s over WebSocket for ${LATENCY.measuredSeconds} s`);
      latency = await runLatency(LATENCY);
    }

    const totalMs = performance.now() - T0;
    // Diagnostics after the measured runs (they are not part of the figures or the runtime).
    const profiles: ProfileSummary[] = [];
    let latencyProfiled: LatencyResult | undefined;
    let latencyControl: LatencyResult | undefined;
    if (PROFILE) {
      rmSync(PROFILE_DIR, { recursive: true, force: true });
      log('profile: pipeline + Redis stage under --cpu-prof');
      await runStageChild(stageArgs('redis', mainRec.path, MAIN.instruments), 'stage-redis');
      profiles.push(summarize(join(PROFILE_DIR, 'stage-redis.cpuprofile')));
      log('profile: live processor (measured window only)');
      latencyProfiled = await runLatency({
        ...LATENCY,
        profilePath: join(PROFILE_DIR, 'live-processor.cpuprofile'),
      });
      profiles.push(summarize(join(PROFILE_DIR, 'live-processor.cpuprofile')));
      // Control: the same live run with no snapshot publishing inside the measured window.
      log('profile: live control run without snapshot publishing');
      latencyControl = await runLatency({ ...LATENCY, publishIntervalMs: 120_000, diagnostics: true });
    }
    Object.assign(
      out,
      report(
        mainRec,
        curveRec,
        main,
        parseAgain,
        curve,
        latency,
        generateWallMs,
        totalMs,
        profiles,
        latencyProfiled,
        latencyControl,
      ),
    );
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
  mkdirSync(RESULTS_DIR, { recursive: true });
  // A diagnostic run does not replace the last plain run's figures.
  const file = join(RESULTS_DIR, PROFILE ? 'profile.json' : 'latest.json');
  writeFileSync(file, `${JSON.stringify(out, null, 2)}\n`);
  log(`wrote ${file}`);
}

function report(
  mainRec: RecordingInfo,
  curveRec: RecordingInfo | undefined,
  main: Partial<Record<StageName, StageResult>>,
  parseAgain: StageResult,
  curve: { instruments: number; stages: Partial<Record<StageName, StageResult>> }[],
  latency: LatencyResult | undefined,
  generateWallMs: number,
  totalMs: number,
  profiles: ProfileSummary[],
  latencyProfiled: LatencyResult | undefined,
  latencyControl: LatencyResult | undefined,
) {
  const lines: string[] = [];
  const p = (s = '') => lines.push(s);
  // Baseline rate: mean of the two runs bracketing stages 2–4.
  const baseFps = (main.parse!.framesPerSec + parseAgain.framesPerSec) / 2;
  const v = mainRec.instrumentsByVenue;
  p(
    `perp-pulse benchmark · commit ${SOURCE.commit}${SOURCE.srcDirty ? ' (src/ modified)' : ''} · Node ${process.version} · ${cpus().length} CPUs (${cpus()[0]?.model ?? '?'}) · ${mb(totalmem())} RAM`,
  );
  p(
    `recording: ${fmtInt(mainRec.frames)} frames, ${fmtInt(mainRec.spec.instruments)} instruments ` +
      `(binance ${v.binance}, bybit ${v.bybit}, okx ${v.okx}, hyperliquid ${v.hyperliquid}), ` +
      `${hm(mainRec.eventSpanMs)} of event time, ${mb(mainRec.bytes)}, sha256 ${mainRec.sha256.slice(0, 16)}…`,
  );
  p(
    `  history ${fmtInt(mainRec.historyFrames)} frames (one point per instrument per ${MAIN.historyStepMs / MIN_MS} min), ` +
      `live ${fmtInt(mainRec.liveFrames)} frames (one point per instrument per second, ${MAIN.liveMs / 1000} s)`,
  );
  p();
  p(`${pad('stage', 32)}${lpad('frames/s', 12)}${lpad('CPU µs/frame', 14)}${lpad('vs baseline', 13)}`);
  for (const s of STAGES) {
    const r = main[s]!;
    p(
      `${pad(STAGE_LABEL[s], 32)}${lpad(fmtInt(r.framesPerSec), 12)}${lpad(r.cpuUsPerFrame.toFixed(2), 14)}` +
        `${lpad(`${((100 * r.framesPerSec) / baseFps).toFixed(1)}%`, 13)}`,
    );
  }
  p(
    `${pad('1 again, after stage 4', 32)}${lpad(fmtInt(parseAgain.framesPerSec), 12)}` +
      `${lpad(parseAgain.cpuUsPerFrame.toFixed(2), 14)}${lpad(`${((100 * parseAgain.framesPerSec) / baseFps).toFixed(1)}%`, 13)}`,
  );
  p(`  baseline rate = mean of the two stage-1 runs: ${fmtInt(baseFps)} frames/s`);
  const red = main.redis!;
  const mem = red.memory!;
  p(
    `  stage 4: ${fmtInt(red.events)} events, ${fmtInt(red.pipeline?.snapshotsPublished ?? 0)} snapshots and ` +
      `${fmtInt(red.bus?.alertsPublished ?? 0)} alerts written to Redis; final flush ${red.flush?.cpuMs.toFixed(0)} ms CPU`,
  );
  p();
  p(
    `memory, replay (stage 4 process, ${fmtInt(red.instruments)} instruments, 24h window full on ` +
      `${red.fullWindows?.delta24h}/${red.fullWindows?.of}):`,
  );
  p(
    `  heap used +${mb(mem.heapUsedDelta)} (${kb(mem.heapPerInstrument)}/instrument) · typed-array buffers ` +
      `+${mb(mem.arrayBuffersDelta)} · heap + buffers ${kb(mem.heapPlusBuffersPerInstrument)}/instrument`,
  );
  p(
    `  RSS +${mb(mem.rssDelta)} over baseline (${mb(mem.baseline.rss)} → ${mb(mem.after.rss)}; heap reserved ` +
      `${mb(mem.after.heapTotal)} after reading 50,000-frame chunks)`,
  );
  let live: Record<string, unknown> | undefined;
  if (latency) {
    const m = latency.memory;
    const heapDelta =
      m.afterGc.heapUsed - m.baseline.heapUsed + (m.afterGc.arrayBuffers - m.baseline.arrayBuffers);
    p();
    p(
      `live (${fmtInt(latency.achievedFps)} frames/s over ${Math.ceil(LATENCY.instruments / 500)} WebSockets, ` +
        `${fmtInt(m.instruments)} Bybit instruments, windows full on ${m.fullWindows.delta24h}/${m.fullWindows.of}, ` +
        `${LATENCY.measuredSeconds} s):`,
    );
    p(
      `  alert latency frame written → Redis subscriber: p50 ${latency.p50Ms.toFixed(2)} ms · p90 ` +
        `${latency.p90Ms.toFixed(2)} ms · p99 ${latency.p99Ms.toFixed(2)} ms · max ${latency.maxMs.toFixed(2)} ms ` +
        `(${latency.alertsReceived}/${latency.alertsExpected} alerts, ${latency.unexpectedAlerts} unexpected)`,
    );
    p(
      `  processor CPU ${latency.processorCpuPct.toFixed(1)}% of one core (${latency.processorCpuUsPerFrame.toFixed(1)} µs/frame ` +
        `incl. WebSocket and ${fmtInt(latency.snapshotsPublishedPerSec)} snapshots/s to Redis)`,
    );
    p(
      `  processor RSS ${mb(m.running.rss)} running, ${mb(m.afterGc.rss)} after GC (process baseline ${mb(m.baseline.rss)}); ` +
        `heap + buffers ${kb(heapDelta / m.instruments)}/instrument`,
    );
    live = { heapDelta };
  }

  if (curve.length > 0) {
    p();
    p(
      `scaling curve (curve recording: ${hm(curveRec!.eventSpanMs)} of event time; point every ${CURVE.historyStepMs / MIN_MS} min for 24 h, then ${CURVE.liveMs / 1000} s at 1/s)`,
    );
    p(
      `${lpad('instr.', 7)}${lpad('frames', 11)}${lpad('parse µs', 10)}${lpad('norm µs', 9)}${lpad('pipe µs', 9)}` +
        `${lpad('redis µs', 10)}${lpad('redis f/s', 11)}${lpad('vs base', 9)}${lpad('heap+buf/instr', 16)}${lpad('heap+buf', 10)}${lpad('RSS Δ', 10)}`,
    );
    for (const c of curve) {
      const s = c.stages;
      const m = s.redis!.memory!;
      p(
        `${lpad(fmtInt(c.instruments), 7)}${lpad(fmtInt(s.parse!.frames), 11)}${lpad(s.parse!.cpuUsPerFrame.toFixed(2), 10)}` +
          `${lpad(s.normalize!.cpuUsPerFrame.toFixed(2), 9)}${lpad(s.pipeline!.cpuUsPerFrame.toFixed(2), 9)}` +
          `${lpad(s.redis!.cpuUsPerFrame.toFixed(2), 10)}${lpad(fmtInt(s.redis!.framesPerSec), 11)}` +
          `${lpad(`${((100 * s.redis!.framesPerSec) / s.parse!.framesPerSec).toFixed(0)}%`, 9)}` +
          `${lpad(kb(m.heapPlusBuffersPerInstrument), 16)}${lpad(mb(m.heapUsedDelta + m.arrayBuffersDelta), 10)}${lpad(mb(m.rssDelta), 10)}`,
      );
    }
  }

  const ratio = red.framesPerSec / baseFps;
  const rssLive = latency?.memory.running.rss;
  const targets = [
    {
      target: `pipeline + Redis ≥ ${TARGETS.redisRatio * 100}% of baseline rate`,
      value: `${(ratio * 100).toFixed(1)}%`,
      pass: ratio >= TARGETS.redisRatio,
    },
    {
      target: `≤ 16 KB heap per instrument, 24h windows full (heap + typed-array buffers)`,
      value: kb(mem.heapPlusBuffersPerInstrument),
      pass: mem.heapPlusBuffersPerInstrument <= TARGETS.heapPerInstrumentBytes,
    },
    {
      target: `whole universe < 150 MB RSS (live process, ${fmtInt(latency?.memory.instruments ?? 0)} instruments)`,
      value: rssLive === undefined ? 'not run' : mb(rssLive),
      pass: rssLive !== undefined && rssLive < TARGETS.rssBytes,
    },
    {
      target: `alert p99 < 5 ms at ${fmtInt(LATENCY.fps)} frames/s`,
      value: latency ? `${latency.p99Ms.toFixed(2)} ms` : 'not run',
      pass: latency !== undefined && latency.p99Ms < TARGETS.p99Ms && latency.alertsMissing === 0,
    },
  ];
  p();
  p('targets:');
  for (const t of targets) p(`  ${t.pass ? 'PASS' : 'FAIL'}  ${pad(t.target, 76)} ${t.value}`);
  p();
  p(
    `total runtime ${(totalMs / 1000).toFixed(1)} s (generation ${(generateWallMs / 1000).toFixed(1)} s, ` +
      `two recordings in parallel, not part of any measurement)`,
  );
  if (latencyProfiled?.diagnostics) {
    const d = latencyProfiled.diagnostics;
    p();
    p(
      `profiled live run: p99 ${latencyProfiled.p99Ms.toFixed(2)} ms, max ${latencyProfiled.maxMs.toFixed(2)} ms; ` +
        `event-loop delay p99 ${d.loopDelayMs.p99.toFixed(2)} ms, max ${d.loopDelayMs.max.toFixed(2)} ms; ` +
        `publishSnapshots synchronous part ${d.publishSyncMs.mean.toFixed(1)} ms mean, ${d.publishSyncMs.max.toFixed(1)} ms max ` +
        `(${d.publishSyncMs.count} batches); GC pauses ${d.gcPauses.count} (${d.gcPauses.major} major, max ` +
        `${d.gcPauses.majorMaxMs.toFixed(2)} ms), ${d.gcPauses.totalMs.toFixed(0)} ms total, ${d.gcPauses.over2Ms} over 2 ms`,
    );
  }
  if (latencyControl) {
    p(
      `control live run without snapshot publishing in the window: p50 ${latencyControl.p50Ms.toFixed(2)} ms · ` +
        `p99 ${latencyControl.p99Ms.toFixed(2)} ms · max ${latencyControl.maxMs.toFixed(2)} ms ` +
        `(${latencyControl.alertsReceived}/${latencyControl.alertsExpected} alerts), processor CPU ${latencyControl.processorCpuPct.toFixed(1)}%` +
        (latencyControl.diagnostics
          ? `; GC pauses ${latencyControl.diagnostics.gcPauses.count} (${latencyControl.diagnostics.gcPauses.major} major), ` +
            `max ${latencyControl.diagnostics.gcPauses.maxMs.toFixed(2)} ms, ${latencyControl.diagnostics.gcPauses.over2Ms} over 2 ms`
          : ''),
    );
  }
  for (const prof of profiles) {
    p();
    p(formatSummary(prof));
  }
  const table = lines.join('\n');
  console.log(table);
  return {
    generatedAt: new Date().toISOString(),
    source: SOURCE,
    node: process.version,
    cpus: cpus().length,
    cpuModel: cpus()[0]?.model,
    totalRuntimeS: round(totalMs / 1000, 1),
    table,
    targets,
    recordings: { main: mainRec, curve: curveRec },
    main,
    parseAgain,
    baselineFps: baseFps,
    curve,
    latency,
    latencyProfiled,
    latencyControl,
    live,
    profiles,
  };
}

main().catch((err: unknown) => {
  console.error(err);
  process.exit(1);
});
