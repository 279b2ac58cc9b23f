import type { FrameParser, ParseResult } from './adapter.js';

export type ParseOutcome =
  | { readonly kind: 'ok'; readonly result: ParseResult }
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
    const message = err instanceof Error ? err.message : String(err);
    return { kind: 'error', message };
  }
}
