import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { assertErrorAnswer, assertOpenAiError, postGenerate, postOpenAi, until } from '../testing/answers.js';
import { startInProcessGateway, type InProcessGateway } from '../testing/in-process-gateway.js';

const user = (content: unknown) => [{ role: 'user', content }];

/**
 * Every refusal and failure of the OpenAI routes through the gateway's real pipeline in process: OpenAI's error
 * shape, a 400 (never 422) for a bad field with the field as `param`, the statuses that keep their meaning, and a
 * gateway that still serves after each.
 */
describe("the OpenAI routes refuse and fail in OpenAI's error shape", () => {
  let gateway: InProcessGateway;
  const chat = (body: unknown, headers?: Record<string, string>) =>
    postOpenAi(gateway.app, '/v1/chat/completions', body, headers);
  const complete = (body: unknown, headers?: Record<string, string>) =>
    postOpenAi(gateway.app, '/v1/completions', body, headers);
  const say = (text: string, extra: Record<string, unknown> = {}) =>
    chat({ model: 'qwen2', messages: user(text), ...extra });
  const stillServes = async () => assert.equal((await say('still here')).statusCode, 200);

  before(async () => {
    gateway = await startInProcessGateway({ bodyLimitBytes: 1_048_576 });
  });
  after(() => gateway?.close());

  it('400 validation naming the field for every bad chat input', async () => {
    const cases: Array<[Record<string, unknown>, string, RegExp]> = [
      [{ model: 'qwen2' }, 'messages', /messages must be an array/],
      [{ model: 'qwen2', messages: [] }, 'messages', /messages should not be empty/],
      [{ messages: user('hi') }, 'model', /model must be a string/],
      [
        { model: 'qwen2', messages: [{ role: 'tool', content: 'x' }] },
        'messages.0.role',
        /tool, function and developer/,
      ],
      [{ model: 'qwen2', messages: [{ role: 'developer', content: 'x' }] }, 'messages.0.role', /must be one of/],
      [{ model: 'qwen2', messages: user(42) }, 'messages.0.content', /must be a string or an array of .*text/],
      [
        { model: 'qwen2', messages: user([{ type: 'image_url', image_url: { url: 'http://x/y.png' } }]) },
        'messages.0.content',
        /only text is served/,
      ],
      [
        { model: 'qwen2', messages: [{ role: 'assistant', content: 'x', tool_calls: [] }] },
        'messages.0.tool_calls',
        /tool_calls is not supported/,
      ],
      [{ model: 'qwen2', messages: user('hi'), max_tokens: 0 }, 'max_tokens', /max_tokens must not be less than 1/],
      [
        { model: 'qwen2', messages: user('hi'), max_tokens: 65 },
        'max_tokens',
        /max_tokens 65 is above the ceiling of model "qwen2" \(64\)/,
      ],
      [
        { model: 'qwen2', messages: user('hi'), max_completion_tokens: 100 },
        'max_completion_tokens',
        /max_completion_tokens 100 is above the ceiling/,
      ],
      [{ model: 'qwen2', messages: user('hi'), max_tokens: 3, max_completion_tokens: 4 }, 'max_tokens', /disagree/],
      [
        { model: 'qwen2', messages: user('hi'), temperature: 2.5 },
        'temperature',
        /temperature must not be greater than 2/,
      ],
      [{ model: 'qwen2', messages: user('hi'), temperature: -1 }, 'temperature', /temperature must not be less than 0/],
      [{ model: 'qwen2', messages: user('hi'), top_p: 0 }, 'top_p', /top_p must be greater than 0/],
      [{ model: 'qwen2', messages: user('hi'), presence_penalty: 3 }, 'presence_penalty', /not be greater than 2/],
      [{ model: 'qwen2', messages: user('hi'), stop: ['a', 'b', 'c', 'd', 'e'] }, 'stop', /at most 4 strings/],
      [{ model: 'qwen2', messages: user('hi'), n: 2 }, 'n', /n must be 1: Sluice generates one choice/],
      [{ model: 'qwen2', messages: user('hi'), tools: [{ type: 'function' }] }, 'tools', /tools is not supported/],
      [{ model: 'qwen2', messages: user('hi'), tool_choice: 'auto' }, 'tool_choice', /tool_choice is not supported/],
      [{ model: 'qwen2', messages: user('hi'), functions: [] }, 'functions', /functions is not supported/],
      [{ model: 'qwen2', messages: user('hi'), audio: {} }, 'audio', /audio is not supported/],
      [{ model: 'qwen2', messages: user('hi'), modalities: ['text', 'audio'] }, 'modalities', /text only/],
      [{ model: 'qwen2', messages: user('hi'), prediction: {} }, 'prediction', /prediction is not supported/],
      [{ model: 'qwen2', messages: user('hi'), logit_bias: { '50256': -100 } }, 'logit_bias', /does not bias/],
      [{ model: 'qwen2', messages: user('hi'), store: true }, 'store', /stores no completions/],
      [{ model: 'qwen2', messages: user('hi'), frobnicate: 1 }, 'frobnicate', /property frobnicate should not exist/],
      [
        { model: 'qwen2', messages: user('hi'), stream_options: { include_usage: true } },
        'stream_options',
        /stream_options is only allowed when stream is true/,
      ],
      [{ model: 'qwen2', messages: user('hi'), top_logprobs: 2 }, 'top_logprobs', /only allowed when logprobs is true/],
      [{ model: 'qwen2', messages: user('hi'), logprobs: true, top_logprobs: 21 }, 'top_logprobs', /not be greater/],
      [
        { model: 'qwen2', messages: user('hi'), response_format: { type: 'json_schema' } },
        'response_format',
        /response_format must be/,
      ],
    ];
    for (const [body, param, message] of cases)
      assertOpenAiError(await chat(body), 400, 'validation', { param, message });
    await stillServes();
  });

  it('400 validation naming the field for every bad completions input', async () => {
    const cases: Array<[Record<string, unknown>, string, RegExp]> = [
      [{ model: 'qwen2' }, 'prompt', /prompt must be a non-empty string/],
      [{ model: 'qwen2', prompt: ['a', 'b'] }, 'prompt', /one prompt per request/],
      [{ model: 'qwen2', prompt: 'x', logprobs: 2 }, 'logprobs', /completions carry no logprobs/],
      [{ model: 'qwen2', prompt: 'x', suffix: 'y' }, 'suffix', /suffix is not supported/],
      [{ model: 'qwen2', prompt: 'x', best_of: 2 }, 'best_of', /best_of is not supported/],
      [
        { model: 'qwen2', prompt: 'x', presence_penalty: 0.5 },
        'presence_penalty',
        /not supported on \/v1\/completions/,
      ],
      [{ model: 'qwen2', prompt: 'x', max_tokens: 0 }, 'max_tokens', /not be less than 1/],
      [{ model: 'qwen2', prompt: 'x', messages: [] }, 'messages', /property messages should not exist/],
    ];
    for (const [body, param, message] of cases)
      assertOpenAiError(await complete(body), 400, 'validation', { param, message });
  });

  it('accepts the no-op fields silently', async () => {
    const answer = await say('fine', {
      user: 'u-1',
      store: false,
      metadata: { team: 'a' },
      parallel_tool_calls: false,
      logit_bias: {},
      tool_choice: 'none',
      modalities: ['text'],
      n: 1,
      temperature: null,
      stop: null,
    });
    assert.equal(answer.statusCode, 200, answer.body);
    const completion = await complete({
      model: 'qwen2',
      prompt: 'fine',
      best_of: 1,
      logprobs: null,
      presence_penalty: 0,
    });
    assert.equal(completion.statusCode, 200, completion.body);
  });

  it('400 for a body that is not JSON, is empty, or nests 100,000 arrays deep; 413 too large; 415 not JSON', async () => {
    const deep = '['.repeat(100_000) + ']'.repeat(100_000);
    for (const post of [chat, complete]) {
      assertOpenAiError(await post('{"model": "qwen2",'), 400, 'validation', { message: /not valid JSON/ });
      assertOpenAiError(await post(''), 400, 'validation', { message: /body is empty/ });
      assertOpenAiError(await post(deep), 400, 'validation', { message: /nests deeper than 64 levels/ });
      assertOpenAiError(await post(`{"model": "qwen2", "messages": ${deep}}`), 400, 'validation', {
        message: /nests deeper/,
      });
      assertOpenAiError(await post({ model: 'qwen2', prompt: 'x'.repeat(1_100_000) }), 413, 'validation', {
        message: /larger than the gateway accepts/,
      });
      assertOpenAiError(await post('model=qwen2', { 'content-type': 'text/plain' }), 415, 'validation', {
        message: /Content-Type: application\/json/,
      });
    }
    await stillServes();
  });

  it('404 model_not_found for an unknown model and /v1/models/:id; not_found for an unknown /v1 path', async () => {
    assertOpenAiError(await say('hi', { model: 'gpt-9' }), 404, 'model_not_found', {
      param: 'model',
      message: /unknown model "gpt-9"; this gateway serves: qwen2, llama3 \(see GET \/v1\/models\)/,
    });
    assertOpenAiError(await complete({ model: 'gpt-9', prompt: 'x' }), 404, 'model_not_found', { param: 'model' });
    assertOpenAiError(await gateway.app.inject({ method: 'GET', url: '/v1/models/gpt-9' }), 404, 'model_not_found', {
      message: /"gpt-9" does not exist/,
    });
    assertOpenAiError(await gateway.app.inject({ method: 'POST', url: '/v1/embeddings' }), 404, 'not_found', {
      message: /Cannot POST \/v1\/embeddings/,
    });
    // The gateway's own route keeps its own shape, unknown paths outside /v1 too.
    assertErrorAnswer(await postGenerate(gateway.app, { model_id: 'gpt-9', inputs: 'x' }), 404, 'model_not_found');
    assertErrorAnswer(await postGenerate(gateway.app, { model_id: 'qwen2', inputs: 'x', n: 2 }), 422, 'validation');
    assertErrorAnswer(await gateway.app.inject({ method: 'GET', url: '/v2/models' }), 404, 'not_found');
  });

  it('429 overloaded with Retry-After for a full queue and an overloaded backend', async () => {
    const held = say('hold');
    await until(() => gateway.backend.chatCalls.some((call) => call.messages[0]?.content === 'hold'));
    const queued = complete({ model: 'qwen2', prompt: 'queued' });
    await until(async () => (await gateway.app.inject({ method: 'GET', url: '/models/qwen2' })).json().queued === 1);
    const refused = await say('refused at once', { stream: true });
    assertOpenAiError(refused, 429, 'overloaded', { message: /model "qwen2" is at capacity/ });
    assert.match(String(refused.headers['retry-after']), /^[1-9]\d*$/);
    gateway.backend.release();
    assert.equal((await held).statusCode, 200);
    assert.equal((await queued).statusCode, 200);

    const backend = await say('overloaded');
    assertOpenAiError(backend, 429, 'overloaded', { message: /^Model is overloaded$/ });
    assert.equal(backend.headers['retry-after'], '1');
  });

  it("500, 502, 503, 504 and the backend's 422 (as 400), streamed or not, before the first chunk", async () => {
    for (const stream of [false, true]) {
      const crash = assertOpenAiError(await say('crash', { stream }), 500, 'internal', {
        message: /log has the details/,
      });
      assert.doesNotMatch(crash.message, /Cannot read properties/);
      assertOpenAiError(await say('fail', { stream }), 502, 'upstream', { message: /CUDA error/ });
      const refused = await complete({ model: 'qwen2', prompt: 'refused', stream });
      assertOpenAiError(refused, 503, 'unavailable');
      assert.ok(refused.headers['retry-after']);
      assertOpenAiError(await say('timeout', { stream }), 504, 'timeout', { message: /first-byte timeout/ });
      assertOpenAiError(await complete({ model: 'qwen2', prompt: 'backend-422', stream }), 400, 'validation', {
        message: /^Input validation error/,
      });
    }
    await stillServes();
  });

  it("keeps the caller's x-request-id on OpenAI error answers", async () => {
    const answer = await chat({ model: 'qwen2' }, { 'x-request-id': 'trace-abc.123' });
    assertOpenAiError(answer, 400, 'validation');
    assert.equal(answer.headers['x-request-id'], 'trace-abc.123');
  });
});
