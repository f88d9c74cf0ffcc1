import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { SeededNormal } from './seeded-normal.js';

describe('SeededNormal', () => {
  it('repeats itself for a seed and differs between seeds', () => {
    const a = new SeededNormal(3).fill(new Float32Array(1001), 1);
    assert.deepEqual(new SeededNormal(3).fill(new Float32Array(1001), 1), a);
    assert.notDeepEqual(new SeededNormal(4).fill(new Float32Array(1001), 1), a);
  });

  it('has the mean and spread asked for', () => {
    const values = new SeededNormal(1).fill(new Float32Array(1 << 20), 0.02);
    const mean = values.reduce((s, v) => s + v, 0) / values.length;
    const std = Math.sqrt(values.reduce((s, v) => s + (v - mean) ** 2, 0) / values.length);
    assert.ok(Math.abs(mean) < 1e-4, `mean ${mean}`);
    assert.ok(Math.abs(std - 0.02) < 0.0005, `std ${std}`);
    assert.ok(values.every(Number.isFinite));
  });
});
