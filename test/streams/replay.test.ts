import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { lastValueFrom, toArray } from 'rxjs';
import { describe, expect, it } from 'vitest';
import type { FeedEvent } from '../../src/domain/types.js';
import { GAP_SOURCE, newReplayCounters, replay$ } from '../../src/streams/replay.js';
import { createBybitAdapter } from '../../src/streams/venues/bybit.js';

const snapshot = JSON.stringify({
  topic: 'tickers.BTCUSDT',
  type: 'snapshot',
  data: { symbol: 'BTCUSDT', markPrice: '100', singleOpenInterest: '10' },
  cs: 1,
  ts: 1000,
});

describe('replay$', () => {
  it('replays recorded gaps as gap status events, and counts lines it cannot read', async () => {
    const path = join(mkdtempSync(join(tmpdir(), 'pulse-replay-unit-')), 'r.ndjson');
    const lines = [
      { t: 1001, venue: 'bybit', frame: snapshot },
      {
        t: 9000,
        venue: 'bybit',
        frame: JSON.stringify({ fromTs: 1001, toTs: 9000, instruments: ['BTCUSDT'] }),
        source: GAP_SOURCE,
      },
      { t: 9001, venue: 'bybit', frame: '{"fromTs":"x"}', source: GAP_SOURCE },
      { t: 9002, venue: 'kraken', frame: '{}' },
    ];
    writeFileSync(path, `${lines.map((l) => JSON.stringify(l)).join('\n')}\nnot json\n`);
    const counters = newReplayCounters();
    const events: FeedEvent[] = await lastValueFrom(
      replay$({ path, speed: 'max', adapters: new Map([['bybit', createBybitAdapter()]]) }, counters).pipe(
        toArray(),
      ),
    );
    expect(events.map((e) => e.type)).toEqual(['market', 'status']);
    expect(events[1]).toMatchObject({
      type: 'status',
      kind: 'gap',
      venue: 'bybit',
      receiveTs: 9000,
      gap: { fromTs: 1001, toTs: 9000, instruments: ['BTCUSDT'] },
    });
    expect(counters).toMatchObject({ lines: 5, badLines: 3, frames: 1, events: 1 });
  });
});
