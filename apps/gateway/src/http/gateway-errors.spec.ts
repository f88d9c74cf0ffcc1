import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { parsePrometheusText } from '#metrics/testing';
import { parseSse } from '#test-support/http-client';
import { assertErrorAnswer, postGenerate, until } from '../testing/answers.js';
import { startInProcessGateway, TEST_BODY_LIMIT_BYTES, type InProcessGateway } from '../testing/in-process-gateway.js';

/**
 * Every error answer the gateway gives, through its real pipeline (Fastify, the validation pipe, the exception
 * filter, the dispatch queue) in process: each with its status, the headers that matter and the documented body.
 * 408, 431, a request that is not HTTP, and the 503 of a closing server need a socket: client-errors.int.ts.
 */
describe('the gateway answers every refusal and failure as {error, error_type, request_id}', () => {
  let gateway: InProcessGateway;
  const generate = (body: unknown, headers?: Record<string, string>) => postGenerate(gateway.app, body, headers);
  const get = (url: string) => gateway.app.inject({ method: 'GET', url });
  const ask = (inputs: string, extra: Record<string, unknown> = {}) =>
    generate({ model_id: 'qwen2', inputs, ...extra });

  before(async () => {
    gateway = await startInProcessGateway();
  });
  after(() => gateway?.close());

  it('400 validation: a body that is not JSON, or is empty; a URL that is not valid', async () => {
    assertErrorAnswer(await generate('{"model_id": "qwen2",'), 400, 'validation', /not valid JSON/);
    assertErrorAnswer(await generate(''), 400, 'validation', /body is empty/);
    assertErrorAnswer(await get('/models/%E0%A4%A'), 400, 'validation', /URL is not valid/);
  });

  it('404 model_not_found for an unknown model, on /v1/generate and /models/:id', async () => {
    assertErrorAnswer(
      await generate({ model_id: 'gpt-9', inputs: 'Hi' }),
      404,
      'model_not_found',
      /unknown model_id "gpt-9"; this gateway serves: qwen2, llama3/,
    );
    assertErrorAnswer(await get('/models/gpt-9'), 404, 'model_not_found', /unknown model "gpt-9"/);
  });

  it('404 not_found for a route the gateway does not have', async () => {
    assertErrorAnswer(await get('/v2/nothing'), 404, 'not_found', /Cannot GET \/v2\/nothing/);
  });

  it("405 validation with Allow for a method a known path does not take, in the route's own shape", async () => {
    const wrongMethod = assertErrorAnswer(await get('/v1/generate'), 405, 'validation', /GET is not allowed/);
    assert.match(wrongMethod.error, /on \/v1\/generate: it takes POST/);
    assert.equal((await get('/v1/generate')).headers.allow, 'POST');
    const compat = await gateway.app.inject({ method: 'DELETE', url: '/models/qwen2' });
    assert.equal(compat.statusCode, 405);
    assert.equal(compat.headers.allow, 'GET, HEAD, POST');
    const openAi = await gateway.app.inject({ method: 'PUT', url: '/v1/chat/completions' });
    assert.equal(openAi.statusCode, 405);
    assert.equal(openAi.headers.allow, 'POST');
    assert.match(String(openAi.headers['x-request-id']), /./);
    assert.deepEqual(Object.keys(openAi.json().error).sort(), ['code', 'message', 'param', 'type']);
  });

  it('413 validation for a body over BODY_LIMIT_BYTES', async () => {
    const answer = await generate({ model_id: 'qwen2', inputs: 'x'.repeat(TEST_BODY_LIMIT_BYTES) });
    assertErrorAnswer(answer, 413, 'validation', /larger than the gateway accepts \(BODY_LIMIT_BYTES, 1024 bytes\)/);
  });

  it('414 validation for a route parameter longer than the router takes', async () => {
    assertErrorAnswer(await get(`/models/${'m'.repeat(101)}`), 414, 'validation', /URL is too long/);
  });

  it('415 validation for a body that is not sent as JSON', async () => {
    for (const contentType of ['text/plain', 'application/xml', 'application/x-www-form-urlencoded']) {
      assertErrorAnswer(
        await generate('model_id=qwen2', { 'content-type': contentType }),
        415,
        'validation',
        /send the body as JSON with Content-Type: application\/json/,
      );
    }
  });

  it('422 validation for every class of bad field, the model ceiling, and the backend refusing the input', async () => {
    const cases: Array<[unknown, RegExp]> = [
      [{ inputs: 'Hi' }, /model_id/], // missing
      [{ model_id: 'qwen2' }, /inputs/],
      [{ model_id: 'qwen2', inputs: '' }, /inputs should not be empty/], // empty
      [{ model_id: 42, inputs: 'Hi' }, /model_id must be a string/], // wrong type
      [{ model_id: 'qwen2', inputs: ['Hi'] }, /inputs must be a string/],
      [{ model_id: 'qwen2', inputs: 'Hi', stream: 'yes' }, /stream must be a boolean/],
      [{ model_id: 'qwen2', inputs: 'Hi', parameters: 'hot' }, /parameters must be an object/],
      [{ model_id: 'qwen2', inputs: 'Hi', scenario: 'q a' }, /scenario may contain only letters/], // pattern
      [{ model_id: 'qwen2', inputs: 'Hi', timeout_ms: 0 }, /timeout_ms must not be less than 1/], // range
      [
        { model_id: 'qwen2', inputs: 'Hi', parameters: { max_new_tokens: 0 } },
        /parameters.max_new_tokens must not be less than 1/,
      ],
      [
        { model_id: 'qwen2', inputs: 'Hi', parameters: { max_new_tokens: 'many' } },
        /parameters.max_new_tokens must be an integer/,
      ],
      [
        { model_id: 'qwen2', inputs: 'Hi', parameters: { temperature: -0.1 } },
        /parameters.temperature must not be less than 0/,
      ],
      [{ model_id: 'qwen2', inputs: 'Hi', parameters: { top_p: 1.5 } }, /parameters.top_p must not be greater than 1/],
      [
        { model_id: 'qwen2', inputs: 'Hi', parameters: { stop: ['a', 'b', 'c', 'd', 'e'] } },
        /parameters.stop must contain no more than 4/,
      ],
      [
        { model_id: 'qwen2', inputs: 'Hi', parameters: { max_tokens: 5 } }, // unknown, nested
        /property parameters.max_tokens should not exist/,
      ],
      [{ model_id: 'qwen2', inputs: 'Hi', prompt: 'x' }, /property prompt should not exist/],
      [
        { model_id: 'qwen2', inputs: 'Hi', parameters: { top_p: 1.5, max_tokens: 5 } }, // several, in one line
        /property parameters.max_tokens should not exist; parameters.top_p must not be greater than 1/,
      ],
      [
        { model_id: 'qwen2', inputs: 'Hi', parameters: { max_new_tokens: 100 } }, // the service's rule
        /parameters.max_new_tokens 100 is above the ceiling of model "qwen2" \(64\)/,
      ],
    ];
    for (const [body, message] of cases) assertErrorAnswer(await generate(body), 422, 'validation', message);
    assertErrorAnswer(await ask('backend-422'), 422, 'validation', /^Input validation error/);
  });

  it('429 overloaded with Retry-After when the queue is full, and 504 timeout for a deadline passed in it', async () => {
    const held = ask('hold');
    await until(() => gateway.backend.calls.some((call) => call.inputs === 'hold'));
    const queued = ask('queued', { timeout_ms: 100 });
    await until(async () => (await get('/models/qwen2')).json().queued === 1);

    const refused = await ask('refused at once');
    assertErrorAnswer(refused, 429, 'overloaded', /model "qwen2" is at capacity: 1 running and 1 queued/);
    assert.match(String(refused.headers['retry-after']), /^[1-9]\d*$/);

    assertErrorAnswer(await queued, 504, 'timeout', /deadline passed after \d+ ms waiting in the queue of "qwen2"/);
    gateway.backend.release();
    assert.equal((await held).statusCode, 200);
  });

  it('429 overloaded with Retry-After 1 when the backend is overloaded and did not say when', async () => {
    const answer = await ask('overloaded');
    assertErrorAnswer(answer, 429, 'overloaded', /^Model is overloaded$/);
    assert.equal(answer.headers['retry-after'], '1');
  });

  it("500 internal for the gateway's own fault, never upstream, without its details", async () => {
    const before = await outcomes();
    for (const stream of [false, true]) {
      const body = assertErrorAnswer(await ask('crash', { stream }), 500, 'internal', /log has the details/);
      assert.doesNotMatch(body.error, /Cannot read properties/);
    }
    const after = await outcomes();
    assert.deepEqual(after, { internal: before.internal + 2, upstream: before.upstream });
  });

  it('502 upstream when the backend fails, as JSON before the first token (streamed or not)', async () => {
    assertErrorAnswer(await ask('fail'), 502, 'upstream', /backend answered 500: .*CUDA error/);
    assertErrorAnswer(await ask('fail', { stream: true }), 502, 'upstream', /CUDA error/);
  });

  it('502 upstream inside a started stream: a 200 whose last event is the error body', async () => {
    const answer = await ask('fail-midstream', { stream: true });
    assert.equal(answer.statusCode, 200);
    assert.match(String(answer.headers['content-type']), /^text\/event-stream/);
    const events = parseSse(answer.body);
    assert.deepEqual(
      events.slice(0, -1).map((event) => event.token.text),
      ['a', 'b'],
    );
    assert.deepEqual(events.at(-1), {
      error: 'Request failed during generation: CUDA error',
      error_type: 'upstream',
      request_id: answer.headers['x-request-id'],
    });
  });

  it('503 unavailable with Retry-After: a model that is unhealthy, still cold at the deadline, or unreachable', async () => {
    const llama3 = gateway.registry.get('llama3');
    try {
      llama3.markUnhealthy('backend health check failed');
      const unhealthy = await generate({ model_id: 'llama3', inputs: 'Hi' });
      assertErrorAnswer(unhealthy, 503, 'unavailable', /model "llama3" is unhealthy: backend health check failed/);
      assert.equal(unhealthy.headers['retry-after'], '5');

      llama3.markLoading();
      const cold = await generate({ model_id: 'llama3', inputs: 'Hi', timeout_ms: 50 });
      assertErrorAnswer(cold, 503, 'unavailable', /model "llama3" is still loading \(cold start\)/);
      assert.equal(cold.headers['retry-after'], '5');
    } finally {
      llama3.markReady();
    }
    const refused = await ask('refused');
    assertErrorAnswer(refused, 503, 'unavailable', /backend refused the connection \(ECONNREFUSED\)/);
    assert.equal(refused.headers['retry-after'], '1');
  });

  it("503 from GET /health/ready with Terminus's report while a required model is not ready", async () => {
    const llama3 = gateway.registry.get('llama3');
    llama3.markUnhealthy('engine process died');
    try {
      const answer = await get('/health/ready');
      assert.equal(answer.statusCode, 503);
      assert.match(String(answer.headers['content-type']), /^application\/json/);
      assert.ok(answer.headers['x-request-id']);
      const report = answer.json();
      assert.equal(report.status, 'error');
      assert.deepEqual(report.error.llama3, {
        state: 'unhealthy',
        cold_start_ms: report.error.llama3.cold_start_ms, // its cold start before it failed
        required: true,
        last_error: 'engine process died',
        status: 'down',
      });
      assert.equal(report.info.qwen2.status, 'up');
    } finally {
      llama3.markReady();
    }
  });

  it('504 timeout when the backend times out', async () => {
    assertErrorAnswer(await ask('timeout'), 504, 'timeout', /backend first-byte timeout after 800 ms/);
  });

  it("keeps a caller's x-request-id on error answers", async () => {
    const answer = await generate({ model_id: 'gpt-9', inputs: 'Hi' }, { 'x-request-id': 'trace-abc.123' });
    assert.equal(assertErrorAnswer(answer, 404, 'model_not_found').request_id, 'trace-abc.123');
  });

  /** Prometheus' requests by outcome for qwen2. */
  async function outcomes(): Promise<{ internal: number; upstream: number }> {
    const samples = parsePrometheusText((await get('/metrics')).body);
    const count = (outcome: string) =>
      samples.get(`sluice_requests_total{model="qwen2",outcome="${outcome}",route="generate"}`) ?? 0;
    return { internal: count('internal'), upstream: count('upstream') };
  }
});
