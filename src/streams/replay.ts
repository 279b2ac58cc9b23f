import { createReadStream } from 'node:fs';
import { createInterface } from 'node:readline';
import { setTimeout as sleep, setImmediate as yieldToLoop } from 'node:timers/promises';
import { Observable } from 'rxjs';
import type { FeedEvent, FeedStatusEvent, VenueId } from '../domain/types.js';
import type { FrameParser, VenueAdapter } from './core/adapter.js';
import { parseFrame } from './core/parse.js';

export interface ReplayOptions {
  readonly path: string;
  /** 1 = original pace, 10 = ten times faster, `max` = as fast as possible. */
  readonly speed: number | 'max';
  readonly adapters: ReadonlyMap<VenueId, VenueAdapter>;
  /**
   * A venue whose WebSocket frames stop for longer than this (recording time) is reported as a
   * `gap` before its next frame, as the live connection would have (its stale timer replaces a
   * connection silent this long, and the reconnect reports the gap). Pass the live process's
   * `STALE_AFTER_MS`. Default: no silence detection (only the recording's own gap lines count).
   */
  readonly staleAfterMs?: number;
}

/** Instruments remembered per venue for silence gaps; a recording holding more is not believed. */
const MAX_SILENCE_INSTRUMENTS = 20_000;

/** A venue's WebSocket data as the replay has seen it, to notice silence the recording does not mention. */
interface VenueSilence {
  lastT: number;
  readonly instruments: Set<string>;
}

export interface ReplayCounters {
  lines: number;
  frames: number;
  events: number;
  badLines: number;
  parseErrors: number;
  /** Gaps the replay declared itself from silence in the recording (not recorded gap lines). */
  silenceGaps: number;
}

/**
 * Feeds a recording through the same parsers as live. Completes at the end of the file.
 * Bad lines and malformed frames are counted, reported as `parse_error` status events, and skipped.
 */
export function replay$(
  opts: ReplayOptions,
  counters: ReplayCounters = newReplayCounters(),
): Observable<FeedEvent> {
  return new Observable<FeedEvent>((subscriber) => {
    const parsers = new Map<VenueId, FrameParser>();
    const silence = new Map<VenueId, VenueSilence>();
    const staleAfterMs = opts.staleAfterMs ?? 0;
    const input = createReadStream(opts.path, { encoding: 'utf8' });
    const lines = createInterface({ input, crlfDelay: Number.POSITIVE_INFINITY });
    let stopped = false;
    const report = (venue: VenueId, receiveTs: number, detail: string) =>
      subscriber.next({ type: 'status', venue, kind: 'parse_error', receiveTs, detail });

    (async () => {
      let firstTs: number | undefined;
      const wallStart = Date.now();
      for await (const line of lines) {
        if (stopped) break;
        counters.lines++;
        if (line.trim() === '') continue;
        let rec: { t?: unknown; venue?: unknown; frame?: unknown; source?: unknown };
        try {
          rec = JSON.parse(line);
        } catch {
          rec = {};
        }
        const adapter = typeof rec.venue === 'string' ? opts.adapters.get(rec.venue as VenueId) : undefined;
        if (typeof rec.t !== 'number' || typeof rec.frame !== 'string' || !adapter) {
          // Counted; reported as a status only when the line names a venue we replay.
          counters.badLines++;
          const venue = [...opts.adapters.keys()].find((v) => v === rec.venue);
          if (venue)
            report(
              venue,
              typeof rec.t === 'number' ? rec.t : 0,
              `line ${counters.lines} is not a recording line`,
            );
          continue;
        }
        firstTs ??= rec.t;
        if (opts.speed === 'max') {
          if (counters.lines % 2000 === 0) await yieldToLoop();
        } else {
          const waitMs = wallStart + (rec.t - firstTs) / opts.speed - Date.now();
          if (waitMs > 1) await sleep(waitMs);
        }
        if (stopped) break;
        if (rec.source === GAP_SOURCE) {
          const gap = readGap(rec.frame);
          if (gap)
            subscriber.next({ type: 'status', venue: adapter.venue, kind: 'gap', receiveTs: rec.t, gap });
          else counters.badLines++;
          continue;
        }
        // REST lines do not count: live, only WebSocket data keeps a connection from going stale.
        let seen: VenueSilence | undefined;
        if (staleAfterMs > 0 && rec.source === undefined) {
          seen = silence.get(adapter.venue);
          if (!seen) {
            seen = { lastT: rec.t, instruments: new Set() };
            silence.set(adapter.venue, seen);
          }
          const silentMs = rec.t - seen.lastT;
          if (silentMs > staleAfterMs && seen.instruments.size > 0) {
            counters.silenceGaps++;
            subscriber.next({
              type: 'status',
              venue: adapter.venue,
              kind: 'gap',
              receiveTs: rec.t,
              detail: `no data in the recording for ${silentMs} ms`,
              gap: { fromTs: seen.lastT, toTs: rec.t, instruments: [...seen.instruments] },
            });
          }
          // Lines of several connections interleave: an older line moves nothing.
          if (rec.t > seen.lastT) seen.lastT = rec.t;
        }
        let parser = parsers.get(adapter.venue);
        if (!parser) {
          parser = adapter.createParser();
          parsers.set(adapter.venue, parser);
        }
        counters.frames++;
        const outcome = parseFrame(
          parser,
          rec.frame,
          rec.t,
          typeof rec.source === 'string' ? rec.source : undefined,
        );
        if (outcome.kind === 'error') {
          counters.parseErrors++;
          report(adapter.venue, rec.t, `line ${counters.lines}: ${outcome.message}`);
          continue;
        }
        for (const ev of outcome.result.events) {
          counters.events++;
          if (seen && ev.type === 'market' && seen.instruments.size < MAX_SILENCE_INSTRUMENTS)
            seen.instruments.add(ev.instrument);
          subscriber.next(ev);
        }
      }
      subscriber.complete();
    })().catch((err) => subscriber.error(err));

    return () => {
      stopped = true;
      lines.close();
      input.destroy();
    };
  });
}

/**
 * Recording lines with this `source` hold a feed gap the live process saw (a disconnect, or REST
 * data left unrefreshed), so a replay flags the same deltas live did.
 */
export const GAP_SOURCE = 'perp-pulse:gap';

function readGap(text: string): FeedStatusEvent['gap'] | undefined {
  try {
    const g = JSON.parse(text) as { fromTs?: unknown; toTs?: unknown; instruments?: unknown };
    if (typeof g.fromTs !== 'number' || typeof g.toTs !== 'number' || !Array.isArray(g.instruments))
      return undefined;
    return {
      fromTs: g.fromTs,
      toTs: g.toTs,
      instruments: g.instruments.filter((i): i is string => typeof i === 'string'),
    };
  } catch {
    return undefined;
  }
}

export function newReplayCounters(): ReplayCounters {
  return { lines: 0, frames: 0, events: 0, badLines: 0, parseErrors: 0, silenceGaps: 0 };
}
