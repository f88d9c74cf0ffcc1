import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { float16ToFloat32, float32ToFloat16 } from './float16.js';

describe('float32ToFloat16', () => {
  it('encodes exact values', () => {
    assert.equal(float32ToFloat16(0), 0x0000);
    assert.equal(float32ToFloat16(-0), 0x8000);
    assert.equal(float32ToFloat16(1), 0x3c00);
    assert.equal(float32ToFloat16(-2), 0xc000);
    assert.equal(float32ToFloat16(0.5), 0x3800);
    assert.equal(float32ToFloat16(65504), 0x7bff);
    assert.equal(float32ToFloat16(2 ** -14), 0x0400); // smallest normal
    assert.equal(float32ToFloat16(2 ** -24), 0x0001); // smallest subnormal
  });

  it('rounds to nearest, ties to even, in normal and subnormal ranges', () => {
    assert.equal(float32ToFloat16(1 + 2 ** -11), 0x3c00); // tie between 0x3c00 and 0x3c01: even wins
    assert.equal(float32ToFloat16(1 + 3 * 2 ** -11), 0x3c02); // tie between 0x3c01 and 0x3c02: even wins
    assert.equal(float32ToFloat16(1 + 2 ** -11 + 2 ** -20), 0x3c01); // just above the tie
    assert.equal(float32ToFloat16(2 ** -25), 0x0000); // tie between 0 and the smallest subnormal
    assert.equal(float32ToFloat16(3 * 2 ** -25), 0x0002);
    assert.equal(float32ToFloat16(2 ** -14 - 2 ** -26), 0x0400); // rounds up into the normals
  });

  it('overflows to infinity from 65520 and keeps NaN a NaN', () => {
    assert.equal(float32ToFloat16(65519), 0x7bff);
    assert.equal(float32ToFloat16(65520), 0x7c00);
    assert.equal(float32ToFloat16(-1e9), 0xfc00);
    assert.equal(float32ToFloat16(Infinity), 0x7c00);
    assert.equal(float32ToFloat16(NaN) & 0x7e00, 0x7e00);
  });

  it('round-trips every finite half through float32', () => {
    for (let half = 0; half < 0x10000; half++) {
      if ((half & 0x7c00) === 0x7c00) continue;
      assert.equal(float32ToFloat16(float16ToFloat32(half)), half);
    }
  });
});
