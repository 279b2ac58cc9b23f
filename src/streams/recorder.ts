import { createWriteStream, type WriteStream } from 'node:fs';
import type { RawFrame } from '../domain/types.js';

/**
 * Writes every received frame as one NDJSON line `{"t","venue","frame"[,"source"]}`.
 * If the disk cannot keep up, lines are dropped (and counted) past `maxBufferedBytes`
 * rather than growing memory without bound.
 */
export class Recorder {
  readonly counters = { lines: 0, dropped: 0 };
  private readonly out: WriteStream;
  private closed = false;

  constructor(
    readonly path: string,
    private readonly maxBufferedBytes = 16 * 1024 * 1024,
  ) {
    this.out = createWriteStream(path, { flags: 'a' });
    this.out.on('error', () => {
      this.closed = true;
    });
  }

  write(frame: RawFrame): void {
    if (this.closed) return;
    if (this.out.writableLength > this.maxBufferedBytes) {
      this.counters.dropped++;
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
    if (this.out.closed || this.out.destroyed) return Promise.resolve();
    this.closed = true;
    return new Promise((resolve) => {
      this.out.end(() => resolve());
    });
  }
}
