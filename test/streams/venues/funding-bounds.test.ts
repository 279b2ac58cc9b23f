/**
 * Funding-rate bounds (`fundingRateCap` / `fundingRateFloor`) on every venue: documented and real
 * frames, and the simulators' frames and REST bodies through the same parsers.
 */
import { readFileSync } from 'node:fs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { MarketEvent } from '../../../src/domain/types.js';
import type { UniverseEntry } from '../../../src/streams/core/universe.js';
import { type BinanceSimulator, startBinanceSimulator } from '../../../src/streams/sim/binance-sim.js';
import {
  type BybitSimulator,
  bybitTickerData,
  startBybitSimulator,
} from '../../../src/streams/sim/bybit-sim.js';
import { createScriptedMarket, DEFAULT_MARKET_SYMBOLS } from '../../../src/streams/sim/market.js';
import { okxChannelFrame } from '../../../src/streams/sim/okx-sim.js';
import { okxPoint } from '../../../src/streams/sim/okx-sim-rest.js';
import { createBinanceAdapter } from '../../../src/streams/venues/binance.js';
import { createBybitAdapter } from '../../../src/streams/venues/bybit.js';
import { fetchBybitUniverse } from '../../../src/streams/venues/bybit-universe.js';
import {
  createHyperliquidAdapter,
  HYPERLIQUID_FUNDING_RATE_CAP,
  HYPERLIQUID_FUNDING_RATE_FLOOR,
} from '../../../src/streams/venues/hyperliquid.js';
import { createOkxAdapter } from '../../../src/streams/venues/okx.js';

const lines = (venue: string, name: string) =>
  readFileSync(new URL(`../../fixtures/${venue}/${name}`, import.meta.url), 'utf8')
    .trim()
    .split('\n');

const bounds = (ev: MarketEvent | undefined) => ({ cap: ev?.fundingRateCap, floor: ev?.fundingRateFloor });
const START_TS = Date.UTC(2026, 8, 1, 12, 0, 0);

describe('binance: fundingInfo adjustedFundingRateCap / Floor', () => {
  const BLZ: UniverseEntry = { symbol: 'BLZ', instrument: 'BLZUSDT' };
  const BTC: UniverseEntry = { symbol: 'BTC', instrument: 'BTCUSDT' };
  const mark = (s: string) =>
    JSON.stringify({
      stream: '!markPrice@arr@1s',
      data: [{ e: 'markPriceUpdate', E: 1, s, p: '1.5', i: '1.5', r: '0.0001', T: 1788940800000, st: 1 }],
    });

  it('puts the documented bounds (verbatim body) on the mark events of the listed symbol only', () => {
    const adapter = createBinanceAdapter({ universe: () => [BLZ, BTC] });
    const ws = adapter.createParser();
    const rest = adapter.createParser();
    // Before any fundingInfo: unknown, never 0.
    expect(bounds(ws.parse(mark('BLZUSDT'), 0).events[0])).toEqual({ cap: undefined, floor: undefined });
    rest.parse(lines('binance', 'doc-funding-info.json')[0]!, 0, '/fapi/v1/fundingInfo');
    // "adjustedFundingRateCap": "0.02500000", "adjustedFundingRateFloor": "-0.02500000"
    expect(bounds(ws.parse(mark('BLZUSDT'), 0).events[0])).toEqual({ cap: 0.025, floor: -0.025 });
    // BTCUSDT is not listed (never adjusted): its bounds stay unknown.
    const [btc] = ws.parse(mark('BTCUSDT'), 0).events;
    expect(btc).not.toHaveProperty('fundingRateCap');
    expect(btc).not.toHaveProperty('fundingRateFloor');
  });

  it('reads "" as no bound, and a later body replaces the earlier bounds', () => {
    const adapter = createBinanceAdapter({ universe: () => [BLZ, BTC] });
    const parser = adapter.createParser();
    const body = (rows: object[]) => parser.parse(JSON.stringify(rows), 0, '/fapi/v1/fundingInfo');
    body([
      {
        symbol: 'BLZUSDT',
        adjustedFundingRateCap: '',
        adjustedFundingRateFloor: '-0.03',
        fundingIntervalHours: 4,
      },
      { symbol: 'BTCUSDT', adjustedFundingRateCap: '0.02', adjustedFundingRateFloor: '-0.02' },
    ]);
    expect(bounds(parser.parse(mark('BLZUSDT'), 0).events[0])).toEqual({ cap: undefined, floor: -0.03 });
    expect(bounds(parser.parse(mark('BTCUSDT'), 0).events[0])).toEqual({ cap: 0.02, floor: -0.02 });
    body([{ symbol: 'BLZUSDT', adjustedFundingRateCap: '0.01', adjustedFundingRateFloor: '-0.01' }]);
    expect(bounds(parser.parse(mark('BTCUSDT'), 0).events[0])).toEqual({ cap: undefined, floor: undefined });
    expect(bounds(parser.parse(mark('BLZUSDT'), 0).events[0])).toEqual({ cap: 0.01, floor: -0.01 });
  });

  describe('against the simulator', () => {
    let sim: BinanceSimulator;
    beforeAll(async () => {
      sim = await startBinanceSimulator({
        startTs: START_TS,
        tickMs: 60_000,
        fundingIntervalHours: { ETHUSDT: 4 },
      });
    });
    afterAll(() => sim.close());

    it('the sim fundingInfo body carries bounds the parser puts on that symbol', async () => {
      const res = await fetch(`${sim.restUrl}/fapi/v1/fundingInfo`);
      const text = await res.text();
      const rows = JSON.parse(text) as { symbol: string; adjustedFundingRateCap: string }[];
      expect(rows.map((r) => r.symbol)).toEqual(['ETHUSDT']);
      const adapter = createBinanceAdapter({
        universe: () => [
          { symbol: 'ETH', instrument: 'ETHUSDT' },
          { symbol: 'BTC', instrument: 'BTCUSDT' },
        ],
      });
      const parser = adapter.createParser();
      parser.parse(text, 0, '/fapi/v1/fundingInfo');
      const cap = Number(rows[0]!.adjustedFundingRateCap);
      expect(cap).toBeGreaterThan(0);
      expect(bounds(parser.parse(mark('ETHUSDT'), 0).events[0])).toEqual({ cap, floor: -cap });
      expect(bounds(parser.parse(mark('BTCUSDT'), 0).events[0])).toEqual({
        cap: undefined,
        floor: undefined,
      });
    });
  });
});

describe('bybit: ticker fundingCap, instruments-info upper/lowerFundingRate', () => {
  it('reads the documented snapshot: cap = +fundingCap, floor = -fundingCap (the rate sits at the floor)', () => {
    const [ev] = createBybitAdapter().createParser().parse(lines('bybit', 'doc-snapshot.json')[0]!, 0).events;
    // "fundingCap": "0.005", "fundingRate": "-0.005"
    expect(ev).toMatchObject({ fundingRate: -0.005, fundingRateCap: 0.005, fundingRateFloor: -0.005 });
  });

  it('keeps the cap across deltas that omit it; "" clears it back to the listing bounds', () => {
    const listed: UniverseEntry = {
      symbol: 'BTC',
      instrument: 'BTCUSDT',
      fundingRateCap: 0.0075,
      fundingRateFloor: -0.006,
    };
    const parser = createBybitAdapter({ universe: () => [listed] }).createParser();
    const [, snapshot, delta] = lines('bybit', 'real-2026-08-13.ndjson');
    parser.parse(snapshot!, 0);
    expect(bounds(parser.parse(delta!, 0).events[0])).toEqual({ cap: 0.005, floor: -0.005 });
    const cleared = JSON.stringify({
      topic: 'tickers.BTCUSDT',
      type: 'delta',
      data: { symbol: 'BTCUSDT', fundingCap: '' },
      cs: 764144450700,
      ts: 1786659829000,
    });
    expect(bounds(parser.parse(cleared, 0).events[0])).toEqual({ cap: 0.0075, floor: -0.006 });
  });

  it('a 2024 frame without fundingCap: bounds from the listing, else absent', () => {
    const [snapshot] = lines('bybit', 'ccxt-21450-21451.ndjson');
    const bare = createBybitAdapter().createParser().parse(snapshot!, 0).events[0];
    expect(bare).not.toHaveProperty('fundingRateCap');
    expect(bare).not.toHaveProperty('fundingRateFloor');
    const nkn: UniverseEntry = {
      symbol: 'NKN',
      instrument: 'NKNUSDT',
      fundingRateCap: 0.02,
      fundingRateFloor: -0.02,
    };
    const parser = createBybitAdapter({ universe: () => [nkn] }).createParser();
    expect(bounds(parser.parse(snapshot!, 0).events[0])).toEqual({ cap: 0.02, floor: -0.02 });
  });

  describe('against the simulator', () => {
    let sim: BybitSimulator;
    beforeAll(async () => {
      sim = await startBybitSimulator({ startTs: START_TS, tickMs: 60_000 });
    });
    afterAll(() => sim.close());

    it('instruments-info bounds reach the universe entries; sim tickers carry fundingCap', async () => {
      const { entries } = await fetchBybitUniverse(sim.restUrl, { symbols: ['BTC', 'ETH'], topN: 20 });
      const res = await fetch(`${sim.restUrl}/v5/market/instruments-info?category=linear&symbol=BTCUSDT`);
      const row = ((await res.json()) as { result: { list: Record<string, string>[] } }).result.list[0]!;
      expect(entries[0]).toMatchObject({
        instrument: 'BTCUSDT',
        fundingRateCap: Number(row.upperFundingRate),
        fundingRateFloor: Number(row.lowerFundingRate),
      });
      const data = bybitTickerData(sim.market, 'ETH', START_TS);
      const frame = JSON.stringify({ topic: 'tickers.ETHUSDT', type: 'snapshot', data, cs: 1, ts: START_TS });
      const [ev] = createBybitAdapter().createParser().parse(frame, START_TS).events;
      expect(bounds(ev)).toEqual({ cap: Number(data.fundingCap), floor: -Number(data.fundingCap) });
      expect(Math.abs(ev!.fundingRate!)).toBeLessThanOrEqual(ev!.fundingRateCap!);
    });
  });
});

describe('okx: funding-rate maxFundingRate / minFundingRate', () => {
  it('reads the documented push (verbatim) and "" as no bound', () => {
    const doc = lines('okx', 'doc.ndjson')[5]!;
    const parser = createOkxAdapter().createParser();
    expect(bounds(parser.parse(doc, 0).events[0])).toEqual({ cap: 0.00375, floor: -0.00375 });
    const msg = JSON.parse(doc);
    msg.data[0].maxFundingRate = '';
    const [ev] = parser.parse(JSON.stringify(msg), 0).events;
    expect(ev).not.toHaveProperty('fundingRateCap');
    expect(ev?.fundingRateFloor).toBe(-0.00375);
  });

  it('the other channels carry no bounds; the simulator funding-rate push does', () => {
    const market = createScriptedMarket({ symbols: DEFAULT_MARKET_SYMBOLS, startTs: START_TS });
    const p = okxPoint(market, 'SOL', START_TS);
    const parser = createOkxAdapter().createParser();
    const funding = okxChannelFrame('funding-rate', p);
    const el = JSON.parse(funding).data[0] as Record<string, string>;
    expect(bounds(parser.parse(funding, 0).events[0])).toEqual({
      cap: Number(el.maxFundingRate),
      floor: Number(el.minFundingRate),
    });
    const mark = parser.parse(okxChannelFrame('mark-price', p), 0).events[0];
    expect(mark).not.toHaveProperty('fundingRateCap');
  });
});

describe('hyperliquid: 4%/hour for every asset', () => {
  it('puts the constant bounds on every event with funding, and only those', () => {
    const parser = createHyperliquidAdapter().createParser();
    const [btc] = lines('hyperliquid', 'real-active-asset-ctx.ndjson');
    expect(bounds(parser.parse(btc!, 1).events[0])).toEqual({ cap: 0.04, floor: -0.04 });
    expect(HYPERLIQUID_FUNDING_RATE_CAP).toBe(-HYPERLIQUID_FUNDING_RATE_FLOOR);
    const noFunding = JSON.stringify({
      channel: 'activeAssetCtx',
      data: { coin: 'ETH', ctx: { markPx: '2500.1' } },
    });
    const [ev] = parser.parse(noFunding, 1).events;
    expect(ev).not.toHaveProperty('fundingRateCap');
    expect(ev).not.toHaveProperty('fundingRateFloor');
  });
});
