/**
 * The processor side of the live-rate benchmark, in its own process, wired as the app wires a
 * venue: one `FeedConnection` per 500 instruments (the Bybit adapter's limit), every event into
 * `Pipeline.handle`, a `RedisBus` on a real Redis, alert cooldown 0. Reports its CPU over the
 * measured window and, at the end, its memory with every instrument's windows full.
 */
import { writeFileSync } from 'node:fs';
import { Session } from 'node:inspector/promises';
import { monitorEventLoopDelay, PerformanceObserver } from 'node:perf_hooks';
import { Pipeline } from '../src/app/pipeline.js';
import { RedisBus } from '../src/bus/redis-bus.js';
import { FeedConnection } from '../src/streams/core/connection.js';
import { VENUES } from '../src/streams/venues/registry.js';
import { settledGc, silentLogger } from './common.js';

export interface LivePipelineArgs {
  readonly wsUrl: string;
  readonly instruments: readonly string[];
  readonly redisUrl: string;
  readonly publishIntervalMs: number;
  readonly oiAlertPct15m: number;
  /** Diagnostics (`--profile`): CPU profile of the measured window written here, event-loop delay, publish timings. */
  readonly profilePath?: string;
  /** Event-loop delay, GC pauses and publish timings without the CPU profiler. */
  readonly diagnostics?: boolean;
}

export type LivePipelineMessage =
  | { readonly kind: 'ready'; readonly connections: number }
  | { readonly kind: 'events'; readonly events: number }
  | { readonly kind: 'marked' }
  | {
      readonly kind: 'cpu';
      readonly wallMs: number;
      readonly cpuMs: number;
      readonly events: number;
      readonly frames: number;
      readonly snapshotsPublished: number;
      readonly alertsFired: number;
      readonly diagnostics?: {
        readonly loopDelayMs: { readonly p50: number; readonly p99: number; readonly max: number };
        /** Synchronous part of each `publishSnapshots` call (JSON.stringify and command encoding). */
        readonly publishSyncMs: { readonly count: number; readonly mean: number; readonly max: number };
        /** GC pauses on the main thread over the measured window. */
        readonly gcPauses: {
          readonly count: number;
          readonly totalMs: number;
          readonly maxMs: number;
          readonly over2Ms: number;
          readonly major: number;
          readonly majorMaxMs: number;
        };
      };
    }
  | {
      readonly kind: 'memory';
      readonly instruments: number;
      readonly baseline: NodeJS.MemoryUsage;
      /** Before any forced GC: what the process holds while running. */
      readonly running: NodeJS.MemoryUsage;
      readonly afterGc: NodeJS.MemoryUsage;
      readonly fullWindows: { readonly delta15m: number; readonly delta24h: number; readonly of: number };
      readonly counters: Record<string, number>;
    };

if (process.send && process.argv[2]) {
  const args = JSON.parse(process.argv[2]) as LivePipelineArgs;
  const send = (m: LivePipelineMessage) => process.send?.(m);
  await settledGc();
  const baseline = process.memoryUsage();
  const bus = new RedisBus({ url: args.redisUrl, logger: silentLogger });
  await bus.ready(5000);
  const pipeline = new Pipeline({
    bus,
    rules: { oiChange15mPct: args.oiAlertPct15m, cooldownMs: 0 },
    publishIntervalMs: args.publishIntervalMs,
    logger: silentLogger,
  });
  pipeline.start();
  const publishSyncMs: number[] = [];
  const diagnose = args.diagnostics === true || args.profilePath !== undefined;
  const loopDelay = diagnose ? monitorEventLoopDelay({ resolution: 1 }) : undefined;
  const session = args.profilePath ? new Session() : undefined;
  const gcPauses: { ms: number; major: boolean }[] = [];
  const gcObserver = new PerformanceObserver((list) => {
    for (const e of list.getEntries()) {
      const kind = (e as { detail?: { kind?: number } }).detail?.kind ?? 0;
      // perf_hooks.constants.NODE_PERFORMANCE_GC_MINOR = 1 (scavenge); everything else is mark-compact work.
      gcPauses.push({ ms: e.duration, major: kind !== 1 });
    }
  });
  if (diagnose) {
    // Bench-only instrumentation: time the synchronous part of each snapshot batch.
    const publish = bus.publishSnapshots.bind(bus);
    bus.publishSnapshots = (snapshots) => {
      const t0 = performance.now();
      const p = publish(snapshots);
      publishSyncMs.push(performance.now() - t0);
      return p;
    };
  }
  const adapter = VENUES.bybit.createAdapter({ wsUrl: args.wsUrl, restUrl: 'http://127.0.0.1:9' });
  const per = adapter.maxInstrumentsPerConnection;
  const chunks: string[][] = [];
  for (let i = 0; i < args.instruments.length; i += per) chunks.push(args.instruments.slice(i, i + per));
  let subscribed = 0;
  const connections = chunks.map(
    (chunk) =>
      new FeedConnection({
        adapter,
        instruments: () => chunk,
        staleAfterMs: 30_000,
        logger: silentLogger,
        onEvent: (ev) => {
          if (ev.type === 'status' && ev.kind === 'subscribed' && ++subscribed === chunks.length) {
            send({ kind: 'ready', connections: chunks.length });
          }
          pipeline.handle(ev);
        },
      }),
  );
  for (const c of connections) c.start();

  let mark: {
    cpu: NodeJS.CpuUsage;
    wall: number;
    events: number;
    frames: number;
    snaps: number;
    alerts: number;
  };
  const frames = () => connections.reduce((n, c) => n + c.counters.frames, 0);
  process.on('message', async (cmd: string) => {
    if (cmd === 'events') send({ kind: 'events', events: pipeline.counters.events });
    else if (cmd === 'mark') {
      if (session) {
        session.connect();
        await session.post('Profiler.enable');
        await session.post('Profiler.start');
      }
      if (diagnose) {
        loopDelay?.enable();
        publishSyncMs.length = 0;
        gcObserver.observe({ entryTypes: ['gc'] });
      }
      mark = {
        cpu: process.cpuUsage(),
        wall: performance.now(),
        events: pipeline.counters.events,
        frames: frames(),
        snaps: pipeline.counters.snapshotsPublished,
        alerts: pipeline.counters.alertsFired,
      };
      send({ kind: 'marked' });
    } else if (cmd === 'stop') {
      const d = process.cpuUsage(mark.cpu);
      const wallMs = performance.now() - mark.wall;
      let diagnostics: Extract<LivePipelineMessage, { kind: 'cpu' }>['diagnostics'];
      if (session && args.profilePath) {
        const { profile } = await session.post('Profiler.stop');
        writeFileSync(args.profilePath, JSON.stringify(profile));
        session.disconnect();
      }
      if (loopDelay) {
        loopDelay.disable();
        gcObserver.disconnect();
        const ms = gcPauses.map((g) => g.ms);
        const major = gcPauses.filter((g) => g.major).map((g) => g.ms);
        diagnostics = {
          loopDelayMs: {
            p50: loopDelay.percentile(50) / 1e6,
            p99: loopDelay.percentile(99) / 1e6,
            max: loopDelay.max / 1e6,
          },
          publishSyncMs: {
            count: publishSyncMs.length,
            mean: publishSyncMs.reduce((a, b) => a + b, 0) / Math.max(1, publishSyncMs.length),
            max: Math.max(0, ...publishSyncMs),
          },
          gcPauses: {
            count: ms.length,
            totalMs: ms.reduce((a, b) => a + b, 0),
            maxMs: Math.max(0, ...ms),
            over2Ms: ms.filter((d) => d > 2).length,
            major: major.length,
            majorMaxMs: Math.max(0, ...major),
          },
        };
      }
      send({
        ...(diagnostics ? { diagnostics } : {}),
        kind: 'cpu',
        wallMs,
        cpuMs: (d.user + d.system) / 1000,
        events: pipeline.counters.events - mark.events,
        frames: frames() - mark.frames,
        snapshotsPublished: pipeline.counters.snapshotsPublished - mark.snaps,
        alertsFired: pipeline.counters.alertsFired - mark.alerts,
      });
    } else if (cmd === 'memory') {
      const running = process.memoryUsage();
      await settledGc();
      const afterGc = process.memoryUsage();
      let d15 = 0;
      let d24 = 0;
      for (const instrument of args.instruments) {
        const snap = await bus.latest('bybit', instrument.replace(/USDT$/, ''));
        if (snap?.oi.delta15m) d15++;
        if (snap?.oi.delta24h) d24++;
      }
      send({
        kind: 'memory',
        instruments: pipeline.instrumentCount(),
        baseline,
        running,
        afterGc,
        fullWindows: { delta15m: d15, delta24h: d24, of: args.instruments.length },
        counters: { ...pipeline.counters, frames: frames() },
      });
    } else if (cmd === 'close') {
      await Promise.all(connections.map((c) => c.close()));
      await pipeline.close();
      await bus.close();
      process.exit(0);
    }
  });
}
