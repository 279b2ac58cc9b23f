import { pino } from 'pino';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { InstrumentCheckpoint } from '../../src/analytics/checkpoint.js';
import { demoClock, demoMarket, startDemoVenue } from '../../src/app/demo.js';
import { demoHistory } from '../../src/app/demo-history.js';
import { Pipeline } from '../../src/app/pipeline.js';
import { MemoryBus } from '../../src/bus/memory-bus.js';
import { VENUE_IDS, type VenueId } from '../../src/domain/types.js';
import type { SimulatorControls } from '../../src/streams/sim/options.js';

/**
 * The demo's warm start: a day of every venue's instruments from the simulators (REST history
 * where the venue has it, the scripted market for Hyperliquid), as the processor's own past.
 */
const DAY_MS = 24 * 3_600_000;
const logger = pino({ level: 'silent' });
const clock = demoClock(Date.now(), Date.now(), 60);
const market = demoMarket(clock.startTs);
const sims = new Map<VenueId, SimulatorControls>();

beforeAll(async () => {
  for (const venue of VENUE_IDS) sims.set(venue, await startDemoVenue(venue, market, clock));
});

afterAll(async () => {
  for (const sim of sims.values()) await sim.close();
});

describe('demoHistory', () => {
  it('covers the last day of every venue and symbol, not flagged as backfilled history', async () => {
    const endpoints = Object.fromEntries([...sims].map(([v, s]) => [v, { restUrl: s.restUrl }])) as Record<
      VenueId,
      { restUrl: string }
    >;
    const documents = await demoHistory({
      venues: VENUE_IDS,
      endpoints,
      market,
      clock,
      want: { symbols: null, topN: 50 },
      shard: null,
      logger,
      signal: new AbortController().signal,
    });
    const checkpoints = documents.map((d) => JSON.parse(d) as InstrumentCheckpoint);
    const keys = checkpoints.map((c) => `${c.venue}:${c.symbol}`).sort();
    expect(keys).toEqual(VENUE_IDS.flatMap((v) => market.symbols.map((s) => `${v}:${s}`)).sort());
    const nowTs = clock.now();
    for (const c of checkpoints) {
      expect(c.fields.backfilledUntilTs, c.instrument).toBeNull();
      expect(c.window24h.firstTs, `${c.venue}:${c.symbol}`).toBeLessThanOrEqual(nowTs - DAY_MS);
      // The last point is at most one 5-minute period before the start.
      expect(nowTs - c.lastEventTs).toBeLessThan(10 * 60_000);
    }
    const pipeline = new Pipeline({
      bus: new MemoryBus(),
      rules: { oiChange15mPct: 3, cooldownMs: 30 * 60_000 },
      publishIntervalMs: 1000,
      logger,
    });
    expect(pipeline.restore(documents)).toBe(documents.length);
    for (const c of checkpoints) expect(pipeline.needsHistory(c.venue, c.instrument, nowTs)).toBe(false);
    await pipeline.close();
  });
});
