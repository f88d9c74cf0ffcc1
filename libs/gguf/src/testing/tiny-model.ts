// Test fixtures: a tiny but complete llama-family GGUF (a few hundred KB) that llama.cpp loads,
// with knobs to break it in the ways the validator must catch.
import { GgmlType } from '../ggml-types.js';
import { ggufValue, type GgufValue } from '../gguf-value.js';
import { writeGgufFile, type GgufTensorInput } from '../gguf-writer.js';
import {
  llamaFamilyMetadata,
  llamaFamilyTensorsToWrite,
  type LlamaFamilyArchitecture,
  type LlamaFamilyHyperparameters,
} from '../llama-family.js';
import { TokenType, spmTokenizerMetadata } from '../spm-tokenizer-metadata.js';
import type { WritableGgmlType } from '../quantize.js';

export interface TinyModelOptions {
  readonly architecture?: LlamaFamilyArchitecture;
  readonly type?: WritableGgmlType;
  readonly omitKeys?: readonly string[];
  readonly overrideKeys?: Readonly<Record<string, GgufValue>>;
  readonly omitTensors?: readonly string[];
  /** Row-major shapes to use instead of the correct ones. */
  readonly overrideShapes?: Readonly<Record<string, readonly number[]>>;
  readonly extraTensors?: readonly GgufTensorInput[];
}

export function tinyVocabulary(): { tokens: string[]; scores: number[]; tokenTypes: number[] } {
  const tokens = ['<unk>', '<s>', '</s>'];
  const tokenTypes: number[] = [TokenType.unknown, TokenType.control, TokenType.control];
  for (let b = 0; b < 256; b++) {
    tokens.push(`<0x${b.toString(16).toUpperCase().padStart(2, '0')}>`);
    tokenTypes.push(TokenType.byte);
  }
  const pieces = [
    '▁',
    ...'abcdefghijklmnopqrstuvwxyz'.split('').flatMap((c) => [`▁${c}`, c]),
    '▁the',
    '▁and',
    'th',
    'he',
    'in',
    'er',
  ];
  for (const piece of pieces) {
    tokens.push(piece);
    tokenTypes.push(TokenType.normal);
  }
  while (tokens.length % 32 !== 0) {
    tokens.push(`▁x${tokens.length}`);
    tokenTypes.push(TokenType.normal);
  }
  const scores = tokens.map((_, i) => (tokenTypes[i] === TokenType.normal ? -i : 0));
  return { tokens, scores, tokenTypes };
}

function tinyHyperparameters(architecture: LlamaFamilyArchitecture = 'llama'): LlamaFamilyHyperparameters {
  return {
    architecture,
    vocabSize: tinyVocabulary().tokens.length,
    embeddingLength: 64,
    blockCount: 2,
    feedForwardLength: 128,
    headCount: 4,
    headCountKv: 2,
    contextLength: 256,
    rmsNormEpsilon: 1e-5,
    ropeFreqBase: 10000,
  };
}

/** A deterministic pseudo-random source (mulberry32), so fixtures are identical run to run. */
function seededUniform(seed: number): () => number {
  let state = seed >>> 0;
  return () => {
    state = (state + 0x6d2b79f5) >>> 0;
    let t = state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

export async function writeTinyModel(path: string, options: TinyModelOptions = {}): Promise<void> {
  const hparams = tinyHyperparameters(options.architecture);
  const vocab = tinyVocabulary();
  const type = options.type ?? GgmlType.Q8_0;
  const metadata = new Map<string, GgufValue>([
    ['general.architecture', ggufValue.string(hparams.architecture)],
    ['general.name', ggufValue.string(`tiny-${hparams.architecture}`)],
    ...llamaFamilyMetadata(hparams),
    ...spmTokenizerMetadata({ ...vocab, bosId: 1, eosId: 2, unkId: 0, addBos: true, addSpacePrefix: true }),
  ]);
  for (const key of options.omitKeys ?? []) metadata.delete(key);
  for (const [key, value] of Object.entries(options.overrideKeys ?? {})) metadata.set(key, value);
  const random = seededUniform(42);
  const tensors: GgufTensorInput[] = llamaFamilyTensorsToWrite(hparams, { tiedOutput: false })
    .filter((spec) => !(options.omitTensors ?? []).includes(spec.name))
    .map((spec) => {
      const shape = options.overrideShapes?.[spec.name] ?? spec.shape;
      const values = new Float32Array(shape.reduce((p, n) => p * n, 1));
      if (spec.role === 'norm') values.fill(1);
      else for (let i = 0; i < values.length; i++) values[i] = (random() - 0.5) * 0.1;
      return {
        name: spec.name,
        shape,
        type: spec.role === 'weight' || spec.role === 'embedding' ? type : GgmlType.F32,
        values,
      };
    });
  await writeGgufFile(path, { metadata, tensors: [...tensors, ...(options.extraTensors ?? [])] });
}
