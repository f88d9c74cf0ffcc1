// IEEE half precision, rounding to nearest even like ggml's GGML_FP32_TO_FP16 (F16C _cvtss_sh).
// Integer-only on the float32 bit pattern: much faster in JS than float arithmetic per element.

/** The fp16 bit pattern of the float32 with these bits. */
export function float32BitsToFloat16(bits: number): number {
  const sign = (bits >>> 16) & 0x8000;
  const abs = bits & 0x7fffffff;
  if (abs >= 0x7f800000) return sign | (abs > 0x7f800000 ? 0x7e00 : 0x7c00); // NaN, infinity
  if (abs >= 0x47800000) return sign | 0x7c00; // >= 65536: overflow
  if (abs >= 0x38800000) {
    // Normal half: rebias the exponent (127 -> 15), drop 13 mantissa bits, round half to even;
    // a carry out of the mantissa correctly bumps the exponent (65520 and up become infinity).
    const rebiased = abs - 0x38000000;
    const kept = rebiased >>> 13;
    const dropped = rebiased & 0x1fff;
    return sign | (kept + (dropped > 0x1000 || (dropped === 0x1000 && (kept & 1) === 1) ? 1 : 0));
  }
  if (abs <= 0x33000000) return sign; // <= 2^-25 rounds to zero
  // Subnormal half: units of 2^-24.
  const exponent = abs >>> 23;
  const mantissa = (abs & 0x7fffff) | 0x800000;
  const shift = 126 - exponent;
  const kept = mantissa >>> shift;
  const dropped = mantissa & ((1 << shift) - 1);
  const half = 1 << (shift - 1);
  return sign | (kept + (dropped > half || (dropped === half && (kept & 1) === 1) ? 1 : 0));
}

const scratch = new Float32Array(1);
const scratchBits = new Uint32Array(scratch.buffer);

export function float32ToFloat16(value: number): number {
  scratch[0] = value;
  return float32BitsToFloat16(scratchBits[0]!);
}

export function float16ToFloat32(half: number): number {
  const sign = half & 0x8000 ? -1 : 1;
  const exponent = (half >>> 10) & 0x1f;
  const mantissa = half & 0x3ff;
  if (exponent === 0) return sign * mantissa * 2 ** -24;
  if (exponent === 0x1f) return mantissa === 0 ? sign * Infinity : NaN;
  return sign * (1 + mantissa / 1024) * 2 ** (exponent - 15);
}
