import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { parseSse } from '#test-support/http-client';
import { parsePrometheusText } from '#metrics/testing';
import { postGenerate } from './testing/answers.js';
import { startInProcessGateway, type InProcessGateway } from './testing/in-process-gateway.js';

const GENERATE_FIELDS = [
  'finish_reason',
  'gateway_overhead_ms',
  'generated_text',
  'latency_ms',
  'model_id',
  'queue_ms',
  'request_id',
  'seed',
  'time_to_first_token_ms',
  'usage',
];

/** The gateway's successful answers, through its real pipeline in process (scripted backends, Fastify inject). */
describe('the gateway serves every route in process', () => {
  let gateway: InProcessGateway;
  const get = (url: string) => gateway.app.inject({ method: 'GET', url });

  before(async () => {
    gateway = await startInProcessGateway();
  });
  after(() => gateway?.close());

  it('200 JSON from POST /v1/generate: the text, usage and timings, with its request id and overhead header', async () => {
    const answer = await postGenerate(gateway.app, {
      model_id: 'qwen2-7b',
      inputs: 'one two three',
      scenario: 'qa',
      parameters: { max_new_tokens: 8, temperature: 0.7, top_p: 0.9 },
    });
    assert.equal(answer.statusCode, 200, answer.body);
    assert.match(String(answer.headers['content-type']), /^application\/json/);
    const body = answer.json();
    assert.deepEqual(Object.keys(body).sort(), GENERATE_FIELDS);
    assert.equal(body.generated_text, ' one two three');
    assert.equal(body.model_id, 'qwen2', 'the alias resolves to the canonical id');
    assert.equal(body.finish_reason, 'eos_token');
    assert.deepEqual(body.usage, { input_tokens: 3, output_tokens: 3 });
    assert.equal(body.request_id, answer.headers['x-request-id']);
    assert.equal(answer.headers['x-gateway-overhead-ms'], String(body.gateway_overhead_ms));
    assert.deepEqual(JSON.parse(JSON.stringify(gateway.backend.calls.at(-1))), {
      inputs: 'one two three',
      parameters: { max_new_tokens: 8, temperature: 0.7, top_p: 0.9 },
    });
  });

  it("200 from POST /v1/generate keeps a caller's x-request-id", async () => {
    const answer = await postGenerate(
      gateway.app,
      { model_id: 'qwen2', inputs: 'Hi', parameters: { max_new_tokens: 2 } },
      { 'x-request-id': 'trace-abc.123' },
    );
    assert.equal(answer.headers['x-request-id'], 'trace-abc.123');
    assert.equal(answer.json().request_id, 'trace-abc.123');
    const invalid = await postGenerate(gateway.app, { model_id: 'qwen2', inputs: 'Hi' }, { 'x-request-id': 'a b' });
    assert.match(String(invalid.headers['x-request-id']), /^[0-9a-f-]{36}$/, 'an unusable id is replaced');
  });

  it('200 event stream from POST /v1/generate: a TGI event per token, the last with the summary', async () => {
    const answer = await postGenerate(gateway.app, { model_id: 'qwen2', inputs: 'streamed words here', stream: true });
    assert.equal(answer.statusCode, 200);
    assert.match(String(answer.headers['content-type']), /^text\/event-stream/);
    assert.equal(answer.headers['cache-control'], 'no-cache');
    const requestId = answer.headers['x-request-id'];
    assert.ok(requestId);
    const events = parseSse(answer.body);
    assert.deepEqual(
      events.map((event) => event.token.text),
      [' streamed', ' words', ' here'],
    );
    for (const event of events.slice(0, -1)) assert.equal(event.generated_text, null);
    const last = events.at(-1);
    assert.equal(last.generated_text, ' streamed words here');
    assert.equal(last.details.finish_reason, 'eos_token');
    for (const field of GENERATE_FIELDS) assert.ok(field in last, field);
    assert.equal(last.request_id, requestId);
    assert.deepEqual(last.usage, { input_tokens: 3, output_tokens: 3 });
  });

  it('200 from GET /models and GET /models/:id (by alias): each model, and the declared GPUs', async () => {
    const list = await get('/models');
    assert.equal(list.statusCode, 200);
    assert.ok(list.headers['x-request-id']);
    const { models, gpus } = list.json();
    assert.deepEqual(gpus, []);
    assert.deepEqual(
      models.map((model: { id: string }) => model.id),
      ['qwen2', 'llama3'],
    );
    const one = await get('/models/qwen2-7b');
    assert.equal(one.statusCode, 200);
    assert.deepEqual(one.json(), models[0]);
    const view = one.json<Record<string, unknown>>();
    assert.deepEqual(
      // The service rate depends on how fast the earlier tests' requests went: only its type is fixed.
      {
        ...view,
        state_since: 'x',
        ready_since: 'x',
        cold_start_ms: 0,
        service_rate_per_s: typeof view['service_rate_per_s'],
      },
      {
        id: 'qwen2',
        aliases: ['qwen2-7b'],
        backend: { type: 'tgi', address: 'http://127.0.0.1:9', pid: null },
        quantization: 'gptq-int4',
        vram_budget_gb: 0,
        gpu: null,
        memory: { process_rss_bytes: null, gpu_used_mb: null, over_budget: null },
        state: 'ready',
        state_since: 'x',
        cold_start_ms: 0,
        ready_since: 'x',
        restarts: 0,
        in_flight: 0,
        queued: 0,
        admitted: 0,
        service_rate_per_s: 'number',
        predicted_wait_ms: 0,
        limits: { max_concurrent: 1, max_queued: 1, max_queue_wait_ms: 1000, max_new_tokens: 64 },
        // A TGI server outside: always resident, never loaded or unloaded by the gateway.
        residency: {
          load: 'always',
          resident: true,
          last_used: null,
          keep_alive_ms: null,
          min_residency_ms: null,
          loads: 0,
          unloads: 0,
        },
        last_error: null,
        replicas: [
          {
            replica: 0,
            backend: { type: 'tgi', address: 'http://127.0.0.1:9', pid: null },
            state: 'ready',
            in_flight: 0,
            ejected: false,
            ejected_until: null,
            ejections: 0,
            restarts: 0,
            last_error: null,
          },
        ],
      },
    );
  });

  it('200 from GET /health/live and GET /health/ready when every required model is ready', async () => {
    const live = await get('/health/live');
    assert.equal(live.statusCode, 200);
    assert.deepEqual(live.json().details, { gateway: { status: 'up' } });
    const ready = await get('/health/ready');
    assert.equal(ready.statusCode, 200);
    assert.equal(ready.json().status, 'ok');
    assert.equal(ready.json().details.qwen2.state, 'ready');
  });

  it('200 from GET /metrics: the Prometheus text', async () => {
    const answer = await get('/metrics');
    assert.equal(answer.statusCode, 200);
    assert.match(String(answer.headers['content-type']), /^text\/plain/);
    assert.equal(answer.headers['cache-control'], 'no-store');
    // Outcomes are not asserted here: inject's responses never report writableFinished, so they read as cancelled.
    const samples = parsePrometheusText(answer.body);
    assert.match(answer.body, /^# TYPE sluice_requests_total counter$/m);
    assert.equal(typeof samples.get('sluice_requests_total{model="qwen2",outcome="ok",route="generate"}'), 'number');
  });

  it('describes every route in the OpenAPI document: its error answers with their body, and /models with its schema', async () => {
    const answer = await get('/docs/openapi.json');
    assert.equal(answer.statusCode, 200);
    const document = answer.json();
    const errorRef = { $ref: '#/components/schemas/ErrorResponseDto' };
    const errors = (operation: any) =>
      Object.keys(operation.responses)
        .filter((status) => Number(status) >= 400)
        .map((status) => {
          assert.deepEqual(operation.responses[status].content['application/json'].schema, errorRef, status);
          return Number(status);
        });
    const generate = document.paths['/v1/generate'].post;
    assert.deepEqual(errors(generate), [400, 401, 403, 404, 413, 415, 422, 429, 500, 502, 503, 504]);
    assert.ok(generate.responses['429'].headers['Retry-After']);
    assert.ok(generate.responses['503'].headers['Retry-After']);
    assert.deepEqual(errors(document.paths['/models/{id}'].get), [400, 401, 403, 404, 414, 500]);
    const models = document.paths['/models'].get;
    assert.deepEqual(errors(models), [401, 500]);
    // The admin view, or the summary a key without the admin scope gets.
    assert.deepEqual(models.responses['200'].content['application/json'].schema, {
      oneOf: [{ $ref: '#/components/schemas/ModelListDto' }, { $ref: '#/components/schemas/ModelSummaryListDto' }],
    });
    assert.deepEqual(Object.keys(document.components.schemas.ModelSummaryDto.properties).sort(), [
      'aliases',
      'id',
      'state',
      'vram_budget_gb',
    ]);
    assert.deepEqual(Object.keys(document.components.schemas.ModelViewDto.properties).sort(), [
      'admitted',
      'aliases',
      'backend',
      'cold_start_ms',
      'gpu',
      'id',
      'in_flight',
      'last_error',
      'limits',
      'memory',
      'predicted_wait_ms',
      'quantization',
      'queued',
      'ready_since',
      'replicas',
      'residency',
      'restarts',
      'service_rate_per_s',
      'state',
      'state_since',
      'vram_budget_gb',
    ]);
    assert.deepEqual(document.components.schemas.ErrorResponseDto.required.sort(), [
      'error',
      'error_type',
      'request_id',
    ]);
  });
});
