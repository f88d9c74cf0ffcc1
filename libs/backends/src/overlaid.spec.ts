import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { overlaid } from './overlaid.js';

describe('overlaid: what { ...source, ...over } makes', () => {
  it('has the source keys in their order, overridden in place, then the new ones', () => {
    const source = { index: 3, generated_text: 'a', details: { seed: 1 } };
    const over = { generated_text: 'b', model_id: 'm' };
    const made = overlaid(source, over);
    const spread = { ...source, ...over };
    assert.deepEqual(made, spread);
    assert.deepEqual(Object.keys(made), Object.keys(spread));
    assert.equal(JSON.stringify(made), JSON.stringify(spread));
  });

  it('copies: neither the source nor the overlay changes', () => {
    const source = { a: 1 };
    const over = { b: 2 };
    const made = overlaid(source, over);
    assert.notEqual(made, source);
    assert.deepEqual(source, { a: 1 });
    assert.deepEqual(over, { b: 2 });
  });

  it('takes an absent or null source as empty, as a spread does', () => {
    assert.deepEqual(overlaid(undefined, { details: true }), { details: true });
    assert.deepEqual(overlaid(null, { max_new_tokens: 16 }), { max_new_tokens: 16 });
  });

  it("keeps a parsed __proto__ key as data, as a spread does, instead of setting the copy's prototype", () => {
    const parsed = JSON.parse('{"__proto__":{"polluted":true},"generated_text":"x"}') as object;
    const made = overlaid(parsed, { model_id: 'm' });
    assert.equal(Object.getPrototypeOf(made), Object.prototype);
    assert.equal((made as { polluted?: unknown }).polluted, undefined);
    assert.equal(JSON.stringify(made), JSON.stringify({ ...parsed, model_id: 'm' }));
    assert.match(JSON.stringify(made), /"__proto__":\{"polluted":true\}/);
  });
});
