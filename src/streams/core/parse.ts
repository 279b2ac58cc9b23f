import { FrameError, type FrameParser, type ParseResult } from './adapter.js';

export type ParseOutcome =
  | { readonly kind: 'ok'; readonly result: ParseResult }
  /** `message`: the reason, then the frame excerpt for a `FrameError` (the `parse_error` detail). */
  | { readonly kind: 'error'; readonly message: string };

/** Runs a parser on one frame; a malformed frame becomes an outcome, never a thrown error. */
export function parseFrame(
  parser: FrameParser,
  text: string,
  receiveTs: number,
  source?: string,
): ParseOutcome {
  try {
    return { kind: 'ok', result: parser.parse(text, receiveTs, source) };
  } catch (err) {
    return { kind: 'error', message: describeParseError(err) };
  }
}

/** `reason in <excerpt>` for a `FrameError`; the message of anything else a parser threw. */
function describeParseError(err: unknown): string {
  if (err instanceof FrameError) return `${err.reason} in ${err.excerpt}`;
  return err instanceof Error ? err.message : String(err);
}
