// Streams a GGUF v3 file to disk: header, metadata, tensor infos, then each tensor's data as its
// chunks arrive, so a model never sits in memory whole. Writes to a temporary name, then renames:
// a crash never leaves a half-written file under the real name.
import { open, rename, rm } from 'node:fs/promises';
import {
  GGUF_DEFAULT_ALIGNMENT,
  GGUF_MAGIC,
  GGUF_VERSION,
  GGML_MAX_DIMS,
  GGML_MAX_NAME,
  alignUp,
} from './gguf-format.js';
import {
  GgufValueTypeId,
  ggufValue,
  scalarProblem,
  type GgufScalar,
  type GgufScalarType,
  type GgufValue,
} from './gguf-value.js';
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
  const header = encodeHeader(metadata, tensors);
  const temporaryPath = `${path}.partial`;
  const file = await open(temporaryPath, 'w');
  try {
    let position = 0;
    const write = async (bytes: Uint8Array): Promise<void> => {
      await file.write(bytes, 0, bytes.length, position);
      position += bytes.length;
    };
    await write(header);
    await write(new Uint8Array(alignUp(position, alignment) - position));
    for (const tensor of tensors) {
      let written = 0;
      for await (const chunk of chunksOf(tensor.input.values)) {
        checkChunk(tensor, chunk, written);
        await write(quantize(chunk, tensor.input.type));
        written += chunk.length;
      }
      if (written !== tensor.elements) {
        throw new RangeError(`tensor '${tensor.input.name}' got ${written} values, its shape holds ${tensor.elements}`);
      }
      await write(new Uint8Array(alignUp(tensor.byteSize, alignment) - tensor.byteSize));
    }
    await file.close();
    await rename(temporaryPath, path);
    return { path, bytes: position };
  } catch (error) {
    await file.close().catch(() => undefined);
    await rm(temporaryPath, { force: true });
    throw error;
  }
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

function encodeHeader(metadata: readonly [string, GgufValue][], tensors: TensorPlan[]): Uint8Array {
  const out = new ByteSink();
  out.uint32(GGUF_MAGIC);
  out.uint32(GGUF_VERSION);
  out.uint64(BigInt(tensors.length));
  out.uint64(BigInt(metadata.length));
  for (const [key, value] of metadata) {
    out.string(key);
    encodeValue(out, key, value);
  }
  let offset = 0;
  for (const tensor of tensors) {
    tensor.offset = offset;
    offset += alignUp(tensor.byteSize, alignment);
    out.string(tensor.input.name);
    out.uint32(tensor.dims.length);
    for (const dim of tensor.dims) out.uint64(BigInt(dim));
    out.uint32(tensor.input.type);
    out.uint64(BigInt(tensor.offset));
  }
  return out.bytes();
}

function encodeValue(out: ByteSink, key: string, value: GgufValue): void {
  if (value.type === 'array') {
    if (!(value.itemType in GgufValueTypeId) || (value.itemType as string) === 'array') {
      throw new TypeError(`metadata '${key}': arrays of ${value.itemType} are not supported`);
    }
    out.uint32(GgufValueTypeId.array);
    out.uint32(GgufValueTypeId[value.itemType]);
    out.uint64(BigInt(value.value.length));
    value.value.forEach((item, index) => encodeScalar(out, `${key}[${index}]`, value.itemType, item));
    return;
  }
  out.uint32(GgufValueTypeId[value.type]);
  encodeScalar(out, key, value.type, value.value);
}

function encodeScalar(out: ByteSink, where: string, type: GgufScalarType, value: GgufScalar): void {
  const problem = scalarProblem(type, value);
  if (problem !== undefined) throw new TypeError(`metadata '${where}': ${problem}`);
  const view = (size: number): [DataView, number] => {
    const at = out.advance(size); // may grow the buffer, so take the view after
    return [out.view, at];
  };
  switch (type) {
    case 'uint8': {
      const [v, at] = view(1);
      return v.setUint8(at, value as number);
    }
    case 'int8': {
      const [v, at] = view(1);
      return v.setInt8(at, value as number);
    }
    case 'uint16': {
      const [v, at] = view(2);
      return v.setUint16(at, value as number, true);
    }
    case 'int16': {
      const [v, at] = view(2);
      return v.setInt16(at, value as number, true);
    }
    case 'uint32':
      return out.uint32(value as number);
    case 'int32': {
      const [v, at] = view(4);
      return v.setInt32(at, value as number, true);
    }
    case 'float32': {
      const [v, at] = view(4);
      return v.setFloat32(at, value as number, true);
    }
    case 'float64': {
      const [v, at] = view(8);
      return v.setFloat64(at, value as number, true);
    }
    case 'uint64':
      return out.uint64(value as bigint);
    case 'int64': {
      const [v, at] = view(8);
      return v.setBigInt64(at, value as bigint, true);
    }
    case 'bool': {
      const [v, at] = view(1);
      return v.setUint8(at, value ? 1 : 0);
    }
    case 'string':
      return out.string(value as string);
  }
}

/** A growable little-endian byte buffer for the header. */
class ByteSink {
  private buffer = new Uint8Array(1 << 16);
  view = new DataView(this.buffer.buffer);
  private length = 0;

  /** Reserves size bytes and returns their offset in `view`. */
  advance(size: number): number {
    if (this.length + size > this.buffer.length) {
      const grown = new Uint8Array(Math.max(this.buffer.length * 2, this.length + size));
      grown.set(this.buffer.subarray(0, this.length));
      this.buffer = grown;
      this.view = new DataView(grown.buffer);
    }
    const at = this.length;
    this.length += size;
    return at;
  }

  uint32(value: number): void {
    const at = this.advance(4);
    this.view.setUint32(at, value, true);
  }

  uint64(value: bigint): void {
    const at = this.advance(8);
    this.view.setBigUint64(at, value, true);
  }

  string(value: string): void {
    const bytes = utf8.encode(value);
    this.uint64(BigInt(bytes.length));
    const at = this.advance(bytes.length);
    this.buffer.set(bytes, at);
  }

  bytes(): Uint8Array {
    return this.buffer.subarray(0, this.length);
  }
}
