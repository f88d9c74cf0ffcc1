/**
 * The longest prompt the gateway forwards, in characters (code points, as class-validator's MaxLength counts them):
 * `inputs` of /v1/generate and the TGI routes, `prompt` of /v1/completions, each chat message's text. Checked before
 * any backend tokenizes it; its size in bytes is bounded by BODY_LIMIT_BYTES before that.
 */
export const MAX_PROMPT_CHARS = 100_000;

/** Whether `text` is within MAX_PROMPT_CHARS; counts code points only when its UTF-16 length is over. */
export function withinPromptLength(text: string): boolean {
  if (text.length <= MAX_PROMPT_CHARS) return true;
  let points = 0;
  for (const _ of text) if (++points > MAX_PROMPT_CHARS) return false;
  return true;
}
