/**
 * Finds where the model ends its turn in text form (a chat template's stop triggers such as `### User`), holding back
 * text that may be the start of one so that the marker never reaches the answer, not even part of it in a stream.
 */
export class TurnEndMatcher {
  private held = '';

  constructor(private readonly markers: readonly string[]) {}

  /** The text that is safe to show now, and whether a marker completed (everything from it on is dropped). */
  push(piece: string): { text: string; ended: boolean } {
    if (this.markers.length === 0) return { text: piece, ended: false };
    const window = this.held + piece;
    let end = -1;
    for (const marker of this.markers) {
      const at = window.indexOf(marker);
      if (at >= 0 && (end < 0 || at < end)) end = at;
    }
    if (end >= 0) {
      this.held = '';
      return { text: window.slice(0, end), ended: true };
    }
    const keep = this.pendingPrefixLength(window);
    this.held = window.slice(window.length - keep);
    return { text: window.slice(0, window.length - keep), ended: false };
  }

  /** Held text that turned out not to be a marker (end of generation). */
  flush(): string {
    const rest = this.held;
    this.held = '';
    return rest;
  }

  /** Length of the longest end of `text` that some marker starts with. */
  private pendingPrefixLength(text: string): number {
    let longest = 0;
    for (const marker of this.markers) {
      for (let length = Math.min(marker.length - 1, text.length); length > longest; length--) {
        if (text.endsWith(marker.slice(0, length))) {
          longest = length;
          break;
        }
      }
    }
    return longest;
  }
}
