// llama.cpp's requirements for llama and qwen2 files: the hyperparameters it reads (a missing or
// mistyped one aborts the loading process), and tensors whose presence and shapes agree with them.
import type { GgufTensorInfo } from './gguf-reader.js';
import {
  headDimensions,
  llamaFamilyTensorSpecs,
  type LlamaFamilyArchitecture,
  type LlamaFamilyShape,
} from './llama-family.js';
import type { MetadataChecker } from './metadata-checker.js';

/** llama.cpp's LLAMA_MAX_LAYERS. */
const MAX_LAYERS = 512;

/** Tensors llama.cpp accepts for these architectures besides the ones we write (row-major shapes). */
function optionalExtras(shape: LlamaFamilyShape): { name: string; shape: number[] }[] {
  const head = headDimensions(shape);
  const extras = [{ name: 'rope_freqs.weight', shape: [head.key / 2] }];
  for (let i = 0; i < shape.blockCount; i++) {
    extras.push(
      { name: `blk.${i}.attn_output.bias`, shape: [shape.embeddingLength] },
      { name: `blk.${i}.ffn_gate.bias`, shape: [shape.feedForwardLength] },
      { name: `blk.${i}.ffn_up.bias`, shape: [shape.feedForwardLength] },
      { name: `blk.${i}.ffn_down.bias`, shape: [shape.embeddingLength] },
    );
  }
  return shape.architecture === 'llama' ? extras : [];
}

export function checkLlamaFamily(
  meta: MetadataChecker,
  architecture: LlamaFamilyArchitecture,
  tensors: readonly GgufTensorInfo[],
  tokenCount: number | undefined,
): void {
  const key = (name: string) => `${architecture}.${name}`;
  meta.uint32(key('context_length'), { required: true });
  const embeddingLength = meta.uint32(key('embedding_length'), { required: true });
  const blockCount = meta.uint32(key('block_count'), { required: true });
  meta.float32(key('attention.layer_norm_rms_epsilon'), { required: true });
  meta.float32(key('rope.freq_base'));
  if (blockCount !== undefined && blockCount > MAX_LAYERS)
    meta.refuse(`metadata '${key('block_count')}' = ${blockCount} exceeds llama.cpp's ${MAX_LAYERS} layers`);
  const layers = blockCount !== undefined && blockCount <= MAX_LAYERS ? blockCount : undefined;
  const feedForward =
    layers === undefined ? undefined : meta.perLayer(key('feed_forward_length'), layers, { required: true });
  const heads =
    layers === undefined ? undefined : meta.perLayer(key('attention.head_count'), layers, { required: true });
  const kvHeads = layers === undefined ? undefined : (meta.perLayer(key('attention.head_count_kv'), layers) ?? heads);
  const keyLength = meta.uint32(key('attention.key_length'));
  const valueLength = meta.uint32(key('attention.value_length'));
  const vocabSize = meta.uint32(key('vocab_size'));
  if (vocabSize !== undefined && tokenCount !== undefined && vocabSize !== tokenCount) {
    meta.refuse(`metadata '${key('vocab_size')}' = ${vocabSize} but the tokenizer has ${tokenCount} tokens`);
  }
  if (
    embeddingLength === undefined ||
    layers === undefined ||
    !feedForward ||
    !heads ||
    !kvHeads ||
    tokenCount === undefined
  )
    return;
  if (new Set(feedForward).size > 1 || new Set(heads).size > 1 || new Set(kvHeads).size > 1) {
    meta.refuse(`per-layer sizes that vary by layer are not supported for ${architecture}`);
    return;
  }
  const shape: LlamaFamilyShape = {
    architecture,
    vocabSize: tokenCount,
    embeddingLength,
    blockCount: layers,
    feedForwardLength: feedForward[0]!,
    headCount: heads[0]!,
    headCountKv: kvHeads[0]!,
    ...(keyLength === undefined ? {} : { keyLength }),
    ...(valueLength === undefined ? {} : { valueLength }),
  };
  if (!checkHeads(meta, key, shape)) return;
  checkTensors(meta, architecture, shape, tensors);
}

/** Head arithmetic that llama.cpp divides by or asserts on. */
function checkHeads(meta: MetadataChecker, key: (name: string) => string, shape: LlamaFamilyShape): boolean {
  const problemsBefore = meta.problems.length;
  if (shape.headCountKv > shape.headCount || shape.headCount % shape.headCountKv !== 0) {
    meta.refuse(
      `'${key('attention.head_count')}' = ${shape.headCount} is not a multiple of '${key('attention.head_count_kv')}' = ${shape.headCountKv}`,
    );
  }
  if (
    (shape.keyLength === undefined || shape.valueLength === undefined) &&
    shape.embeddingLength % shape.headCount !== 0
  ) {
    meta.refuse(
      `'${key('embedding_length')}' = ${shape.embeddingLength} is not a multiple of '${key('attention.head_count')}' = ${shape.headCount}`,
    );
  }
  const head = headDimensions(shape);
  const rope = meta.uint32(key('rope.dimension_count'));
  if (rope !== undefined && Number.isInteger(head.key)) {
    const expected = shape.architecture === 'llama' ? rope === head.key : rope <= head.key && rope % 2 === 0;
    if (!expected) meta.refuse(`'${key('rope.dimension_count')}' = ${rope} does not fit the head size ${head.key}`);
  }
  return meta.problems.length === problemsBefore;
}

function checkTensors(
  meta: MetadataChecker,
  architecture: string,
  shape: LlamaFamilyShape,
  tensors: readonly GgufTensorInfo[],
): void {
  const byName = new Map(tensors.map((tensor) => [tensor.name, tensor]));
  const known = [
    ...llamaFamilyTensorSpecs(shape),
    ...optionalExtras(shape).map((extra) => ({ ...extra, required: false })),
  ];
  const basis =
    `${architecture}: vocab ${shape.vocabSize}, embedding ${shape.embeddingLength}, ffn ${shape.feedForwardLength}, ` +
    `heads ${shape.headCount}, kv heads ${shape.headCountKv}`;
  for (const spec of known) {
    const tensor = byName.get(spec.name);
    byName.delete(spec.name);
    if (tensor === undefined) {
      if (spec.required) meta.refuse(`missing tensor '${spec.name}'`);
    } else if (!sameShape(tensor.shape, spec.shape)) {
      meta.refuse(
        `tensor '${spec.name}' has shape [${tensor.shape.join(', ')}], expected [${spec.shape.join(', ')}] (${basis})`,
      );
    }
  }
  for (const name of byName.keys())
    meta.refuse(`unexpected tensor '${name}': llama.cpp refuses files with tensors it does not use`);
}

/** Compares shapes, ignoring trailing 1s that ggml would drop (a [n] vector may be stored as [1, n]). */
function sameShape(actual: readonly number[], expected: readonly number[]): boolean {
  const strip = (shape: readonly number[]) => {
    const dims = [...shape];
    while (dims.length > 1 && dims[0] === 1) dims.shift();
    return dims;
  };
  const a = strip(actual);
  const e = strip(expected);
  return a.length === e.length && a.every((n, i) => n === e[i]);
}
