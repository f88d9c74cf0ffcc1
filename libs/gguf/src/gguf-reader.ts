// Reads a GGUF file's header, metadata and tensor infos without touching tensor data: only the
// first bytes of the file are read, growing the window until the header fits. Every rule that
// llama.cpp's gguf.cpp enforces when it opens a file is checked here, so a file this reader
// accepts is structurally loadable.
import { open } from 'node:fs/promises';
import { GgufFormatError } from './errors.js';
import {
  GGML_MAX_DIMS,
  GGML_MAX_NAME,
  GGUF_DEFAULT_ALIGNMENT,
  GGUF_MAGIC,
  GGUF_READABLE_VERSIONS,
  alignUp,
} from './gguf-format.js';
import { GgufValueTypeId, type GgufScalar, type GgufScalarType, type GgufValue } from './gguf-value.js';
import { ggmlBlockLayout, ggmlTypeName } from './ggml-types.js';

export interface GgufTensorInfo {
  readonly name: string;
  /** ggml order: ne0 (the innermost, contiguous dim) first. */
  readonly dims: readonly number[];
  /** Row-major (torch) order: dims reversed. */
  readonly shape: readonly number[];
  /** ggml type id (see GgmlType) and its name. */
  readonly type: number;
  readonly typeName: string;
  /** Offset of the data from the start of the data section. */
  readonly offset: number;
  readonly byteSize: number;
}

export interface GgufHeader {
  readonly version: number;
  readonly alignment: number;
  readonly metadata: ReadonlyMap<string, GgufValue>;
  readonly tensors: readonly GgufTensorInfo[];
  /** Absolute file offset where the data section starts. */
  readonly dataOffset: number;
  readonly fileSize: number;
}

const FIRST_WINDOW = 1 << 20;

/** Parses the header of a GGUF file. Throws GgufFormatError for a malformed file, fs errors as they are. */
export async function readGgufHeader(path: string): Promise<GgufHeader> {
  const file = await open(path, 'r');
  try {
    const { size } = await file.stat();
    let window = Buffer.alloc(Math.min(size, FIRST_WINDOW));
    let filled = 0;
    for (;;) {
      while (filled < window.length) {
        const { bytesRead } = await file.read(window, filled, window.length - filled, filled);
        if (bytesRead === 0) throw new GgufFormatError(`file shrank while reading (expected ${size} bytes)`);
        filled += bytesRead;
      }
      try {
        return new HeaderParser(window, size).parse();
      } catch (error) {
        if (!(error instanceof NeedMoreBytes)) throw error;
        const grown = Buffer.alloc(Math.min(size, Math.max(window.length * 2, error.needed)));
        window.copy(grown, 0, 0, filled);
        window = grown;
      }
    }
  } finally {
    await file.close();
  }
}

/** Thrown inside the parser when the window ends before the file does. */
class NeedMoreBytes {
  constructor(readonly needed: number) {}
}

const scalarSizes: Partial<Record<GgufScalarType, number>> = {
  uint8: 1,
  int8: 1,
  bool: 1,
  uint16: 2,
  int16: 2,
  uint32: 4,
  int32: 4,
  float32: 4,
  uint64: 8,
  int64: 8,
  float64: 8,
};
const typeNamesById = new Map<number, GgufScalarType | 'array'>(
  Object.entries(GgufValueTypeId).map(([name, id]) => [id, name as GgufScalarType | 'array']),
);

class HeaderParser {
  private position = 0;
  private context = 'the header';
  private readonly view: DataView;

  constructor(
    private readonly bytes: Buffer,
    private readonly fileSize: number,
  ) {
    this.view = new DataView(bytes.buffer, bytes.byteOffset, bytes.length);
  }

  parse(): GgufHeader {
    if (this.fileSize < 4 || this.uint32() !== GGUF_MAGIC) {
      throw new GgufFormatError('not a GGUF file: bad magic (expected "GGUF")');
    }
    const version = this.uint32();
    if (!GGUF_READABLE_VERSIONS.includes(version)) {
      throw new GgufFormatError(
        `unsupported GGUF version ${version} (llama.cpp reads ${GGUF_READABLE_VERSIONS.join(' and ')})`,
      );
    }
    const tensorCount = this.count('tensor count', 8 + 4 + 4 + 8);
    const keyCount = this.count('metadata key count', 8 + 4 + 1);
    const metadata = new Map<string, GgufValue>();
    for (let i = 0; i < keyCount; i++) {
      this.context = `metadata key #${i}`;
      const key = this.string();
      this.context = `metadata key '${key}'`;
      if (metadata.has(key)) throw new GgufFormatError(`duplicate metadata key '${key}'`);
      metadata.set(key, this.value());
    }
    const alignment = alignmentOf(metadata);
    const tensors = this.tensorInfos(tensorCount, alignment);
    const dataOffset = alignUp(this.position, alignment);
    for (const tensor of tensors) {
      if (dataOffset + tensor.offset + tensor.byteSize > this.fileSize) {
        throw new GgufFormatError(
          `tensor '${tensor.name}' data (${tensor.byteSize} bytes at ${dataOffset + tensor.offset}) extends past the end of the file (${this.fileSize} bytes): truncated file`,
        );
      }
    }
    return { version, alignment, metadata, tensors, dataOffset, fileSize: this.fileSize };
  }

  private tensorInfos(count: number, alignment: number): GgufTensorInfo[] {
    const tensors: GgufTensorInfo[] = [];
    const names = new Set<string>();
    let expectedOffset = 0n;
    for (let i = 0; i < count; i++) {
      this.context = `tensor info #${i}`;
      const name = this.string();
      this.context = `tensor info '${name}'`;
      if (Buffer.byteLength(name) >= GGML_MAX_NAME)
        throw new GgufFormatError(`tensor name '${name}' is ${GGML_MAX_NAME} bytes or longer`);
      if (names.has(name)) throw new GgufFormatError(`duplicate tensor '${name}'`);
      names.add(name);
      const dimCount = this.uint32();
      if (dimCount < 1 || dimCount > GGML_MAX_DIMS)
        throw new GgufFormatError(`tensor '${name}' has ${dimCount} dims (1 to ${GGML_MAX_DIMS} allowed)`);
      const dims: bigint[] = [];
      for (let d = 0; d < dimCount; d++) dims.push(this.uint64());
      const type = this.uint32();
      const offset = this.uint64();
      const layout = ggmlBlockLayout(type);
      if (layout === undefined) throw new GgufFormatError(`tensor '${name}' has unknown ggml type ${type}`);
      const typeName = ggmlTypeName(type)!;
      if (dims[0]! % BigInt(layout.blockSize) !== 0n) {
        throw new GgufFormatError(
          `tensor '${name}': ne0 = ${dims[0]} is not a multiple of the ${typeName} block size ${layout.blockSize}`,
        );
      }
      const elements = dims.reduce((product, n) => product * n, 1n);
      const byteSize = (elements / BigInt(layout.blockSize)) * BigInt(layout.typeSize);
      if (byteSize > BigInt(this.fileSize)) {
        throw new GgufFormatError(
          `tensor '${name}' with dims [${dims.join(', ')}] needs ${byteSize} bytes, more than the whole file (${this.fileSize})`,
        );
      }
      if (offset !== expectedOffset) {
        throw new GgufFormatError(
          `tensor '${name}' has data offset ${offset}, expected ${expectedOffset} (llama.cpp needs tensors packed in order, ${alignment}-byte aligned)`,
        );
      }
      expectedOffset += BigInt(alignUp(Number(byteSize), alignment));
      const dimNumbers = dims.map(Number);
      tensors.push({
        name,
        dims: dimNumbers,
        shape: [...dimNumbers].reverse(),
        type,
        typeName,
        offset: Number(offset),
        byteSize: Number(byteSize),
      });
    }
    return tensors;
  }

  private value(): GgufValue {
    const type = this.valueType();
    if (type !== 'array') return { type, value: this.scalar(type) } as GgufValue;
    const itemType = this.valueType();
    if (itemType === 'array') throw new GgufFormatError(`${this.context}: arrays of arrays are not supported`);
    const length = this.count(`${this.context} array length`, scalarSizes[itemType] ?? 8);
    const items = new Array<GgufScalar>(length);
    for (let i = 0; i < length; i++) items[i] = this.scalar(itemType);
    return { type: 'array', itemType, value: items };
  }

  private valueType(): GgufScalarType | 'array' {
    const id = this.uint32();
    const type = typeNamesById.get(id);
    if (type === undefined) throw new GgufFormatError(`${this.context}: unknown value type ${id}`);
    return type;
  }

  private scalar(type: GgufScalarType): GgufScalar {
    if (type === 'string') return this.string();
    const at = this.take(scalarSizes[type]!);
    const v = this.view;
    switch (type) {
      case 'uint8':
        return v.getUint8(at);
      case 'int8':
        return v.getInt8(at);
      case 'bool':
        return v.getUint8(at) !== 0;
      case 'uint16':
        return v.getUint16(at, true);
      case 'int16':
        return v.getInt16(at, true);
      case 'uint32':
        return v.getUint32(at, true);
      case 'int32':
        return v.getInt32(at, true);
      case 'float32':
        return v.getFloat32(at, true);
      case 'uint64':
        return v.getBigUint64(at, true);
      case 'int64':
        return v.getBigInt64(at, true);
      case 'float64':
        return v.getFloat64(at, true);
    }
  }

  private string(): string {
    const length = this.count(`${this.context} string length`, 1);
    const at = this.take(length);
    return this.bytes.toString('utf8', at, at + length);
  }

  /** A uint64 count of items of at least minItemSize bytes each, refused if they cannot fit in the file. */
  private count(what: string, minItemSize: number): number {
    const value = this.uint64();
    const remaining = BigInt(this.fileSize - this.position);
    if (value * BigInt(minItemSize) > remaining) {
      throw new GgufFormatError(
        `truncated or corrupt file: ${what} ${value} at offset ${this.position - 8} needs more than the ${remaining} bytes left`,
      );
    }
    return Number(value);
  }

  private uint32(): number {
    return this.view.getUint32(this.take(4), true);
  }

  private uint64(): bigint {
    return this.view.getBigUint64(this.take(8), true);
  }

  /** Advances past size bytes and returns where they start. */
  private take(size: number): number {
    const at = this.position;
    const end = at + size;
    if (end > this.fileSize) {
      throw new GgufFormatError(
        `truncated file: it ends at byte ${this.fileSize} while reading ${this.context} (needs byte ${end})`,
      );
    }
    // A signal to read further, not a failure: it needs no stack.
    // eslint-disable-next-line @typescript-eslint/only-throw-error
    if (end > this.bytes.length) throw new NeedMoreBytes(end);
    this.position = end;
    return at;
  }
}

function alignmentOf(metadata: ReadonlyMap<string, GgufValue>): number {
  const value = metadata.get('general.alignment');
  if (value === undefined) return GGUF_DEFAULT_ALIGNMENT;
  if (value.type !== 'uint32' || value.value === 0 || (value.value & (value.value - 1)) !== 0) {
    throw new GgufFormatError(
      `general.alignment must be a uint32 power of two, got ${value.type} ${String(value.value)}`,
    );
  }
  return value.value;
}
