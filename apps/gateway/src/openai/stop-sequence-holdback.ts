import type { ChatDelta } from '#backends';

/**
 * OpenAI leaves a matched stop sequence out of the answer; TGI and our engine keep it in the text they send (TGI's
 * stop criteria match the text that is already out). The OpenAI routes cut it here, for every backend alike.
 */

/** The index of the first stop sequence found in `text` at or after `from`; -1 when none is. */
export function firstStopAt(text: string, stops: readonly string[], from = 0): number {
  let first = -1;
  for (const stop of stops) {
    const at = text.indexOf(stop, from);
    if (at >= 0 && (first < 0 || at < first)) first = at;
  }
  return first;
}

/** `text` up to the first stop sequence after `from` (the prompt an echo puts first is never cut). */
export function cutAtStop(text: string, stops: readonly string[], from = 0): string {
  const at = firstStopAt(text, stops, from);
  return at < 0 ? text : text.slice(0, at);
}

/** How many characters at the end of `text` could be the start of a stop sequence still arriving. */
function heldTailLength(text: string, stops: readonly string[]): number {
  let longest = 0;
  for (const stop of stops) {
    for (let length = Math.min(stop.length - 1, text.length); length > longest; length--) {
      if (text.endsWith(stop.slice(0, length))) {
        longest = length;
        break;
      }
    }
  }
  return longest;
}

/**
 * A stream's deltas, held back while their text could begin a stop sequence, so no part of a stop sequence is ever
 * sent: a delta goes out once the text after it rules a match out, and at a match the text before it goes out and
 * nothing after. Whole deltas are held (their logprobs stay with their text); without stop sequences nothing is.
 */
export class StopSequenceHoldback {
  private held: ChatDelta[] = [];
  private heldText = '';
  private stopped = false;

  constructor(private readonly stops: readonly string[]) {}

  /** The deltas now safe to send, in order. */
  push(delta: ChatDelta): ChatDelta[] {
    if (this.stopped) return [];
    if (this.stops.length === 0) return [delta];
    this.held.push(delta);
    this.heldText += delta.content;
    const stopAt = firstStopAt(this.heldText, this.stops);
    if (stopAt >= 0) return this.cut(stopAt);
    const safeLength = this.heldText.length - heldTailLength(this.heldText, this.stops);
    let released = 0;
    let releasedLength = 0;
    for (const { content } of this.held) {
      if (releasedLength + content.length > safeLength) break;
      releasedLength += content.length;
      released++;
    }
    if (released === 0) return [];
    this.heldText = this.heldText.slice(releasedLength);
    return this.held.splice(0, released);
  }

  /** At the end of the stream: what is still held (the start of a stop sequence that never completed). */
  flush(): ChatDelta[] {
    const rest = this.stopped ? [] : this.held;
    this.held = [];
    this.heldText = '';
    return rest;
  }

  /** The text before the stop, as one delta carrying the logprobs of the deltas it came from. */
  private cut(stopAt: number): ChatDelta[] {
    this.stopped = true;
    const content = this.heldText.slice(0, stopAt);
    let start = 0;
    let logprobs: ChatDelta['logprobs'] = null;
    for (const delta of this.held) {
      if (start >= stopAt) break;
      if (delta.logprobs) logprobs = [...(logprobs ?? []), ...delta.logprobs];
      start += delta.content.length;
    }
    this.held = [];
    this.heldText = '';
    return content.length > 0 || logprobs ? [{ content, logprobs }] : [];
  }
}
