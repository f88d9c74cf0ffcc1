import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { EngineError } from './errors.js';
import { checkTokenBudget, usesSampling, validateGenerateRequest } from './validation.js';

const limits = { maxStopSequences: 4, maxTopNTokens: 5, maxInputTokens: 100 };

function rejects(body: unknown, message: RegExp) {
  assert.throws(
    () => validateGenerateRequest(body, limits),
    (error: unknown) =>
      error instanceof EngineError &&
      error.status === 422 &&
      error.errorType === 'validation' &&
      message.test(error.message),
  );
}

describe('validateGenerateRequest', () => {
  it('accepts a TGI request and applies TGI defaults', () => {
    const request = validateGenerateRequest(
      { inputs: 'Hello', parameters: { max_new_tokens: 8, stop: ['.'] } },
      limits,
    );
    assert.equal(request.inputs, 'Hello');
    assert.equal(request.parameters.maxNewTokens, 8);
    assert.deepEqual(request.parameters.stop, ['.']);
    assert.equal(request.parameters.details, false);
    assert.equal(request.parameters.doSample, false);
    assert.equal(request.stream, false);
  });

  it('treats null parameters as absent, as serde does for Option fields', () => {
    const request = validateGenerateRequest(
      { inputs: 'x', parameters: { temperature: null, seed: null, top_k: null } },
      limits,
    );
    assert.equal(request.parameters.temperature, undefined);
  });

  it('refuses bodies that are not objects, missing or empty inputs', () => {
    rejects(null, /JSON object/);
    rejects([1, 2], /JSON object/);
    rejects('text', /JSON object/);
    rejects({}, /missing field `inputs`/);
    rejects({ inputs: '' }, /`inputs` cannot be empty/);
    rejects({ inputs: 42 }, /`inputs` must be a string, got number/);
  });

  it('refuses unknown fields at both levels, naming them', () => {
    rejects({ inputs: 'x', prompt: 'y' }, /unknown field `prompt`/);
    rejects({ inputs: 'x', parameters: { max_tokens: 5 } }, /unknown field `parameters.max_tokens`/);
    rejects({ inputs: 'x', stream: true }, /unknown field `stream`/);
    assert.equal(
      validateGenerateRequest({ inputs: 'x', stream: true }, limits, { allowStreamField: true }).stream,
      true,
    );
  });

  it('refuses wrong types with the field and the type given', () => {
    rejects({ inputs: 'x', parameters: 'hot' }, /`parameters` must be an object/);
    rejects({ inputs: 'x', parameters: { temperature: 'hot' } }, /`temperature` must be a number, got string/);
    rejects({ inputs: 'x', parameters: { max_new_tokens: 1.5 } }, /`max_new_tokens` must be an integer, got 1.5/);
    rejects({ inputs: 'x', parameters: { do_sample: 'yes' } }, /`do_sample` must be a boolean/);
    rejects({ inputs: 'x', parameters: { stop: 'end' } }, /`stop` must be an array of strings/);
    rejects({ inputs: 'x', parameters: { stop: [1] } }, /`stop` must be an array of strings/);
  });

  it('refuses out-of-range values with TGI wording', () => {
    rejects({ inputs: 'x', parameters: { temperature: 0 } }, /`temperature` must be strictly positive/);
    rejects({ inputs: 'x', parameters: { temperature: -1 } }, /`temperature` must be strictly positive/);
    rejects({ inputs: 'x', parameters: { top_p: 1 } }, /`top_p` must be > 0.0 and < 1.0/);
    rejects({ inputs: 'x', parameters: { top_p: 0 } }, /`top_p` must be > 0.0 and < 1.0/);
    rejects({ inputs: 'x', parameters: { top_k: 0 } }, /`top_k` must be strictly positive/);
    rejects({ inputs: 'x', parameters: { repetition_penalty: 0 } }, /`repetition_penalty` must be strictly positive/);
    rejects({ inputs: 'x', parameters: { frequency_penalty: 3 } }, /`frequency_penalty` must be >= -2.0 and <= 2.0/);
    rejects({ inputs: 'x', parameters: { max_new_tokens: 0 } }, /`max_new_tokens` must be strictly positive/);
    rejects({ inputs: 'x', parameters: { stop: ['a', 'b', 'c', 'd', 'e'] } }, /up to 4 stop sequences. Given: 5/);
    rejects({ inputs: 'x', parameters: { top_n_tokens: 6 } }, /`top_n_tokens` must be >= 0 and <= 5. Given: 6/);
    rejects({ inputs: 'x', parameters: { truncate: 0 } }, /`truncate` must be strictly positive/);
    rejects({ inputs: 'x', parameters: { best_of: 2 } }, /`best_of` must be > 0 and <= 1/);
  });

  it('says plainly which TGI features this engine does not have', () => {
    rejects({ inputs: 'x', parameters: { watermark: true } }, /`watermark` is not supported/);
    rejects(
      { inputs: 'x', parameters: { grammar: { type: 'regex', value: 'a+' } } },
      /JSON grammars only, not `regex`/,
    );
    rejects({ inputs: 'x', parameters: { typical_p: 0.5 } }, /`typical_p` is not supported/);
    rejects({ inputs: 'x', parameters: { adapter_id: 'lora' } }, /`adapter_id` is not supported/);
  });
});

describe('usesSampling', () => {
  const base = validateGenerateRequest({ inputs: 'x' }, limits).parameters;
  it('is greedy by default and samples when any warper is set, as TGI does', () => {
    assert.equal(usesSampling(base), false);
    assert.equal(usesSampling({ ...base, temperature: 1 }), false);
    assert.equal(usesSampling({ ...base, temperature: 0.7 }), true);
    assert.equal(usesSampling({ ...base, topP: 0.9 }), true);
    assert.equal(usesSampling({ ...base, topK: 5 }), true);
    assert.equal(usesSampling({ ...base, doSample: true }), true);
  });
});

describe('checkTokenBudget', () => {
  const budget = { maxInputTokens: 100, maxTotalTokens: 128 };
  it('defaults max_new_tokens to the room left, like TGI', () => {
    assert.equal(checkTokenBudget(28, undefined, budget), 100);
    assert.equal(checkTokenBudget(28, 10, budget), 10);
  });
  it('refuses prompts and totals that do not fit', () => {
    assert.throws(() => checkTokenBudget(101, 1, budget), /`inputs` must have less than 100 tokens. Given: 101/);
    assert.throws(
      () => checkTokenBudget(100, 29, budget),
      /must be <= 128. Given: 100 `inputs` tokens and 29 `max_new_tokens`/,
    );
  });
});
