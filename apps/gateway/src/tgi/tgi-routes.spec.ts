import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { assertMatchesTgiSchema } from '#backends/testing';
import { parsePrometheusText } from '#metrics/testing';
import { assertErrorAnswer, openAiEvents, postGenerate, type InjectedAnswer } from '../testing/answers.js';
import { startInProcessGateway, TEST_REGISTRY_YAML, type InProcessGateway } from '../testing/in-process-gateway.js';

/** The test registry with an alias that has a `/` in it, as Hugging Face model ids do. */
const REGISTRY_WITH_HF_ALIAS = TEST_REGISTRY_YAML.replace(
  'aliases: [qwen2-7b]',
  'aliases: [qwen2-7b, "Qwen/Qwen2-7B-Instruct-GPTQ-Int4"]',
);

/** A TGI stream's events, checking its framing: one `data:{json}` line per event, no [DONE]. */
function tgiEvents(text: string): any[] {
  assert.ok(text.endsWith('\n\n'), 'every event ends with a blank line');
  return text
    .slice(0, -2)
    .split('\n\n')
    .map((frame) => {
      assert.match(frame, /^data:\{[^\n]+$/, `one data line per event: ${frame}`);
      return JSON.parse(frame.slice('data:'.length));
    });
}

/** TGI's ErrorResponse exactly (no gateway field), its status, and the request id in its header. */
function assertTgiError(answer: InjectedAnswer, status: number, errorType: string, message?: RegExp): void {
  assert.equal(answer.statusCode, status, answer.body);
  assert.match(String(answer.headers['content-type']), /^application\/json/);
  const body = answer.json();
  assertMatchesTgiSchema('ErrorResponse', body);
  assert.deepEqual(Object.keys(body).sort(), ['error', 'error_type']);
  assert.equal(body.error_type, errorType);
  if (message) assert.match(body.error, message);
  assert.ok(String(answer.headers['x-request-id']).length > 0);
  if (status === 429 || status === 503) assert.match(String(answer.headers['retry-after']), /^\d+$/);
  else assert.equal(answer.headers['retry-after'], undefined);
}

describe("the per-model TGI routes answer in TGI's shapes", () => {
  let gateway: InProcessGateway;
  const post = (url: string, body: unknown, headers: Record<string, string> = {}) =>
    gateway.app.inject({
      method: 'POST',
      url,
      headers: { 'content-type': 'application/json', ...headers },
      payload: typeof body === 'string' ? body : JSON.stringify(body),
    });
  const lastCall = () => gateway.backend.calls.at(-1)!;

  before(async () => {
    gateway = await startInProcessGateway({ registryYaml: REGISTRY_WITH_HF_ALIAS });
  });
  after(() => gateway?.close());

  it('/generate: the text alone, or with TGI Details (tokens, logprobs, top tokens) assembled from the stream', async () => {
    const plain = await post('/models/qwen2/generate', { inputs: 'one two three' });
    assert.equal(plain.statusCode, 200, plain.body);
    assert.deepEqual(plain.json(), { generated_text: ' one two three' });
    assertMatchesTgiSchema('GenerateResponse', plain.json());
    assert.ok(String(plain.headers['x-request-id']).length > 0);
    assert.equal(lastCall().route, undefined, 'streamed from the backend');
    assert.equal(lastCall().parameters.max_new_tokens, 16, "the model's default");

    const detailed = await post('/models/qwen2-7b/generate', {
      inputs: 'one two three',
      parameters: { details: true, top_n_tokens: 2, max_new_tokens: 2, seed: 3, temperature: 0.5 },
    });
    assert.equal(detailed.statusCode, 200, detailed.body);
    const body = detailed.json();
    assertMatchesTgiSchema('GenerateResponse', body);
    assert.equal(body.generated_text, ' one two');
    assert.equal(body.details.finish_reason, 'length');
    assert.equal(body.details.generated_tokens, 2);
    assert.deepEqual(body.details.prefill, []);
    assert.deepEqual(
      body.details.tokens.map((t: { text: string }) => t.text),
      [' one', ' two'],
    );
    assert.ok(body.details.tokens.every((t: { logprob: number }) => t.logprob < 0));
    assert.deepEqual(
      body.details.top_tokens.map((top: unknown[]) => top.length),
      [2, 2],
    );
    assert.deepEqual(lastCall().parameters, {
      details: true,
      top_n_tokens: 2,
      max_new_tokens: 2,
      seed: 3,
      temperature: 0.5,
    });
  });

  it("/generate with decoder_input_details asks the backend's one-answer /generate and relays its prefill", async () => {
    const answer = await post('/models/qwen2/generate', {
      inputs: 'a b c',
      parameters: { details: true, decoder_input_details: true },
    });
    assert.equal(answer.statusCode, 200, answer.body);
    assert.equal(lastCall().route, 'generate');
    const body = answer.json();
    assertMatchesTgiSchema('GenerateResponse', body);
    assert.deepEqual(
      body.details.prefill.map((t: { text: string }) => t.text),
      ['a', 'b', 'c'],
    );
    assert.equal(body.details.tokens.length, 3);
  });

  it('/generate_stream relays TGI events; details in the last one only when asked, top_tokens as sent', async () => {
    const plain = await post('/models/qwen2/generate_stream', { inputs: 'one two' });
    assert.equal(plain.statusCode, 200);
    assert.match(String(plain.headers['content-type']), /^text\/event-stream/);
    assert.ok(String(plain.headers['x-request-id']).length > 0);
    const events = tgiEvents(plain.body);
    events.forEach((event) => assertMatchesTgiSchema('StreamResponse', event));
    assert.deepEqual(
      events.map((e) => e.token.text),
      [' one', ' two'],
    );
    assert.equal(events.at(-1).generated_text, ' one two');
    assert.equal(events.at(-1).details, null, 'not asked for');
    assert.deepEqual(Object.keys(events.at(-1)).sort(), ['details', 'generated_text', 'index', 'token']);

    const detailed = tgiEvents(
      (
        await post('/models/qwen2/generate_stream', {
          inputs: 'one two',
          parameters: { details: true, top_n_tokens: 1 },
        })
      ).body,
    );
    detailed.forEach((event) => assertMatchesTgiSchema('StreamResponse', event));
    assert.deepEqual(detailed.at(-1).details, {
      finish_reason: 'eos_token',
      generated_tokens: 2,
      input_length: 2,
      seed: null,
    });
    assert.ok(detailed.every((e) => e.top_tokens.length === 1));
  });

  it('POST /models/{id} (the compat route): an array of one answer, or the stream with stream: true', async () => {
    const array = await post('/models/qwen2', { inputs: 'x y', parameters: { details: true } });
    assert.equal(array.statusCode, 200, array.body);
    const body = array.json();
    assert.ok(Array.isArray(body) && body.length === 1);
    assertMatchesTgiSchema('GenerateResponse', body[0]);
    assert.equal(body[0].details.generated_tokens, 2);

    const stream = await post('/models/qwen2', { inputs: 'x y', stream: true });
    assert.match(String(stream.headers['content-type']), /^text\/event-stream/);
    const events = tgiEvents(stream.body);
    events.forEach((event) => assertMatchesTgiSchema('StreamResponse', event));
    assert.equal(events.at(-1).generated_text, ' x y');
  });

  it('an alias with a `/` in it works percent-encoded (%2F) and raw', async () => {
    for (const model of ['Qwen%2FQwen2-7B-Instruct-GPTQ-Int4', 'Qwen/Qwen2-7B-Instruct-GPTQ-Int4']) {
      const answer = await post(`/models/${model}/generate`, { inputs: 'hi' });
      assert.equal(answer.statusCode, 200, `${model}: ${answer.body}`);
      assert.equal(answer.json().generated_text, ' hi');
      const compat = await post(`/models/${model}`, { inputs: 'hi' });
      assert.equal(compat.statusCode, 200, `${model}: ${compat.body}`);
      const stream = await post(`/models/${model}/generate_stream`, { inputs: 'hi' });
      assert.equal(tgiEvents(stream.body).at(-1).generated_text, ' hi');
      const info = await gateway.app.inject({ method: 'GET', url: `/models/${model}/info` });
      assert.equal(info.statusCode, 200, info.body);
      const health = await gateway.app.inject({ method: 'GET', url: `/models/${model}/health` });
      assert.equal(health.statusCode, 200, health.body);
    }
  });

  it("GET /models/{id}/info is TGI's Info, /health 200 when ready and TGI's 503 when not; GET /models/{id} stays Sluice's view", async () => {
    const info = await gateway.app.inject({ method: 'GET', url: '/models/qwen2/info' });
    assert.equal(info.statusCode, 200);
    assertMatchesTgiSchema('Info', info.json());
    const health = await gateway.app.inject({ method: 'GET', url: '/models/qwen2/health' });
    assert.equal(health.statusCode, 200);
    assert.equal(health.body, '');
    const view = await gateway.app.inject({ method: 'GET', url: '/models/qwen2' });
    assert.equal(view.statusCode, 200);
    assert.equal(view.json().id, 'qwen2');

    const entry = gateway.registry.get('llama3');
    entry.markUnhealthy('probe failed');
    try {
      assertTgiError(await gateway.app.inject({ method: 'GET', url: '/models/llama3/health' }), 503, 'unavailable');
      assertTgiError(await gateway.app.inject({ method: 'GET', url: '/models/llama3/info' }), 503, 'unavailable');
      assertTgiError(await post('/models/llama3/generate', { inputs: 'hi' }), 503, 'unavailable');
    } finally {
      entry.markReady();
    }
    assertTgiError(await gateway.app.inject({ method: 'GET', url: '/models/gpt-9/health' }), 404, 'model_not_found');
  });

  it("refuses bad input with TGI's 422 and its wording, framework refusals in TGI's shape too", async () => {
    const refusals: Array<[string, unknown, RegExp]> = [
      ['/models/qwen2/generate', { inputs: '' }, /^Input validation error: `inputs` cannot be empty/],
      ['/models/qwen2/generate', { inputs: 'x', parameters: { temperature: 0 } }, /`temperature` must be strictly/],
      ['/models/qwen2/generate', { inputs: 'x', parameters: { top_p: 1 } }, /`top_p` must be > 0.0 and < 1.0/],
      ['/models/qwen2/generate', { inputs: 'x', parameters: { best_of: 2 } }, /`best_of` must be > 0 and <= 1/],
      ['/models/qwen2/generate', { inputs: 'x', parameters: { top_n_tokens: 9 } }, /`top_n_tokens` must be >= 0/],
      ['/models/qwen2/generate', { inputs: 'x', parameters: { nope: 1 } }, /unknown field `parameters.nope`/],
      ['/models/qwen2/generate', { inputs: 'x', stream: true }, /unknown field `stream`/],
      ['/models/qwen2/generate', { inputs: 'x', parameters: { max_new_tokens: 65 } }, /above the ceiling/],
      [
        '/models/qwen2/generate_stream',
        { inputs: 'x', parameters: { details: true, decoder_input_details: true } },
        /not supported when streaming tokens/,
      ],
      ['/models/qwen2', { inputs: 'x', stream: 'yes' }, /`stream` must be a boolean/],
    ];
    for (const [url, body, message] of refusals) assertTgiError(await post(url, body), 422, 'validation', message);

    assertTgiError(await post('/models/qwen2/generate', '{"inputs":'), 400, 'validation', /not valid JSON/);
    assertTgiError(await post('/models/qwen2', 'inputs=x', { 'content-type': 'text/plain' }), 415, 'validation');
    assertTgiError(await post('/models/qwen2/generate', { inputs: 'x'.repeat(2000) }), 413, 'validation');
    assertTgiError(await post('/models/gpt-9/generate', { inputs: 'x' }), 404, 'model_not_found', /gpt-9/);
  });

  it("maps the taxonomy onto TGI's statuses and error types, as JSON and as the stream's last event", async () => {
    assertTgiError(await post('/models/qwen2/generate', { inputs: 'backend-422' }), 422, 'validation');
    assertTgiError(await post('/models/qwen2/generate', { inputs: 'overloaded' }), 429, 'overloaded');
    assertTgiError(await post('/models/qwen2/generate', { inputs: 'fail' }), 424, 'generation', /CUDA error/);
    assertTgiError(await post('/models/qwen2', { inputs: 'timeout' }), 504, 'generation', /timeout/);
    assertTgiError(await post('/models/qwen2/generate', { inputs: 'crash' }), 500, 'generation');
    assertTgiError(await post('/models/qwen2/generate_stream', { inputs: 'refused' }), 503, 'unavailable');

    const midstream = await post('/models/qwen2/generate_stream', { inputs: 'fail-midstream' });
    assert.equal(midstream.statusCode, 200);
    const events = tgiEvents(midstream.body);
    assert.equal(events.length, 3);
    assert.deepEqual(events.at(-1), {
      error: 'Request failed during generation: CUDA error',
      error_type: 'generation',
    });
    assertMatchesTgiSchema('ErrorResponse', events.at(-1));

    // The model's one slot held and its one queue place taken: the next is TGI's 429.
    const held = post('/models/llama3/generate', { inputs: 'hold' });
    const queued = post('/models/llama3/generate', { inputs: 'q' });
    await new Promise((resolve) => setTimeout(resolve, 50));
    assertTgiError(await post('/models/llama3/generate_stream', { inputs: 'x' }), 429, 'overloaded');
    gateway.backend.release();
    assert.equal((await held).statusCode, 200);
    assert.equal((await queued).statusCode, 200);
  });

  it('/models/{id}/v1/completions answers as @huggingface/inference posts it, TGI parameters ignored', async () => {
    const body = {
      model: 'http://localhost:8000/models/qwen2',
      prompt: 'one two',
      max_tokens: 4,
      details: true,
      top_n_tokens: 2,
      return_full_text: false,
    };
    const answer = await post('/models/qwen2/v1/completions', body);
    assert.equal(answer.statusCode, 200, answer.body);
    assertMatchesTgiSchema('CompletionFinal', answer.json());
    assert.equal(answer.json().choices[0].text, ' one two');
    assert.equal(answer.json().model, 'qwen2');

    const stream = await post('/models/Qwen%2FQwen2-7B-Instruct-GPTQ-Int4/v1/completions', { ...body, stream: true });
    const events = openAiEvents(stream.body);
    assert.equal(events.at(-1), '[DONE]');
    // OpenAI's chunks, as /v1/completions streams them: the text, then the finish reason.
    assert.equal(
      events
        .slice(0, -1)
        .map((chunk) => chunk.choices[0].text)
        .join(''),
      ' one two',
    );
    assertMatchesTgiSchema('Chunk', events.at(-2));

    assertTgiError(await post('/models/qwen2/v1/completions', { prompt: 'x', max_tokens: 1000 }), 422, 'validation');
  });

  it('counts these requests like /v1/generate ones, with route="tgi" on the request counter', async () => {
    const samples = async () =>
      parsePrometheusText((await gateway.app.inject({ method: 'GET', url: '/metrics' })).body);
    const count = (s: Map<string, number>, outcome?: string) =>
      [...s]
        .filter(([name]) => name.startsWith(`sluice_requests_total{model="llama3",`) && name.includes('route="tgi"'))
        .filter(([name]) => outcome === undefined || name.includes(`outcome="${outcome}"`))
        .reduce((sum, [, value]) => sum + value, 0);
    const before = await samples();
    await post('/models/llama3/generate', { inputs: 'hi' });
    await post('/models/llama3/generate_stream', { inputs: 'hi' });
    await post('/models/llama3', { inputs: 'hi', parameters: { temperature: 0 } });
    await post('/models/llama3/v1/completions', { prompt: 'hi' });
    const after = await samples();
    assert.equal(count(after) - count(before), 4);
    assert.equal(count(after, 'validation') - count(before, 'validation'), 1);
  });
});

describe("/v1/generate relays TGI's details, top tokens and prefill in its own shape", () => {
  let gateway: InProcessGateway;

  before(async () => {
    gateway = await startInProcessGateway();
  });
  after(() => gateway?.close());

  it('a `details` object beside the gateway fields, only when asked; decoder_input_details uses the backend /generate', async () => {
    const plain = await postGenerate(gateway.app, { model_id: 'qwen2', inputs: 'a b' });
    assert.equal(plain.json().details, undefined);

    const detailed = await postGenerate(gateway.app, {
      model_id: 'qwen2',
      inputs: 'a b',
      parameters: { details: true, top_n_tokens: 3 },
    });
    assert.equal(detailed.statusCode, 200, detailed.body);
    const body = detailed.json();
    assert.equal(body.generated_text, ' a b');
    assert.equal(body.usage.output_tokens, 2);
    assertMatchesTgiSchema('GenerateResponse', { generated_text: body.generated_text, details: body.details });
    assert.equal(body.details.tokens.length, 2);
    assert.equal(body.details.top_tokens[0].length, 3);
    assert.equal(gateway.backend.calls.at(-1)!.route, undefined);

    const prefill = await postGenerate(gateway.app, {
      model_id: 'qwen2',
      inputs: 'a b',
      parameters: { details: true, decoder_input_details: true, best_of: 1 },
    });
    assert.equal(prefill.statusCode, 200, prefill.body);
    assert.equal(gateway.backend.calls.at(-1)!.route, 'generate');
    assert.equal(prefill.json().details.prefill.length, 2);
  });

  it('a stream relays top_tokens and logprobs as the backend sent them', async () => {
    const answer = await postGenerate(gateway.app, {
      model_id: 'qwen2',
      inputs: 'a b',
      stream: true,
      parameters: { details: true, top_n_tokens: 2 },
    });
    const events = tgiEvents(answer.body);
    assert.ok(events.every((e) => e.top_tokens.length === 2 && typeof e.token.logprob === 'number'));
    assert.equal(events.at(-1).request_id, answer.headers['x-request-id'], "the gateway's summary stays");
  });

  it('refuses best_of above 1 and decoder_input_details on a stream with 422', async () => {
    assertErrorAnswer(
      await postGenerate(gateway.app, { model_id: 'qwen2', inputs: 'x', parameters: { best_of: 2 } }),
      422,
      'validation',
      /best_of must be 1/,
    );
    assertErrorAnswer(
      await postGenerate(gateway.app, {
        model_id: 'qwen2',
        inputs: 'x',
        stream: true,
        parameters: { details: true, decoder_input_details: true },
      }),
      422,
      'validation',
      /decoder_input_details is not supported when streaming/,
    );
  });
});
