import { readFileSync } from 'node:fs';
import { afterEach, describe, expect, it } from 'vitest';
import type { MarketEvent } from '../../../src/domain/types.js';
import { FrameError } from '../../../src/streams/core/adapter.js';
import {
  type HyperliquidSimulator,
  startHyperliquidSimulator,
} from '../../../src/streams/sim/hyperliquid-sim.js';
import {
  createHyperliquidAdapter,
  HYPERLIQUID_WS_URL,
  hyperliquidSymbol,
} from '../../../src/streams/venues/hyperliquid.js';
import { fetchHyperliquidUniverse } from '../../../src/streams/venues/hyperliquid-universe.js';

const fixture = (name: string) =>
  readFileSync(new URL(`../../fixtures/hyperliquid/${name}`, import.meta.url), 'utf8')
    .trim()
    .split('\n');

const HOUR_MS = 3_600_000;
/** 2026-09-04T02:47:45.100Z, beside the BTC fixture's neighbours. */
const RECEIVE_TS = 1788490065100;
/** 2026-09-04T03:00:00Z, the next full UTC hour. */
const NEXT_HOUR_TS = 1788490800000;

const ctxFrame = (coin: string, ctx: Record<string, unknown>, channel = 'activeAssetCtx') =>
  JSON.stringify({ channel, data: { coin, ctx } });

const BTC_CTX = JSON.parse(fixture('real-active-asset-ctx.ndjson')[0]!).data.ctx as Record<string, unknown>;

describe('hyperliquid activeAssetCtx parser', () => {
  it('reads the real BTC frame: strings, hourly funding, OI in coins, event time = receive time', () => {
    const parser = createHyperliquidAdapter().createParser();
    const [btc] = fixture('real-active-asset-ctx.ndjson');
    const res = parser.parse(btc!, RECEIVE_TS);
    expect(res.control).toBeUndefined();
    expect(res.events).toEqual([
      {
        type: 'market',
        venue: 'hyperliquid',
        symbol: 'BTC',
        instrument: 'BTC',
        eventTs: RECEIVE_TS,
        receiveTs: RECEIVE_TS,
        markPrice: 80640,
        lastPrice: 80639.5,
        indexPrice: 80684.7,
        oiBase: 36295.80812,
        fundingRate: 0.0000052974,
        fundingIntervalHours: 1,
        nextFundingTs: NEXT_HOUR_TS,
        // "capped at 4%/hour" for every asset, and the rate is hourly (https://hyperliquid.gitbook.io/hyperliquid-docs/trading/funding).
        fundingRateCap: 0.04,
        fundingRateFloor: -0.04,
        turnover24hUsd: Number('4490636699.3287734985'),
      } satisfies MarketEvent,
    ]);
  });

  it('takes event time from an injected clock when given (the demo runs the market at 60x)', () => {
    // Event time 2 h past the receive time: the next funding hour follows the event time.
    const parser = createHyperliquidAdapter({ eventClock: (t) => t + 2 * HOUR_MS }).createParser();
    const [btc] = fixture('real-active-asset-ctx.ndjson');
    const [ev] = parser.parse(btc!, RECEIVE_TS).events;
    expect(ev).toMatchObject({
      eventTs: RECEIVE_TS + 2 * HOUR_MS,
      receiveTs: RECEIVE_TS,
      nextFundingTs: NEXT_HOUR_TS + 2 * HOUR_MS,
    });
  });

  it('reads the older MOODENG recording without dayBaseVlm', () => {
    const parser = createHyperliquidAdapter().createParser();
    const moodeng = fixture('real-active-asset-ctx.ndjson')[2]!;
    const [ev] = parser.parse(moodeng, RECEIVE_TS).events;
    expect(ev).toMatchObject({
      symbol: 'MOODENG',
      instrument: 'MOODENG',
      markPrice: 0.19963,
      lastPrice: 0.19957,
      indexPrice: 0.1995,
      oiBase: 18617460,
      fundingRate: 0.00004863,
      turnover24hUsd: 7665220.55613,
    });
  });

  it('skips HIP-3 coins (xyz:AAPL is not in the main-dex universe)', () => {
    const parser = createHyperliquidAdapter().createParser();
    const aapl = fixture('real-active-asset-ctx.ndjson')[1]!;
    expect(parser.parse(aapl, RECEIVE_TS)).toMatchObject({ events: [], control: 'ignored' });
  });

  it('ignores spot contexts: perps only', () => {
    const parser = createHyperliquidAdapter().createParser();
    const spot = ctxFrame(
      '@107',
      {
        prevDayPx: '23.5',
        dayNtlVlm: '5000000.0',
        markPx: '24.1',
        midPx: '24.105',
        circulatingSupply: '1.0',
      },
      'activeSpotAssetCtx',
    );
    expect(parser.parse(spot, 0)).toEqual({ events: [], control: 'ignored', detail: 'activeSpotAssetCtx' });
  });

  it('treats null midPx/premium/impactPxs (book-less asset) and "" as absent, never 0', () => {
    const parser = createHyperliquidAdapter().createParser();
    const frame = ctxFrame('BTC', { ...BTC_CTX, midPx: null, premium: null, impactPxs: null, dayNtlVlm: '' });
    const [ev] = parser.parse(frame, RECEIVE_TS).events;
    expect(ev).not.toHaveProperty('lastPrice');
    expect(ev).not.toHaveProperty('turnover24hUsd');
    expect(ev).toMatchObject({ markPrice: 80640, indexPrice: 80684.7, oiBase: 36295.80812 });
    const noFunding = ctxFrame('BTC', { markPx: '80640.0' });
    const [bare] = parser.parse(noFunding, RECEIVE_TS).events;
    expect(bare).not.toHaveProperty('fundingRate');
    expect(bare).not.toHaveProperty('fundingIntervalHours');
    expect(bare).not.toHaveProperty('nextFundingTs');
  });

  it('accepts numbers, the type the docs give (the wire sends strings)', () => {
    const parser = createHyperliquidAdapter().createParser();
    const [ev] = parser.parse(ctxFrame('ETH', { markPx: 2500.5, funding: 0.0000125 }), 0).events;
    expect(ev).toMatchObject({ markPrice: 2500.5, fundingRate: 0.0000125 });
  });

  it('funding settles every full UTC hour: on the hour, the next one is an hour later', () => {
    const parser = createHyperliquidAdapter().createParser();
    const onHour = NEXT_HOUR_TS - HOUR_MS;
    const frame = ctxFrame('ETH', { funding: '0.0000125' });
    expect(parser.parse(frame, onHour).events[0]?.nextFundingTs).toBe(NEXT_HOUR_TS);
    expect(parser.parse(frame, onHour - 1).events[0]?.nextFundingTs).toBe(onHour);
  });

  it('kPEPE is its own symbol (units of 1000 PEPE), not merged with 1000PEPE', () => {
    const parser = createHyperliquidAdapter().createParser();
    const [ev] = parser.parse(
      ctxFrame('kPEPE', { markPx: '0.010234', openInterest: '7300000000.0' }),
      0,
    ).events;
    expect(ev).toMatchObject({ symbol: 'KPEPE', instrument: 'kPEPE', oiBase: 7300000000 });
    expect(hyperliquidSymbol('kPEPE')).toBe('KPEPE');
    expect(hyperliquidSymbol('xyz:AAPL')).toBeNull();
    expect(hyperliquidSymbol('@107')).toBeNull();
    expect(hyperliquidSymbol('PURR/USDC')).toBeNull();
  });

  it('reads control frames: greeting, ack, pong, venue errors', () => {
    const parser = createHyperliquidAdapter().createParser();
    const [ack, pong, invalid, already] = fixture('control.ndjson');
    expect(parser.parse('Websocket connection established.', 0)).toMatchObject({
      events: [],
      control: 'ignored',
    });
    expect(parser.parse(ack!, 0)).toEqual({ events: [], control: 'ack', detail: 'subscribe trades SOL' });
    expect(parser.parse(pong!, 0)).toEqual({ events: [], control: 'pong' });
    expect(parser.parse(invalid!, 0)).toEqual({
      events: [],
      control: 'error',
      detail: 'Invalid subscription {"type":"candle","coin":"NOPE","interval":"1m"}',
    });
    expect(parser.parse(already!, 0)).toMatchObject({
      control: 'error',
      detail: expect.stringContaining('Already'),
    });
    parser.reset();
  });

  it('throws FrameError for frames the venue does not send', () => {
    const parser = createHyperliquidAdapter().createParser();
    for (const bad of [
      'Websocket connection closed.',
      '{"channel":"activeAssetCtx","data":',
      '[]',
      '"pong"',
      'null',
      '{"data":{}}',
      '{"channel":"activeAssetCtx","data":{"coin":"BTC"}}',
      '{"channel":"activeAssetCtx","data":{"ctx":{}}}',
      '{"channel":"activeAssetCtx","data":[]}',
      ctxFrame('BTC', { markPx: 'abc' }),
      ctxFrame('BTC', { funding: ['0.1'] }),
      ctxFrame('@107', { markPx: '1.0' }),
    ]) {
      expect(() => parser.parse(bad, 0), bad).toThrow(FrameError);
    }
  });
});

describe('hyperliquid adapter', () => {
  it('sends one subscribe (and unsubscribe) message per coin', () => {
    const adapter = createHyperliquidAdapter();
    expect(adapter.subscribeMessages(['BTC', 'kPEPE']).map((m) => JSON.parse(m))).toEqual([
      { method: 'subscribe', subscription: { type: 'activeAssetCtx', coin: 'BTC' } },
      { method: 'subscribe', subscription: { type: 'activeAssetCtx', coin: 'kPEPE' } },
    ]);
    expect(adapter.unsubscribeMessages(['ETH']).map((m) => JSON.parse(m))).toEqual([
      { method: 'unsubscribe', subscription: { type: 'activeAssetCtx', coin: 'ETH' } },
    ]);
    expect(adapter.subscribeMessages([])).toEqual([]);
  });

  it('pings with {"method":"ping"} every 50 s, inside the 60 s server timeout, and keeps to the per-IP limits', () => {
    const adapter = createHyperliquidAdapter();
    expect(adapter.venue).toBe('hyperliquid');
    expect(adapter.wsUrl).toBe(HYPERLIQUID_WS_URL);
    expect(createHyperliquidAdapter({ wsUrl: 'ws://x/ws' }).wsUrl).toBe('ws://x/ws');
    expect(JSON.parse(adapter.heartbeat!.message)).toEqual({ method: 'ping' });
    expect(adapter.heartbeat!.intervalMs).toBe(50_000);
    expect(adapter.maxInstrumentsPerConnection).toBe(1000);
    expect(adapter.maxPayloadBytes).toBeGreaterThan(4096);
  });
});

describe('hyperliquid universe', () => {
  let sim: HyperliquidSimulator | undefined;
  afterEach(async () => {
    await sim?.close();
    sim = undefined;
  });

  it('zips universe with ctxs, skips the delisted coin, ranks by dayNtlVlm', async () => {
    sim = await startHyperliquidSimulator({ tickMs: 1000 });
    const u = await fetchHyperliquidUniverse(sim.restUrl, { symbols: null, topN: 100 });
    expect(u.missing).toEqual([]);
    expect(u.entries.map((e) => e.symbol).sort()).toEqual(['BTC', 'DOGE', 'ETH', 'SOL', 'XRP']);
    const turnovers = u.entries.map((e) => e.turnover24hUsd!);
    expect(turnovers).toEqual([...turnovers].sort((a, b) => b - a));
    expect(u.entries.every((e) => e.fundingIntervalHours === 1 && e.instrument === e.symbol)).toBe(true);

    const res = await fetch(`${sim.restUrl}/info`, { method: 'POST', body: '{"type":"metaAndAssetCtxs"}' });
    const [meta, ctxs] = (await res.json()) as [{ universe: { name: string }[] }, { dayNtlVlm: string }[]];
    const eth = u.entries.find((e) => e.symbol === 'ETH')!;
    const ethIndex = meta.universe.findIndex((r) => r.name === 'ETH');
    // turnovers move with the clock: the same coin's, read a moment later, is within a hair
    expect(eth.turnover24hUsd! / Number(ctxs[ethIndex]!.dayNtlVlm)).toBeCloseTo(1, 3);

    const top2 = await fetchHyperliquidUniverse(sim.restUrl, { symbols: null, topN: 2 });
    expect(top2.entries.map((e) => e.symbol)).toEqual(u.entries.slice(0, 2).map((e) => e.symbol));
  });

  it('picks SYMBOLS in order and reports delisted and unknown ones missing', async () => {
    sim = await startHyperliquidSimulator({ tickMs: 1000 });
    const u = await fetchHyperliquidUniverse(sim.restUrl, {
      symbols: ['SOL', 'LOOM', 'BTC', 'NOPE'],
      topN: 0,
    });
    expect(u.entries.map((e) => e.instrument)).toEqual(['SOL', 'BTC']);
    expect(u.missing).toEqual(['LOOM', 'NOPE']);
  });

  it('maps kPEPE to KPEPE and leaves out coins that are not main-dex perps', async () => {
    sim = await startHyperliquidSimulator({ tickMs: 1000 });
    const ctx = (v: string) => ({ dayNtlVlm: v, markPx: '1.0', funding: '0.0000125', openInterest: '1.0' });
    const body = [
      {
        universe: [
          { name: 'kPEPE', szDecimals: 0, maxLeverage: 10 },
          { name: 'xyz:AAPL', szDecimals: 3, maxLeverage: 10 },
          { name: 'OLD', szDecimals: 0, maxLeverage: 3, isDelisted: true },
        ],
        marginTables: [],
        collateralToken: 0,
      },
      [ctx('123.5'), ctx('9999999.0'), ctx('88888888.0')],
    ];
    sim.failRestNext('/info', { status: 200, body: JSON.stringify(body) });
    const u = await fetchHyperliquidUniverse(sim.restUrl, { symbols: null, topN: 10 });
    expect(u.entries).toEqual([
      { symbol: 'KPEPE', instrument: 'kPEPE', fundingIntervalHours: 1, turnover24hUsd: 123.5 },
    ]);
  });

  it('throws a clear error on HTTP errors and on a reply that is not [meta, ctxs] of one length', async () => {
    sim = await startHyperliquidSimulator({ tickMs: 1000 });
    const want = { symbols: null, topN: 5 };
    sim.failRestNext('/info', { status: 429, body: 'null' });
    await expect(fetchHyperliquidUniverse(sim.restUrl, want)).rejects.toThrow(
      /\/info metaAndAssetCtxs: HTTP 429/,
    );
    sim.failRestNext('/info', { status: 200, body: JSON.stringify([{ universe: [{ name: 'BTC' }] }, []]) });
    await expect(fetchHyperliquidUniverse(sim.restUrl, want)).rejects.toThrow(/1 coins but 0 contexts/);
    sim.failRestNext('/info', { status: 200, body: '{"universe":[]}' });
    await expect(fetchHyperliquidUniverse(sim.restUrl, want)).rejects.toThrow(/not \[meta, ctxs\]/);
    // the faults are used up: the next call succeeds
    expect((await fetchHyperliquidUniverse(sim.restUrl, want)).entries).toHaveLength(5);
  });
});
