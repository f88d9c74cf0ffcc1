// Streams a GGUF v3 file to disk: header, metadata, tensor infos, then each tensor's data as its
// chunks arrive, so a model never sits in memory whole. Writes to a temporary name, then renames:
// a crash never leaves a half-written file under the real name.
import { writeFileAtomically } from './atomic-file-write.js';
import { GGUF_DEFAULT_ALIGNMENT, GGML_MAX_DIMS, GGML_MAX_NAME, alignUp } from './gguf-format.js';
import { ggufValue, type GgufValue } from './gguf-value.js';
import { encodeGgufHeader } from './gguf-header-encoder.js';
import { ggmlTensorByteSize, ggmlTypeName } from './ggml-types.js';
import { blockSizeOf, isWritableGgmlType, quantize, type WritableGgmlType } from './quantize.js';

/** Float32 values in row-major order, whole or as chunks (each a multiple of the type's block size). */
export type TensorValues = Float32Array | (() => Iterable<Float32Array> | AsyncIterable<Float32Array>);

export interface GgufTensorInput {
  readonly name: string;
  /** Row-major (torch) shape, e.g. [rows, cols]; stored reversed, as ggml's ne0 is the innermost. */
  readonly shape: readonly number[];
  readonly type: WritableGgmlType;
  readonly values: TensorValues;
}

export interface GgufContent {
  /** Written in insertion order; `general.alignment` is added. */
  readonly metadata: Iterable<readonly [string, GgufValue]> | Readonly<Record<string, GgufValue>>;
  readonly tensors: readonly GgufTensorInput[];
}

export interface GgufWriteResult {
  readonly path: string;
  readonly bytes: number;
}

const alignment = GGUF_DEFAULT_ALIGNMENT;
const utf8 = new TextEncoder();

/** Writes a GGUF v3 file with 32-byte alignment. Tensor values are encoded while streaming. */
export async function writeGgufFile(path: string, content: GgufContent): Promise<GgufWriteResult> {
  const metadata = metadataEntries(content.metadata);
  const tensors = content.tensors.map(describeTensor);
  let offset = 0;
  for (const tensor of tensors) {
    tensor.offset = offset;
    offset += alignUp(tensor.byteSize, alignment);
  }
  const header = encodeGgufHeader(
    metadata,
    tensors.map((tensor) => ({
      name: tensor.input.name,
      dims: tensor.dims,
      type: tensor.input.type,
      offset: tensor.offset,
    })),
  );
  const bytes = await writeFileAtomically(path, async (file) => {
    await file.write(header);
    await file.write(new Uint8Array(alignUp(file.position, alignment) - file.position));
    for (const tensor of tensors) {
      let written = 0;
      for await (const chunk of chunksOf(tensor.input.values)) {
        checkChunk(tensor, chunk, written);
        await file.write(quantize(chunk, tensor.input.type));
        written += chunk.length;
      }
      if (written !== tensor.elements) {
        throw new RangeError(`tensor '${tensor.input.name}' got ${written} values, its shape holds ${tensor.elements}`);
      }
      await file.write(new Uint8Array(alignUp(tensor.byteSize, alignment) - tensor.byteSize));
    }
  });
  return { path, bytes };
}

interface TensorPlan {
  readonly input: GgufTensorInput;
  readonly dims: readonly number[];
  readonly elements: number;
  readonly byteSize: number;
  offset: number;
}

function describeTensor(input: GgufTensorInput): TensorPlan {
  const where = `tensor '${input.name}'`;
  if (!isWritableGgmlType(input.type))
    throw new RangeError(`${where}: cannot write ggml type ${ggmlTypeName(input.type) ?? input.type}`);
  if (utf8.encode(input.name).length >= GGML_MAX_NAME)
    throw new RangeError(`${where}: name must be shorter than ${GGML_MAX_NAME} bytes`);
  if (input.shape.length < 1 || input.shape.length > GGML_MAX_DIMS)
    throw new RangeError(`${where}: needs 1 to ${GGML_MAX_DIMS} dims`);
  if (!input.shape.every((n) => Number.isSafeInteger(n) && n > 0))
    throw new RangeError(`${where}: bad shape [${input.shape}]`);
  const dims = [...input.shape].reverse();
  if (dims[0]! % blockSizeOf(input.type) !== 0) {
    throw new RangeError(
      `${where}: innermost dim ${dims[0]} is not a multiple of ${blockSizeOf(input.type)}, as ${ggmlTypeName(input.type)} needs`,
    );
  }
  const elements = dims.reduce((product, n) => product * n, 1);
  return { input, dims, elements, byteSize: ggmlTensorByteSize(input.type, dims), offset: 0 };
}

function metadataEntries(metadata: GgufContent['metadata']): [string, GgufValue][] {
  const entries: [string, GgufValue][] =
    Symbol.iterator in metadata
      ? [...metadata].map(([k, v]) => [k, v])
      : Object.entries(metadata as Record<string, GgufValue>);
  const keys = new Set<string>();
  for (const [key] of entries) {
    if (keys.has(key)) throw new RangeError(`metadata key '${key}' given twice`);
    keys.add(key);
  }
  const withoutAlignment = entries.filter(([key]) => key !== 'general.alignment');
  return [['general.alignment', ggufValue.uint32(alignment)], ...withoutAlignment];
}

async function* chunksOf(values: TensorValues): AsyncIterable<Float32Array> {
  if (values instanceof Float32Array) yield values;
  else yield* values();
}

function checkChunk(tensor: TensorPlan, chunk: Float32Array, written: number): void {
  const blockSize = blockSizeOf(tensor.input.type);
  if (chunk.length % blockSize !== 0) {
    throw new RangeError(
      `tensor '${tensor.input.name}': chunk of ${chunk.length} values is not whole ${blockSize}-value blocks`,
    );
  }
  if (written + chunk.length > tensor.elements) {
    throw new RangeError(`tensor '${tensor.input.name}' got more values than its shape holds (${tensor.elements})`);
  }
}
