import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { float16ToFloat32 } from './float16.js';
import { GgmlType } from './ggml-types.js';
import { quantize, quantizeF16, quantizeQ4_0, quantizeQ8_0 } from './quantize.js';

const scaleOf = (bytes: Uint8Array, at = 0) => float16ToFloat32(bytes[at]! | (bytes[at + 1]! << 8));

describe('quantizeQ8_0', () => {
  it('stores d = amax/127 as fp16 and q = round(x/d), ties away from zero', () => {
    // amax 127 gives d = 1, so q is x rounded: 2.5 -> 3 and -2.5 -> -3 (roundf), 0.4 -> 0.
    const x = new Float32Array(32);
    x.set([127, -127, 2.5, -2.5, 0.4, -0.6, 1.5, 100.49]);
    const block = quantizeQ8_0(x);
    assert.equal(block.length, 34);
    assert.equal(block[0], 0x00); // fp16 1.0 = 0x3c00, little-endian
    assert.equal(block[1], 0x3c);
    const q = Int8Array.from(block.subarray(2));
    assert.deepEqual([...q.subarray(0, 9)], [127, -127, 3, -3, 0, -1, 2, 100, 0]);
  });

  it('uses the float32 scale, not the rounded fp16 one, to quantize', () => {
    // amax 1 -> d = 1/127 (float32) -> id = 127: x = 0.5 gives 63.5 -> 64.
    const x = new Float32Array(32);
    x[0] = 1;
    x[1] = 0.5;
    const block = quantizeQ8_0(x);
    assert.equal(scaleOf(block), float16ToFloat32(0x2008)); // fp16(1/127)
    assert.equal(Int8Array.from(block.subarray(2))[0], 127);
    assert.equal(Int8Array.from(block.subarray(2))[1], 64);
  });

  it('writes an all-zero block as d = 0 and q = 0', () => {
    assert.deepEqual([...quantizeQ8_0(new Float32Array(32))], new Array(34).fill(0));
  });

  it('refuses a length that is not whole blocks', () => {
    assert.throws(() => quantizeQ8_0(new Float32Array(33)), /multiple of 32/);
  });
});

describe('quantizeQ4_0', () => {
  it('stores d = max/-8 (signed max) and packs element j low, j+16 high', () => {
    // max = -8 (largest magnitude, negative) -> d = 1, id = 1: q = min(15, trunc(x + 8.5)).
    const x = new Float32Array(32);
    x[0] = -8; // q 0
    x[1] = 7; // q 15
    x[2] = 0.49; // trunc(8.99) = 8
    x[3] = 0.5; // trunc(9.0) = 9
    x[16] = -3; // q 5, high nibble of byte 0
    x[17] = 7.9; // min(15, 16) = 15
    const block = quantizeQ4_0(x);
    assert.equal(block.length, 18);
    assert.equal(scaleOf(block), 1);
    const qs = block.subarray(2);
    assert.equal(qs[0], 0 | (5 << 4));
    assert.equal(qs[1], 15 | (15 << 4));
    assert.equal(qs[2], 8 | (8 << 4));
    assert.equal(qs[3], 9 | (8 << 4));
  });

  it('takes the sign of the value of largest magnitude, the first one on ties', () => {
    const positive = new Float32Array(32);
    positive[5] = 4;
    positive[6] = -4;
    const block = quantizeQ4_0(positive);
    assert.equal(scaleOf(block), -0.5); // d = 4 / -8
    // id = -2: 4 -> -8 + 8.5 -> 0; -4 -> 8 + 8.5 = 16.5 -> 15 (clamped); 0 -> 8.
    assert.equal(block[2 + 5]! & 0x0f, 0);
    assert.equal(block[2 + 6]! & 0x0f, 15);
    assert.equal(block[2 + 0]! & 0x0f, 8);
  });

  it('writes an all-zero block as d = -0 (0 / -8, as ggml) and every nibble 8', () => {
    const block = quantizeQ4_0(new Float32Array(32));
    assert.deepEqual([...block.subarray(0, 2)], [0x00, 0x80]);
    assert.ok(block.subarray(2).every((byte) => byte === 0x88));
  });
});

describe('quantize', () => {
  it('dispatches on the ggml type and keeps F32 bytes as they are', () => {
    const x = Float32Array.from({ length: 64 }, (_, i) => i / 7 - 3);
    assert.deepEqual(quantize(x, GgmlType.F32), new Uint8Array(x.buffer));
    assert.deepEqual(quantize(x, GgmlType.F16), quantizeF16(x));
    assert.deepEqual(quantize(x, GgmlType.Q8_0), quantizeQ8_0(x));
    assert.deepEqual(quantize(x, GgmlType.Q4_0), quantizeQ4_0(x));
    assert.throws(() => quantize(x, GgmlType.Q4_K as never), /cannot write/);
  });
});
