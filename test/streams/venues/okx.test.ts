import { readFileSync } from 'node:fs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { MarketEvent } from '../../../src/domain/types.js';
import { FrameError } from '../../../src/streams/core/adapter.js';
import { encodeOkxFrames, type OkxSimulator, startOkxSimulator } from '../../../src/streams/sim/okx-sim.js';
import type { SyntheticPoint } from '../../../src/streams/sim/synthetic.js';
import { createOkxAdapter, OKX_REST_URL, OKX_WS_URL } from '../../../src/streams/venues/okx.js';
import { fetchOkxUniverse, okxContractValueBase } from '../../../src/streams/venues/okx-universe.js';

const fixture = (name: string) =>
  readFileSync(new URL(`../../fixtures/okx/${name}`, import.meta.url), 'utf8')
    .trim()
    .split('\n');

const parse = (frame: string, receiveTs = 1) => createOkxAdapter().createParser().parse(frame, receiveTs);

describe('okx parser: documented and real frames', () => {
  it('open-interest: one-side OI from oiCcy (base) and oiUsd, never oi (contracts)', () => {
    const [oi] = fixture('real-2026.ndjson');
    expect(parse(oi!, 1790165111500)).toEqual({
      events: [
        {
          type: 'market',
          venue: 'okx',
          symbol: 'ETH',
          instrument: 'ETH-USDT-SWAP',
          eventTs: 1790165111452,
          receiveTs: 1790165111500,
          oiBase: 638584.898,
          oiUsd: 1737793854.62,
        } satisfies MarketEvent,
      ],
    });
    const doc = fixture('doc.ndjson')[4]!;
    expect(parse(doc).events).toEqual([
      expect.objectContaining({
        symbol: 'BTC',
        instrument: 'BTC-USDT-SWAP',
        eventTs: 1743041250440,
        // as the documented strings parse: "22161.1301000000309", "1939251795.54769270396321"
        oiBase: Number('22161.1301000000309'),
        oiUsd: Number('1939251795.54769270396321'),
      }),
    ]);
  });

  it('funding-rate: rate per interval, fundingTime is the upcoming settlement, interval from the two times', () => {
    const [, funding] = fixture('real-2026.ndjson');
    // The 2026 frame has no instType and an empty nextFundingRate: kept, and "" is not 0.
    expect(parse(funding!, 1788487507800).events).toEqual([
      {
        type: 'market',
        venue: 'okx',
        symbol: 'BTC',
        instrument: 'BTC-USDT-SWAP',
        eventTs: 1788487507788,
        receiveTs: 1788487507800,
        fundingRate: 0.000066332286709,
        nextFundingTs: 1788508800000,
        fundingIntervalHours: 8,
        // "minFundingRate":"-0.00375","maxFundingRate":"0.00375"
        fundingRateCap: 0.00375,
        fundingRateFloor: -0.00375,
      } satisfies MarketEvent,
    ]);
    const [ev] = parse(fixture('doc.ndjson')[5]!).events;
    expect(ev).toMatchObject({
      symbol: 'BTC',
      instrument: 'BTC-USD-SWAP',
      fundingRate: 0.0001875391284828,
      nextFundingTs: 1700726400000,
      fundingIntervalHours: 8,
      fundingRateCap: 0.00375,
      fundingRateFloor: -0.00375,
    });
  });

  it('2021 frames: nextFundingRate ignored, missing fields absent, no interval without nextFundingTime', () => {
    const [wncgFunding, , , wncgOi, sosFunding] = fixture('tardis-2021.ndjson');
    const [funding] = parse(wncgFunding!, 5).events;
    expect(funding).toEqual({
      type: 'market',
      venue: 'okx',
      symbol: 'WNCG',
      instrument: 'WNCG-USDT-SWAP',
      eventTs: 5,
      receiveTs: 5,
      fundingRate: 0.00048105,
      nextFundingTs: 1640131200000,
    } satisfies MarketEvent);
    const [sos] = parse(sosFunding!, 7).events;
    expect(sos).toEqual({
      type: 'market',
      venue: 'okx',
      symbol: 'SOS',
      instrument: 'SOS-USDT-SWAP',
      eventTs: 7,
      receiveTs: 7,
      nextFundingTs: 1640851200000,
    } satisfies MarketEvent);
    const [oi] = parse(wncgOi!).events;
    expect(oi).toMatchObject({ oiBase: 644195, eventTs: 1640131258756 });
    expect(oi).not.toHaveProperty('oiUsd');
  });

  it('mark-price and tickers: markPx, last, and turnover = volCcy24h (base) × last', () => {
    const [, tickers, mark] = fixture('tardis-2021.ndjson');
    expect(parse(mark!).events).toEqual([
      expect.objectContaining({ symbol: 'WNCG', markPrice: 2.1729, eventTs: 1640131259180 }),
    ]);
    const [t] = parse(tickers!, 9).events;
    expect(t).toEqual({
      type: 'market',
      venue: 'okx',
      symbol: 'WNCG',
      instrument: 'WNCG-USDT-SWAP',
      eventTs: 1640131263109,
      receiveTs: 9,
      lastPrice: 2.1729,
      turnover24hUsd: 803940 * 2.1729,
    } satisfies MarketEvent);
    const [uni] = parse(fixture('cryptofeed-2022.ndjson')[2]!).events;
    // volCcy24h (577730.7823 UNI) is base volume, vol24h (289425) is contracts: neither is USD.
    expect(uni?.turnover24hUsd).toBe(577730.7823 * 5.123);
    expect(uni?.symbol).toBe('UNI');
  });

  it('keeps swaps only: a FUTURES element (X-Perps, dated futures) yields no event', () => {
    const res = parse(fixture('doc.ndjson')[6]!);
    expect(res.events).toEqual([]);
    expect(res.control).toBe('ignored');
    const mixed = JSON.stringify({
      arg: { channel: 'funding-rate', instId: 'BTC-USDT-SWAP' },
      data: [
        { instId: 'BTC-USDT-250926', instType: 'FUTURES', fundingRate: '0.0002', ts: '2' },
        { instId: 'BTC-USDT-SWAP', instType: 'SWAP', fundingRate: '0.0001', ts: '3' },
      ],
    });
    expect(parse(mixed).events.map((e) => [e.instrument, e.fundingRate])).toEqual([
      ['BTC-USDT-SWAP', 0.0001],
    ]);
  });

  it('one event per data element', () => {
    const frame = JSON.stringify({
      arg: { channel: 'mark-price', instId: 'BTC-USDT-SWAP' },
      data: [
        { instId: 'BTC-USDT-SWAP', instType: 'SWAP', markPx: '63000.1', ts: '10' },
        { instId: 'BTC-USDT-SWAP', instType: 'SWAP', markPx: '63000.2', ts: '11' },
      ],
    });
    expect(parse(frame).events.map((e) => [e.eventTs, e.markPrice])).toEqual([
      [10, 63000.1],
      [11, 63000.2],
    ]);
  });

  it('treats "" as absent, never as zero', () => {
    const frame = JSON.stringify({
      arg: { channel: 'funding-rate', instId: 'BTC-USDT-SWAP' },
      data: [
        {
          instId: 'BTC-USDT-SWAP',
          instType: 'SWAP',
          fundingRate: '',
          fundingTime: '1788508800000',
          nextFundingTime: '',
          ts: '',
        },
      ],
    });
    const [ev] = parse(frame, 42).events;
    expect(ev).toEqual({
      type: 'market',
      venue: 'okx',
      symbol: 'BTC',
      instrument: 'BTC-USDT-SWAP',
      eventTs: 42,
      receiveTs: 42,
      nextFundingTs: 1788508800000,
    } satisfies MarketEvent);
    const empty = JSON.stringify({
      arg: { channel: 'open-interest', instId: 'BTC-USDT-SWAP' },
      data: [{ instId: 'BTC-USDT-SWAP', instType: 'SWAP', oi: '5', oiCcy: '', oiUsd: '', ts: '1' }],
    });
    expect(parse(empty)).toMatchObject({ events: [], control: 'ignored' });
  });

  it('names events by the universe symbol when given one', () => {
    const parser = createOkxAdapter({
      universe: () => [{ symbol: 'WNCG2', instrument: 'WNCG-USDT-SWAP' }],
    }).createParser();
    expect(parser.parse(fixture('tardis-2021.ndjson')[2]!, 0).events[0]?.symbol).toBe('WNCG2');
  });
});

describe('okx parser: control frames', () => {
  it('the text pong is a control frame, not JSON', () => {
    expect(parse('pong')).toEqual({ events: [], control: 'pong' });
  });

  it('acks, errors and the 64008 upgrade notice', () => {
    const [sub, err, unsub, notice] = fixture('doc.ndjson');
    expect(parse(sub!)).toEqual({ events: [], control: 'ack' });
    expect(parse(unsub!)).toEqual({ events: [], control: 'ack' });
    for (const ack of fixture('cryptofeed-2022.ndjson').slice(0, 2)) expect(parse(ack).control).toBe('ack');
    const e = parse(err!);
    expect(e.control).toBe('error');
    expect(e.detail).toMatch(/^60012 Invalid request/);
    const n = parse(notice!);
    expect(n.control).toBe('reconnect');
    expect(n.detail).toContain('64008');
    const wrongUrl = parse(
      '{"event":"error","code":"60018","msg":"Wrong URL or channel:candle1m,instId:BTC-USDT-SWAP doesn\'t exist.","connId":"a"}',
    );
    expect(wrongUrl).toMatchObject({ control: 'error', detail: expect.stringMatching(/^60018 /) });
    expect(parse('{"event":"notice","code":"64009","msg":"other"}').control).toBe('ignored');
  });

  it('ignores channels it did not subscribe to', () => {
    const res = parse('{"arg":{"channel":"index-tickers","instId":"BTC-USDT"},"data":[{"idxPx":"1"}]}');
    expect(res).toMatchObject({ events: [], control: 'ignored' });
  });

  it('throws FrameError for frames OKX does not send', () => {
    for (const bad of [
      'not json',
      '{"arg":{"channel":"tickers","instId":"BTC-USDT-SWAP"},"data":',
      '[]',
      '"pong"',
      'PONG',
      '{"hello":1}',
      '{"arg":{"channel":"tickers","instId":"BTC-USDT-SWAP"},"data":{"last":"1"}}',
      '{"arg":{"channel":"tickers","instId":"BTC-USDT-SWAP"},"data":["x"]}',
      '{"arg":{"channel":"mark-price","instId":"BTC-USDT-SWAP"},"data":[{"markPx":"abc","ts":"1"}]}',
      '{"arg":{"channel":"mark-price"},"data":[{"markPx":"1","ts":"1"}]}',
    ]) {
      expect(() => parse(bad), bad).toThrow(FrameError);
    }
  });
});

describe('okx adapter', () => {
  it('defaults to the real endpoints, pings with the text ping every 20 s', () => {
    const adapter = createOkxAdapter();
    expect(adapter.venue).toBe('okx');
    expect(adapter.wsUrl).toBe(OKX_WS_URL);
    expect(OKX_WS_URL).toBe('wss://ws.okx.com:8443/ws/v5/public');
    expect(OKX_REST_URL).toBe('https://www.okx.com');
    expect(adapter.heartbeat).toEqual({ message: 'ping', intervalMs: 20_000 });
    expect(adapter.maxInstrumentsPerConnection).toBe(100);
    expect(createOkxAdapter({ wsUrl: 'ws://x' }).wsUrl).toBe('ws://x');
  });

  it('batches four channels per instrument into few messages, each well under 64 KB, liquidations riding in the first', () => {
    const adapter = createOkxAdapter();
    const instruments = Array.from(
      { length: adapter.maxInstrumentsPerConnection },
      (_, i) => `COIN${i}-USDT-SWAP`,
    );
    const texts = adapter.subscribeMessages(instruments);
    const messages = texts.map((m) => JSON.parse(m));
    // 200 channel args per message; the first also carries `liquidation-orders`, so a connection of
    // 100 instruments still costs 2 of the 480 subscribe requests per hour.
    expect(messages.map((m) => m.args.length)).toEqual([201, 200]);
    expect(messages[0].args[200]).toEqual({ channel: 'liquidation-orders', instType: 'SWAP' });
    expect(
      messages.flatMap((m) => m.args).filter((a: { channel: string }) => a.channel === 'liquidation-orders'),
    ).toHaveLength(1);
    expect(messages.every((m) => m.op === 'subscribe' && /^[A-Za-z0-9]{1,32}$/.test(m.id))).toBe(true);
    expect(texts.every((t) => Buffer.byteLength(t) < 16 * 1024)).toBe(true);
    // The args of a full connection stay under the 64 KB total as well.
    expect(texts.reduce((n, t) => n + Buffer.byteLength(t), 0)).toBeLessThan(64 * 1024);
    expect(messages[0].args.slice(0, 4)).toEqual([
      { channel: 'open-interest', instId: 'COIN0-USDT-SWAP' },
      { channel: 'funding-rate', instId: 'COIN0-USDT-SWAP' },
      { channel: 'mark-price', instId: 'COIN0-USDT-SWAP' },
      { channel: 'tickers', instId: 'COIN0-USDT-SWAP' },
    ]);
    expect(
      new Set(messages.flatMap((m) => m.args.flatMap((a: { instId?: string }) => a.instId ?? []))),
    ).toEqual(new Set(instruments));
    const unsub = adapter.unsubscribeMessages(['BTC-USDT-SWAP']).map((m) => JSON.parse(m));
    expect(unsub).toEqual([
      {
        id: 'unsub0',
        op: 'unsubscribe',
        args: [
          { channel: 'open-interest', instId: 'BTC-USDT-SWAP' },
          { channel: 'funding-rate', instId: 'BTC-USDT-SWAP' },
          { channel: 'mark-price', instId: 'BTC-USDT-SWAP' },
          { channel: 'tickers', instId: 'BTC-USDT-SWAP' },
        ],
      },
    ]);
    // A universe change adding one instrument sends the liquidation arg again, in the same request;
    // removing instruments never unsubscribes it.
    expect(adapter.subscribeMessages(['SOL-USDT-SWAP']).map((m) => JSON.parse(m).args.length)).toEqual([5]);
    expect(adapter.subscribeMessages([])).toEqual([]);
    expect(adapter.unsubscribeMessages([])).toEqual([]);
  });

  it('the encoder writes four channel frames that parse back to the point', () => {
    const point: SyntheticPoint = {
      symbol: 'BTC',
      instrument: 'BTC-USDT-SWAP',
      ts: 1786659827000,
      markPrice: 63560.8,
      lastPrice: 63561.6,
      indexPrice: 63585.51,
      oiBase: 29986.12,
      fundingRate: 0.00005013,
      fundingIntervalHours: 4,
      nextFundingTs: 1786665600000,
      turnover24hUsd: 3515096831.5,
    };
    const frames = encodeOkxFrames(point, true);
    expect(frames.map((f) => JSON.parse(f.frame).arg.channel)).toEqual([
      'open-interest',
      'funding-rate',
      'mark-price',
      'tickers',
    ]);
    expect(frames.every((f) => f.t > point.ts && f.t < point.ts + 20 && f.source === undefined)).toBe(true);
    const parser = createOkxAdapter().createParser();
    const merged = Object.assign({}, ...frames.flatMap((f) => parser.parse(f.frame, f.t).events));
    expect(merged).toMatchObject({
      symbol: 'BTC',
      instrument: 'BTC-USDT-SWAP',
      eventTs: point.ts,
      markPrice: 63560.8,
      lastPrice: 63561.6,
      oiBase: 29986.12,
      oiUsd: 29986.12 * 63560.8,
      fundingRate: 0.00005013,
      fundingIntervalHours: 4,
      nextFundingTs: 1786665600000,
      turnover24hUsd: 3515096831.5,
    });
    const tiny = encodeOkxFrames({ ...point, fundingRate: -1.5e-7 }, false)[1]!.frame;
    expect(JSON.parse(tiny).data[0].fundingRate).toBe('-0.00000015');
    expect(parser.parse(tiny, 0).events[0]?.fundingRate).toBe(-1.5e-7);
  });
});

describe('okx universe against the simulator REST listing', () => {
  let sim: OkxSimulator;
  beforeAll(async () => {
    sim = await startOkxSimulator();
  });
  afterAll(() => sim.close());

  it('keeps live linear USDT swaps (no inverse, USDC or suspended) ranked by volCcy24h × last', async () => {
    const { entries, missing } = await fetchOkxUniverse(sim.restUrl, { symbols: null, topN: 50 });
    expect(missing).toEqual([]);
    expect(entries.map((e) => e.instrument).sort()).toEqual(
      ['BTC', 'DOGE', 'ETH', 'SOL', 'XRP'].map((s) => `${s}-USDT-SWAP`),
    );
    const usd = entries.map((e) => e.turnover24hUsd!);
    expect(usd).toEqual([...usd].sort((a, b) => b - a));
    expect(entries.every((e) => e.symbol === e.instrument.split('-')[0])).toBe(true);
    const top2 = await fetchOkxUniverse(sim.restUrl, { symbols: null, topN: 2 });
    expect(top2.entries.map((e) => e.instrument)).toEqual(entries.slice(0, 2).map((e) => e.instrument));
  });

  it('carries each swap’s contract value (ctVal × ctMult, base coin per contract) for liquidation sizes', async () => {
    const { entries } = await fetchOkxUniverse(sim.restUrl, { symbols: ['BTC', 'ETH', 'DOGE'], topN: 0 });
    expect(entries.map((e) => [e.instrument, e.contractValueBase])).toEqual([
      ['BTC-USDT-SWAP', 0.01],
      ['ETH-USDT-SWAP', 0.1],
      ['DOGE-USDT-SWAP', 1000],
    ]);
    expect(okxContractValueBase({ ctVal: '0.01', ctMult: '1' })).toBe(0.01);
    expect(okxContractValueBase({ ctVal: '0.1', ctMult: '3' })).toBe(0.3);
    expect(okxContractValueBase({ ctVal: '10' })).toBe(10);
    expect(okxContractValueBase({ ctVal: '' })).toBeUndefined();
    expect(okxContractValueBase({ ctVal: '0.01', ctMult: 'x' })).toBeUndefined();
  });

  it('follows SYMBOLS in their order and reports the missing ones', async () => {
    const { entries, missing } = await fetchOkxUniverse(sim.restUrl, {
      symbols: ['ETH', 'NOPE', 'BTC'],
      topN: 0,
    });
    expect(entries.map((e) => e.instrument)).toEqual(['ETH-USDT-SWAP', 'BTC-USDT-SWAP']);
    expect(entries[0]?.turnover24hUsd).toBeGreaterThan(0);
    expect(missing).toEqual(['NOPE']);
  });

  it('throws a clear error on HTTP errors and on an OKX error code', async () => {
    sim.failRestNext('/api/v5/market/tickers', { status: 429, headers: { 'retry-after': '2' } });
    await expect(fetchOkxUniverse(sim.restUrl, { symbols: null, topN: 5 })).rejects.toThrow(/HTTP 429/);
    sim.failRestNext('/api/v5/public/instruments', {
      status: 200,
      body: '{"code":"50001","msg":"Service temporarily unavailable","data":[]}',
    });
    await expect(fetchOkxUniverse(sim.restUrl, { symbols: null, topN: 5 })).rejects.toThrow(/code 50001/);
    expect((await fetchOkxUniverse(sim.restUrl, { symbols: null, topN: 5 })).entries).toHaveLength(5);
  });
});
