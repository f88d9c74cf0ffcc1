import assert from 'node:assert/strict';
import { after, describe, it } from 'node:test';
import { assertMatchesTgiSchema } from './tgi-contract.js';
import { parseSse, postJson, request } from '#test-support/http-client';
import { startTgiStandIn, type TgiStandIn } from './tgi-stand-in.js';

describe('TGI stand-in speaks TGI', () => {
  const standIns: TgiStandIn[] = [];
  const start = async (...args: Parameters<typeof startTgiStandIn>) => {
    const standIn = await startTgiStandIn(...args);
    standIns.push(standIn);
    return standIn;
  };
  after(() => Promise.all(standIns.map((s) => s.close())));

  it('streams StreamResponse events, the last with generated_text and details', async () => {
    const standIn = await start({ script: { tokens: ['a', 'b'] } });
    const res = await postJson(`${standIn.url}/generate_stream`, {
      inputs: 'one two three',
      parameters: { details: true, max_new_tokens: 10 },
    });
    assert.equal(res.status, 200);
    assert.match(String(res.headers['content-type']), /^text\/event-stream/);
    assert.ok(res.text.startsWith('data:{'), 'axum frames events as `data:` without a space');
    const events = parseSse(res.text);
    for (const event of events) assertMatchesTgiSchema('StreamResponse', event);
    assert.deepEqual(
      events.map((e) => e.index),
      [1, 2, 3],
    );
    assert.deepEqual(events.at(-1).details, {
      finish_reason: 'eos_token',
      generated_tokens: 3,
      input_length: 3,
      seed: null,
    });
    assert.equal(events.at(-1).generated_text, 'ab');
    assert.equal(events.at(-1).token.special, true);
  });

  it('answers /generate with GenerateResponse and the accounting headers', async () => {
    const standIn = await start({ script: { tokens: ['a', 'b', 'c'] } });
    const plain = await postJson(`${standIn.url}/generate`, { inputs: 'x y', parameters: { max_new_tokens: 2 } });
    assertMatchesTgiSchema('GenerateResponse', plain.json());
    assert.deepEqual(plain.json(), { generated_text: 'ab' });
    assert.deepEqual([plain.headers['x-prompt-tokens'], plain.headers['x-generated-tokens']], ['2', '2']);
    const detailed = await postJson(`${standIn.url}/generate`, {
      inputs: 'x y',
      parameters: { max_new_tokens: 2, details: true, do_sample: true, seed: 5 },
    });
    assertMatchesTgiSchema('GenerateResponse', detailed.json());
    assert.equal(detailed.json().details.finish_reason, 'length');
    assert.equal(detailed.json().details.seed, 5);
  });

  it('answers /generate with top_tokens per token, the prompt as prefill, and every accounting header of TGI', async () => {
    const standIn = await start({ script: { tokens: ['a', 'b'] } });
    const inputs = 'one two three';
    const res = await postJson(`${standIn.url}/generate`, {
      inputs,
      parameters: { decoder_input_details: true, top_n_tokens: 3, max_new_tokens: 10 },
    });
    assert.equal(res.status, 200);
    const answer = res.json();
    assertMatchesTgiSchema('GenerateResponse', answer);
    const { details } = answer;
    assert.ok(details, '`decoder_input_details` alone brings the details, as on TGI');
    assert.deepEqual(
      details.prefill.map((t: { text: string }) => t.text).join(''),
      inputs,
      'the prompt, token by token',
    );
    assert.equal(details.prefill[0].logprob, null, 'the first prompt token has no logprob');
    assert.equal(details.prefill.length, Number(res.headers['x-prompt-tokens']));
    assert.equal(details.top_tokens.length, details.tokens.length, 'one list per generated token');
    details.top_tokens.forEach((top: Array<{ id: number; logprob: number }>, i: number) => {
      assert.equal(top.length, 3);
      assert.equal(top[0]!.id, details.tokens[i].id);
      assert.deepEqual(
        top.map((t) => t.logprob),
        top.map((t) => t.logprob).sort((x, y) => y - x),
        'most likely first',
      );
    });
    assert.equal(Number(res.headers['x-generated-tokens']), details.generated_tokens);
    for (const name of ['x-compute-type', 'x-compute-time', 'x-total-time', 'x-inference-time', 'x-time-per-token'])
      assert.ok(res.headers[name] !== undefined, name);
    assert.equal(res.headers['x-compute-characters'], String(inputs.length));

    const plainDetails = await postJson(`${standIn.url}/generate`, { inputs, parameters: { details: true } });
    assertMatchesTgiSchema('GenerateResponse', plainDetails.json());
    assert.deepEqual(plainDetails.json().details.prefill, [], 'no prefill unless asked for');
    assert.ok(!('top_tokens' in plainDetails.json().details), 'TGI leaves out top_tokens when none were asked for');
  });

  it('streams top_tokens with top_n_tokens, and refuses decoder_input_details on the stream and too many top tokens', async () => {
    const standIn = await start({ script: { tokens: ['a', 'b'] } });
    const stream = await postJson(`${standIn.url}/generate_stream`, { inputs: 'x', parameters: { top_n_tokens: 2 } });
    const events = parseSse(stream.text);
    for (const event of events) {
      assertMatchesTgiSchema('StreamResponse', event);
      assert.equal(event.top_tokens.length, 2);
      assert.deepEqual(event.top_tokens[0], event.token);
    }
    const plain = parseSse((await postJson(`${standIn.url}/generate_stream`, { inputs: 'x' })).text);
    assert.ok(
      plain.every((e) => !('top_tokens' in e)),
      'left out when not asked for',
    );
    const prefill = await postJson(`${standIn.url}/generate_stream`, {
      inputs: 'x',
      parameters: { decoder_input_details: true },
    });
    assert.equal(prefill.status, 200);
    assert.deepEqual(parseSse(prefill.text), [
      {
        error: 'Input validation error: `decoder_input_details` == true is not supported when streaming tokens',
        error_type: 'validation',
      },
    ]);
    const tooMany = await postJson(`${standIn.url}/generate`, { inputs: 'x', parameters: { top_n_tokens: 6 } });
    assert.equal(tooMany.status, 422);
    assertMatchesTgiSchema('ErrorResponse', tooMany.json());
    assert.equal(tooMany.json().error, 'Input validation error: `top_n_tokens` must be >= 0 and <= 5. Given: 6');
  });

  it('sends streaming errors as ErrorResponse events inside a 200, and /generate errors with TGI statuses', async () => {
    const standIn = await start({
      script: (r) =>
        r.number <= 2 ? { errorAfterTokens: { tokens: 1, errorType: 'generation' } } : { overloaded: true },
    });
    const stream = await postJson(`${standIn.url}/generate_stream`, { inputs: 'x' });
    assert.equal(stream.status, 200);
    const events = parseSse(stream.text);
    assertMatchesTgiSchema('StreamResponse', events[0]);
    assertMatchesTgiSchema('ErrorResponse', events[1]);
    assert.equal(events[1].error_type, 'generation');
    const generate = await postJson(`${standIn.url}/generate`, { inputs: 'x' });
    assert.equal(generate.status, 424);
    assertMatchesTgiSchema('ErrorResponse', generate.json());
    const overloaded = await postJson(`${standIn.url}/generate`, { inputs: 'x' });
    assert.deepEqual(
      [overloaded.status, overloaded.json()],
      [429, { error: 'Model is overloaded', error_type: 'overloaded' }],
    );
    const overloadedStream = await postJson(`${standIn.url}/generate_stream`, { inputs: 'x' });
    assert.equal(overloadedStream.status, 200);
    assert.deepEqual(parseSse(overloadedStream.text), [{ error: 'Model is overloaded', error_type: 'overloaded' }]);
  });

  it('streams ChatCompletionChunks as TGI 3.x: a role in every delta, the usage chunk, then [DONE]', async () => {
    const standIn = await start({ script: { tokens: ['a', 'b'] } });
    const res = await postJson(`${standIn.url}/v1/chat/completions`, {
      model: 'tgi',
      messages: [{ role: 'user', content: 'one two three' }],
      stream: true,
      stream_options: { include_usage: true },
      logprobs: true,
      top_logprobs: 2,
    });
    assert.equal(res.status, 200);
    assert.ok(res.text.trimEnd().endsWith('data:[DONE]'), 'the stream ends with [DONE]');
    const chunks = parseSse(res.text.replace('data:[DONE]', ''));
    for (const chunk of chunks) assertMatchesTgiSchema('ChatCompletionChunk', chunk);
    assert.deepEqual(
      chunks.map((c) => [c.id, c.object, c.system_fingerprint, c.model, c.usage]),
      chunks.map((c, i) => [
        '',
        'chat.completion.chunk',
        '3.3.6-native',
        'stand-in/tgi-model',
        i === chunks.length - 1 ? { prompt_tokens: 3, completion_tokens: 3, total_tokens: 6 } : null,
      ]),
    );
    assert.deepEqual(
      chunks.slice(0, -1).map((c) => [c.choices[0].delta, c.choices[0].finish_reason]),
      [
        [{ role: 'assistant', content: 'a' }, null],
        [{ role: 'assistant', content: 'b' }, null],
        [{ role: 'assistant', content: '' }, 'stop'],
      ],
    );
    assert.deepEqual(chunks.at(-1).choices, [], 'the usage chunk has no choice');
    assert.equal(chunks[0].choices[0].logprobs.content[0].top_logprobs.length, 2);
  });

  it('answers a chat that does not stream with a ChatCompletion, and errors as TGI does', async () => {
    const standIn = await start({
      script: (r) =>
        r.number === 3 ? { errorAfterTokens: { tokens: 1, errorType: 'generation' } } : { tokens: ['a', 'b', 'c'] },
    });
    const chat = (body: object) =>
      postJson(`${standIn.url}/v1/chat/completions`, { messages: [{ role: 'user', content: 'x y' }], ...body });
    const plain = await chat({ model: 'org/adapter', max_tokens: 2 });
    assert.equal(plain.status, 200);
    assertMatchesTgiSchema('ChatCompletion', plain.json());
    assert.deepEqual(plain.json().choices[0], {
      index: 0,
      message: { role: 'assistant', content: 'ab' },
      logprobs: null,
      finish_reason: 'length',
    });
    assert.equal(plain.json().model, 'org/adapter', 'another model name is read as an adapter');
    const refused = await postJson(`${standIn.url}/v1/chat/completions`, { stream: true });
    assert.equal(refused.status, 422, 'a body without messages is refused before any stream');
    assertMatchesTgiSchema('ErrorResponse', refused.json());
    const failed = await chat({ stream: true });
    assert.equal(failed.status, 200);
    const events = parseSse(failed.text.replace('data:[DONE]', ''));
    assertMatchesTgiSchema('ChatCompletionChunk', events[0]);
    assert.deepEqual(events[1], {
      error: { message: 'Request failed during generation: Server error: CUDA out of memory', http_status_code: 422 },
    });
    assert.ok(failed.text.trimEnd().endsWith('data:[DONE]'), '[DONE] after an error event too');
    assert.equal(standIn.received.at(-1)!.route, '/v1/chat/completions');
  });

  it('validates inputs as TGI does: 422 on /generate, a validation event on the stream', async () => {
    const standIn = await start();
    const generate = await postJson(`${standIn.url}/generate`, { inputs: '' });
    assert.equal(generate.status, 422);
    assertMatchesTgiSchema('ErrorResponse', generate.json());
    const stream = await postJson(`${standIn.url}/generate_stream`, { inputs: 'x', parameters: { max_new_tokens: 0 } });
    assert.equal(stream.status, 200);
    assert.equal(parseSse(stream.text)[0].error_type, 'validation');
  });

  it('answers /info with Info and /health with 200, 503 or 500', async () => {
    const standIn = await start({ modelId: 'org/model' });
    const info = await request(`${standIn.url}/info`);
    assertMatchesTgiSchema('Info', info.json());
    assert.equal(info.json().model_id, 'org/model');
    assert.equal((await request(`${standIn.url}/health`)).status, 200);
    standIn.health = 'unhealthy';
    const unhealthy = await request(`${standIn.url}/health`);
    assert.equal(unhealthy.status, 503);
    assertMatchesTgiSchema('ErrorResponse', unhealthy.json());
    standIn.health = 'broken';
    assert.equal((await request(`${standIn.url}/health`)).status, 500);
  });

  it('refuses connections until loaded, as TGI binds only after loading', async () => {
    const standIn = await start({ loaded: false });
    await assert.rejects(request(`${standIn.url}/health`), { code: 'ECONNREFUSED' });
    await standIn.load();
    assert.equal((await request(`${standIn.url}/health`)).status, 200);
  });

  it('caps concurrency like --max-concurrent-requests and counts the most in flight', async () => {
    const standIn = await start({ maxConcurrentRequests: 2, script: { tokenDelayMs: 50 } });
    const answers = await Promise.all([1, 2, 3].map(() => postJson(`${standIn.url}/generate`, { inputs: 'x' })));
    assert.deepEqual(answers.map((a) => a.status).sort(), [200, 200, 429]);
    assert.equal(standIn.stats.maxInFlight, 2);
  });
});
