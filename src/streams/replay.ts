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
}

export interface ReplayCounters {
  lines: number;
  frames: number;
  events: number;
  badLines: number;
  parseErrors: number;
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
  return { lines: 0, frames: 0, events: 0, badLines: 0, parseErrors: 0 };
}
