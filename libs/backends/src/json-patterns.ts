/**
 * Pieces of regular expressions that match JSON text exactly as JSON allows it, for readers that match a backend's
 * ordinary answers against a pattern instead of parsing them (`plain-chat-json.ts`, `tgi-answer-summary.ts`):
 * `JSON.parse` builds an object and looks up every key it holds, which costs a small answer several times what
 * matching it does (PERFORMANCE.md).
 */

/** A JSON string's characters (without its quotes) that have no escape: ids, model names. */
export const PLAIN_CHARS = '[^"\\\\\\x00-\\x1f]*';

/** A JSON string's characters (without its quotes), escapes included, exactly as JSON allows them. */
export const JSON_CHARS = '(?:[^"\\\\\\x00-\\x1f]|\\\\(?:["\\\\/bfnrt]|u[0-9a-fA-F]{4}))*';

/** A JSON number as servers write counts, seeds and times: an integer with no leading zero. */
export const INTEGER = '(?:0|[1-9][0-9]*)';

/** The characters a `JSON_CHARS` group matched, as the string they stand for. */
export function decodedString(chars: string): string {
  // Only a string with escapes needs decoding; the pattern has checked them, so JSON.parse takes it.
  return chars.includes('\\') ? (JSON.parse(`"${chars}"`) as string) : chars;
}
