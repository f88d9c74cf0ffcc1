import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { jsonShapeProblem } from './json-shape.js';

describe('jsonShapeProblem', () => {
  it('passes the bodies the gateway serves, and values that are not objects', () => {
    assert.equal(jsonShapeProblem({ model_id: 'qwen2', inputs: 'Hi', parameters: { stop: ['a', 'b'] } }), undefined);
    for (const value of [null, 'text', 42, true, undefined, []]) assert.equal(jsonShapeProblem(value), undefined);
  });

  it('refuses a body deeper than 64 levels, even 1,000,000 deep, without overflowing the stack', () => {
    const at = (depth: number) => JSON.parse('['.repeat(depth) + ']'.repeat(depth)) as unknown;
    assert.equal(jsonShapeProblem(at(64)), undefined);
    assert.equal(jsonShapeProblem(at(65)), 'the request body nests deeper than 64 levels');
    assert.equal(jsonShapeProblem(at(1_000_000)), 'the request body nests deeper than 64 levels');
    const objects = JSON.parse('{"a":'.repeat(100_000) + '1' + '}'.repeat(100_000)) as unknown;
    assert.equal(jsonShapeProblem(objects), 'the request body nests deeper than 64 levels');
  });

  it('refuses more than 1,000 keys in one object and 10,000 in all', () => {
    const keys = (n: number, prefix = 'k') =>
      Object.fromEntries(Array.from({ length: n }, (_, i) => [`${prefix}${i}`, i]));
    assert.equal(jsonShapeProblem(keys(1000)), undefined);
    assert.equal(jsonShapeProblem(keys(1001)), 'an object of the request body has more than 1000 keys');
    assert.equal(jsonShapeProblem(Array.from({ length: 10 }, () => keys(999))), undefined);
    assert.equal(
      jsonShapeProblem(Array.from({ length: 11 }, () => keys(999))),
      'the request body has more than 10000 keys in all',
    );
  });

  it('takes other limits', () => {
    const limits = { maxDepth: 2, maxKeysPerObject: 2, maxKeys: 3 };
    assert.equal(jsonShapeProblem({ a: { b: 1 } }, limits), undefined);
    assert.equal(jsonShapeProblem({ a: { b: [] } }, limits), 'the request body nests deeper than 2 levels');
    assert.equal(jsonShapeProblem({ a: { b: 1, c: 2 }, d: 1 }, limits), 'the request body has more than 3 keys in all');
  });
});
