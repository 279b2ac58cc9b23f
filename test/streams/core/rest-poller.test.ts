import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { pino } from 'pino';
import { describe, expect, it, vi } from 'vitest';
import type { FeedEvent, RawFrame } from '../../../src/domain/types.js';
import type { FrameParser, RestPollPlan } from '../../../src/streams/core/adapter.js';
import { FrameReader } from '../../../src/streams/core/fields.js';
import { RestPoller } from '../../../src/streams/core/rest-poller.js';
import { tracker } from '../../support/track.js';
import { waitFor } from '../feed-harness.js';

const logger = pino({ level: 'silent' });

interface Hit {
  path: string;
  at: number;
}

/** A real HTTP server answering `{"oi":"<n>","time":<ms>}`, with faults queued per call. */
async function venue(
  faults: { status: number; headers?: Record<string, string> }[] = [],
  usedWeight?: () => number,
) {
  const hits: Hit[] = [];
  const server: Server = createServer((req, res) => {
    hits.push({ path: req.url ?? '', at: Date.now() });
    const fault = faults.shift();
    const headers: Record<string, string> = { 'content-type': 'application/json', ...(fault?.headers ?? {}) };
    if (usedWeight) headers['x-used-weight'] = String(usedWeight());
    if (fault) {
      res.writeHead(fault.status, headers).end('{"code":-1003,"msg":"Too many requests"}');
      return;
    }
    const body = req.url?.includes('bad')
      ? 'not json'
      : JSON.stringify({ oi: String(hits.length), time: 1000 + hits.length });
    res.writeHead(200, headers).end(body);
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', () => r()));
  const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  return {
    url,
    hits,
    fail: (fault: { status: number; headers?: Record<string, string> }) => faults.push(fault),
    close: () => new Promise<void>((r) => server.close(() => r())),
  };
}

const parser: FrameParser = {
  reset() {},
  parse(text, receiveTs, source) {
    const body = new FrameReader('binance', text).json() as { oi: string; time: number };
    const instrument = new URL(`http://x${source}`).searchParams.get('symbol') ?? '?';
    return {
      events: [
        {
          type: 'market',
          venue: 'binance',
          symbol: instrument.replace('USDT', ''),
          instrument,
          eventTs: body.time,
          receiveTs,
          oiBase: Number(body.oi),
        },
      ],
    };
  },
};

function plan(url: string, paths: string[], extra: Partial<RestPollPlan> = {}): RestPollPlan {
  return {
    venue: 'binance',
    restUrl: url,
    requests: () => paths.map((path) => ({ path, weight: 1 })),
    cycleMs: 50,
    weightPerMinute: 1000,
    ...extra,
  };
}

const track = tracker();

describe('REST poller', () => {
  it('polls every request each cycle, parses bodies with their source and records them', async () => {
    const v = await venue();
    track(v);
    const events: FeedEvent[] = [];
    const raw: RawFrame[] = [];
    const paths = ['/fapi/v1/openInterest?symbol=BTCUSDT', '/fapi/v1/openInterest?symbol=ETHUSDT'];
    const p = new RestPoller({
      plan: plan(v.url, paths),
      parser,
      logger,
      onEvent: (e) => events.push(e),
      onRawFrame: (f) => raw.push(f),
    });
    track(p);
    p.start();
    await waitFor(() => events.length >= 4, 3000, 'two cycles');
    expect(v.hits.slice(0, 4).map((h) => h.path)).toEqual([...paths, ...paths]);
    expect(events[0]).toMatchObject({ type: 'market', instrument: 'BTCUSDT', oiBase: 1, eventTs: 1001 });
    expect(raw[1]).toMatchObject({ venue: 'binance', source: paths[1], frame: '{"oi":"2","time":1002}' });
  });

  it('keeps within its own weight budget per window', async () => {
    const v = await venue();
    track(v);
    const paths = [
      '/a?symbol=AUSDT',
      '/b?symbol=BUSDT',
      '/c?symbol=CUSDT',
      '/d?symbol=DUSDT',
      '/e?symbol=EUSDT',
    ];
    // The budget is the poller's promise about when it sends: read the send times on the poller's
    // own clock, not the arrival times at a server that shares this process's busy event loop.
    const sentAt: number[] = [];
    const realFetch = globalThis.fetch;
    const spy = vi.spyOn(globalThis, 'fetch').mockImplementation((input, init) => {
      sentAt.push(Date.now());
      return realFetch(input, init);
    });
    track({ close: () => spy.mockRestore() });
    const p = new RestPoller({
      plan: plan(v.url, paths, { weightPerMinute: 3 }),
      parser,
      logger,
      onEvent: () => {},
      windowMs: 400,
      now: Date.now,
    });
    track(p);
    p.start();
    await waitFor(() => v.hits.length >= 6, 5000, 'six requests');
    // no window of 400 ms ever holds more than 3 requests
    for (let i = 3; i < sentAt.length; i++) expect(sentAt[i]! - sentAt[i - 3]!).toBeGreaterThanOrEqual(390);
    expect(p.counters.budgetWaits).toBeGreaterThanOrEqual(1);
  });

  it('pauses for Retry-After on 429 and 418, then resumes', async () => {
    const v = await venue([
      { status: 429, headers: { 'retry-after': '1' } },
      { status: 418, headers: { 'retry-after': '1' } },
    ]);
    track(v);
    const events: FeedEvent[] = [];
    const p = new RestPoller({
      plan: plan(v.url, ['/x?symbol=XUSDT']),
      parser,
      logger,
      onEvent: (e) => events.push(e),
    });
    track(p);
    p.start();
    await waitFor(() => events.some((e) => e.type === 'market'), 5000, 'data after the pauses');
    expect(p.counters).toMatchObject({ rateLimited: 1, banned: 1 });
    expect(v.hits[1]!.at - v.hits[0]!.at).toBeGreaterThanOrEqual(950);
    expect(v.hits[2]!.at - v.hits[1]!.at).toBeGreaterThanOrEqual(950);
    expect(events.filter((e) => e.type === 'status' && e.kind === 'rest_error')).toHaveLength(2);
  });

  it('reports an instrument left unrefreshed by a rate-limit pause as a gap', async () => {
    const v = await venue();
    track(v);
    const events: FeedEvent[] = [];
    const p = new RestPoller({
      plan: {
        ...plan(v.url, []),
        requests: () => [{ path: '/x?symbol=XUSDT', weight: 1, instrument: 'XUSDT' }],
      },
      parser,
      logger,
      onEvent: (e) => events.push(e),
      gapAfterMs: 300,
    });
    track(p);
    p.start();
    await waitFor(() => events.filter((e) => e.type === 'market').length >= 3, 3000, 'steady polling');
    expect(events.some((e) => e.type === 'status' && e.kind === 'gap')).toBe(false);
    v.fail({ status: 429, headers: { 'retry-after': '1' } });
    await waitFor(
      () => events.some((e) => e.type === 'status' && e.kind === 'gap'),
      5000,
      'gap after the pause',
    );
    const gap = events.find((e) => e.type === 'status' && e.kind === 'gap');
    expect(gap?.type === 'status' && gap.gap?.instruments).toEqual(['XUSDT']);
    expect(gap?.type === 'status' && gap.gap!.toTs - gap.gap!.fromTs).toBeGreaterThanOrEqual(900);
  });

  it('waits for the next window when the venue reports 90% of its limit used', async () => {
    // every answer says 95 of 100 are used: no two requests may fall in the same window
    const v = await venue([], () => 95);
    track(v);
    const p = new RestPoller({
      plan: plan(v.url, ['/x?symbol=XUSDT'], {
        usedWeightHeader: 'x-used-weight',
        venueWeightLimitPerMinute: 100,
      }),
      parser,
      logger,
      onEvent: () => {},
      windowMs: 200,
    });
    track(p);
    p.start();
    await waitFor(() => v.hits.length >= 4, 5000, 'four requests');
    for (let i = 1; i < v.hits.length; i++) {
      expect(Math.floor(v.hits[i]!.at / 200)).toBeGreaterThan(Math.floor(v.hits[i - 1]!.at / 200));
    }
  });

  it('counts an unreadable body and goes on; close() ends a pending wait at once', async () => {
    const v = await venue();
    track(v);
    const p = new RestPoller({
      plan: plan(v.url, ['/bad?symbol=BADUSDT'], { cycleMs: 60_000 }),
      parser,
      logger,
      onEvent: () => {},
    });
    p.start();
    await waitFor(() => p.counters.parseErrors === 1, 3000, 'parse error');
    const t0 = Date.now();
    await Promise.all([p.close(), p.close()]);
    expect(Date.now() - t0).toBeLessThan(500);
    const hits = v.hits.length;
    await new Promise((r) => setTimeout(r, 100));
    expect(v.hits.length).toBe(hits);
  });

  it('reports a venue error in a 200 answer as a rest_error, counts it and emits no event', async () => {
    const v = await venue();
    track(v);
    const events: FeedEvent[] = [];
    const venueError: FrameParser = {
      reset() {},
      parse: () => ({ events: [], control: 'error', detail: 'retCode 10006: Too many visits' }),
    };
    const p = new RestPoller({
      plan: plan(v.url, ['/v5/market/account-ratio?symbol=BTCUSDT'], { cycleMs: 60_000 }),
      parser: venueError,
      logger,
      onEvent: (e) => events.push(e),
    });
    track(p);
    p.start();
    await waitFor(() => p.counters.errors === 1, 3000, 'venue error counted');
    expect(p.counters.events).toBe(0);
    expect(events).toEqual([
      expect.objectContaining({
        type: 'status',
        kind: 'rest_error',
        detail: expect.stringContaining('retCode 10006'),
      }),
    ]);
  });
});
