import { once } from 'node:events';
import { createWriteStream, type WriteStream } from 'node:fs';
import type { Logger } from 'pino';
import type { RawFrame } from '../domain/types.js';

/**
 * Writes every received frame as one NDJSON line `{"t","venue","frame"[,"source"]}`.
 * If the disk cannot keep up, lines are dropped (counted, and logged at most once a minute)
 * past `maxBufferedBytes` rather than growing memory without bound.
 */
export class Recorder {
  readonly counters = { lines: 0, dropped: 0 };
  private closed = false;
  private lastDropLogTs = 0;

  private constructor(
    readonly path: string,
    private readonly out: WriteStream,
    private readonly logger: Logger,
    private readonly maxBufferedBytes: number,
  ) {
    out.on('error', (err) => {
      this.closed = true;
      logger.error({ err, path }, 'recording stopped: cannot write the file');
    });
  }

  /** Opens (appends to) `path`; rejects when the file cannot be opened. */
  static async open(path: string, logger: Logger, maxBufferedBytes = 16 * 1024 * 1024): Promise<Recorder> {
    const out = createWriteStream(path, { flags: 'a' });
    await once(out, 'open');
    return new Recorder(path, out, logger, maxBufferedBytes);
  }

  write(frame: RawFrame): void {
    if (this.closed) return;
    if (this.out.writableLength > this.maxBufferedBytes) {
      this.counters.dropped++;
      const now = Date.now();
      if (now - this.lastDropLogTs > 60_000) {
        this.lastDropLogTs = now;
        this.logger.warn(
          { path: this.path, dropped: this.counters.dropped },
          'disk too slow: recording drops lines',
        );
      }
      return;
    }
    const line: RawFrame = frame.source
      ? { t: frame.t, venue: frame.venue, frame: frame.frame, source: frame.source }
      : { t: frame.t, venue: frame.venue, frame: frame.frame };
    this.out.write(`${JSON.stringify(line)}\n`);
    this.counters.lines++;
  }

  /** Idempotent; resolves when everything written so far is on disk. */
  close(): Promise<void> {
    if (this.out.closed || this.out.destroyed || this.out.writableEnded) return Promise.resolve();
    this.closed = true;
    return new Promise((resolve) => {
      this.out.end(() => resolve());
    });
  }
}
