/**
 * The live-rate side of the latency benchmark, in its own process: a local WebSocket server
 * speaking Bybit v5 `tickers.*` (subscribe/ping answered as Bybit does), streaming frames
 * encoded by `createBybitEncoder`.
 *
 * - warm-up: `warmPoints` points per instrument 15 minutes of event time apart (a little over
 *   24 h), sent at `warmFps`, so every 15 m and 24 h window is full before the clock starts;
 * - measured: frames at exactly `fps` (paced on the monotonic clock in 1 ms ticks), event time
 *   running at wall speed, instruments round-robin. Every `spikeEvery` frames one instrument's OI
 *   jumps by `spikePct` and returns on its next frame (in the same 9 s window bucket, so the jump
 *   leaves no trace in history): the jump must fire exactly one `oi_change_15m` alert.
 *
 * For each jump, `process.hrtime.bigint()` right after `ws.send` returned (the frame is in the
 * kernel's socket buffer) is kept under the alert id the pipeline will derive
 * (`oi_change_15m:bybit:SYMBOL:ts`). CLOCK_MONOTONIC is system-wide, so the subscriber process's
 * timestamps compare directly.
 */
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { type WebSocket, WebSocketServer } from 'ws';
import { createBybitEncoder } from '../src/streams/sim/bybit-encode.js';
import { formatPrice } from '../src/streams/sim/market.js';
import type { SyntheticPoint } from '../src/streams/sim/synthetic.js';
import { universe } from './generate.js';

export interface SenderArgs {
  readonly instruments: number;
  readonly startTs: number;
  readonly warmPoints: number;
  readonly warmFps: number;
  readonly fps: number;
  readonly measuredFrames: number;
  readonly spikeEvery: number;
  readonly spikePct: number;
}

export type SenderMessage =
  | { readonly kind: 'listening'; readonly wsUrl: string; readonly instruments: string[] }
  | { readonly kind: 'warm-sent'; readonly frames: number; readonly wallMs: number }
  | {
      readonly kind: 'measured-sent';
      readonly frames: number;
      readonly wallMs: number;
      readonly achievedFps: number;
      /** Largest lag of a frame behind its schedule, ms. */
      readonly maxLagMs: number;
      /** alert id → hrtime ns (as string) the triggering frame was written. */
      readonly sentNs: Record<string, string>;
    };

const MIN_MS = 60_000;
const BUCKET_MS = 9_000;

interface Planned {
  readonly instrument: string;
  readonly frame: string;
  /** Alert id when this frame carries a jump. */
  readonly alertId?: string;
}

export function plan(args: SenderArgs, instruments: { symbol: string; instrument: string }[]) {
  const encode = createBybitEncoder();
  const n = instruments.length;
  const base = instruments.map((_, j) => {
    const price = 10 ** (-1 + 5 * ((j * 0.618_034) % 1));
    return { price, oi: 10 ** (7 + 2 * ((j * 0.414_214) % 1)) / price, turnover: 1e7 * (1 + (j % 17)) };
  });
  let k = 0;
  const point = (j: number, ts: number, oiFactor: number): SyntheticPoint => {
    const b = base[j]!;
    k++;
    // Small wiggles: 15-minute OI moves stay far below the 3% threshold.
    const wiggle = 1 + 0.001 * Math.sin(ts / 97_000 + j);
    const mark = Number(formatPrice(b.price * wiggle));
    const inst = instruments[j]!;
    return {
      symbol: inst.symbol,
      instrument: inst.instrument,
      ts,
      markPrice: mark,
      lastPrice: mark,
      indexPrice: Number(formatPrice(mark * 0.9999)),
      oiBase: Number((b.oi * wiggle * oiFactor).toFixed(3)),
      fundingRate: 0.0001,
      fundingIntervalHours: 8,
      nextFundingTs: Math.floor(ts / (8 * 3_600_000)) * 8 * 3_600_000 + 8 * 3_600_000,
      turnover24hUsd: Number((b.turnover + k * 0.5).toFixed(2)),
    };
  };
  const frameOf = (p: SyntheticPoint, first: boolean) => encode(p, first)[0]?.frame;

  const warm: Planned[] = [];
  for (let w = 0; w < args.warmPoints; w++) {
    for (let j = 0; j < n; j++) {
      const ts = args.startTs + w * 15 * MIN_MS + Math.floor((j * 15 * MIN_MS) / n);
      const frame = frameOf(point(j, ts, 1), w === 0);
      if (frame) warm.push({ instrument: instruments[j]!.instrument, frame });
    }
  }
  const liveStartTs = args.startTs + args.warmPoints * 15 * MIN_MS;
  const measured: Planned[] = [];
  /** Instrument index → 'spike' when its next frame must jump, 'revert' after it did. */
  const pending = new Map<number, 'spike' | 'revert'>();
  for (let i = 0; i < args.measuredFrames; i++) {
    const j = i % n;
    // Event time runs at wall speed: frame i is due at i / fps seconds.
    const ts = liveStartTs + Math.floor((i * 1000) / args.fps);
    if (i > 0 && i % args.spikeEvery === 0 && !pending.has((j + 7) % n)) pending.set((j + 7) % n, 'spike');
    const state = pending.get(j);
    let factor = 1;
    let alertId: string | undefined;
    // Jump only where the next frame (one round later) is still in the same 9 s bucket.
    const roundMs = Math.ceil((n * 1000) / args.fps) + 1;
    if (state === 'spike' && (ts % BUCKET_MS) + roundMs < BUCKET_MS) {
      factor = 1 + args.spikePct / 100;
      alertId = `oi_change_15m:bybit:${instruments[j]!.symbol}:${ts}`;
      pending.set(j, 'revert');
    } else if (state === 'revert') {
      pending.delete(j);
    }
    const frame = frameOf(point(j, ts, factor), false);
    if (frame)
      measured.push({ instrument: instruments[j]!.instrument, frame, ...(alertId ? { alertId } : {}) });
  }
  return { warm, measured };
}

export async function startSender(args: SenderArgs, send: (m: SenderMessage) => void) {
  const insts = universe(args.instruments * 4)
    .filter((i) => i.venue === 'bybit')
    .slice(0, args.instruments);
  const { warm, measured } = plan(args, insts);

  const owner = new Map<string, WebSocket>();
  const http = createServer((_req, res) => res.writeHead(404).end());
  const wss = new WebSocketServer({ server: http, path: '/v5/public/linear', perMessageDeflate: false });
  wss.on('connection', (ws) => {
    ws.on('message', (data) => {
      const msg = JSON.parse(data.toString()) as { op?: string; args?: string[]; req_id?: string };
      if (msg.op === 'subscribe') {
        for (const topic of msg.args ?? []) owner.set(topic.slice('tickers.'.length), ws);
      }
      ws.send(
        JSON.stringify({
          success: true,
          ret_msg: msg.op === 'ping' ? 'pong' : '',
          conn_id: 'bench',
          req_id: msg.req_id ?? '',
          op: msg.op,
        }),
      );
    });
  });
  await new Promise<void>((resolve) => http.listen(0, '127.0.0.1', resolve));
  const { port } = http.address() as AddressInfo;
  send({
    kind: 'listening',
    wsUrl: `ws://127.0.0.1:${port}/v5/public/linear`,
    instruments: insts.map((i) => i.instrument),
  });

  /** Sends `frames` at `fps`, in 1 ms ticks, on each frame's own connection. */
  const pace = (frames: readonly Planned[], fps: number, sentNs?: Map<string, bigint>) =>
    new Promise<{ wallMs: number; maxLagMs: number }>((resolve) => {
      const t0 = process.hrtime.bigint();
      let i = 0;
      let maxLagMs = 0;
      const tick = () => {
        const now = process.hrtime.bigint();
        const elapsedMs = Number(now - t0) / 1e6;
        const due = Math.min(frames.length, Math.floor((elapsedMs * fps) / 1000) + 1);
        if (i < due) maxLagMs = Math.max(maxLagMs, elapsedMs - (i * 1000) / fps);
        for (; i < due; i++) {
          const f = frames[i]!;
          owner.get(f.instrument)?.send(f.frame);
          if (f.alertId && sentNs) sentNs.set(f.alertId, process.hrtime.bigint());
        }
        if (i < frames.length) setTimeout(tick, 1);
        else resolve({ wallMs: Number(process.hrtime.bigint() - t0) / 1e6, maxLagMs });
      };
      tick();
    });

  return {
    async warm() {
      const r = await pace(warm, args.warmFps);
      send({ kind: 'warm-sent', frames: warm.length, wallMs: r.wallMs });
    },
    async measure() {
      const sentNs = new Map<string, bigint>();
      const r = await pace(measured, args.fps, sentNs);
      send({
        kind: 'measured-sent',
        frames: measured.length,
        wallMs: r.wallMs,
        achievedFps: measured.length / (r.wallMs / 1000),
        maxLagMs: r.maxLagMs,
        sentNs: Object.fromEntries([...sentNs].map(([id, ns]) => [id, ns.toString()])),
      });
    },
    async close() {
      for (const ws of wss.clients) ws.terminate();
      await new Promise<void>((resolve) => wss.close(() => resolve()));
      http.closeAllConnections();
      await new Promise<void>((resolve) => http.close(() => resolve()));
    },
  };
}

/** As a child: commands `warm`, `measure`, `close` over IPC. */
if (process.send && process.argv[2]) {
  const args = JSON.parse(process.argv[2]) as SenderArgs;
  const send = (m: SenderMessage) => process.send?.(m);
  startSender(args, send).then((sender) => {
    process.on('message', (cmd: string) => {
      if (cmd === 'warm') void sender.warm();
      else if (cmd === 'measure') void sender.measure();
      else if (cmd === 'close') void sender.close().then(() => process.exit(0));
    });
  });
}
