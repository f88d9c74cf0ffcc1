// The trainer's checkpoint contract (a directory with model.safetensors, config.json and
// tokenizer.json, Hugging Face tensor names), read and checked once, with errors that name the
// file, the key and what was expected.
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { isLlamaFamilyArchitecture, type LlamaFamilyArchitecture, type SpmVocabulary } from '#gguf';

export interface CheckpointConfig {
  readonly architecture: LlamaFamilyArchitecture;
  readonly vocabSize: number;
  readonly hiddenSize: number;
  readonly intermediateSize: number;
  readonly layers: number;
  readonly heads: number;
  readonly kvHeads: number;
  readonly maxPositions: number;
  readonly rmsNormEps: number;
  readonly ropeTheta: number;
  readonly tieWordEmbeddings: boolean;
  readonly name?: string;
  readonly license?: string;
  readonly description?: string;
  readonly source?: string;
}

type Json = Record<string, unknown>;

async function readJson(path: string): Promise<Json> {
  let text: string;
  try {
    text = await readFile(path, 'utf8');
  } catch (error) {
    throw new Error(`cannot read ${path}: ${(error as Error).message}`, { cause: error });
  }
  try {
    const value: unknown = JSON.parse(text);
    if (typeof value !== 'object' || value === null || Array.isArray(value)) throw new Error('not a JSON object');
    return value as Json;
  } catch (error) {
    throw new Error(`${path}: ${(error as Error).message}`, { cause: error });
  }
}

/** Typed field access that fails with the file and key in the message. */
class Fields {
  constructor(
    private readonly path: string,
    private readonly json: Json,
  ) {}

  private fail(key: string, expected: string): never {
    throw new Error(`${this.path}: "${key}" must be ${expected}, got ${JSON.stringify(this.json[key]) ?? 'nothing'}`);
  }

  positiveInteger(key: string): number {
    const value = this.json[key];
    return typeof value === 'number' && Number.isSafeInteger(value) && value > 0
      ? value
      : this.fail(key, 'a positive integer');
  }

  nonNegativeInteger(key: string): number {
    const value = this.json[key];
    return typeof value === 'number' && Number.isSafeInteger(value) && value >= 0
      ? value
      : this.fail(key, 'a non-negative integer');
  }

  positiveNumber(key: string): number {
    const value = this.json[key];
    return typeof value === 'number' && Number.isFinite(value) && value > 0
      ? value
      : this.fail(key, 'a positive number');
  }

  boolean(key: string): boolean {
    const value = this.json[key];
    return typeof value === 'boolean' ? value : this.fail(key, 'true or false');
  }

  optionalString(key: string): string | undefined {
    const value = this.json[key];
    return value === undefined || typeof value === 'string' ? value : this.fail(key, 'a string');
  }

  array<T>(key: string, itemType: 'string' | 'number', length?: number): T[] {
    const value = this.json[key];
    const ok =
      Array.isArray(value) &&
      value.every((item) => typeof item === itemType) &&
      (length === undefined || value.length === length);
    return ok ? (value as T[]) : this.fail(key, `an array of ${length ?? ''} ${itemType}s`.replace('  ', ' '));
  }
}

export async function readCheckpointConfig(dir: string): Promise<CheckpointConfig> {
  const path = join(dir, 'config.json');
  const json = await readJson(path);
  const fields = new Fields(path, json);
  const architecture = json['architecture'];
  if (typeof architecture !== 'string' || !isLlamaFamilyArchitecture(architecture)) {
    throw new Error(`${path}: "architecture" must be "llama" or "qwen2", got ${JSON.stringify(architecture)}`);
  }
  const name = fields.optionalString('name');
  const license = fields.optionalString('license');
  const description = fields.optionalString('description');
  const source = fields.optionalString('source');
  return {
    architecture,
    vocabSize: fields.positiveInteger('vocab_size'),
    hiddenSize: fields.positiveInteger('hidden_size'),
    intermediateSize: fields.positiveInteger('intermediate_size'),
    layers: fields.positiveInteger('num_hidden_layers'),
    heads: fields.positiveInteger('num_attention_heads'),
    kvHeads: fields.positiveInteger('num_key_value_heads'),
    maxPositions: fields.positiveInteger('max_position_embeddings'),
    rmsNormEps: fields.positiveNumber('rms_norm_eps'),
    ropeTheta: fields.positiveNumber('rope_theta'),
    tieWordEmbeddings: fields.boolean('tie_word_embeddings'),
    ...(name === undefined ? {} : { name }),
    ...(license === undefined ? {} : { license }),
    ...(description === undefined ? {} : { description }),
    ...(source === undefined ? {} : { source }),
  };
}

export async function readCheckpointTokenizer(dir: string): Promise<SpmVocabulary> {
  const path = join(dir, 'tokenizer.json');
  const json = await readJson(path);
  const fields = new Fields(path, json);
  if (json['model'] !== 'llama')
    throw new Error(`${path}: "model" must be "llama" (SentencePiece-style), got ${JSON.stringify(json['model'])}`);
  const tokens = fields.array<string>('tokens', 'string');
  const vocab: SpmVocabulary = {
    tokens,
    scores: fields.array<number>('scores', 'number', tokens.length),
    tokenTypes: fields.array<number>('token_types', 'number', tokens.length),
    bosId: fields.nonNegativeInteger('bos_id'),
    eosId: fields.nonNegativeInteger('eos_id'),
    unkId: fields.nonNegativeInteger('unk_id'),
    addBos: fields.boolean('add_bos'),
    addSpacePrefix: fields.boolean('add_space_prefix'),
  };
  for (const key of ['bos_id', 'eos_id', 'unk_id'] as const) {
    if ((json[key] as number) >= tokens.length)
      throw new Error(`${path}: "${key}" ${String(json[key])} is outside the ${tokens.length}-token vocabulary`);
  }
  return vocab;
}

const layerTensor = /^model\.layers\.(\d+)\.(.+)$/;
const layerNames: Readonly<Record<string, string>> = {
  'input_layernorm.weight': 'attn_norm.weight',
  'self_attn.q_proj.weight': 'attn_q.weight',
  'self_attn.q_proj.bias': 'attn_q.bias',
  'self_attn.k_proj.weight': 'attn_k.weight',
  'self_attn.k_proj.bias': 'attn_k.bias',
  'self_attn.v_proj.weight': 'attn_v.weight',
  'self_attn.v_proj.bias': 'attn_v.bias',
  'self_attn.o_proj.weight': 'attn_output.weight',
  'post_attention_layernorm.weight': 'ffn_norm.weight',
  'mlp.gate_proj.weight': 'ffn_gate.weight',
  'mlp.up_proj.weight': 'ffn_up.weight',
  'mlp.down_proj.weight': 'ffn_down.weight',
};
const topLevelNames: Readonly<Record<string, string>> = {
  'model.embed_tokens.weight': 'token_embd.weight',
  'model.norm.weight': 'output_norm.weight',
  'lm_head.weight': 'output.weight',
};

/** The GGUF name of a Hugging Face llama/qwen2 tensor name, or undefined if it has none. */
export function ggufTensorName(huggingFaceName: string): string | undefined {
  const topLevel = topLevelNames[huggingFaceName];
  if (topLevel !== undefined) return topLevel;
  const match = layerTensor.exec(huggingFaceName);
  const suffix = match && layerNames[match[2]!];
  return suffix ? `blk.${match[1]}.${suffix}` : undefined;
}
