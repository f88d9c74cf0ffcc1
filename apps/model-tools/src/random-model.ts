// A llama-family model with random weights: realistic compute for load tests and cold-start
// comparisons, gibberish output. Weights are normal(0, 0.02) (output projections scaled down by
// sqrt(2 * layers), as GPT-2 does, so the residual stream stays O(1)); norms are 1 and biases 0,
// which keeps activations finite at any depth. Tensors are generated chunk by chunk while the
// file is written, so memory stays at a few MB whatever the model size.
import {
  GgmlType,
  ggufValue,
  llamaFamilyMetadata,
  llamaFamilyTensorsToWrite,
  llamaFileType,
  spmTokenizerMetadata,
  writeGgufFile,
  type GgufTensorInput,
  type GgufValue,
  type GgufWriteResult,
  type LlamaFamilyArchitecture,
  type LlamaFamilyHyperparameters,
  type LlamaFamilyTensorSpec,
  type WritableGgmlType,
} from '#gguf';
import { toLlamaFamilyShape, type ModelShape } from './model-shapes.js';
import { SeededNormal } from './seeded-normal.js';
import { syntheticVocabulary } from './synthetic-vocabulary.js';

export interface RandomModelOptions {
  readonly architecture: LlamaFamilyArchitecture;
  readonly shape: ModelShape;
  readonly type: WritableGgmlType;
  readonly seed: number;
  readonly contextLength: number;
  /** Used in general.name, e.g. "134M". */
  readonly label: string;
}

const INIT_STD = 0.02;
const CHUNK_VALUES = 1 << 20;

export function randomModelHyperparameters(options: RandomModelOptions): LlamaFamilyHyperparameters {
  const { shape, architecture } = options;
  return {
    ...toLlamaFamilyShape(architecture, shape),
    contextLength: options.contextLength,
    rmsNormEpsilon: architecture === 'qwen2' ? 1e-6 : 1e-5,
    ropeFreqBase: architecture === 'qwen2' ? 1_000_000 : 10_000,
  };
}

export async function writeRandomModel(path: string, options: RandomModelOptions): Promise<GgufWriteResult> {
  const hparams = randomModelHyperparameters(options);
  const metadata: [string, GgufValue][] = [
    ['general.architecture', ggufValue.string(options.architecture)],
    ['general.name', ggufValue.string(`sluice-random-${options.architecture}-${options.label}`)],
    [
      'general.description',
      ggufValue.string(`Random weights (seed ${options.seed}) for load tests; generates gibberish.`),
    ],
    ['general.license', ggufValue.string('CC0-1.0')],
    ['general.file_type', ggufValue.uint32(llamaFileType(options.type))],
    ...llamaFamilyMetadata(hparams),
    ...spmTokenizerMetadata(syntheticVocabulary(options.shape.vocab)),
  ];
  const random = new SeededNormal(options.seed);
  const tensors = llamaFamilyTensorsToWrite(hparams, { tiedOutput: options.shape.tiedOutput }).map(
    (spec): GgufTensorInput => ({
      name: spec.name,
      shape: spec.shape,
      type: spec.role === 'weight' || spec.role === 'embedding' ? options.type : GgmlType.F32,
      values: () => randomChunks(spec, random, initialValue(spec, options.shape.layers)),
    }),
  );
  return writeGgufFile(path, { metadata, tensors });
}

type Initializer = { constant: number } | { std: number };

function initialValue(spec: LlamaFamilyTensorSpec, layers: number): Initializer {
  if (spec.role === 'norm') return { constant: 1 };
  if (spec.role === 'bias') return { constant: 0 };
  const isOutputProjection = spec.name.endsWith('attn_output.weight') || spec.name.endsWith('ffn_down.weight');
  return { std: isOutputProjection ? INIT_STD / Math.sqrt(2 * layers) : INIT_STD };
}

/** Whole rows at a time, about a million values per chunk; the buffer is reused once written. */
function* randomChunks(spec: LlamaFamilyTensorSpec, random: SeededNormal, init: Initializer): Generator<Float32Array> {
  const rowLength = spec.shape.at(-1)!;
  const total = spec.shape.reduce((product, n) => product * n, 1);
  const rowsPerChunk = Math.max(1, Math.floor(CHUNK_VALUES / rowLength));
  const buffer = new Float32Array(Math.min(total, rowsPerChunk * rowLength));
  for (let done = 0; done < total; done += buffer.length) {
    const chunk = buffer.subarray(0, Math.min(buffer.length, total - done));
    if ('constant' in init) chunk.fill(init.constant);
    else random.fill(chunk, init.std);
    yield chunk;
  }
}
