import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { EngineError } from './errors.js';
import { validateChatRequest, validateCompletionRequest } from './openai-validation.js';
import { usesSampling } from './validation.js';

const limits = { maxStopSequences: 4, maxTopNTokens: 5, maxInputTokens: 100 };
const messages = [{ role: 'user', content: 'hi' }];

function refuses(read: () => unknown, message: RegExp) {
  assert.throws(read, (error: unknown) => {
    assert.ok(error instanceof EngineError);
    assert.equal(error.status, 422);
    assert.match(error.message, /^Input validation error: /);
    assert.match(error.message, message);
    return true;
  });
}

describe('validateChatRequest', () => {
  it('samples by default and reads temperature 0 as greedy, as TGI does', () => {
    assert.equal(usesSampling(validateChatRequest({ messages }, limits).parameters), true);
    const greedy = validateChatRequest({ messages, temperature: 0 }, limits).parameters;
    assert.equal(usesSampling(greedy), false);
    assert.equal(greedy.temperature, undefined);
    assert.equal(validateChatRequest({ messages, temperature: 0.7 }, limits).parameters.temperature, 0.7);
  });

  it('maps the OpenAI fields to generation parameters', () => {
    const request = validateChatRequest(
      {
        model: 'anything',
        user: 'ignored',
        messages: [
          { role: 'system', content: 'be brief' },
          {
            role: 'user',
            content: [
              { type: 'text', text: 'a' },
              { type: 'text', text: 'b' },
            ],
          },
        ],
        max_tokens: 7,
        top_p: 0.9,
        stop: ['x'],
        seed: 3,
        frequency_penalty: 0.5,
        presence_penalty: 0.5,
        logprobs: true,
        top_logprobs: 2,
        stream: true,
        stream_options: { include_usage: true },
        response_format: { type: 'json_object' },
      },
      limits,
    );
    assert.deepEqual(request.messages, [
      { role: 'system', content: 'be brief' },
      { role: 'user', content: 'ab' },
    ]);
    const p = request.parameters;
    assert.deepEqual(
      [p.maxNewTokens, p.topP, p.stop, p.seed, p.frequencyPenalty, p.repetitionPenalty, p.topNTokens],
      [7, 0.9, ['x'], 3, 0.5, 2.5, 2],
    );
    assert.deepEqual(p.grammar, { schema: null });
    assert.deepEqual([request.logprobs, request.stream, request.includeUsage], [true, true, true]);
    assert.equal(validateChatRequest({ messages, top_logprobs: 2 }, limits).parameters.topNTokens, 0);
  });

  it('reads response_format in TGI and OpenAI forms', () => {
    const schema = { type: 'object' };
    const read = (response_format: unknown) =>
      validateChatRequest({ messages, response_format }, limits).parameters.grammar;
    assert.deepEqual(read({ type: 'json', value: schema }), { schema });
    assert.deepEqual(read({ type: 'json', value: JSON.stringify(schema) }), { schema });
    assert.deepEqual(read({ type: 'json_schema', value: { schema } }), { schema });
    assert.deepEqual(read({ type: 'json_schema', json_schema: { name: 'x', schema } }), { schema });
    assert.deepEqual(read({ type: 'json_schema', json_schema: { name: 'x' } }), { schema: null });
    assert.equal(read({ type: 'text' }), undefined);
    assert.equal(read(null), undefined);
    refuses(() => read({ type: 'regex', value: 'a' }), /regex/);
    refuses(() => read({ type: 'yaml' }), /`response_format.type` must be one of/);
    refuses(() => read({ type: 'json', value: '{nope' }), /grammar is not valid/);
  });

  it('refuses what TGI refuses, and what this engine does not serve', () => {
    refuses(() => validateChatRequest({}, limits), /missing field `messages`/);
    refuses(() => validateChatRequest({ messages: [] }, limits), /`messages` cannot be empty/);
    refuses(() => validateChatRequest({ messages: 'hi' }, limits), /`messages` must be an array/);
    refuses(() => validateChatRequest({ messages: [{ role: 'tool', content: 'x' }] }, limits), /Given: tool/);
    refuses(
      () => validateChatRequest({ messages: [{ role: 'user' }] }, limits),
      /missing field `messages\[0\]\.content`/,
    );
    refuses(
      () => validateChatRequest({ messages: [{ role: 'user', content: 1 }] }, limits),
      /must be a string or an array/,
    );
    refuses(() => validateChatRequest({ messages, n: 2 }, limits), /`n` must be > 0 and <= 1. Given: 2/);
    refuses(() => validateChatRequest({ messages, tools: [{}] }, limits), /`tools` are not supported/);
    refuses(() => validateChatRequest({ messages, tool_choice: 'auto' }, limits), /`tool_choice`/);
    refuses(() => validateChatRequest({ messages, logit_bias: { '5': 1 } }, limits), /`logit_bias`/);
    refuses(() => validateChatRequest({ messages, top_logprobs: 6 }, limits), /`top_logprobs` must be >= 0 and <= 5/);
    refuses(() => validateChatRequest({ messages, max_tokens: 0 }, limits), /`max_tokens` must be strictly positive/);
    refuses(() => validateChatRequest({ messages, stop: 'x' }, limits), /`stop` must be an array of strings/);
    refuses(() => validateChatRequest({ messages, presence_penalty: 3 }, limits), /`presence_penalty`/);
    // Accepted as no-ops: an empty tools list, tool_choice none, an empty logit_bias, n = 1.
    validateChatRequest({ messages, tools: [], tool_choice: 'none', logit_bias: {}, n: 1 }, limits);
  });
});

describe('validateCompletionRequest', () => {
  it('takes a prompt string or an array of one, with TGI refusals for suffix and batches', () => {
    assert.equal(validateCompletionRequest({ prompt: 'a' }, limits).prompt, 'a');
    assert.equal(validateCompletionRequest({ prompt: ['a'] }, limits).prompt, 'a');
    const p = validateCompletionRequest({ prompt: 'a', repetition_penalty: 1.2, temperature: 0 }, limits).parameters;
    assert.deepEqual([p.repetitionPenalty, usesSampling(p)], [1.2, false]);
    refuses(() => validateCompletionRequest({ prompt: 'a', suffix: 'b' }, limits), /Suffix is not supported/);
    refuses(() => validateCompletionRequest({ prompt: ['a', 'b'] }, limits), /batch size of 1/);
    refuses(() => validateCompletionRequest({ prompt: '' }, limits), /`prompt` cannot be empty/);
    refuses(() => validateCompletionRequest({}, limits), /missing field `prompt`/);
  });
});
