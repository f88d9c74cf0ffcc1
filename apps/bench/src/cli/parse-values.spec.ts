import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { parseDuration, parseModelMix, parseStages, parseThinkTime } from './parse-values.js';
import { UsageError } from './usage-error.js';

describe('flag values', () => {
  it('read durations with units, bare numbers in the default unit', () => {
    assert.equal(parseDuration('--duration', '30s'), 30_000);
    assert.equal(parseDuration('--duration', '500ms'), 500);
    assert.equal(parseDuration('--duration', '2m'), 120_000);
    assert.equal(parseDuration('--duration', '1.5'), 1500);
    assert.equal(parseDuration('--ttft', '20', 'ms'), 20);
    assert.throws(() => parseDuration('--duration', '10 parsecs'), UsageError);
  });

  it('read a model mix with weights', () => {
    assert.deepEqual(parseModelMix('qwen2,llama3:3'), [
      { id: 'qwen2', weight: 1 },
      { id: 'llama3', weight: 3 },
    ]);
    assert.throws(() => parseModelMix('qwen2:x'), UsageError);
    assert.throws(() => parseModelMix('a:0'), /at least one weight/);
  });

  it("read think time as Locust's between(a, b)", () => {
    assert.deepEqual(parseThinkTime('1-3'), [1, 3]);
    assert.deepEqual(parseThinkTime('2'), [2, 2]);
    assert.equal(parseThinkTime('0'), null);
    assert.throws(() => parseThinkTime('3-1'), UsageError);
  });

  it('read stages as duration:target pairs', () => {
    assert.deepEqual(parseStages('30s:10,1m:10,10s:0'), [
      { durationMs: 30_000, target: 10 },
      { durationMs: 60_000, target: 10 },
      { durationMs: 10_000, target: 0 },
    ]);
    assert.throws(() => parseStages('30s'), UsageError);
  });
});
