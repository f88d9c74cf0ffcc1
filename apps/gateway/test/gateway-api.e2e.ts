import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { after, before, describe, it } from 'node:test';
import { REPO_ROOT } from '#test-support/engine';
import { localModelsYaml, startGateway, writeModelsConfig, type RunningGateway } from '#test-support/gateway';
import { parseSse, postJson, request } from '#test-support/http-client';

const SEED_PROMPTS = {
  qa: '光合作用的原理是什么？',
  chat: '请用中文介绍你自己。',
  summarize: '人工智能是计算机科学的一个分支，旨在创建能够执行通常需要人类智能的任务的系统……',
  rewrite: '这个产品非常好，大家都很喜欢。',
};

/**
 * What needs the two real engines: their text, streams that match it, their memory and cold starts, readiness and
 * the seed's stress script. Validation, every error answer, aliases and request ids are tested in process, next to
 * the code: apps/gateway/src/http/gateway-errors.spec.ts and apps/gateway/src/gateway-routes.spec.ts.
 */
describe('gateway over the embedded default (two real engines)', () => {
  let gateway: RunningGateway;
  const generate = (body: unknown) => postJson(`${gateway.url}/v1/generate`, body);

  before(async () => {
    gateway = await startGateway(writeModelsConfig(localModelsYaml()));
  });
  after(() => gateway?.stop());

  it("answers the seed's payloads for both models and every scenario with text, usage and a request id", async () => {
    for (const model_id of ['qwen2', 'llama3']) {
      for (const [scenario, inputs] of Object.entries(SEED_PROMPTS)) {
        const res = await generate({
          model_id,
          inputs,
          scenario,
          parameters: { max_new_tokens: 64, temperature: 0.7, top_p: 0.9 },
        });
        assert.equal(res.status, 200, res.text);
        const body = res.json();
        assert.equal(body.model_id, model_id);
        assert.ok(body.generated_text.length > 0);
        assert.ok(['length', 'eos_token', 'stop_sequence'].includes(body.finish_reason));
        assert.ok(body.usage.input_tokens > 0 && body.usage.output_tokens > 0 && body.usage.output_tokens <= 64);
        assert.ok(body.latency_ms > 0);
        assert.equal(body.request_id, res.headers['x-request-id']);
      }
    }
  });

  it('streams TGI-style events whose text matches the non-streamed answer', async () => {
    for (const model_id of ['qwen2', 'llama3']) {
      const body = { model_id, inputs: 'The king said', parameters: { max_new_tokens: 24 } };
      const plain = (await generate(body)).json();
      const res = await generate({ ...body, stream: true });
      assert.equal(res.status, 200);
      assert.match(String(res.headers['content-type']), /text\/event-stream/);
      const events = parseSse(res.text);
      const last = events.at(-1);
      assert.equal(last.generated_text, plain.generated_text);
      assert.equal(last.model_id, model_id);
      assert.equal(last.usage.output_tokens, events.length);
      assert.equal(last.request_id, res.headers['x-request-id']);
      assert.equal(
        events
          .slice(0, -1)
          .map((e) => e.token.text)
          .join('') + last.token.text,
        plain.generated_text,
      );
    }
  });

  it('reports each model on /models: backend, quantization, VRAM budget, memory, state and cold start', async () => {
    const res = await request(`${gateway.url}/models`);
    assert.equal(res.status, 200);
    const { models } = res.json();
    assert.deepEqual(
      models.map((m: { id: string }) => m.id),
      ['qwen2', 'llama3'],
    );
    for (const model of models) {
      assert.equal(model.state, 'ready');
      assert.equal(model.backend.type, 'local');
      assert.match(model.backend.address, /^http:\/\/127\.0\.0\.1:\d+$/);
      assert.equal(model.quantization, 'gguf-q8_0');
      assert.equal(model.vram_budget_gb, 0);
      assert.ok(model.cold_start_ms > 0 && model.cold_start_ms < 60_000);
      assert.ok(model.memory.process_rss_bytes > 10 * 1024 * 1024);
      assert.equal(model.in_flight, 0);
      assert.equal(model.queued, 0);
      assert.ok(Date.parse(model.ready_since) > 0);
    }
  });

  it('serves liveness, readiness and the OpenAPI document', async () => {
    assert.equal((await request(`${gateway.url}/health/live`)).status, 200);
    const ready = await request(`${gateway.url}/health/ready`);
    assert.equal(ready.status, 200);
    assert.equal(ready.json().details.qwen2.state, 'ready');
    const openapi = await request(`${gateway.url}/docs/openapi.json`);
    assert.equal(openapi.status, 200);
    assert.ok(openapi.json().paths['/v1/generate'].post);
    assert.equal((await request(`${gateway.url}/docs`)).status, 200);
  });

  it(
    "gives every one of the seed's 20 concurrent stress requests a 200 (scripts/stress_test.py)",
    { skip: !hasAiohttp() && 'python3-aiohttp is not installed' },
    () => {
      const run = spawnSync(
        '/usr/bin/python3',
        [`${REPO_ROOT}scripts/stress_test.py`, '--url', `${gateway.url}/v1/generate`, '--concurrency', '20'],
        {
          encoding: 'utf8',
          timeout: 120_000,
        },
      );
      assert.equal(run.status, 0, run.stdout + run.stderr);
      assert.match(run.stdout, /成功率:\s+100\.0%/);
    },
  );
});

function hasAiohttp(): boolean {
  return spawnSync('/usr/bin/python3', ['-c', 'import aiohttp'], { stdio: 'ignore' }).status === 0;
}
