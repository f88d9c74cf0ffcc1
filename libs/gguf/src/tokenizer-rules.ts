// What llama.cpp's vocabulary loader needs. It reads scores and token types through raw pointers
// sized by the token count, so a short or mistyped array is an out-of-bounds read, not an error.
import type { MetadataChecker } from './metadata-checker.js';

const knownTokenizerModels = ['no_vocab', 'none', 'llama', 'bert', 'gpt2', 't5', 'rwkv', 'plamo2'];
const specialTokenIdKey = /^tokenizer\.ggml\.[a-z_]+_token_id$/;

/** Checks the tokenizer keys; returns the vocabulary size when the token list is usable. */
export function checkTokenizer(meta: MetadataChecker): number | undefined {
  const model = meta.string('tokenizer.ggml.model', { required: true });
  if (model !== undefined && !knownTokenizerModels.includes(model)) {
    meta.refuse(
      `tokenizer.ggml.model '${model}' is not a tokenizer llama.cpp knows (${knownTokenizerModels.join(', ')})`,
    );
  }
  const tokens = meta.array('tokenizer.ggml.tokens', 'string', { required: true }) as readonly string[] | undefined;
  if (tokens !== undefined && tokens.length === 0) meta.refuse(`metadata 'tokenizer.ggml.tokens' is empty`);
  const count = tokens?.length;
  for (const [key, itemType] of [
    ['tokenizer.ggml.scores', 'float32'],
    ['tokenizer.ggml.token_type', 'int32'],
  ] as const) {
    const values = meta.array(key, itemType);
    if (values !== undefined && count !== undefined && values.length !== count) {
      meta.refuse(`metadata '${key}' has ${values.length} entries for ${count} tokens`);
    }
  }
  if (model === 'gpt2') meta.array('tokenizer.ggml.merges', 'string', { required: true });
  if (model === 'llama' && tokens !== undefined) checkByteFallback(meta, tokens);
  for (const key of meta.keys()) {
    if (!specialTokenIdKey.test(key)) continue;
    const id = meta.uint32(key, { required: true, positive: false });
    if (id !== undefined && count !== undefined && id >= count)
      meta.refuse(`metadata '${key}' = ${id} is outside the ${count}-token vocabulary`);
  }
  for (const key of ['tokenizer.ggml.add_bos_token', 'tokenizer.ggml.add_eos_token', 'tokenizer.ggml.add_space_prefix'])
    meta.bool(key);
  const chatTemplate = meta.string('tokenizer.chat_template');
  if (chatTemplate?.trim() === '')
    meta.refuse(`metadata 'tokenizer.chat_template' is blank; chat renderers ignore it (leave the key out instead)`);
  return count !== undefined && count > 0 ? count : undefined;
}

/**
 * SentencePiece vocabularies fall back to byte tokens for text they cannot split, and llama.cpp
 * looks those up with map::at, which throws (and takes the process down) when one is missing.
 */
function checkByteFallback(meta: MetadataChecker, tokens: readonly string[]): void {
  const present = new Set(tokens);
  const missing: string[] = [];
  for (let b = 0; b < 256; b++) {
    const token = `<0x${b.toString(16).toUpperCase().padStart(2, '0')}>`;
    if (!present.has(token) && !present.has(String.fromCharCode(b))) missing.push(token);
  }
  if (missing.length > 0) {
    meta.refuse(
      `tokenizer.ggml.tokens lacks ${missing.length} byte-fallback tokens (${missing.slice(0, 3).join(', ')}...) that a "llama" tokenizer needs`,
    );
  }
}
