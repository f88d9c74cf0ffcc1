// Float32 -> GGUF tensor bytes for the types we write. Q8_0 and Q4_0 follow ggml's
// quantize_row_q8_0_ref / quantize_row_q4_0_ref bit for bit (the functions llama-quantize uses
// without an imatrix): every float operation there is float32, hence Math.fround at each step.
import { float32BitsToFloat16 } from './float16.js';
import { GgmlType, ggmlBlockLayout, ggmlTypeName } from './ggml-types.js';

/** Types this library can produce from float32 values. */
export type WritableGgmlType = typeof GgmlType.F32 | typeof GgmlType.F16 | typeof GgmlType.Q8_0 | typeof GgmlType.Q4_0;

export const writableGgmlTypes: readonly WritableGgmlType[] = [
  GgmlType.F32,
  GgmlType.F16,
  GgmlType.Q8_0,
  GgmlType.Q4_0,
];

const QK = 32; // elements per Q8_0 / Q4_0 block

export function quantizeF32(values: Float32Array): Uint8Array {
  return new Uint8Array(values.buffer, values.byteOffset, values.byteLength); // GGUF is little-endian, like x86/ARM
}

export function quantizeF16(values: Float32Array): Uint8Array {
  const bits = new Uint32Array(values.buffer, values.byteOffset, values.length);
  const out = new Uint16Array(values.length);
  for (let i = 0; i < bits.length; i++) out[i] = float32BitsToFloat16(bits[i]!);
  return new Uint8Array(out.buffer);
}

function assertWholeBlocks(values: Float32Array, type: string): void {
  if (values.length % QK !== 0) throw new RangeError(`${type} needs a multiple of ${QK} values, got ${values.length}`);
}

/** A block's leading fp16 scale, converted from its exact float32 bits (the reference rounds from float32). */
class BlockScaleWriter {
  private readonly scratch = new Float32Array(1);
  private readonly scratchBits = new Uint32Array(this.scratch.buffer);
  private readonly view: DataView;

  constructor(out: Uint8Array) {
    this.view = new DataView(out.buffer, out.byteOffset, out.byteLength);
  }

  write(offset: number, d: number): void {
    this.scratch[0] = d;
    this.view.setUint16(offset, float32BitsToFloat16(this.scratchBits[0]!), true);
  }
}

/** Blocks of 32: fp16 scale d = amax/127, then 32 int8 q = round(x/d), ties away from zero (roundf). */
export function quantizeQ8_0(values: Float32Array): Uint8Array {
  assertWholeBlocks(values, 'Q8_0');
  const blocks = values.length / QK;
  const out = new Uint8Array(blocks * 34);
  const scales = new BlockScaleWriter(out);
  for (let b = 0; b < blocks; b++) {
    const start = b * QK;
    let amax = 0;
    for (let j = 0; j < QK; j++) amax = Math.max(amax, Math.abs(values[start + j]!));
    const d = Math.fround(amax / 127);
    const id = d ? Math.fround(1 / d) : 0;
    scales.write(b * 34, d);
    for (let j = 0; j < QK; j++) {
      const x = Math.fround(values[start + j]! * id);
      const q = x < 0 ? -Math.floor(-x + 0.5) : Math.floor(x + 0.5);
      out[b * 34 + 2 + j] = q & 0xff;
    }
  }
  return out;
}

/**
 * Blocks of 32: fp16 scale d = max / -8, where max is the value of largest magnitude (sign kept,
 * first one wins ties); nibble q = min(15, trunc(x/d + 8.5)). Byte j holds element j in its low
 * nibble and element j+16 in its high nibble.
 */
export function quantizeQ4_0(values: Float32Array): Uint8Array {
  assertWholeBlocks(values, 'Q4_0');
  const blocks = values.length / QK;
  const out = new Uint8Array(blocks * 18);
  const scales = new BlockScaleWriter(out);
  for (let b = 0; b < blocks; b++) {
    const start = b * QK;
    let amax = 0;
    let max = 0;
    for (let j = 0; j < QK; j++) {
      const v = values[start + j]!;
      if (amax < Math.abs(v)) {
        amax = Math.abs(v);
        max = v;
      }
    }
    const d = Math.fround(max / -8);
    const id = d ? Math.fround(1 / d) : 0;
    scales.write(b * 18, d);
    for (let j = 0; j < QK / 2; j++) {
      const x0 = Math.fround(values[start + j]! * id);
      const x1 = Math.fround(values[start + QK / 2 + j]! * id);
      const q0 = Math.min(15, Math.trunc(Math.fround(x0 + 8.5)));
      const q1 = Math.min(15, Math.trunc(Math.fround(x1 + 8.5)));
      out[b * 18 + 2 + j] = q0 | (q1 << 4);
    }
  }
  return out;
}

/** Encodes values as tensor data of the given type. Block types need whole blocks of 32. */
export function quantize(values: Float32Array, type: WritableGgmlType): Uint8Array {
  switch (type) {
    case GgmlType.F32:
      return quantizeF32(values);
    case GgmlType.F16:
      return quantizeF16(values);
    case GgmlType.Q8_0:
      return quantizeQ8_0(values);
    case GgmlType.Q4_0:
      return quantizeQ4_0(values);
    default:
      throw new RangeError(`cannot write ggml type ${ggmlTypeName(type) ?? type}`);
  }
}

export function isWritableGgmlType(type: number): type is WritableGgmlType {
  return (writableGgmlTypes as readonly number[]).includes(type);
}

/** Elements per block of a writable type (1 for F32/F16, 32 for Q8_0/Q4_0). */
export function blockSizeOf(type: WritableGgmlType): number {
  return ggmlBlockLayout(type)!.blockSize;
}
