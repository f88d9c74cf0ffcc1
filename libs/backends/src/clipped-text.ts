/**
 * The longest error message either the gateway or the engine sends. Messages quote what the client sent (unknown
 * field names, ids, URLs), so without a bound a body of 60,000 unknown keys would be refused with megabytes.
 */
export const MAX_ERROR_MESSAGE_CHARS = 1000;

/** `text` cut to at most `max` characters (code points), saying how much was left out; short text is unchanged. */
export function clipText(text: string, max: number): string {
  if (text.length <= max) return text;
  const points = [...text];
  if (points.length <= max) return text;
  const tail = (left: number) => `… (${left} more characters)`;
  // The tail takes room too (at most as many digits as the whole count): keep fewer so that all stays within max.
  const keep = Math.max(0, max - tail(points.length).length);
  return `${points.slice(0, keep).join('')}${tail(points.length - keep)}`;
}
