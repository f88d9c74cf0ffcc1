import assert from 'node:assert/strict';
import { after, describe, it } from 'node:test';
import { assertMatchesTgiSchema } from '#backends/testing';
import { parseSse, postJson, request, sseData } from '#test-support/http-client';
import { MOCK_MODEL_ID, startMockBackend, type MockBackendOptions, type RunningMockBackend } from './mock-backend.js';

describe('bench mock-backend speaks TGI (contracts/tgi-openapi.json)', () => {
  const mocks: RunningMockBackend[] = [];
  const start = async (options: Partial<MockBackendOptions> = {}) => {
    const mock = await startMockBackend({ port: 0, ...options });
    mocks.push(mock);
    return mock;
  };
  after(() => Promise.all(mocks.map((m) => m.close())));

  it('streams StreamResponse events, the last with generated_text and details', async () => {
    const mock = await start();
    const res = await postJson(`${mock.url}/generate_stream`, {
      inputs: 'hello there',
      parameters: { max_new_tokens: 5, details: true },
    });
    assert.equal(res.status, 200);
    assert.match(String(res.headers['content-type']), /^text\/event-stream/);
    assert.ok(res.text.startsWith('data:{'), 'axum frames events as `data:` without a space');
    const events = parseSse(res.text);
    for (const event of events) assertMatchesTgiSchema('StreamResponse', event);
    assert.deepEqual(
      events.map((e) => e.index),
      [1, 2, 3, 4, 5],
    );
    assert.ok(events.slice(0, -1).every((e) => e.generated_text === null && e.details === null));
    const last = events.at(-1);
    assert.equal(last.generated_text, ' This is a load-');
    assert.deepEqual(last.details, { finish_reason: 'length', generated_tokens: 5, input_length: 3, seed: null });
  });

  it('answers /generate with GenerateResponse and the accounting headers', async () => {
    const mock = await start();
    const plain = await postJson(`${mock.url}/generate`, {
      inputs: '光合作用的原理是什么？',
      parameters: { max_new_tokens: 3 },
    });
    assert.equal(plain.status, 200);
    assertMatchesTgiSchema('GenerateResponse', plain.json());
    assert.deepEqual(plain.json(), { generated_text: ' This is a' });
    assert.deepEqual([plain.headers['x-prompt-tokens'], plain.headers['x-generated-tokens']], ['9', '3']);
    assert.equal(plain.headers['x-mock-backend'], 'load-test target, not a model');
    const detailed = await postJson(`${mock.url}/generate`, {
      inputs: 'x',
      parameters: { max_new_tokens: 2, details: true, temperature: 0.7, seed: 5 },
    });
    assertMatchesTgiSchema('GenerateResponse', detailed.json());
    assert.equal(detailed.json().details.seed, 5);
    assert.equal(detailed.json().details.tokens.length, 2);
  });

  it('stops early with an EOS token when --output-tokens is below max_new_tokens', async () => {
    const mock = await start({ outputTokens: 3 });
    const events = parseSse(
      (
        await postJson(`${mock.url}/generate_stream`, {
          inputs: 'x',
          parameters: { max_new_tokens: 10, details: true },
        })
      ).text,
    );
    for (const event of events) assertMatchesTgiSchema('StreamResponse', event);
    assert.equal(events.length, 3);
    assert.deepEqual(events.at(-1).token, { id: 2, text: '</s>', logprob: null, special: true });
    assert.equal(events.at(-1).details.finish_reason, 'eos_token');
    assert.equal(events.at(-1).generated_text, ' This is', 'special tokens are not in the text');
  });

  it('answers /health and /info, and says what it is', async () => {
    const mock = await start({ maxConcurrent: 7 });
    assert.equal((await request(`${mock.url}/health`)).status, 200);
    const info = (await request(`${mock.url}/info`)).json();
    assertMatchesTgiSchema('Info', info);
    assert.equal(info.model_id, MOCK_MODEL_ID);
    assert.match(info.router, /load-test target, not a model/);
    assert.equal(info.max_concurrent_requests, 7);
    const missing = await request(`${mock.url}/nope`);
    assert.equal(missing.status, 404);
    assertMatchesTgiSchema('ErrorResponse', missing.json());
  });

  it('validates as TGI does: 422 on /generate, a validation event in a 200 stream', async () => {
    const mock = await start();
    const empty = await postJson(`${mock.url}/generate`, { inputs: '' });
    assert.equal(empty.status, 422);
    assertMatchesTgiSchema('ErrorResponse', empty.json());
    const zero = await postJson(`${mock.url}/generate_stream`, { inputs: 'x', parameters: { max_new_tokens: 0 } });
    assert.equal(zero.status, 200);
    const [event] = parseSse(zero.text);
    assertMatchesTgiSchema('ErrorResponse', event);
    assert.equal(event.error_type, 'validation');
    const notJson = await request(`${mock.url}/generate`, {
      method: 'POST',
      rawBody: '{',
      headers: { 'content-type': 'application/json' },
    });
    assert.equal(notJson.status, 422);
  });

  it('injects 429s and generation errors at the set rates, with TGI statuses and events', async () => {
    const overloaded = await start({ overloadRate: 1 });
    const refused = await postJson(`${overloaded.url}/generate`, { inputs: 'x' });
    assert.deepEqual(
      [refused.status, refused.json()],
      [429, { error: 'Model is overloaded', error_type: 'overloaded' }],
    );
    assert.deepEqual(parseSse((await postJson(`${overloaded.url}/generate_stream`, { inputs: 'x' })).text), [
      { error: 'Model is overloaded', error_type: 'overloaded' },
    ]);

    const failing = await start({ errorRate: 1 });
    const failed = await postJson(`${failing.url}/generate`, { inputs: 'x', parameters: { max_new_tokens: 4 } });
    assert.equal(failed.status, 424);
    assertMatchesTgiSchema('ErrorResponse', failed.json());
    const events = parseSse(
      (await postJson(`${failing.url}/generate_stream`, { inputs: 'x', parameters: { max_new_tokens: 4 } })).text,
    );
    assert.equal(events.length, 3, 'two tokens, then the error mid-stream');
    for (const e of events.slice(0, -1)) assertMatchesTgiSchema('StreamResponse', e);
    assertMatchesTgiSchema('ErrorResponse', events.at(-1));
    assert.equal(events.at(-1).error_type, 'generation');

    const some = await start({ errorRate: 0.3, seed: 3 });
    const statuses = await Promise.all(
      Array.from({ length: 200 }, () =>
        postJson(`${some.url}/generate`, { inputs: 'x', parameters: { max_new_tokens: 1 } }).then((r) => r.status),
      ),
    );
    const errors = statuses.filter((s) => s === 424).length;
    assert.ok(errors > 30 && errors < 90, `${errors} of 200 failed at a 30 % error rate`);
  });

  it('answers overloaded past --max-concurrent, as TGI past --max-concurrent-requests', async () => {
    const mock = await start({ maxConcurrent: 2, ttftMs: 200 });
    const statuses = await Promise.all(
      Array.from({ length: 4 }, () =>
        postJson(`${mock.url}/generate`, { inputs: 'x', parameters: { max_new_tokens: 1 } }).then((r) => r.status),
      ),
    );
    assert.deepEqual(statuses.sort(), [200, 200, 429, 429]);
  });

  it('waits the set time to first token and between tokens', async () => {
    const mock = await start({ ttftMs: 80, itlMs: 20 });
    const started = performance.now();
    const res = await postJson(`${mock.url}/generate_stream`, { inputs: 'x', parameters: { max_new_tokens: 4 } });
    const elapsed = performance.now() - started;
    assert.equal(parseSse(res.text).length, 4);
    assert.ok(elapsed >= 80 + 3 * 20 - 2, `took ${elapsed} ms`);
    const plainStart = performance.now();
    await postJson(`${mock.url}/generate`, { inputs: 'x', parameters: { max_new_tokens: 4 } });
    assert.ok(performance.now() - plainStart >= 80 + 3 * 20 - 2);
  });

  it('streams /v1/chat/completions as TGI: a chunk per token, the finish_reason, the usage chunk, [DONE]', async () => {
    const mock = await start();
    const content = 'hello there, chat';
    const maxTokens = 4;
    const res = await postJson(`${mock.url}/v1/chat/completions`, {
      model: 'tgi',
      messages: [{ role: 'user', content }],
      max_tokens: maxTokens,
      stream: true,
      stream_options: { include_usage: true },
    });
    assert.equal(res.status, 200);
    assert.match(String(res.headers['content-type']), /^text\/event-stream/);
    const data = sseData(res.text);
    assert.equal(data.at(-1), '[DONE]');
    const chunks = data.slice(0, -1).map((d) => JSON.parse(d));
    for (const chunk of chunks) assertMatchesTgiSchema('ChatCompletionChunk', chunk);
    const tokens = chunks.slice(0, -1);
    assert.equal(tokens.length, maxTokens);
    assert.ok(tokens.every((c) => c.object === 'chat.completion.chunk' && c.choices[0].delta.role === 'assistant'));
    assert.deepEqual(
      tokens.map((c) => c.choices[0].finish_reason),
      [...Array<null>(maxTokens - 1).fill(null), 'length'],
    );
    const usage = chunks.at(-1);
    assert.deepEqual(usage.choices, []);
    const prompt = Math.ceil(Buffer.byteLength(content) / 4);
    assert.deepEqual(usage.usage, {
      prompt_tokens: prompt,
      completion_tokens: maxTokens,
      total_tokens: prompt + maxTokens,
    });
    const text = tokens.map((c) => c.choices[0].delta.content).join('');
    const plain = await postJson(`${mock.url}/generate`, {
      inputs: content,
      parameters: { max_new_tokens: maxTokens },
    });
    assert.equal(text, plain.json().generated_text, 'the same placeholder text as /generate');
  });

  it('streams no usage chunk unless asked, and ends with EOS as finish_reason stop', async () => {
    const mock = await start({ outputTokens: 2 });
    const res = await postJson(`${mock.url}/v1/chat/completions`, {
      messages: [{ role: 'user', content: [{ type: 'text', text: 'x' }] }],
      max_tokens: 8,
      stream: true,
    });
    const data = sseData(res.text);
    assert.equal(data.at(-1), '[DONE]');
    const chunks = data.slice(0, -1).map((d) => JSON.parse(d));
    for (const chunk of chunks) assertMatchesTgiSchema('ChatCompletionChunk', chunk);
    assert.equal(chunks.length, 2);
    assert.ok(chunks.every((c) => c.choices.length === 1 && !c.usage));
    assert.deepEqual(chunks.at(-1).choices[0].delta, { role: 'assistant', content: '' }, 'EOS is special: no text');
    assert.equal(chunks.at(-1).choices[0].finish_reason, 'stop');
  });

  it('answers a non-streamed chat with a chat.completion and its usage', async () => {
    const mock = await start();
    const res = await postJson(`${mock.url}/v1/chat/completions`, {
      model: 'tgi',
      messages: [
        { role: 'system', content: 'be brief' },
        { role: 'user', content: 'hi' },
      ],
      max_tokens: 3,
    });
    assert.equal(res.status, 200);
    const completion = res.json();
    assertMatchesTgiSchema('ChatCompletion', completion);
    assert.equal(completion.object, 'chat.completion');
    assert.equal(completion.model, MOCK_MODEL_ID, 'TGI answers with its own model id, whatever `model` said');
    assert.equal(completion.choices[0].message.role, 'assistant');
    assert.equal(completion.choices[0].finish_reason, 'length');
    assert.equal(completion.usage.completion_tokens, 3);
    assert.equal(completion.usage.prompt_tokens, Math.ceil(Buffer.byteLength('be brief' + 'hi') / 4));
  });

  it("validates the chat body with TGI's statuses, and injects its errors and 429s like /generate's", async () => {
    const mock = await start();
    const missing = await postJson(`${mock.url}/v1/chat/completions`, { model: 'tgi' });
    assert.equal(missing.status, 422);
    assertMatchesTgiSchema('ErrorResponse', missing.json());
    const zero = await postJson(`${mock.url}/v1/chat/completions`, {
      messages: [{ role: 'user', content: 'x' }],
      max_tokens: 0,
      stream: true,
    });
    assert.equal(zero.status, 200, 'found once the stream has begun: an event');
    const [event] = parseSse(zero.text);
    assertMatchesTgiSchema('ErrorResponse', event);
    assert.equal(event.error_type, 'validation');

    const body = { messages: [{ role: 'user', content: 'x' }], max_tokens: 4 };
    const overloaded = await start({ overloadRate: 1 });
    const refused = await postJson(`${overloaded.url}/v1/chat/completions`, body);
    assert.equal(refused.status, 429);
    assertMatchesTgiSchema('ErrorResponse', refused.json());
    const failing = await start({ errorRate: 1 });
    assert.equal((await postJson(`${failing.url}/v1/chat/completions`, body)).status, 424);
    const streamed = sseData(
      (await postJson(`${failing.url}/v1/chat/completions`, { ...body, stream: true })).text,
    ).map((d) => JSON.parse(d));
    assert.equal(streamed.length, 3, 'two chunks, then the error mid-stream, and no [DONE]');
    for (const c of streamed.slice(0, -1)) assertMatchesTgiSchema('ChatCompletionChunk', c);
    assertMatchesTgiSchema('ErrorResponse', streamed.at(-1));
  });

  it('waits the set time to first token and between tokens on the chat route too', async () => {
    const mock = await start({ ttftMs: 80, itlMs: 20 });
    const body = { messages: [{ role: 'user', content: 'x' }], max_tokens: 4 };
    const started = performance.now();
    const res = await postJson(`${mock.url}/v1/chat/completions`, { ...body, stream: true });
    assert.ok(performance.now() - started >= 80 + 3 * 20 - 2, `took ${performance.now() - started} ms`);
    assert.equal(sseData(res.text).length, 4 + 1);
    const plainStart = performance.now();
    await postJson(`${mock.url}/v1/chat/completions`, body);
    assert.ok(performance.now() - plainStart >= 80 + 3 * 20 - 2);
  });
});
