// The tokenizer.ggml.* keys of a SentencePiece-style ("llama") vocabulary.
import { ggufValue, type GgufValue } from './gguf-value.js';

/** llama.cpp's llama_token_type values. */
export const TokenType = {
  undefined: 0,
  normal: 1,
  unknown: 2,
  control: 3,
  userDefined: 4,
  unused: 5,
  byte: 6,
} as const;

export interface SpmVocabulary {
  readonly tokens: readonly string[];
  readonly scores: readonly number[];
  readonly tokenTypes: readonly number[];
  readonly bosId: number;
  readonly eosId: number;
  readonly unkId: number;
  readonly addBos: boolean;
  /** SentencePiece's add_dummy_prefix: text is tokenized as if it began with a space. */
  readonly addSpacePrefix: boolean;
}

export function spmTokenizerMetadata(vocab: SpmVocabulary): [string, GgufValue][] {
  const n = vocab.tokens.length;
  if (vocab.scores.length !== n || vocab.tokenTypes.length !== n) {
    throw new RangeError(
      `vocabulary has ${n} tokens but ${vocab.scores.length} scores and ${vocab.tokenTypes.length} token types`,
    );
  }
  for (const [what, id] of [
    ['bos', vocab.bosId],
    ['eos', vocab.eosId],
    ['unk', vocab.unkId],
  ] as const) {
    if (!Number.isInteger(id) || id < 0 || id >= n)
      throw new RangeError(`${what} id ${id} is outside the ${n}-token vocabulary`);
  }
  return [
    ['tokenizer.ggml.model', ggufValue.string('llama')],
    ['tokenizer.ggml.tokens', ggufValue.array('string', vocab.tokens)],
    ['tokenizer.ggml.scores', ggufValue.array('float32', vocab.scores)],
    ['tokenizer.ggml.token_type', ggufValue.array('int32', vocab.tokenTypes)],
    ['tokenizer.ggml.bos_token_id', ggufValue.uint32(vocab.bosId)],
    ['tokenizer.ggml.eos_token_id', ggufValue.uint32(vocab.eosId)],
    ['tokenizer.ggml.unknown_token_id', ggufValue.uint32(vocab.unkId)],
    ['tokenizer.ggml.add_bos_token', ggufValue.bool(vocab.addBos)],
    ['tokenizer.ggml.add_eos_token', ggufValue.bool(false)],
    ['tokenizer.ggml.add_space_prefix', ggufValue.bool(vocab.addSpacePrefix)],
  ];
}
