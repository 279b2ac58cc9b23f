import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { lastValueFrom, toArray } from 'rxjs';
import { describe, expect, it } from 'vitest';
import type { FeedEvent, RawFrame } from '../../src/domain/types.js';
import { GAP_SOURCE, newReplayCounters, replay$ } from '../../src/streams/replay.js';
import { createBybitAdapter } from '../../src/streams/venues/bybit.js';
import { scenarioLines } from '../support/scenario.js';

const SEC = 1_000;
const MIN = 60_000;
const T0 = Date.UTC(2026, 3, 1);
const flat = () => ({ oiBase: 1000, markPrice: 100, fundingRate: 0.0001, fundingIntervalHours: 8 });

function writeLines(lines: readonly string[]): string {
  const path = join(mkdtempSync(join(tmpdir(), 'pulse-replay-silence-')), 'r.ndjson');
  writeFileSync(path, `${lines.join('\n')}\n`);
  return path;
}

async function replayAll(path: string, staleAfterMs?: number) {
  const counters = newReplayCounters();
  const adapters = new Map([['bybit' as const, createBybitAdapter()]]);
  const events: FeedEvent[] = await lastValueFrom(
    replay$({ path, speed: 'max', adapters, staleAfterMs }, counters).pipe(toArray()),
  );
  return { events, counters, gaps: events.filter((e) => e.type === 'status' && e.kind === 'gap') };
}

/** Two symbols every 10 s for 5 minutes, silence, then 5 minutes more. */
function silentRecording(silenceMs: number): string[] {
  const before = scenarioLines({
    symbols: { BTC: flat, ETH: flat },
    startTs: T0,
    endTs: T0 + 5 * MIN,
    stepMs: 10 * SEC,
  });
  const resumeTs = T0 + 5 * MIN + silenceMs;
  const after = scenarioLines({
    symbols: { BTC: flat, ETH: flat },
    startTs: resumeTs,
    endTs: resumeTs + 5 * MIN,
    stepMs: 10 * SEC,
  });
  return [...before, ...after];
}

describe('replay$ sees silence', () => {
  it('reports silence longer than staleAfterMs as a gap before the next frame, as live would', async () => {
    const { events, gaps, counters } = await replayAll(writeLines(silentRecording(10 * MIN)), 30 * SEC);
    expect(gaps).toHaveLength(1);
    // scenario frames are recorded 3 ms after their event time
    expect(gaps[0]).toMatchObject({
      venue: 'bybit',
      receiveTs: T0 + 15 * MIN + 3,
      gap: { fromTs: T0 + 5 * MIN + 3, toTs: T0 + 15 * MIN + 3 },
    });
    expect(gaps[0]!.type === 'status' && [...gaps[0]!.gap!.instruments].sort()).toEqual([
      'BTCUSDT',
      'ETHUSDT',
    ]);
    // before the first market event after the silence
    const i = events.indexOf(gaps[0]!);
    expect(events[i - 1]).toMatchObject({ type: 'market', eventTs: T0 + 5 * MIN });
    expect(events[i + 1]).toMatchObject({ type: 'market', eventTs: T0 + 15 * MIN });
    expect(counters.silenceGaps).toBe(1);
  });

  it('says nothing of silence up to staleAfterMs, nor without the option', async () => {
    expect((await replayAll(writeLines(silentRecording(25 * SEC)), 30 * SEC)).gaps).toEqual([]);
    expect((await replayAll(writeLines(silentRecording(10 * MIN)))).gaps).toEqual([]);
  });

  it('counts only WebSocket frames as data: REST lines do not hide a silent socket', async () => {
    const lines = silentRecording(10 * MIN);
    const cut = lines.findIndex((l) => (JSON.parse(l) as RawFrame).t > T0 + 5 * MIN + 3);
    const rest: RawFrame[] = [];
    for (let t = T0 + 6 * MIN; t < T0 + 15 * MIN; t += MIN)
      rest.push({
        t,
        venue: 'bybit',
        frame: '{"retCode":0,"result":{"list":[]}}',
        source: '/v5/market/open-interest',
      });
    const path = writeLines([
      ...lines.slice(0, cut),
      ...rest.map((r) => JSON.stringify(r)),
      ...lines.slice(cut),
    ]);
    const { gaps } = await replayAll(path, 30 * SEC);
    expect(gaps).toHaveLength(1);
    expect(gaps[0]).toMatchObject({ gap: { fromTs: T0 + 5 * MIN + 3, toTs: T0 + 15 * MIN + 3 } });
  });

  it('still replays a recorded gap line, and the silence it explains adds nothing to the hole', async () => {
    const lines = silentRecording(10 * MIN);
    const cut = lines.findIndex((l) => (JSON.parse(l) as RawFrame).t > T0 + 5 * MIN + 3);
    const gapLine: RawFrame = {
      t: T0 + 15 * MIN,
      venue: 'bybit',
      frame: JSON.stringify({
        fromTs: T0 + 5 * MIN,
        toTs: T0 + 15 * MIN,
        instruments: ['BTCUSDT', 'ETHUSDT'],
      }),
      source: GAP_SOURCE,
    };
    const path = writeLines([...lines.slice(0, cut), JSON.stringify(gapLine), ...lines.slice(cut)]);
    const { gaps } = await replayAll(path, 30 * SEC);
    // the recorded one, and the replay's own (harmless: a hole opens once)
    expect(gaps.map((g) => g.type === 'status' && g.gap!.fromTs)).toEqual([T0 + 5 * MIN, T0 + 5 * MIN + 3]);
  });
});
