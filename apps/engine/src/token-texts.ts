import type { LlamaModel, Token } from 'node-llama-cpp';
import { IncrementalDecoder } from './incremental-decoder.js';

/**
 * The text each token reports, the one rule for every place that shows a token: generated tokens, `top_tokens`,
 * prefill (`decoder_input_details`) and the OpenAI routes' logprobs.
 *
 * A token's text is what it adds to the text before it, as TGI's `decode_token` gives it for generated tokens:
 * decoded after the tokens that precede it, so a SentencePiece `▁of` is " of", not the "of" that decoding the token
 * alone gives. A byte-fallback token that ends inside a character adds "" and the one that completes it adds the
 * whole character, so the texts of a sequence concatenate to its text. Special tokens (control, end of generation,
 * unknown: TGI's `all_special_ids`) show their own text, `</s>`, as TGI's `skip_special_tokens=False` decoding does,
 * and add nothing to the text around them.
 */
export class TokenTexts {
  private readonly specials = new Map<Token, boolean>();

  constructor(private readonly model: LlamaModel) {}

  isSpecial(id: Token): boolean {
    let special = this.specials.get(id);
    if (special === undefined) {
      special = this.model.isSpecialToken(id);
      this.specials.set(id, special);
    }
    return special;
  }

  /** A special token's own text (`<s>`, `</s>`, `<unk>`). */
  specialText(id: Token): string {
    return this.model.detokenize([id], true);
  }

  /** Follows one sequence of tokens, `preceding` already in it, and gives each next token's text. */
  follow(preceding: readonly Token[]): TokenTextCursor {
    return new TokenTextCursor(this, new IncrementalDecoder(this.model, preceding));
  }

  /** The text of each token of `tokens` (a prompt) where it stands in it; the pieces concatenate to its text. */
  ofSequence(tokens: readonly Token[]): string[] {
    const cursor = this.follow([]);
    const texts = tokens.map((id) => cursor.push(id));
    const rest = cursor.flush();
    if (rest !== '' && texts.length > 0) texts[texts.length - 1] += rest;
    return texts;
  }
}

/** One sequence's position: the text the next token adds, for the token taken and for its alternatives. */
export class TokenTextCursor {
  constructor(
    private readonly texts: TokenTexts,
    private readonly decoder: IncrementalDecoder,
  ) {}

  /** The text `id` adds here, and it becomes part of the sequence. */
  push(id: Token): string {
    return this.texts.isSpecial(id) ? this.texts.specialText(id) : this.decoder.push(id);
  }

  /** The text `id` would add here (an alternative to the token taken): the same text `push` would give it. */
  peek(id: Token): string {
    return this.texts.isSpecial(id) ? this.texts.specialText(id) : this.decoder.peek(id);
  }

  /** Whatever an incomplete character still holds back, at the end of the sequence. */
  flush(): string {
    return this.decoder.flush();
  }
}

const textsByModel = new WeakMap<LlamaModel, TokenTexts>();

/** The model's token texts; one per model, so what it learns of its special tokens is kept. */
export function tokenTextsOf(model: LlamaModel): TokenTexts {
  let texts = textsByModel.get(model);
  if (!texts) {
    texts = new TokenTexts(model);
    textsByModel.set(model, texts);
  }
  return texts;
}
