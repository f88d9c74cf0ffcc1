import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { request } from '#test-support/http-client';
import { until } from '../testing/answers.js';
import { startInProcessGateway, type InProcessGateway } from '../testing/in-process-gateway.js';

/**
 * GET /console/state's last minute, fed by the same hook as the request metrics. Over a real socket: a request is
 * recorded when its answer has been sent, which an injected request never quite is.
 */
describe("the console's last minute, per model and for the whole gateway", () => {
  let gateway: InProcessGateway;
  let url: string;
  const state = async () => (await request(`${url}/console/state`)).json();
  const generate = async (model_id: string, inputs: string) =>
    (await request(`${url}/v1/generate`, { body: { model_id, inputs } })).status;

  before(async () => {
    gateway = await startInProcessGateway();
    await gateway.app.listen(0, '127.0.0.1');
    url = await gateway.app.getUrl();
  });
  after(() => gateway?.close());

  it("counts each model's answers, errors by type and latencies, and the requests naming no served model apart", async () => {
    for (let i = 0; i < 3; i++) assert.equal(await generate('qwen2', 'a b c'), 200);
    assert.equal(await generate('llama3', 'fail'), 502);
    assert.equal(await generate('gpt4', 'x'), 404);

    let now: any;
    await until(async () => {
      now = await state();
      return now.gateway.last_minute.requests === 5;
    });
    const model = (id: string) => now.models.find((m: any) => m.id === id).last_minute;
    const qwen2 = model('qwen2');
    assert.equal(qwen2.requests, 3);
    assert.deepEqual(qwen2.errors, {});
    assert.ok(qwen2.requests_per_s > 0);
    assert.equal(qwen2.per_second.length, 60);
    assert.equal(
      qwen2.per_second.reduce((a: number, b: number) => a + b, 0),
      3,
    );
    assert.equal(qwen2.latency_ms.count, 3);
    assert.ok(qwen2.latency_ms.p50 > 0 && qwen2.latency_ms.p99 >= qwen2.latency_ms.p50);
    assert.equal(qwen2.time_to_first_token_ms.count, 3);
    const llama3 = model('llama3');
    assert.deepEqual(llama3.errors, { upstream: 1 });
    assert.equal(llama3.latency_ms.count, 0, 'errors are not latency samples');
    assert.deepEqual(now.gateway.last_minute.errors, { model_not_found: 1, upstream: 1 });
  });
});
