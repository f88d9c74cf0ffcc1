import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { placeOnGpu, type HeldBudget } from './gpu-placement.js';

const held = (id: string, budgetGb: number, lastUsedAt: number, evictable = true): HeldBudget => ({
  id,
  budgetGb,
  evictable,
  lastUsedAt,
});

describe('placeOnGpu', () => {
  it('places a model that fits beside the resident ones without unloading any', () => {
    assert.deepEqual(placeOnGpu(12, [held('a', 5, 1)], 5), { fits: true, evict: [] });
    assert.deepEqual(placeOnGpu(12, [held('a', 6.8, 1)], 5.2), { fits: true, evict: [] });
  });

  it('unloads the least recently used evictable model, only as many as needed', () => {
    const resident = [held('a', 5, 300), held('b', 5, 100), held('c', 1, 50, false)];
    assert.deepEqual(placeOnGpu(12, resident, 5), { fits: true, evict: ['b'] });
    assert.deepEqual(placeOnGpu(12, resident, 10), { fits: true, evict: ['b', 'a'] });
  });

  it('never unloads a model that is not evictable, and says how much is missing', () => {
    const resident = [held('a', 5, 1, false), held('b', 5, 2, false)];
    assert.deepEqual(placeOnGpu(12, resident, 5), { fits: false, shortGb: 3 });
    assert.deepEqual(placeOnGpu(12, [held('a', 5, 1, false), held('b', 5, 2)], 8), { fits: false, shortGb: 1 });
  });
});
