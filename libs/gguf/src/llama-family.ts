// The llama-family layout that llama.cpp expects for the architectures we make and check
// (llama: GPT-J style RoPE; qwen2: NEOX RoPE plus q/k/v biases): which <arch>.* keys describe
// the model and which tensors, of which shapes, it must hold. The model tools write to this
// layout and the validator checks files against it.
import { GgmlType } from './ggml-types.js';
import { ggufValue, type GgufValue } from './gguf-value.js';
import type { WritableGgmlType } from './quantize.js';

export const llamaFamilyArchitectures = ['llama', 'qwen2'] as const;
export type LlamaFamilyArchitecture = (typeof llamaFamilyArchitectures)[number];

export function isLlamaFamilyArchitecture(arch: string): arch is LlamaFamilyArchitecture {
  return (llamaFamilyArchitectures as readonly string[]).includes(arch);
}

/** The sizes that fix every tensor shape. */
export interface LlamaFamilyShape {
  readonly architecture: LlamaFamilyArchitecture;
  readonly vocabSize: number;
  readonly embeddingLength: number;
  readonly blockCount: number;
  readonly feedForwardLength: number;
  readonly headCount: number;
  readonly headCountKv: number;
  /** Defaults to embeddingLength / headCount, as in llama.cpp. */
  readonly keyLength?: number;
  readonly valueLength?: number;
}

export interface LlamaFamilyHyperparameters extends LlamaFamilyShape {
  readonly contextLength: number;
  readonly rmsNormEpsilon: number;
  readonly ropeFreqBase: number;
}

export type TensorRole = 'embedding' | 'norm' | 'weight' | 'bias';

export interface LlamaFamilyTensorSpec {
  readonly name: string;
  /** Row-major (torch) shape. */
  readonly shape: readonly number[];
  readonly role: TensorRole;
  /** False for tensors llama.cpp can do without (e.g. output.weight, tied to token_embd). */
  readonly required: boolean;
}

export function headDimensions(shape: LlamaFamilyShape): { key: number; value: number } {
  const fallback = shape.embeddingLength / shape.headCount;
  return { key: shape.keyLength ?? fallback, value: shape.valueLength ?? fallback };
}

/** Every tensor llama.cpp looks for, required or optional, in the order we write them. */
export function llamaFamilyTensorSpecs(shape: LlamaFamilyShape): LlamaFamilyTensorSpec[] {
  const { vocabSize: vocab, embeddingLength: dim, feedForwardLength: ffn, headCount, headCountKv } = shape;
  const head = headDimensions(shape);
  const qRows = headCount * head.key;
  const kRows = headCountKv * head.key;
  const vRows = headCountKv * head.value;
  const biasesRequired = shape.architecture === 'qwen2';
  const specs: LlamaFamilyTensorSpec[] = [
    { name: 'token_embd.weight', shape: [vocab, dim], role: 'embedding', required: true },
  ];
  for (let i = 0; i < shape.blockCount; i++) {
    const blk = `blk.${i}`;
    specs.push(
      { name: `${blk}.attn_norm.weight`, shape: [dim], role: 'norm', required: true },
      { name: `${blk}.attn_q.weight`, shape: [qRows, dim], role: 'weight', required: true },
      { name: `${blk}.attn_q.bias`, shape: [qRows], role: 'bias', required: biasesRequired },
      { name: `${blk}.attn_k.weight`, shape: [kRows, dim], role: 'weight', required: true },
      { name: `${blk}.attn_k.bias`, shape: [kRows], role: 'bias', required: biasesRequired },
      { name: `${blk}.attn_v.weight`, shape: [vRows, dim], role: 'weight', required: true },
      { name: `${blk}.attn_v.bias`, shape: [vRows], role: 'bias', required: biasesRequired },
      { name: `${blk}.attn_output.weight`, shape: [dim, headCount * head.value], role: 'weight', required: true },
      { name: `${blk}.ffn_norm.weight`, shape: [dim], role: 'norm', required: true },
      { name: `${blk}.ffn_gate.weight`, shape: [ffn, dim], role: 'weight', required: true },
      { name: `${blk}.ffn_up.weight`, shape: [ffn, dim], role: 'weight', required: true },
      { name: `${blk}.ffn_down.weight`, shape: [dim, ffn], role: 'weight', required: true },
    );
  }
  specs.push({ name: 'output_norm.weight', shape: [dim], role: 'norm', required: true });
  specs.push({ name: 'output.weight', shape: [vocab, dim], role: 'weight', required: false });
  return specs;
}

/** The tensors a model of ours holds: the required ones, plus output.weight unless it is tied to token_embd. */
export function llamaFamilyTensorsToWrite(
  shape: LlamaFamilyShape,
  options: { tiedOutput: boolean },
): LlamaFamilyTensorSpec[] {
  return llamaFamilyTensorSpecs(shape).filter(
    (spec) => spec.required || (spec.name === 'output.weight' && !options.tiedOutput),
  );
}

/** The `<arch>.*` hyperparameter keys llama.cpp reads for this family. */
export function llamaFamilyMetadata(h: LlamaFamilyHyperparameters): [string, GgufValue][] {
  const arch = h.architecture;
  const head = headDimensions(h);
  return [
    [`${arch}.vocab_size`, ggufValue.uint32(h.vocabSize)],
    [`${arch}.context_length`, ggufValue.uint32(h.contextLength)],
    [`${arch}.embedding_length`, ggufValue.uint32(h.embeddingLength)],
    [`${arch}.block_count`, ggufValue.uint32(h.blockCount)],
    [`${arch}.feed_forward_length`, ggufValue.uint32(h.feedForwardLength)],
    [`${arch}.attention.head_count`, ggufValue.uint32(h.headCount)],
    [`${arch}.attention.head_count_kv`, ggufValue.uint32(h.headCountKv)],
    [`${arch}.attention.layer_norm_rms_epsilon`, ggufValue.float32(h.rmsNormEpsilon)],
    [`${arch}.rope.freq_base`, ggufValue.float32(h.ropeFreqBase)],
    [`${arch}.rope.dimension_count`, ggufValue.uint32(head.key)],
  ];
}

/** Parameter count of the model (output.weight counted only when untied). */
export function llamaFamilyParameterCount(shape: LlamaFamilyShape, options: { tiedOutput: boolean }): number {
  return llamaFamilyTensorsToWrite(shape, options).reduce(
    (sum, spec) => sum + spec.shape.reduce((p, n) => p * n, 1),
    0,
  );
}

/** llama.cpp's `general.file_type` (enum llama_ftype) for a model whose weight matrices are of this type. */
export function llamaFileType(weightType: WritableGgmlType): number {
  const fileTypes: Record<WritableGgmlType, number> = {
    [GgmlType.F32]: 0,
    [GgmlType.F16]: 1,
    [GgmlType.Q4_0]: 2,
    [GgmlType.Q8_0]: 7,
  };
  return fileTypes[weightType];
}
