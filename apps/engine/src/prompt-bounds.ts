import { setImmediate as nextTurn } from 'node:timers/promises';
import type { LlamaModel } from 'node-llama-cpp';
import { validationError } from './errors.js';

/** Slices a long prompt is counted in: one tokenization of 4,096 characters takes milliseconds, even of emoji. */
const SLICE_CHARS = 4096;
/** Tokens counted beyond `truncate`, so that where the kept text starts does not change the tokens that are kept. */
const TRUNCATE_MARGIN_TOKENS = 16;

type Tokenizer = Pick<LlamaModel, 'tokenize'>;

/**
 * Bounds on a prompt, applied before the tokenization that counts. llama.cpp tokenizes in one synchronous call on
 * the event loop, and its cost grows faster than the text: 100,000 emoji took 3.7 to 17 s here, long enough for the
 * engine's /health to miss its deadlines. So a prompt is refused at once when it has more characters than
 * `maxInputTokens` tokens can hold (no token of the vocabulary is longer than `longestTokenChars`), and a long one
 * is counted in slices with a turn of the event loop between them, so that /health answers meanwhile; only a
 * prompt whose count fits is then tokenized whole, which is short.
 */
export class PromptBounds {
  constructor(
    private readonly tokenizer: Tokenizer,
    readonly maxInputTokens: number,
    readonly longestTokenChars: number,
  ) {}

  /** Reads the vocabulary's longest token once (every token's text, in characters); unknown without a vocabulary. */
  static forModel(model: LlamaModel, vocabularySize: number, maxInputTokens: number): PromptBounds {
    if (vocabularySize === 0) return new PromptBounds(model, maxInputTokens, Number.POSITIVE_INFINITY);
    let longest = 1;
    for (let id = 0; id < vocabularySize; id++)
      longest = Math.max(longest, codePoints(model.detokenize([id as never], true)));
    return new PromptBounds(model, maxInputTokens, longest);
  }

  /**
   * The text to tokenize for `prompt`: all of it, or with `truncate` only its end (the tokens it keeps and a margin).
   * Refuses, with TGI's words for a prompt too long, one that cannot fit.
   */
  async fit(prompt: string, truncate?: number): Promise<string> {
    if (truncate !== undefined) return this.endOf(prompt, truncate + TRUNCATE_MARGIN_TOKENS);
    const characters = codePoints(prompt);
    if (characters > this.maxInputTokens * this.longestTokenChars)
      throw tooLong(this.maxInputTokens, `${characters} characters, more than ${this.maxInputTokens} tokens hold`);
    if (prompt.length <= SLICE_CHARS) return prompt;
    // Slices split what the whole text would tokenize as one token, so they count a little more: refuse only far over.
    let counted = 0;
    for (const [start, end] of slices(prompt)) {
      if (start > 0) await nextTurn();
      counted += this.tokenizer.tokenize(prompt.slice(start, end)).length;
      if (counted > 2 * this.maxInputTokens) throw tooLong(this.maxInputTokens, `more than ${counted} tokens`);
    }
    return prompt;
  }

  /** The shortest end of `prompt` that holds at least `tokens` tokens, counted slice by slice from the end. */
  private async endOf(prompt: string, tokens: number): Promise<string> {
    if (prompt.length <= SLICE_CHARS) return prompt;
    let counted = 0;
    let end = prompt.length;
    while (end > 0) {
      const start = sliceStartBefore(prompt, end);
      counted += this.tokenizer.tokenize(prompt.slice(start, end)).length;
      if (counted >= tokens) return prompt.slice(start);
      end = start;
      await nextTurn();
    }
    return prompt;
  }
}

function tooLong(maxInputTokens: number, given: string): Error {
  return validationError(`\`inputs\` must have less than ${maxInputTokens} tokens. Given: ${given}`);
}

function codePoints(text: string): number {
  let count = 0;
  for (let i = 0; i < text.length; i++) {
    const unit = text.charCodeAt(i);
    if (unit < 0xdc00 || unit > 0xdfff || i === 0 || !isHighSurrogate(text.charCodeAt(i - 1))) count++;
  }
  return count;
}

const isHighSurrogate = (unit: number) => unit >= 0xd800 && unit <= 0xdbff;

/** [start, end) of each slice of about SLICE_CHARS, never splitting a surrogate pair. */
function* slices(text: string): Generator<[number, number]> {
  for (let start = 0; start < text.length;) {
    let end = Math.min(text.length, start + SLICE_CHARS);
    if (end < text.length && isHighSurrogate(text.charCodeAt(end - 1))) end++;
    yield [start, end];
    start = end;
  }
}

function sliceStartBefore(text: string, end: number): number {
  let start = Math.max(0, end - SLICE_CHARS);
  if (start > 0 && isHighSurrogate(text.charCodeAt(start - 1))) start--;
  return start;
}
