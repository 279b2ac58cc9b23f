/**
 * Latency at a paced live rate: sender process (Bybit-format frames over a local WebSocket) →
 * processor process (FeedConnection → Pipeline → RedisBus) → subscriber process (ioredis on
 * `pulse:alert`). Latency is from the moment the triggering frame was written to the socket to
 * the alert's arrival at the subscriber. Three processes, so neither the sender's pacing nor the
 * subscriber's reads share an event loop with the processor.
 */
import { Redis } from 'ioredis';
import { BENCH_REDIS_URL, ChildProcessHandle } from './common.js';
import type { LivePipelineArgs, LivePipelineMessage } from './latency-pipeline.js';
import type { SenderArgs, SenderMessage } from './latency-sender.js';
import type { SubscriberMessage } from './latency-subscriber.js';

export interface LatencyOptions {
  readonly instruments: number;
  readonly fps: number;
  readonly measuredSeconds: number;
  readonly spikeEvery: number;
  readonly warmPoints: number;
  readonly warmFps: number;
  readonly publishIntervalMs: number;
  /** Diagnostics run: CPU profile of the processor's measured window written here. */
  readonly profilePath?: string;
  /** Diagnostics without the profiler: event-loop delay, GC pauses, publish timings. */
  readonly diagnostics?: boolean;
  /** Extra Node flags for the processor process (experiments, e.g. V8 heap settings). */
  readonly processorNodeFlags?: readonly string[];
}

export interface LatencyResult {
  readonly options: LatencyOptions;
  readonly framesSent: number;
  readonly achievedFps: number;
  readonly senderMaxLagMs: number;
  readonly alertsExpected: number;
  readonly alertsReceived: number;
  readonly alertsMissing: number;
  readonly unexpectedAlerts: number;
  readonly p50Ms: number;
  readonly p90Ms: number;
  readonly p99Ms: number;
  readonly maxMs: number;
  /** The processor process over the measured window (wall time of the paced phase). */
  readonly processorCpuPct: number;
  readonly processorCpuUsPerFrame: number;
  readonly snapshotsPublishedPerSec: number;
  readonly warmFrames: number;
  readonly diagnostics?: Extract<LivePipelineMessage, { kind: 'cpu' }>['diagnostics'];
  /** Latencies in send order (ms), for seeing whether slow alerts cluster. */
  readonly latenciesInOrderMs: readonly number[];
  readonly memory: Extract<LivePipelineMessage, { kind: 'memory' }>;
}

function quantile(sorted: readonly number[], q: number): number {
  if (sorted.length === 0) return Number.NaN;
  const i = Math.min(sorted.length - 1, Math.max(0, Math.ceil(q * sorted.length) - 1));
  return sorted[i]!;
}

export async function runLatency(opts: LatencyOptions, redisUrl = BENCH_REDIS_URL): Promise<LatencyResult> {
  const admin = new Redis(redisUrl, { protocol: 2 });
  await admin.flushdb();
  const senderArgs: SenderArgs = {
    instruments: opts.instruments,
    startTs: Date.UTC(2026, 8, 1),
    warmPoints: opts.warmPoints,
    warmFps: opts.warmFps,
    fps: opts.fps,
    measuredFrames: Math.round(opts.fps * opts.measuredSeconds),
    spikeEvery: opts.spikeEvery,
    spikePct: 5,
  };
  const sender = new ChildProcessHandle<SenderMessage>('latency-sender', [JSON.stringify(senderArgs)]);
  const subscriber = new ChildProcessHandle<SubscriberMessage>('latency-subscriber', [redisUrl]);
  let processor: ChildProcessHandle<LivePipelineMessage> | undefined;
  try {
    const listening = await sender.next('listening');
    await subscriber.next('subscribed');
    const pipelineArgs: LivePipelineArgs = {
      wsUrl: listening.wsUrl,
      instruments: listening.instruments,
      redisUrl,
      publishIntervalMs: opts.publishIntervalMs,
      oiAlertPct15m: 3,
      ...(opts.profilePath ? { profilePath: opts.profilePath } : {}),
      ...(opts.diagnostics ? { diagnostics: true } : {}),
    };
    processor = new ChildProcessHandle<LivePipelineMessage>(
      'latency-pipeline',
      [JSON.stringify(pipelineArgs)],
      ['--expose-gc', ...(opts.processorNodeFlags ?? [])],
    );
    await processor.next('ready');

    sender.send('warm');
    const warm = await sender.next('warm-sent');
    // Wait until the processor has taken in the whole warm-up.
    for (let tries = 0; ; tries++) {
      processor.send('events');
      const { events } = await processor.next('events');
      if (events >= warm.frames) break;
      if (tries > 200) throw new Error(`processor took ${events} of ${warm.frames} warm-up frames`);
      await new Promise((r) => setTimeout(r, 50));
    }
    // One publish interval so the warm-up's snapshots are out before the clock starts.
    await new Promise((r) => setTimeout(r, Math.min(opts.publishIntervalMs, 2000) + 100));

    processor.send('mark');
    await processor.next('marked');
    sender.send('measure');
    const sent = await sender.next('measured-sent', (opts.measuredSeconds + 30) * 1000);
    processor.send('stop');
    const cpu = await processor.next('cpu');
    // Let the last alerts arrive.
    await new Promise((r) => setTimeout(r, 500));
    processor.send('memory');
    const memory = await processor.next('memory');
    subscriber.send('report');
    const arrivals = await subscriber.next('arrivals');

    const latencies: number[] = [];
    let missing = 0;
    for (const [id, ns] of Object.entries(sent.sentNs)) {
      const at = arrivals.arrivedNs[id];
      if (at === undefined) missing++;
      else latencies.push(Number(BigInt(at) - BigInt(ns)) / 1e6);
    }
    const latenciesInOrderMs = latencies.map((x) => Number(x.toFixed(3)));
    const expected = new Set(Object.keys(sent.sentNs));
    const unexpected = Object.keys(arrivals.arrivedNs).filter((id) => !expected.has(id)).length;
    latencies.sort((a, b) => a - b);
    return {
      options: opts,
      framesSent: sent.frames,
      achievedFps: sent.achievedFps,
      senderMaxLagMs: sent.maxLagMs,
      alertsExpected: expected.size,
      alertsReceived: latencies.length,
      alertsMissing: missing,
      unexpectedAlerts: unexpected + arrivals.other,
      p50Ms: quantile(latencies, 0.5),
      p90Ms: quantile(latencies, 0.9),
      p99Ms: quantile(latencies, 0.99),
      maxMs: latencies.at(-1) ?? Number.NaN,
      processorCpuPct: (100 * cpu.cpuMs) / cpu.wallMs,
      processorCpuUsPerFrame: (cpu.cpuMs * 1000) / cpu.frames,
      snapshotsPublishedPerSec: cpu.snapshotsPublished / (cpu.wallMs / 1000),
      warmFrames: warm.frames,
      ...(cpu.diagnostics ? { diagnostics: cpu.diagnostics } : {}),
      latenciesInOrderMs,
      memory,
    };
  } finally {
    processor?.send('close');
    sender.send('close');
    await Promise.all([processor?.exit(), sender.exit(), subscriber.exit()]);
    await admin.flushdb();
    await admin.quit();
  }
}
