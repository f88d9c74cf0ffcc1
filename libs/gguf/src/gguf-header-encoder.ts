// Encodes a GGUF v3 header: magic, version, counts, metadata and tensor infos. Shared by the writer,
// which lays tensors out itself, and the metadata rewrite, which keeps a file's tensor infos as they are.
import { GGUF_MAGIC, GGUF_VERSION } from './gguf-format.js';
import { GgufValueTypeId, scalarProblem, type GgufScalar, type GgufScalarType, type GgufValue } from './gguf-value.js';

/** A tensor info as stored: ggml dims (ne0 first), ggml type id, offset within the data section. */
export interface GgufTensorInfoToEncode {
  readonly name: string;
  readonly dims: readonly number[];
  readonly type: number;
  readonly offset: number;
}

const utf8 = new TextEncoder();

export function encodeGgufHeader(
  metadata: readonly (readonly [string, GgufValue])[],
  tensors: readonly GgufTensorInfoToEncode[],
): Uint8Array {
  const out = new ByteSink();
  out.uint32(GGUF_MAGIC);
  out.uint32(GGUF_VERSION);
  out.uint64(BigInt(tensors.length));
  out.uint64(BigInt(metadata.length));
  for (const [key, value] of metadata) {
    out.string(key);
    encodeValue(out, key, value);
  }
  for (const tensor of tensors) {
    out.string(tensor.name);
    out.uint32(tensor.dims.length);
    for (const dim of tensor.dims) out.uint64(BigInt(dim));
    out.uint32(tensor.type);
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
