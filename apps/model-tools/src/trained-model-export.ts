// Converts a trained checkpoint (see checkpoint.ts) into a GGUF that llama.cpp loads: the
// hyperparameters and tokenizer from the JSON files, the tensors renamed to llama.cpp's names
// and quantized while streaming from the safetensors file. The trainer computes RoPE the way
// llama.cpp does for each architecture, so q/k need no permutation. The result is validated
// before it is kept.
import { rm } from 'node:fs/promises';
import { join } from 'node:path';
import {
  GgmlType,
  chatTemplateMetadata,
  ggufValue,
  llamaFamilyMetadata,
  llamaFamilyTensorsToWrite,
  llamaFileType,
  spmTokenizerMetadata,
  validateGgufFile,
  writeGgufFile,
  type GgufTensorInput,
  type GgufValue,
  type LlamaFamilyHyperparameters,
  type SpmVocabulary,
  type WritableGgmlType,
} from '#gguf';
import { ggufTensorName, readCheckpointConfig, readCheckpointTokenizer, type CheckpointConfig } from './checkpoint.js';
import { PLAIN_CHAT_TEMPLATE } from './plain-chat-template.js';
import { SafetensorsFile } from './safetensors-reader.js';

export interface ExportOptions {
  readonly checkpointDir: string;
  readonly out: string;
  readonly type: WritableGgmlType;
  /** general.name; defaults to config.json's "name". */
  readonly name?: string;
  /** tokenizer.chat_template; defaults to the plain template (plain-chat-template.ts). */
  readonly chatTemplate?: string;
}

export interface ExportResult {
  readonly out: string;
  readonly bytes: number;
  readonly parameters: number;
  readonly notes: string[];
}

export async function exportTrainedModel(options: ExportOptions): Promise<ExportResult> {
  const config = await readCheckpointConfig(options.checkpointDir);
  const vocab = await readCheckpointTokenizer(options.checkpointDir);
  if (vocab.tokens.length !== config.vocabSize) {
    throw new Error(
      `tokenizer.json has ${vocab.tokens.length} tokens but config.json says vocab_size ${config.vocabSize}`,
    );
  }
  const hparams = hyperparameters(config);
  const checkpoint = await SafetensorsFile.open(join(options.checkpointDir, 'model.safetensors'));
  try {
    const sources = sourcesByGgufName(checkpoint, config);
    const notes: string[] = [];
    const specs = llamaFamilyTensorsToWrite(hparams, { tiedOutput: !sources.has('output.weight') });
    const tensors = specs.map((spec): GgufTensorInput => {
      const source = sources.get(spec.name);
      if (source === undefined) throw new Error(`${checkpoint.path}: missing tensor for '${spec.name}'`);
      sources.delete(spec.name);
      if (source.shape.join() !== spec.shape.join()) {
        throw new Error(
          `${checkpoint.path}: '${source.name}' has shape [${source.shape}], config.json implies [${spec.shape}]`,
        );
      }
      return {
        name: spec.name,
        shape: spec.shape,
        type: tensorType(spec.role, spec.shape, options.type, spec.name, notes),
        values: () => finite(source.name, checkpoint.readRows(source.name)),
      };
    });
    if (sources.size > 0) {
      throw new Error(
        `${checkpoint.path}: tensors a ${config.architecture} model cannot hold: ${[...sources.values()].map((s) => s.name).join(', ')}`,
      );
    }
    const written = await writeGgufFile(options.out, { metadata: metadata(config, hparams, vocab, options), tensors });
    try {
      await validateGgufFile(options.out);
    } catch (error) {
      await rm(options.out, { force: true });
      throw error;
    }
    const parameters = specs.reduce((sum, spec) => sum + spec.shape.reduce((p, n) => p * n, 1), 0);
    return { out: options.out, bytes: written.bytes, parameters, notes };
  } finally {
    await checkpoint.close();
  }
}

function hyperparameters(config: CheckpointConfig): LlamaFamilyHyperparameters {
  if (config.hiddenSize % config.heads !== 0)
    throw new Error(
      `config.json: hidden_size ${config.hiddenSize} is not a multiple of num_attention_heads ${config.heads}`,
    );
  if (config.heads % config.kvHeads !== 0)
    throw new Error(
      `config.json: num_attention_heads ${config.heads} is not a multiple of num_key_value_heads ${config.kvHeads}`,
    );
  return {
    architecture: config.architecture,
    vocabSize: config.vocabSize,
    embeddingLength: config.hiddenSize,
    blockCount: config.layers,
    feedForwardLength: config.intermediateSize,
    headCount: config.heads,
    headCountKv: config.kvHeads,
    contextLength: config.maxPositions,
    rmsNormEpsilon: config.rmsNormEps,
    ropeFreqBase: config.ropeTheta,
  };
}

/** Checkpoint tensors under their GGUF names; lm_head is dropped when the embeddings are tied. */
function sourcesByGgufName(checkpoint: SafetensorsFile, config: CheckpointConfig) {
  const sources = new Map<string, { name: string; shape: readonly number[] }>();
  const unknown: string[] = [];
  for (const tensor of checkpoint.tensors.values()) {
    const ggufName = ggufTensorName(tensor.name);
    if (ggufName === undefined) unknown.push(tensor.name);
    else if (!(ggufName === 'output.weight' && config.tieWordEmbeddings)) sources.set(ggufName, tensor);
  }
  if (unknown.length > 0)
    throw new Error(`${checkpoint.path}: tensors with no llama.cpp equivalent: ${unknown.join(', ')}`);
  return sources;
}

/** Norms and biases stay F32 (tiny, and precision-sensitive); matrices take the requested type. */
function tensorType(
  role: string,
  shape: readonly number[],
  requested: WritableGgmlType,
  name: string,
  notes: string[],
): WritableGgmlType {
  if (role === 'norm' || role === 'bias') return GgmlType.F32;
  if ((requested === GgmlType.Q8_0 || requested === GgmlType.Q4_0) && shape.at(-1)! % 32 !== 0) {
    notes.push(`${name}: rows of ${shape.at(-1)} are not whole 32-value blocks, stored as F16`);
    return GgmlType.F16;
  }
  return requested;
}

async function* finite(name: string, chunks: AsyncIterable<Float32Array>): AsyncGenerator<Float32Array> {
  for await (const chunk of chunks) {
    for (let i = 0; i < chunk.length; i++) {
      if (!Number.isFinite(chunk[i]))
        throw new Error(`checkpoint tensor '${name}' contains ${chunk[i]}: refusing to export a diverged model`);
    }
    yield chunk;
  }
}

function metadata(
  config: CheckpointConfig,
  hparams: LlamaFamilyHyperparameters,
  vocab: SpmVocabulary,
  options: ExportOptions,
): [string, GgufValue][] {
  const text = (key: string, value: string | undefined): [string, GgufValue][] =>
    value === undefined ? [] : [[key, ggufValue.string(value)]];
  return [
    ['general.architecture', ggufValue.string(config.architecture)],
    ...text('general.name', options.name ?? config.name),
    ...text('general.license', config.license),
    ...text('general.description', config.description),
    // The training data, as GGUF's standard dataset keys describe it.
    ...(config.source === undefined
      ? []
      : ([
          ['general.dataset.count', ggufValue.uint32(1)],
          ['general.dataset.0.name', ggufValue.string('training corpus')],
          ['general.dataset.0.description', ggufValue.string(config.source)],
        ] as [string, GgufValue][])),
    ['general.quantized_by', ggufValue.string('Sluice export-trained-model')],
    ['general.file_type', ggufValue.uint32(llamaFileType(options.type))],
    ...llamaFamilyMetadata(hparams),
    ...spmTokenizerMetadata(vocab),
    // Last, where set-chat-template puts it into a file that has none: both give the same bytes.
    chatTemplateMetadata(options.chatTemplate ?? PLAIN_CHAT_TEMPLATE),
  ];
}
