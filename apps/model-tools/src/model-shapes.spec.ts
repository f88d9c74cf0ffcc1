import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import {
  formatParameterCount,
  parameterCount,
  parseParameterCount,
  shapeForTarget,
  shapeProblem,
} from './model-shapes.js';

describe('model shapes', () => {
  it('reads and prints parameter counts', () => {
    assert.equal(parseParameterCount('134M'), 134e6);
    assert.equal(parseParameterCount('1.5b'), 1.5e9);
    assert.equal(parseParameterCount('800k'), 800e3);
    assert.throws(() => parseParameterCount('lots'), /cannot read parameter count 'lots'/);
    assert.equal(formatParameterCount(134_515_008), '134.5M');
    assert.equal(formatParameterCount(1_100_048_384), '1.1B');
  });

  it('gives 134M the SmolLM-135M shape and 1B the TinyLlama-1.1B shape', () => {
    const small = shapeForTarget('134M');
    assert.deepEqual(small, { dim: 576, layers: 30, heads: 9, kvHeads: 3, ffn: 1536, vocab: 49152, tiedOutput: true });
    assert.equal(parameterCount('llama', small), 134_515_008);
    const large = shapeForTarget('1B');
    assert.equal(formatParameterCount(parameterCount('llama', large)), '1.1B');
  });

  it('finds a usable shape within 25% of any other target', () => {
    for (const target of ['5M', '30M', '70M', '350M', '3B']) {
      const shape = shapeForTarget(target);
      assert.equal(shapeProblem(shape), undefined, target);
      const ratio = parameterCount('llama', shape) / parseParameterCount(target);
      assert.ok(ratio > 0.75 && ratio < 1.25, `${target}: ${JSON.stringify(shape)} is off by ${ratio}`);
    }
  });

  it('names what llama.cpp or the quantizers could not use', () => {
    const base = { dim: 256, layers: 2, heads: 4, kvHeads: 2, ffn: 512, vocab: 1000, tiedOutput: false };
    assert.equal(shapeProblem(base), undefined);
    assert.match(shapeProblem({ ...base, heads: 3 })!, /not a multiple of heads 3/);
    assert.match(shapeProblem({ ...base, kvHeads: 3 })!, /not a multiple of kv-heads 3/);
    assert.match(shapeProblem({ ...base, ffn: 500 })!, /multiples of 32/);
    assert.match(shapeProblem({ ...base, layers: 0 })!, /positive integer/);
  });
});
