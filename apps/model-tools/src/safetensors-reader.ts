// Reads safetensors files (an 8-byte little-endian header length, a JSON header of
// {name: {dtype, shape, data_offsets}}, then the raw data) by positional reads, a few rows at a
// time, so a checkpoint never needs to fit in memory. No well-kept npm package does this (the
// `safetensors` name on npm is an empty 0.0.1 placeholder).
import { open, type FileHandle } from 'node:fs/promises';
import { float16ToFloat32 } from '#gguf';

export interface SafetensorsTensor {
  readonly name: string;
  readonly dtype: string;
  readonly shape: readonly number[];
  /** Absolute byte range in the file. */
  readonly begin: number;
  readonly end: number;
}

const bytesPerElement: Readonly<Record<string, number>> = { F32: 4, F16: 2, BF16: 2 };
const MAX_HEADER_BYTES = 100 * 2 ** 20; // the format's own limit

export class SafetensorsFile {
  private constructor(
    readonly path: string,
    private readonly file: FileHandle,
    readonly tensors: ReadonlyMap<string, SafetensorsTensor>,
    readonly metadata: Readonly<Record<string, string>>,
  ) {}

  static async open(path: string): Promise<SafetensorsFile> {
    const file = await open(path, 'r');
    try {
      const { size } = await file.stat();
      const fail = (problem: string): never => {
        throw new Error(`${path}: not a valid safetensors file: ${problem}`);
      };
      if (size < 8) fail('shorter than its 8-byte header length');
      const lengthBytes = Buffer.alloc(8);
      await file.read(lengthBytes, 0, 8, 0);
      const headerLength = Number(lengthBytes.readBigUInt64LE(0));
      if (headerLength > MAX_HEADER_BYTES || 8 + headerLength > size)
        fail(`header length ${headerLength} does not fit the file`);
      const headerBytes = Buffer.alloc(headerLength);
      await file.read(headerBytes, 0, headerLength, 8);
      let header: Record<string, unknown>;
      try {
        header = JSON.parse(headerBytes.toString('utf8')) as Record<string, unknown>;
      } catch (error) {
        return fail(`header is not JSON (${(error as Error).message})`);
      }
      const dataStart = 8 + headerLength;
      const tensors = new Map<string, SafetensorsTensor>();
      for (const [name, entry] of Object.entries(header)) {
        if (name === '__metadata__') continue;
        const {
          dtype,
          shape,
          data_offsets: offsets,
        } = entry as { dtype?: unknown; shape?: unknown; data_offsets?: unknown };
        if (typeof dtype !== 'string' || !Array.isArray(shape) || !Array.isArray(offsets) || offsets.length !== 2)
          fail(`bad entry for '${name}'`);
        const dims = shape as number[];
        const [begin, end] = (offsets as number[]).map((offset) => dataStart + offset) as [number, number];
        if (!dims.every((n) => Number.isSafeInteger(n) && n >= 0)) fail(`'${name}' has shape ${JSON.stringify(shape)}`);
        if (!(begin <= end && end <= size))
          fail(`'${name}' data [${begin}, ${end}) lies outside the file (${size} bytes)`);
        const elementBytes = bytesPerElement[dtype as string];
        if (elementBytes !== undefined && dims.reduce((p, n) => p * n, 1) * elementBytes !== end - begin) {
          fail(
            `'${name}' holds ${end - begin} bytes, its ${String(dtype)} shape [${dims}] needs ${dims.reduce((p, n) => p * n, 1) * elementBytes}`,
          );
        }
        tensors.set(name, { name, dtype: dtype as string, shape: dims, begin, end });
      }
      const metadata = (header['__metadata__'] ?? {}) as Record<string, string>;
      return new SafetensorsFile(path, file, tensors, metadata);
    } catch (error) {
      await file.close();
      throw error;
    }
  }

  /** The tensor's values as float32, in chunks of whole rows (about chunkValues values each). */
  async *readRows(name: string, chunkValues = 1 << 20): AsyncGenerator<Float32Array> {
    const tensor = this.tensors.get(name);
    if (tensor === undefined) throw new Error(`${this.path}: no tensor '${name}'`);
    const elementBytes = bytesPerElement[tensor.dtype];
    if (elementBytes === undefined)
      throw new Error(`${this.path}: '${name}' is ${tensor.dtype}; only F32, F16 and BF16 are supported`);
    const rowLength = Math.max(1, tensor.shape.at(-1) ?? 1);
    const total = tensor.shape.reduce((p, n) => p * n, 1);
    const perChunk = Math.min(total, Math.max(1, Math.floor(chunkValues / rowLength)) * rowLength);
    for (let done = 0; done < total; done += perChunk) {
      const count = Math.min(perChunk, total - done);
      const raw = new Uint8Array(count * elementBytes);
      let read = 0;
      while (read < raw.length) {
        const { bytesRead } = await this.file.read(
          raw,
          read,
          raw.length - read,
          tensor.begin + done * elementBytes + read,
        );
        if (bytesRead === 0) throw new Error(`${this.path}: '${name}' ends early`);
        read += bytesRead;
      }
      yield toFloat32(raw, tensor.dtype);
    }
  }

  async close(): Promise<void> {
    await this.file.close();
  }
}

function toFloat32(raw: Uint8Array, dtype: string): Float32Array {
  if (dtype === 'F32') return new Float32Array(raw.buffer, raw.byteOffset, raw.length / 4);
  const halves = new Uint16Array(raw.buffer, raw.byteOffset, raw.length / 2);
  if (dtype === 'BF16') {
    const bits = new Uint32Array(halves.length);
    for (let i = 0; i < halves.length; i++) bits[i] = halves[i]! << 16; // bfloat16 is the top half of a float32
    return new Float32Array(bits.buffer);
  }
  return Float32Array.from(halves, float16ToFloat32);
}
