/**
 * Field helpers for every venue parser: numbers, times, objects, and the event under construction.
 * The treatment of a field's value is decided here once (after tardis-node's `asNumberOrUndefined`,
 * https://github.com/tardis-dev/tardis-node/blob/master/src/handy.ts), and tested once:
 *
 * | value on the wire                         | `decimal()`  | live parser (`FrameReader.num`) | REST listing / history (`finite`) |
 * | ----------------------------------------- | ------------ | ------------------------------- | --------------------------------- |
 * | absent, `null`, `""`                      | undefined    | no value (never 0)              | no value                          |
 * | JSON number, finite                       | the number   | the number                      | the number                        |
 * | numeric string (`"0.0001"`, `"1e-8"`, `"-3"`) | the number | the number                     | the number                        |
 * | blank string (`" "`), which `Number` reads as 0 | NaN    | malformed frame (`FrameError`)  | no value                          |
 * | non-finite (`"NaN"`, `"Infinity"`, NaN)   | NaN          | malformed frame                 | no value                          |
 * | anything else (`"abc"`, `true`, `{}`, `[]`) | NaN        | malformed frame                 | no value                          |
 *
 * Live parsers are strict (a frame we cannot read is counted and skipped, see `FrameError`); the
 * REST listing and history parsers skip the one unreadable value or row and keep the rest.
 * Times are epoch ms; a time that is not positive (Binance `T: 0`) is no value.
 */
import type { MarketEvent, VenueId } from '../../domain/types.js';
import { FrameError } from './adapter.js';

/** A JSON object as a parser sees it. */
export type Fields = Record<string, unknown>;

/** A market event while a parser fills it in. */
export type MutableEvent = { -readonly [K in keyof MarketEvent]: MarketEvent[K] };

/** A plain JSON object: not null, not an array. */
export function isRecord(v: unknown): v is Fields {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

/**
 * A venue's numeric value by the table above: undefined when there is none, NaN when it cannot
 * be read. Callers choose what NaN means (a malformed frame, or a value skipped).
 */
export function decimal(raw: unknown): number | undefined {
  if (raw === undefined || raw === null || raw === '') return undefined;
  if (typeof raw === 'number') return Number.isFinite(raw) ? raw : Number.NaN;
  if (typeof raw !== 'string') return Number.NaN;
  const value = Number(raw);
  if (!Number.isFinite(value)) return Number.NaN;
  // `Number(" ")` is 0: a blank string is not a zero.
  return value === 0 && raw.trim() === '' ? Number.NaN : value;
}

/** Lenient: the number, or undefined when there is none or it cannot be read. */
export function finite(raw: unknown): number | undefined {
  const value = decimal(raw);
  return value === undefined || Number.isNaN(value) ? undefined : value;
}

/** A positive epoch-ms time, else undefined (lenient, like `finite`). */
export function positiveTime(raw: unknown): number | undefined {
  const value = finite(raw);
  return value !== undefined && value > 0 ? value : undefined;
}

/** A new market event carrying only its identity and times; the parser adds what the frame held. */
export function marketEvent(
  venue: VenueId,
  symbol: string,
  instrument: string,
  eventTs: number,
  receiveTs: number,
): MutableEvent {
  return { type: 'market', venue, symbol, instrument, eventTs, receiveTs };
}

/** Sets `key` when `value` is defined: an absent value stays absent, never 0. */
export function setDefined<K extends keyof MutableEvent>(
  ev: MutableEvent,
  key: K,
  value: MutableEvent[K] | undefined,
): void {
  if (value !== undefined) ev[key] = value;
}

/**
 * Reads the fields of one frame of one venue strictly: whatever cannot be read throws a
 * `FrameError` that names the venue, the reason, the field and an excerpt of the frame.
 */
export class FrameReader {
  constructor(
    readonly venue: VenueId,
    readonly frame: string,
  ) {}

  /** Throws the malformed-frame error for this frame. */
  fail(reason: string, field?: string): never {
    throw new FrameError({ venue: this.venue, reason, frame: this.frame, ...(field ? { field } : {}) });
  }

  /** The frame parsed as JSON. */
  json(): unknown {
    try {
      return JSON.parse(this.frame);
    } catch {
      return this.fail('not JSON');
    }
  }

  /** `f[key]` by the table above; unreadable → `FrameError`. */
  num(f: Fields, key: string): number | undefined {
    return this.value(f[key], key);
  }

  /** A value already taken out of its object (e.g. one key of a Bybit delta). */
  value(raw: unknown, key: string): number | undefined {
    const value = decimal(raw);
    if (value !== undefined && Number.isNaN(value))
      this.fail(`field ${key} is not a number: ${JSON.stringify(raw)}`, key);
    return value;
  }

  /** `f[key]` as a positive epoch-ms time; not positive → undefined; unreadable → `FrameError`. */
  time(f: Fields, key: string): number | undefined {
    const value = this.num(f, key);
    return value !== undefined && value > 0 ? value : undefined;
  }
}
