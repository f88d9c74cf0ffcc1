import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { assertMatchesTgiSchema } from '#backends/testing';
import { parsePrometheusText } from '#metrics/testing';
import { openAiEvents, postOpenAi } from '../testing/answers.js';
import { startInProcessGateway, type InProcessGateway } from '../testing/in-process-gateway.js';

/**
 * The OpenAI routes' answers through the gateway's real pipeline in process, against the scripted backend: the
 * model list, chat and completions as JSON and as streams (chunk order, usage, [DONE]), and what reaches the backend.
 */
describe('the OpenAI routes answer in OpenAI wire format', () => {
  let gateway: InProcessGateway;
  const chat = (body: Record<string, unknown>) => postOpenAi(gateway.app, '/v1/chat/completions', body);
  const complete = (body: Record<string, unknown>) => postOpenAi(gateway.app, '/v1/completions', body);
  const say = (text: string, extra: Record<string, unknown> = {}) =>
    chat({ model: 'qwen2', messages: [{ role: 'user', content: text }], ...extra });

  before(async () => {
    gateway = await startInProcessGateway();
  });
  after(() => gateway?.close());

  it('GET /v1/models lists every id and alias; GET /v1/models/:id answers one of them', async () => {
    const list = await gateway.app.inject({ method: 'GET', url: '/v1/models' });
    assert.equal(list.statusCode, 200);
    assert.ok(String(list.headers['x-request-id']).length > 0);
    const body = list.json();
    assert.equal(body.object, 'list');
    assert.deepEqual(body.data.map((m: { id: string }) => m.id).sort(), ['llama3', 'qwen2', 'qwen2-7b']);
    for (const model of body.data) {
      assert.deepEqual(Object.keys(model).sort(), ['created', 'id', 'object', 'owned_by']);
      assert.equal(model.object, 'model');
      assert.ok(Number.isInteger(model.created) && model.created <= Date.now() / 1000);
    }
    const one = await gateway.app.inject({ method: 'GET', url: '/v1/models/qwen2-7b' });
    assert.equal(one.statusCode, 200);
    assert.deepEqual(
      one.json(),
      body.data.find((m: { id: string }) => m.id === 'qwen2-7b'),
    );
  });

  it('a chat completion: the canonical model, the text, finish_reason and usage; the backend gets the mapped request', async () => {
    const answer = await chat({
      model: 'qwen2-7b',
      messages: [
        { role: 'system', content: 'Be brief.' },
        {
          role: 'user',
          content: [
            { type: 'text', text: 'one two ' },
            { type: 'text', text: 'three' },
          ],
        },
      ],
      temperature: 0,
      top_p: 1,
      stop: 'END',
      seed: 7,
      user: 'someone',
    });
    assert.equal(answer.statusCode, 200, answer.body);
    assert.match(String(answer.headers['content-type']), /^application\/json/);
    const body = answer.json();
    assertMatchesTgiSchema('ChatCompletion', body);
    assert.equal(body.id, `chatcmpl-${String(answer.headers['x-request-id'])}`, 'the id carries the request id');
    assert.equal(body.object, 'chat.completion');
    assert.equal(body.model, 'qwen2');
    assert.ok(Math.abs(body.created - Date.now() / 1000) < 5);
    assert.equal(typeof body.system_fingerprint, 'string');
    assert.deepEqual(body.choices, [
      {
        index: 0,
        message: { role: 'assistant', content: 'one two three', refusal: null },
        logprobs: null,
        finish_reason: 'stop',
      },
    ]);
    assert.deepEqual(body.usage, { prompt_tokens: 5, completion_tokens: 3, total_tokens: 8 });
    assert.deepEqual(gateway.backend.chatCalls.at(-1), {
      kind: 'chat',
      messages: [
        { role: 'system', content: 'Be brief.' },
        { role: 'user', content: 'one two three' },
      ],
      max_tokens: 16, // the model's default_max_new_tokens
      temperature: 0,
      seed: 7,
      stop: ['END'],
    });
  });

  it("max_tokens (or max_completion_tokens) caps the answer: finish_reason length; response_format in TGI's form", async () => {
    for (const limit of [
      { max_tokens: 2 },
      { max_completion_tokens: 2 },
      { max_tokens: 2, max_completion_tokens: 2 },
    ]) {
      const body = (await say('a b c d', limit)).json();
      assert.equal(body.choices[0].message.content, 'a b');
      assert.equal(body.choices[0].finish_reason, 'length');
      assert.equal(gateway.backend.chatCalls.at(-1)?.max_tokens, 2);
    }
    await say('x', { response_format: { type: 'json_object' } });
    assert.deepEqual(gateway.backend.chatCalls.at(-1)?.response_format, { type: 'json', value: { type: 'object' } });
    const schema = { type: 'object', properties: { answer: { type: 'string' } }, required: ['answer'] };
    await say('x', { response_format: { type: 'json_schema', json_schema: { name: 'answer', schema, strict: true } } });
    assert.deepEqual(gateway.backend.chatCalls.at(-1)?.response_format, { type: 'json', value: schema });
    await say('x', { response_format: { type: 'text' }, top_p: 0.5, presence_penalty: 1, frequency_penalty: -1 });
    const last = gateway.backend.chatCalls.at(-1);
    assert.equal(last?.response_format, undefined);
    assert.deepEqual([last?.top_p, last?.presence_penalty, last?.frequency_penalty], [0.5, 1, -1]);
  });

  it('a streamed chat: role chunk, content deltas, finish chunk, [DONE]; one id; no usage key without include_usage', async () => {
    const answer = await say('one two three', { stream: true });
    assert.equal(answer.statusCode, 200);
    assert.match(String(answer.headers['content-type']), /^text\/event-stream/);
    assert.ok(String(answer.headers['x-request-id']).length > 0);
    const events = openAiEvents(answer.body);
    assert.equal(events.at(-1), '[DONE]');
    const chunks = events.slice(0, -1);
    assertMatchesTgiSchema('ChatCompletionChunk', chunks[0]); // TGI repeats the role in every delta; OpenAI does not
    for (const chunk of chunks) {
      assert.equal(chunk.object, 'chat.completion.chunk');
      assert.equal(chunk.id, chunks[0].id);
      assert.equal(chunk.model, 'qwen2');
      assert.equal('usage' in chunk, false);
    }
    assert.deepEqual(
      chunks.map((c) => [c.choices[0].delta, c.choices[0].finish_reason]),
      [
        [{ role: 'assistant', content: '' }, null],
        [{ content: 'one' }, null],
        [{ content: ' two' }, null],
        [{ content: ' three' }, null],
        [{}, 'stop'],
      ],
    );
  });

  it('include_usage: every chunk says usage null, then one with no choices carries the usage, then [DONE]', async () => {
    const answer = await say('one two', { stream: true, stream_options: { include_usage: true }, max_tokens: 2 });
    const events = openAiEvents(answer.body);
    assert.equal(events.at(-1), '[DONE]');
    const usage = events.at(-2);
    assert.deepEqual(usage.choices, []);
    assert.deepEqual(usage.usage, { prompt_tokens: 2, completion_tokens: 2, total_tokens: 4 });
    const others = events.slice(0, -2);
    assert.equal(others.length, 4);
    for (const chunk of others) assert.equal(chunk.usage, null);
    assert.equal(others.at(-1).choices[0].finish_reason, 'length');
  });

  it("logprobs: the backend's per-token logprobs in the answer and in each content chunk", async () => {
    const plain = (await say('a b', { logprobs: true, top_logprobs: 2 })).json();
    assert.equal(plain.choices[0].logprobs.content.length, 2);
    assert.deepEqual(Object.keys(plain.choices[0].logprobs.content[0]).sort(), [
      'bytes',
      'logprob',
      'token',
      'top_logprobs',
    ]);
    assert.deepEqual(
      [gateway.backend.chatCalls.at(-1)?.logprobs, gateway.backend.chatCalls.at(-1)?.top_logprobs],
      [true, 2],
    );
    const chunks = openAiEvents((await say('a b', { logprobs: true, stream: true })).body).slice(0, -1);
    assert.equal(chunks[0].choices[0].logprobs, null);
    assert.equal(chunks[1].choices[0].logprobs.content[0].token, 'a');
  });

  it('a completion: text, finish_reason, usage; temperature 0 is greedy, stop a list, echo via return_full_text', async () => {
    const answer = await complete({ model: 'qwen2', prompt: 'one two', temperature: 0, top_p: 1, stop: ['x', 'y'] });
    assert.equal(answer.statusCode, 200, answer.body);
    const body = answer.json();
    assertMatchesTgiSchema('CompletionFinal', body);
    assert.equal(body.id, `cmpl-${String(answer.headers['x-request-id'])}`);
    assert.equal(body.object, 'text_completion');
    assert.equal(body.model, 'qwen2');
    assert.deepEqual(body.choices, [{ index: 0, text: ' one two', logprobs: null, finish_reason: 'stop' }]);
    assert.deepEqual(body.usage, { prompt_tokens: 2, completion_tokens: 2, total_tokens: 4 });
    assert.deepEqual(gateway.backend.calls.at(-1), {
      inputs: 'one two',
      parameters: { max_new_tokens: 16, do_sample: false, stop: ['x', 'y'] },
    });

    const echoed = (await complete({ model: 'qwen2', prompt: ['one two'], echo: true, max_tokens: 1 })).json();
    assert.equal(echoed.choices[0].text, 'one two one');
    assert.equal(echoed.choices[0].finish_reason, 'length');
    assert.equal(gateway.backend.calls.at(-1)?.parameters.return_full_text, true);
  });

  it('a streamed completion: text chunks (the prompt first with echo), finish chunk, usage chunk, [DONE]', async () => {
    const answer = await complete({
      model: 'qwen2-7b',
      prompt: 'one two',
      echo: true,
      stream: true,
      stream_options: { include_usage: true },
    });
    assert.equal(answer.statusCode, 200);
    const events = openAiEvents(answer.body);
    assert.equal(events.at(-1), '[DONE]');
    const chunks = events.slice(0, -1);
    for (const chunk of chunks) {
      assert.equal(chunk.object, 'text_completion');
      assert.equal(chunk.id, chunks[0].id);
      assert.equal(chunk.model, 'qwen2');
    }
    assert.deepEqual(
      chunks.slice(0, -1).map((c) => [c.choices[0].text, c.choices[0].finish_reason, c.usage]),
      [
        ['one two', null, null],
        [' one', null, null],
        [' two', null, null],
        ['', 'stop', null],
      ],
    );
    assert.deepEqual(chunks.at(-1).choices, []);
    assert.deepEqual(chunks.at(-1).usage, { prompt_tokens: 2, completion_tokens: 2, total_tokens: 4 });
  });

  it('an error after the first chunk is a last data: {"error": ...} event in OpenAI\'s shape, without [DONE]', async () => {
    const answers: Array<[number, Awaited<ReturnType<typeof say>>]> = [
      [4, await say('fail-midstream', { stream: true })], // role, a, b, error
      [3, await complete({ model: 'qwen2', prompt: 'fail-midstream', stream: true })], // a, b, error
    ];
    for (const [length, answer] of answers) {
      assert.equal(answer.statusCode, 200);
      const events = openAiEvents(answer.body);
      const last = events.at(-1);
      assert.deepEqual(last, {
        error: {
          message: 'Request failed during generation: CUDA error',
          type: 'server_error',
          param: null,
          code: 'upstream',
        },
      });
      assert.equal(events.length, length);
    }
  });

  it('counts OpenAI requests like /v1/generate ones, with a route label on the request counter', async () => {
    const samples = async () =>
      parsePrometheusText((await gateway.app.inject({ method: 'GET', url: '/metrics' })).body);
    // Summed over outcomes: inject's response never reports itself finished, so in process a served request reads
    // as cancelled (a listening gateway records it as ok).
    const count = (s: Map<string, number>, route: string, outcome?: string) =>
      [...s]
        .filter(
          ([name]) => name.startsWith(`sluice_requests_total{model="llama3",`) && name.includes(`route="${route}"`),
        )
        .filter(([name]) => outcome === undefined || name.includes(`outcome="${outcome}"`))
        .reduce((sum, [, value]) => sum + value, 0);
    const before = await samples();
    await postOpenAi(gateway.app, '/v1/chat/completions', {
      model: 'llama3',
      messages: [{ role: 'user', content: 'hi' }],
    });
    await postOpenAi(gateway.app, '/v1/completions', { model: 'llama3', prompt: 'hi', n: 2 });
    await postOpenAi(gateway.app, '/v1/completions', { model: 'llama3', prompt: 'hi', stream: true });
    const after = await samples();
    assert.equal(count(after, 'chat_completions') - count(before, 'chat_completions'), 1);
    assert.equal(count(after, 'completions') - count(before, 'completions'), 2);
    assert.equal(count(after, 'completions', 'validation') - count(before, 'completions', 'validation'), 1);
    const tokens = (s: Map<string, number>) => s.get('sluice_tokens_total{model="llama3",kind="output"}') ?? 0;
    assert.equal(tokens(after) - tokens(before), 2);
  });
});
