import { describe, expect, it } from 'vitest';
import type { MarketEvent } from '../../../src/domain/types.js';
import { FRAME_EXCERPT_CHARS, FrameError, type FrameParser } from '../../../src/streams/core/adapter.js';
import { decimal, FrameReader, finite, positiveTime } from '../../../src/streams/core/fields.js';
import { parseFrame } from '../../../src/streams/core/parse.js';
import { createBinanceAdapter } from '../../../src/streams/venues/binance.js';
import { createBybitAdapter } from '../../../src/streams/venues/bybit.js';
import { createHyperliquidAdapter } from '../../../src/streams/venues/hyperliquid.js';
import { createOkxAdapter } from '../../../src/streams/venues/okx.js';

/** The treatment table of `src/streams/core/fields.ts`, row by row. */
const NO_VALUE: readonly unknown[] = [undefined, null, ''];
const NUMBERS: readonly (readonly [unknown, number])[] = [
  [0, 0],
  [-3, -3],
  [1.5e-8, 1.5e-8],
  ['0', 0],
  ['0.0001', 0.0001],
  ['-0.00012', -0.00012],
  ['1e-8', 1e-8],
  ['  2.5 ', 2.5],
];
const UNREADABLE: readonly unknown[] = [
  ' ',
  'abc',
  '1.2.3',
  'NaN',
  'Infinity',
  '-Infinity',
  Number.NaN,
  Number.POSITIVE_INFINITY,
  true,
  false,
  {},
  [],
  ['1'],
];

describe('one treatment of a venue field value', () => {
  it('absent, null and "" are no value, never 0', () => {
    for (const raw of NO_VALUE) {
      expect(decimal(raw), String(raw)).toBeUndefined();
      expect(finite(raw), String(raw)).toBeUndefined();
    }
  });

  it('JSON numbers and numeric strings are the number', () => {
    for (const [raw, value] of NUMBERS) {
      expect(decimal(raw), JSON.stringify(raw)).toBe(value);
      expect(finite(raw), JSON.stringify(raw)).toBe(value);
    }
  });

  it('non-finite and non-numeric values cannot be read: NaN, which the lenient reading skips', () => {
    for (const raw of UNREADABLE) {
      expect(decimal(raw), String(raw)).toBeNaN();
      expect(finite(raw), String(raw)).toBeUndefined();
    }
  });

  it('a time is a positive epoch ms; 0 and negatives are no value (Binance T: 0)', () => {
    expect(positiveTime('1780000000000')).toBe(1_780_000_000_000);
    expect(positiveTime(1_780_000_000_000)).toBe(1_780_000_000_000);
    for (const raw of [0, '0', -1, '', null, 'x']) expect(positiveTime(raw), String(raw)).toBeUndefined();
  });
});

describe('FrameReader: the strict reading of a live frame', () => {
  const at = new FrameReader('okx', '{"x":1}');

  it('reads numbers and times by the same table', () => {
    for (const raw of NO_VALUE) expect(at.num({ k: raw }, 'k')).toBeUndefined();
    for (const [raw, value] of NUMBERS) expect(at.num({ k: raw }, 'k')).toBe(value);
    expect(at.time({ ts: '0' }, 'ts')).toBeUndefined();
    expect(at.time({ ts: '1780000000000' }, 'ts')).toBe(1_780_000_000_000);
  });

  it('throws a FrameError naming the venue, the reason and the field for an unreadable value', () => {
    for (const raw of UNREADABLE) {
      let error: unknown;
      try {
        at.num({ markPx: raw }, 'markPx');
      } catch (err) {
        error = err;
      }
      expect(error, String(raw)).toBeInstanceOf(FrameError);
      expect(error).toMatchObject({ code: 'E_FRAME', venue: 'okx', field: 'markPx', excerpt: '{"x":1}' });
      expect((error as FrameError).reason).toMatch(/^field markPx is not a number: /);
    }
    expect(() => at.time({ ts: 'soon' }, 'ts')).toThrow(FrameError);
  });

  it('keeps a bounded excerpt of a large frame, and says how long it was', () => {
    const frame = `{"pad":"${'x'.repeat(5000)}"`;
    const error = (() => {
      try {
        return new FrameReader('binance', frame).json();
      } catch (err) {
        return err;
      }
    })() as FrameError;
    expect(error).toMatchObject({ venue: 'binance', reason: 'not JSON', field: undefined });
    expect(error.excerpt.length).toBeLessThan(FRAME_EXCERPT_CHARS + 30);
    expect(error.excerpt).toBe(`${frame.slice(0, FRAME_EXCERPT_CHARS)}… (${frame.length} chars)`);
  });

  it('parseFrame turns it into the parse_error detail: reason, then the excerpt', () => {
    const parser: FrameParser = {
      reset() {},
      parse: (text) => new FrameReader('bybit', text).fail('unknown frame'),
    };
    expect(parseFrame(parser, '{"hello":1}', 0)).toEqual({
      kind: 'error',
      message: 'unknown frame in {"hello":1}',
    });
    const buggy: FrameParser = {
      reset() {},
      parse: () => {
        throw new TypeError('a bug');
      },
    };
    expect(parseFrame(buggy, '{}', 0)).toEqual({ kind: 'error', message: 'a bug' });
  });
});

/**
 * The four live parsers disagreed before they shared the helpers (Bybit threw on null and JSON
 * numbers). Each venue's frame with the price field set to `raw`, parsed by a fresh parser.
 */
const VENUES = [
  {
    venue: 'binance',
    parse: (raw: unknown) =>
      createBinanceAdapter()
        .createParser()
        .parse(JSON.stringify({ e: 'markPriceUpdate', E: 1, s: 'BTCUSDT', p: raw, r: '0.0001' }), 5),
  },
  {
    venue: 'bybit',
    parse: (raw: unknown) =>
      createBybitAdapter()
        .createParser()
        .parse(
          JSON.stringify({
            topic: 'tickers.BTCUSDT',
            type: 'snapshot',
            data: { symbol: 'BTCUSDT', markPrice: raw, fundingRate: '0.0001' },
            cs: 1,
            ts: 1,
          }),
          5,
        ),
  },
  {
    venue: 'okx',
    parse: (raw: unknown) =>
      createOkxAdapter()
        .createParser()
        .parse(
          JSON.stringify({
            arg: { channel: 'mark-price', instId: 'BTC-USDT-SWAP' },
            data: [{ instId: 'BTC-USDT-SWAP', instType: 'SWAP', markPx: raw, ts: '1' }],
          }),
          5,
        ),
  },
  {
    venue: 'hyperliquid',
    parse: (raw: unknown) =>
      createHyperliquidAdapter()
        .createParser()
        .parse(
          JSON.stringify({
            channel: 'activeAssetCtx',
            data: { coin: 'BTC', ctx: { markPx: raw, funding: '0' } },
          }),
          5,
        ),
  },
] as const;

describe.each(VENUES)('$venue parser follows the one treatment', ({ parse }) => {
  const mark = (raw: unknown) => (parse(raw).events[0] as MarketEvent | undefined)?.markPrice;

  it('null and "" are no value', () => {
    expect(mark(null)).toBeUndefined();
    expect(mark('')).toBeUndefined();
  });

  it('a JSON number and a numeric string are the same number', () => {
    expect(mark(64_012.5)).toBe(64_012.5);
    expect(mark('64012.5')).toBe(64_012.5);
    expect(mark('0')).toBe(0);
  });

  it('an unreadable value makes the frame malformed', () => {
    for (const raw of ['abc', 'NaN', ' ', true, {}])
      expect(() => parse(raw), String(raw)).toThrow(FrameError);
  });
});
