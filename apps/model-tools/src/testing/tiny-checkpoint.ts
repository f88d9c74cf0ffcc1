// Test fixtures: checkpoints in the trainer's contract, small enough to write in milliseconds.
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { LlamaFamilyArchitecture } from '#gguf';
import { syntheticVocabulary } from '../synthetic-vocabulary.js';

export type NamedTensors = Record<string, { shape: number[]; values: Float32Array }>;

export function writeSafetensors(path: string, tensors: NamedTensors): void {
  const header: Record<string, unknown> = { __metadata__: { format: 'pt' } };
  let offset = 0;
  for (const [name, { shape, values }] of Object.entries(tensors)) {
    header[name] = { dtype: 'F32', shape, data_offsets: [offset, offset + values.byteLength] };
    offset += values.byteLength;
  }
  let json = JSON.stringify(header);
  json += ' '.repeat((8 - (json.length % 8)) % 8);
  const length = Buffer.alloc(8);
  length.writeBigUInt64LE(BigInt(json.length));
  writeFileSync(
    path,
    Buffer.concat([
      length,
      Buffer.from(json),
      ...Object.values(tensors).map((t) => Buffer.from(t.values.buffer, t.values.byteOffset, t.values.byteLength)),
    ]),
  );
}

export interface TinyCheckpointOptions {
  readonly architecture: LlamaFamilyArchitecture;
  /**
   * 'random': small random weights. 'successor': blocks that add nothing to the residual stream,
   * identity embeddings and an lm_head that maps token t to t + 1, so greedy decoding counts up
   * (with tied embeddings it repeats the last token instead).
   */
  readonly weights: 'random' | 'successor';
  readonly tied?: boolean;
  /** Applied to the tensors before writing, to break the checkpoint on purpose. */
  readonly edit?: (tensors: NamedTensors, config: Record<string, unknown>) => void;
}

export const TINY = { vocab: 320, dim: 320, layers: 2, heads: 4, kvHeads: 2, ffn: 64 };

export function writeTinyCheckpoint(dir: string, options: TinyCheckpointOptions): void {
  mkdirSync(dir, { recursive: true });
  const { vocab, dim, layers, heads, kvHeads, ffn } = TINY;
  const headDim = dim / heads;
  let seed = 99;
  const random = () => ((seed = (Math.imul(seed, 1103515245) + 12345) >>> 0) / 2 ** 32 - 0.5) * 0.04;
  const make = (shape: number[], fill: 'random' | 'zeros' | 'ones') => {
    const values = new Float32Array(shape.reduce((p, n) => p * n, 1));
    if (fill === 'ones') values.fill(1);
    else if (fill === 'random') for (let i = 0; i < values.length; i++) values[i] = random();
    return { shape, values };
  };
  const matrix = (shape: number[]) => make(shape, options.weights === 'random' ? 'random' : 'zeros');
  const tensors: NamedTensors = {};
  tensors['model.embed_tokens.weight'] =
    options.weights === 'random' ? make([vocab, dim], 'random') : permutation(vocab, (t) => t);
  for (let i = 0; i < layers; i++) {
    const p = `model.layers.${i}`;
    tensors[`${p}.input_layernorm.weight`] = make([dim], 'ones');
    tensors[`${p}.self_attn.q_proj.weight`] = matrix([heads * headDim, dim]);
    tensors[`${p}.self_attn.k_proj.weight`] = matrix([kvHeads * headDim, dim]);
    tensors[`${p}.self_attn.v_proj.weight`] = matrix([kvHeads * headDim, dim]);
    if (options.architecture === 'qwen2') {
      tensors[`${p}.self_attn.q_proj.bias`] = matrix([heads * headDim]);
      tensors[`${p}.self_attn.k_proj.bias`] = matrix([kvHeads * headDim]);
      tensors[`${p}.self_attn.v_proj.bias`] = matrix([kvHeads * headDim]);
    }
    tensors[`${p}.self_attn.o_proj.weight`] = matrix([dim, heads * headDim]);
    tensors[`${p}.post_attention_layernorm.weight`] = make([dim], 'ones');
    tensors[`${p}.mlp.gate_proj.weight`] = matrix([ffn, dim]);
    tensors[`${p}.mlp.up_proj.weight`] = matrix([ffn, dim]);
    tensors[`${p}.mlp.down_proj.weight`] = matrix([dim, ffn]);
  }
  tensors['model.norm.weight'] = make([dim], 'ones');
  if (!options.tied) {
    tensors['lm_head.weight'] =
      options.weights === 'random' ? make([vocab, dim], 'random') : permutation(vocab, (t) => (t + vocab - 1) % vocab);
  }
  const config: Record<string, unknown> = {
    architecture: options.architecture,
    vocab_size: vocab,
    hidden_size: dim,
    intermediate_size: ffn,
    num_hidden_layers: layers,
    num_attention_heads: heads,
    num_key_value_heads: kvHeads,
    max_position_embeddings: 256,
    rms_norm_eps: 1e-5,
    rope_theta: 10000,
    tie_word_embeddings: options.tied ?? false,
    name: `tiny-${options.architecture}`,
    license: 'CC0-1.0',
    description: 'a test checkpoint',
    source: 'made up by a test',
  };
  options.edit?.(tensors, config);
  writeSafetensors(join(dir, 'model.safetensors'), tensors);
  writeFileSync(join(dir, 'config.json'), JSON.stringify(config));
  const v = syntheticVocabulary(vocab);
  writeFileSync(
    join(dir, 'tokenizer.json'),
    JSON.stringify({
      model: 'llama',
      tokens: v.tokens,
      scores: v.scores,
      token_types: v.tokenTypes,
      bos_id: 1,
      eos_id: 2,
      unk_id: 0,
      add_bos: true,
      add_space_prefix: true,
    }),
  );
}

/** A [n, n] matrix with a 1 at [row, column(row)]. */
function permutation(n: number, column: (row: number) => number) {
  const values = new Float32Array(n * n);
  for (let row = 0; row < n; row++) values[row * n + column(row)] = 1;
  return { shape: [n, n], values };
}
