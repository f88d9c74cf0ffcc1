import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { nearestRank, percentile, percentileOfSorted, sortSamples } from './percentile.js';

describe('nearest-rank percentiles', () => {
  it('pick the smallest sample with at least p % of the samples at or below it', () => {
    const samples = [50, 15, 40, 20, 35];
    assert.equal(percentile(samples, 5), 15);
    assert.equal(percentile(samples, 30), 20);
    assert.equal(percentile(samples, 40), 20);
    assert.equal(percentile(samples, 50), 35);
    assert.equal(percentile(samples, 100), 50);
  });

  it('give the minimum at p0, and the only sample for any p when there is one', () => {
    assert.equal(percentile([7, 3, 9], 0), 3);
    for (const p of [0, 1, 50, 99, 99.9, 100]) assert.equal(percentile([42], p), 42);
  });

  it('give null without samples', () => {
    assert.equal(percentile([], 50), null);
    assert.equal(percentileOfSorted(new Float64Array(0), 99), null);
  });

  it('are exact at the rank boundaries (no floating-point drift)', () => {
    assert.equal(nearestRank(99.9, 1000), 999);
    assert.equal(nearestRank(99, 100), 99);
    assert.equal(nearestRank(99, 101), 100);
    assert.equal(nearestRank(50, 2), 1);
    assert.equal(nearestRank(50, 3), 2);
    assert.equal(nearestRank(99.99, 10_000), 9999);
    const thousand = Array.from({ length: 1000 }, (_, i) => i + 1);
    assert.equal(percentile(thousand, 99.9), 999);
    assert.equal(percentile(thousand, 99), 990);
    assert.equal(percentile(thousand, 50), 500);
  });

  it('never interpolate: the answer is always one of the samples', () => {
    const samples = [1, 1000];
    assert.equal(percentile(samples, 50), 1);
    assert.equal(percentile(samples, 51), 1000);
  });

  it('sort numerically, not as strings', () => {
    assert.deepEqual([...sortSamples([10, 9, 100, 1.5])], [1.5, 9, 10, 100]);
  });

  it('refuse a p outside 0..100', () => {
    assert.throws(() => percentile([1], 101), RangeError);
    assert.throws(() => percentile([1], -1), RangeError);
  });
});
