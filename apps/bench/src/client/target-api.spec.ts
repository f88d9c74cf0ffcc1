import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { RequestSpec } from '../load/workload.js';
import { answerOf, errorOf, requestBody, requestPath, streamReader, usageOf, type StreamStep } from './target-api.js';

const spec = (over: Partial<RequestSpec> = {}): RequestSpec => ({
  model: 'qwen2',
  scenario: 'qa',
  lang: 'en',
  inputs: 'What is the principle of photosynthesis?',
  maxNewTokens: 16,
  temperature: 0.7,
  topP: 0.9,
  stream: true,
  ...over,
});

const chunk = (content: string | undefined, extra: Record<string, unknown> = {}) =>
  JSON.stringify({
    id: 'c',
    object: 'chat.completion.chunk',
    created: 1,
    model: 'qwen2',
    choices: [{ index: 0, delta: { role: 'assistant', ...(content === undefined ? {} : { content }) } }],
    ...extra,
  });

const readAll = (api: 'openai' | 'openai-completions' | 'gateway', events: string[]): StreamStep[] => {
  const reader = streamReader(api);
  return events.map((e) => reader.read(e));
};

describe('the OpenAI protocols: bodies', () => {
  it('asks /v1/chat/completions for one user message, max_tokens, sampling, and usage when streaming', () => {
    const s = spec();
    assert.equal(requestPath('openai', true), '/v1/chat/completions');
    assert.deepEqual(JSON.parse(requestBody({ api: 'openai' }, s)), {
      model: s.model,
      messages: [{ role: 'user', content: s.inputs }],
      max_tokens: s.maxNewTokens,
      temperature: s.temperature,
      top_p: s.topP,
      stream: true,
      stream_options: { include_usage: true },
    });
  });

  it('leaves out what the request does not set, and stream when it does not stream', () => {
    const s = spec({ stream: false, temperature: null, topP: null });
    assert.deepEqual(JSON.parse(requestBody({ api: 'openai' }, s)), {
      model: s.model,
      messages: [{ role: 'user', content: s.inputs }],
      max_tokens: s.maxNewTokens,
    });
  });

  it('sends the wire model instead of the request model when the target names one (TGI wants "tgi")', () => {
    assert.equal(JSON.parse(requestBody({ api: 'openai', wireModel: 'tgi' }, spec())).model, 'tgi');
  });

  it('asks /v1/completions with the inputs as the prompt', () => {
    const s = spec({ stream: false });
    assert.equal(requestPath('openai-completions', false), '/v1/completions');
    assert.deepEqual(JSON.parse(requestBody({ api: 'openai-completions' }, s)), {
      model: s.model,
      prompt: s.inputs,
      max_tokens: s.maxNewTokens,
      temperature: s.temperature,
      top_p: s.topP,
    });
  });
});

describe('the OpenAI protocols: answers', () => {
  it("reads usage from a chat.completion's usage", () => {
    const usage = { prompt_tokens: 11, completion_tokens: 5, total_tokens: 16 };
    const answer = { object: 'chat.completion', choices: [], usage };
    assert.deepEqual(answerOf('openai', answer), {
      kind: 'answer',
      usage: { input_tokens: usage.prompt_tokens, output_tokens: usage.completion_tokens },
      server: null,
    });
  });

  it('calls a 200 JSON without choices a protocol error (not an OpenAI answer)', () => {
    assert.equal(answerOf('openai', { generated_text: 'x' }).kind, 'protocol');
    assert.equal(answerOf('gateway', { generated_text: 'x' }).kind, 'answer');
  });

  it("takes an OpenAI error's type from its code, else from the status", () => {
    const coded = { error: { message: 'at capacity', type: 'rate_limit_error', param: null, code: 'overloaded' } };
    assert.deepEqual(errorOf(coded, 'from-status'), { type: 'overloaded', message: 'at capacity' });
    const uncoded = { error: { message: 'bad field', type: 'invalid_request_error', param: 'n', code: null } };
    assert.deepEqual(errorOf(uncoded, 'validation'), { type: 'validation', message: 'bad field' });
    assert.deepEqual(errorOf({ error: 'Model is overloaded', error_type: 'overloaded' }, 'x'), {
      type: 'overloaded',
      message: 'Model is overloaded',
    });
    assert.equal(errorOf({ choices: [] }, 'x'), null);
  });

  it('times chunks with content only, keeps the usage chunk, and ends at [DONE]', () => {
    const usage = { prompt_tokens: 9, completion_tokens: 2, total_tokens: 11 };
    const steps = readAll('openai', [
      chunk(''), // the role-only opening chunk some servers send
      chunk('Hello'),
      chunk(' there', { usage: null }),
      chunk('', { choices: [{ index: 0, delta: {}, finish_reason: 'length' }] }),
      JSON.stringify({ id: 'c', object: 'chat.completion.chunk', choices: [], usage }),
      '[DONE]',
    ]);
    assert.deepEqual(
      steps.map((s) => s.kind),
      ['other', 'token', 'token', 'other', 'other', 'end'],
    );
    assert.deepEqual(steps.at(-1), {
      kind: 'end',
      token: false,
      usage: { input_tokens: usage.prompt_tokens, output_tokens: usage.completion_tokens },
      server: null,
    });
  });

  it("reads a completions stream's text the same way", () => {
    const text = (t: string) => JSON.stringify({ object: 'text_completion', choices: [{ index: 0, text: t }] });
    assert.deepEqual(
      readAll('openai-completions', [text('a'), text(''), '[DONE]']).map((s) => s.kind),
      ['token', 'other', 'end'],
    );
  });

  it('fails on an error event in either shape, on a non-JSON event and on a chunk without choices', () => {
    const [openAiError] = readAll('openai', [
      JSON.stringify({ error: { message: 'backend failed', type: 'server_error', param: null, code: 'upstream' } }),
    ]);
    assert.deepEqual(openAiError, { kind: 'error', type: 'upstream', message: 'backend failed' });
    const [tgiError] = readAll('openai', [JSON.stringify({ error: 'boom', error_type: 'generation' })]);
    assert.deepEqual(tgiError, { kind: 'error', type: 'generation', message: 'boom' });
    assert.equal(readAll('openai', ['not json'])[0]!.kind, 'protocol');
    assert.equal(readAll('openai', [JSON.stringify({ id: 'c' })])[0]!.kind, 'protocol');
  });

  it("still reads /v1/generate streams: tokens, and the last event's usage and timings", () => {
    const token = { index: 1, token: { id: 1, text: 'a', logprob: null, special: false } };
    const last = {
      ...token,
      generated_text: 'a',
      details: { finish_reason: 'length', generated_tokens: 1 },
      usage: { input_tokens: 3, output_tokens: 1 },
      latency_ms: 2,
    };
    const steps = readAll('gateway', [JSON.stringify({ ...token, generated_text: null }), JSON.stringify(last)]);
    assert.equal(steps[0]!.kind, 'token');
    assert.deepEqual(steps[1], {
      kind: 'end',
      token: true,
      usage: last.usage,
      server: { latency_ms: last.latency_ms, queue_ms: null, ttft_ms: null },
    });
    assert.deepEqual(usageOf({ usage: { prompt_tokens: 1, completion_tokens: 2 } }), {
      input_tokens: 1,
      output_tokens: 2,
    });
  });
});
