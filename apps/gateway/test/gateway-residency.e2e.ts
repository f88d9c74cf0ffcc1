import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { redisForGateways, type GatewayRedis } from '#dispatch/testing';
import { REPO_ROOT, SHIPPED_MODELS, slowTestModel } from '#test-support/engine';
import { startGateway, waitForModel, writeModelsConfig, type RunningGateway } from '#test-support/gateway';
import { openStream, postJson, request } from '#test-support/http-client';

/**
 * Models loaded on demand sharing one declared GPU of 12 GB, each with a budget of 5 GB: at most two fit at once.
 * Real engines on the CPU; the GPU and its memory are the registry's declaration, which the gateway enforces.
 */
function sharedGpuConfig(
  models: Array<{ id: string; file: string }>,
  { memoryGb, keepAlive, minResidency }: { memoryGb: number; keepAlive: string; minResidency: string },
): string {
  const list = models
    .map(
      ({ id, file }) => `
  - id: ${id}
    quantization: gguf-q8_0
    vram_budget_gb: 5
    gpu: "0"
    load: on_demand
    keep_alive: ${keepAlive}
    min_residency: ${minResidency}
    backend:
      type: local
      model_path: ${file}
      port: null
      engine: { contexts: 1, sequences: 2, threads: 1, context_size: 512, gpu_layers: 0, max_concurrent_requests: 16 }`,
    )
    .join('');
  return writeModelsConfig(`gpus: [{ id: "0", memory_gb: ${memoryGb} }]
defaults:
  max_concurrent: 2
  max_queued: 32
  max_queue_wait_ms: 30000
  max_new_tokens: 400
  default_max_new_tokens: 4
  timeouts: { connect_ms: 2000, first_byte_ms: 20000, inter_token_ms: 20000, total_ms: 30000, startup_ms: 30000 }
models:${list}
`);
}

const generate = (gateway: RunningGateway, model: string, maxNewTokens = 4) =>
  postJson(`${gateway.url}/v1/generate`, {
    model_id: model,
    inputs: 'Hello',
    parameters: { max_new_tokens: maxNewTokens },
  });

const models = async (gateway: RunningGateway): Promise<any> => (await request(`${gateway.url}/models`)).json();
const residentIds = (list: any) => list.models.filter((m: any) => m.residency.resident).map((m: any) => m.id as string);

/** Samples /models every 100 ms: the most models resident at once, and the most budget in use, seen. */
function residencySampler(gateway: RunningGateway) {
  let most = 0;
  let mostGb = 0;
  let running = true;
  const loop = (async () => {
    while (running) {
      const list = await models(gateway).catch(() => undefined);
      if (list) {
        most = Math.max(most, residentIds(list).length);
        mostGb = Math.max(mostGb, list.gpus[0].budget_in_use_gb);
        // Running processes too, not only the books: an unloaded model's engine is gone.
        most = Math.max(most, list.models.filter((m: any) => m.backend.pid !== null).length);
      }
      await new Promise((r) => setTimeout(r, 100));
    }
  })();
  return {
    stop: async () => {
      running = false;
      await loop;
      return { most, mostGb };
    },
  };
}

describe('three models of 5 GB on demand on a 12 GB GPU', () => {
  let gateway: RunningGateway;
  let sampler: ReturnType<typeof residencySampler>;

  before(async () => {
    const config = sharedGpuConfig(
      [
        { id: 'qwen2', file: SHIPPED_MODELS.qwen2 },
        { id: 'llama3', file: SHIPPED_MODELS.llama3 },
        { id: 'slow', file: slowTestModel() },
        { id: 'broken', file: `${REPO_ROOT}models/generated/no-such-model.gguf` },
      ],
      { memoryGb: 12, keepAlive: '10m', minResidency: '200ms' },
    );
    gateway = await startGateway(config, { env: { MODEL_FILE_RETRY_MS: '300' } });
    sampler = residencySampler(gateway);
  });
  after(async () => {
    await sampler?.stop();
    await gateway?.stop();
  });

  it('loads nothing at start: the gateway is ready with every model on demand stopped', async () => {
    const list = await models(gateway);
    assert.deepEqual(residentIds(list), []);
    assert.equal(list.gpus[0].budget_in_use_gb, 0);
    for (const model of list.models) assert.equal(model.state, 'stopped');
    assert.equal((await request(`${gateway.url}/health/ready`)).status, 200);
  });

  it('starts a model once for concurrent first requests, which wait for it within their deadline', async (t) => {
    const answers = await Promise.all(Array.from({ length: 6 }, () => generate(gateway, 'qwen2')));
    for (const answer of answers) assert.equal(answer.status, 200, answer.text);
    const view = (await request(`${gateway.url}/models/qwen2`)).json();
    assert.equal(view.residency.loads, 1, 'one load for six requests');
    assert.equal(view.restarts, 0);
    assert.ok(view.cold_start_ms > 0);
    // The cold start is the first requests' queue time.
    const longestQueueMs = Math.max(...answers.map((answer) => answer.json().queue_ms));
    assert.ok(
      longestQueueMs >= view.cold_start_ms * 0.5,
      `queue_ms ${longestQueueMs}, cold start ${view.cold_start_ms}`,
    );
    t.diagnostic(`cold start ${view.cold_start_ms} ms; longest queue_ms ${longestQueueMs}`);
  });

  it('for a third model, unloads the idle least recently used one and serves it', async () => {
    assert.equal((await generate(gateway, 'llama3')).status, 200);
    assert.deepEqual(residentIds(await models(gateway)).sort(), ['llama3', 'qwen2']);
    // qwen2 was used before llama3: it goes.
    const third = await generate(gateway, 'slow');
    assert.equal(third.status, 200, third.text);
    const list = await models(gateway);
    assert.deepEqual(residentIds(list).sort(), ['llama3', 'slow']);
    const qwen2 = list.models.find((m: any) => m.id === 'qwen2');
    assert.equal(qwen2.residency.unloads, 1);
    assert.equal(qwen2.state, 'stopped');
    assert.equal(qwen2.backend.pid, null, 'its engine is gone');
    assert.equal(qwen2.backend.address, null, 'and the port it listened on');
    assert.equal(list.gpus[0].budget_in_use_gb, 10);
  });

  it('never unloads a model with a request in flight, even when it is the least recently used', async () => {
    // slow streams for a while; then llama3 is used, so slow is the least recently used, but busy.
    let streamed = 0;
    const stream = openStream(
      `${gateway.url}/v1/generate`,
      { model_id: 'slow', inputs: 'The', stream: true, parameters: { max_new_tokens: 300 } },
      () => streamed++,
    );
    while (streamed < 2) await new Promise((r) => setTimeout(r, 20));
    assert.equal((await generate(gateway, 'llama3')).status, 200);
    const answer = await generate(gateway, 'qwen2');
    assert.equal(answer.status, 200, answer.text);
    const list = await models(gateway);
    assert.deepEqual(residentIds(list).sort(), ['qwen2', 'slow'], 'llama3 (idle) went; slow (busy) stayed');
    const { status, events } = await stream.done;
    assert.equal(status, 200);
    assert.equal(events.filter((event) => event.error !== undefined).length, 0, 'the stream was never cut');
    assert.ok(events.at(-1).generated_text !== null);
  });

  it('fails only the requests of a model whose file is missing, with 503 and the reason, and frees its budget', async () => {
    // Make room first, so that the broken model's start is attempted without pushing a busy model out.
    await request(`${gateway.url}/models/slow/unload`, { method: 'POST' });
    const before = await models(gateway);
    assert.equal(before.gpus[0].budget_in_use_gb, 5);
    const refused = await generate(gateway, 'broken');
    assert.equal(refused.status, 503, refused.text);
    assert.equal(refused.json().error_type, 'unavailable');
    assert.match(refused.json().error, /model "broken" cannot load its model file: .*no-such-model\.gguf.*ENOENT/);
    assert.ok(refused.headers['retry-after']);
    const view = await waitForModel(gateway.url, 'broken', (v) => !v.residency.resident, 5000);
    assert.equal(view.state, 'failed');
    assert.match(view.last_error.message, /ENOENT/);
    assert.equal((await models(gateway)).gpus[0].budget_in_use_gb, 5, 'its budget is free again');
    assert.equal((await generate(gateway, 'qwen2')).status, 200, 'the others serve on');
  });

  it('loads and unloads on the admin routes; unload waits for the request in flight', async () => {
    const loaded = await request(`${gateway.url}/models/llama3/load`, { method: 'POST' });
    assert.equal(loaded.status, 200, loaded.text);
    assert.equal(loaded.json().state, 'ready');
    assert.equal(loaded.json().residency.resident, true);
    let streamed = 0;
    const stream = openStream(
      `${gateway.url}/v1/generate`,
      { model_id: 'llama3', inputs: 'The', stream: true, parameters: { max_new_tokens: 300 } },
      () => streamed++,
    );
    while (streamed < 1) await new Promise((r) => setTimeout(r, 5));
    const unloaded = await request(`${gateway.url}/models/llama3/unload`, { method: 'POST' });
    assert.equal(unloaded.status, 200, unloaded.text);
    assert.equal(unloaded.json().residency.resident, false);
    assert.equal(unloaded.json().state, 'stopped');
    const { status, events } = await stream.done;
    assert.equal(status, 200);
    assert.equal(events.filter((event) => event.error !== undefined).length, 0, 'the stream ended before the unload');
    const remote = await request(`${gateway.url}/models/nope/load`, { method: 'POST' });
    assert.equal(remote.status, 404);
  });

  it('never had more than two models resident, nor more than 10 GB of budgets in use', async (t) => {
    const { most, mostGb } = await sampler.stop();
    t.diagnostic(`most resident at once: ${most}; most budget in use: ${mostGb} GB`);
    assert.ok(most <= 2, `${most} resident at once`);
    assert.ok(mostGb <= 10, `${mostGb} GB in use`);
  });
});

describe('two models on demand that cannot both be resident (8 GB GPU)', () => {
  let gateway: RunningGateway;

  before(async () => {
    const config = sharedGpuConfig(
      [
        { id: 'qwen2', file: SHIPPED_MODELS.qwen2 },
        { id: 'llama3', file: SHIPPED_MODELS.llama3 },
      ],
      { memoryGb: 8, keepAlive: '1500ms', minResidency: '300ms' },
    );
    gateway = await startGateway(config);
  });
  after(() => gateway?.stop());

  it('thrash: alternating requests are each answered once; p50/p99 and swaps printed', async (t) => {
    const sampler = residencySampler(gateway);
    const latencies: number[] = [];
    const statuses: number[] = [];
    // Two clients, each asking its own model in a loop: every request wants the other model out.
    const client = async (model: string) => {
      for (let i = 0; i < 6; i++) {
        const startedAt = performance.now();
        const answer = await generate(gateway, model);
        latencies.push(performance.now() - startedAt);
        statuses.push(answer.status);
        assert.ok(answer.status === 200 || answer.status === 503, answer.text);
      }
    };
    await Promise.all([client('qwen2'), client('llama3')]);
    const { most } = await sampler.stop();
    const list = await models(gateway);
    const swaps = list.models.reduce((sum: number, m: any) => sum + m.residency.unloads, 0);
    const sorted = [...latencies].sort((a, b) => a - b);
    const at = (q: number) => Math.round(sorted[Math.min(sorted.length - 1, Math.ceil(q * sorted.length) - 1)]!);
    const ok = statuses.filter((s) => s === 200).length;
    const line = `thrash: ${statuses.length} requests, ${ok} ok, ${statuses.length - ok} 503; p50 ${at(0.5)} ms, p99 ${at(0.99)} ms; ${swaps} swaps (unloads); at most ${most} resident`;
    console.log(line);
    t.diagnostic(line);
    assert.equal(statuses.length, 12, 'every request answered once');
    assert.ok(most <= 1, `${most} resident at once on a GPU that holds one`);
    assert.ok(swaps >= 1);
  });

  it('unloads an idle model after its keep_alive', async (t) => {
    const answer = await generate(gateway, 'qwen2');
    assert.equal(answer.status, 200, answer.text);
    const servedAt = Date.now();
    const view = await waitForModel(gateway.url, 'qwen2', (v) => !v.residency.resident, 10_000);
    const afterMs = Date.now() - servedAt;
    t.diagnostic(`unloaded ${afterMs} ms after its last request (keep_alive 1500 ms)`);
    assert.ok(afterMs >= 1400, `unloaded after ${afterMs} ms, before its keep_alive`);
    assert.ok(afterMs < 4000, `unloaded after ${afterMs} ms`);
    assert.equal(view.state, 'stopped');
    assert.equal(view.backend.pid, null);
  });
});

describe('models on demand with the Redis (BullMQ) dispatch queue: its counts decide what is idle', () => {
  let gateway: RunningGateway;
  let redis: GatewayRedis;

  before(async () => {
    redis = await redisForGateways();
    const config = sharedGpuConfig(
      [
        { id: 'qwen2', file: SHIPPED_MODELS.qwen2 },
        { id: 'slow', file: slowTestModel() },
      ],
      { memoryGb: 8, keepAlive: '10m', minResidency: '200ms' },
    );
    gateway = await startGateway(config, { env: redis.env });
  });
  after(async () => {
    await gateway?.stop();
    await redis?.stop();
  });

  it('keeps a model with a job running in the shared queue, then swaps once it is done', async () => {
    let streamed = 0;
    const stream = openStream(
      `${gateway.url}/v1/generate`,
      { model_id: 'slow', inputs: 'The', stream: true, parameters: { max_new_tokens: 100 } },
      () => streamed++,
    );
    while (streamed < 2) await new Promise((r) => setTimeout(r, 20));
    const other = await generate(gateway, 'qwen2');
    assert.equal(other.status, 200, other.text);
    const { status, events } = await stream.done;
    assert.equal(status, 200);
    assert.equal(events.filter((event) => event.error !== undefined).length, 0, 'the stream was never cut');
    const list = await models(gateway);
    assert.deepEqual(residentIds(list), ['qwen2']);
    const slow = list.models.find((m: any) => m.id === 'slow');
    assert.equal(slow.residency.unloads, 1);
    // qwen2 waited for the stream: its queue time covers the rest of the stream and its own cold start.
    assert.ok(other.json().queue_ms > 0);
  });
});
