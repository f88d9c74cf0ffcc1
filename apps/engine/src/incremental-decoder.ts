/**
 * Turns generated tokens into text one token at a time, the way TGI's `decode_token` does: a token that ends
 * inside a multi-byte character (byte-fallback tokens of CJK text, say) yields "" until the character completes,
 * and each piece is decoded after the tokens before it so that tokenizers which drop a leading space get it right.
 */
export interface Detokenizer {
  detokenize(tokens: readonly number[], specialTokens?: boolean, lastTokens?: readonly number[]): string;
}

const CONTEXT_TOKENS = 8;
/** Longest byte run of one UTF-8 character: past it a replacement character is real, not pending. */
const MAX_PENDING = 4;

export class IncrementalDecoder {
  private context: number[];
  private pending: number[] = [];

  constructor(
    private readonly model: Detokenizer,
    precedingTokens: readonly number[],
  ) {
    this.context = precedingTokens.slice(-CONTEXT_TOKENS);
  }

  /** Text that `token` completes; "" while a character is still incomplete. */
  push(token: number): string {
    this.pending.push(token);
    const text = this.model.detokenize(this.pending, false, this.context);
    if (this.isIncomplete(text, this.pending.length)) return '';
    return this.commit(text);
  }

  /** What `push(token)` would return now, leaving the decoder as it is (for tokens that were not taken). */
  peek(token: number): string {
    const tokens = [...this.pending, token];
    const text = this.model.detokenize(tokens, false, this.context);
    return this.isIncomplete(text, tokens.length) ? '' : text;
  }

  /** Whatever is still pending, decoded as it stands (end of generation). */
  flush(): string {
    if (this.pending.length === 0) return '';
    return this.commit(this.model.detokenize(this.pending, false, this.context));
  }

  private isIncomplete(text: string, pendingCount: number): boolean {
    return text.endsWith('\uFFFD') && pendingCount < MAX_PENDING;
  }

  private commit(text: string): string {
    this.context = [...this.context, ...this.pending].slice(-CONTEXT_TOKENS);
    this.pending = [];
    return text;
  }
}

/** Finds stop sequences in generated text, keeping only as much text as the longest one could straddle. */
export class StopSequenceMatcher {
  private tail = '';
  private readonly keep: number;

  constructor(private readonly stops: readonly string[]) {
    this.keep = Math.max(0, ...stops.map((s) => s.length)) - 1;
  }

  /** Appends `piece` and returns the stop sequence it completed, if any. */
  push(piece: string): string | undefined {
    if (this.stops.length === 0 || piece.length === 0) return undefined;
    const window = this.tail + piece;
    this.tail = this.keep > 0 ? window.slice(-this.keep) : '';
    return this.stops.find((stop) => window.includes(stop));
  }
}
