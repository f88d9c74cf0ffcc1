import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { startTgiStandIn, type TgiStandIn } from '#backends/testing';
import { redisForGateways, type GatewayRedis } from '#dispatch/testing';
import { startGateway, tgiModelsYaml, writeModelsConfig, type RunningGateway } from '#test-support/gateway';
import { request, type HttpResult } from '#test-support/http-client';

/** Polls GET /health/ready until `accept` takes its answer or the deadline passes. */
async function readyUntil(url: string, accept: (res: HttpResult) => boolean, timeoutMs = 10_000): Promise<HttpResult> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const res = await request(`${url}/health/ready`);
    if (accept(res)) return res;
    if (Date.now() > deadline) throw new Error(`/health/ready never matched; last: ${res.status} ${res.text}`);
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
}

/**
 * A gateway whose dispatch queue lives in a REAL redis-server that the test stops and starts again: readiness follows
 * Redis, since every generation would be answered 503 without it; READINESS_REDIS=ignored only reports it.
 */
describe("readiness and the dispatch queue's Redis", () => {
  let standIn: TgiStandIn;
  let redis: GatewayRedis;
  let strict: RunningGateway;
  let lenient: RunningGateway;

  before(async () => {
    standIn = await startTgiStandIn({ script: () => ({ tokens: [' one', ' two'], tokenDelayMs: 5 }) });
    redis = await redisForGateways({ own: true }); // this suite stops and restarts it
    const config = writeModelsConfig(tgiModelsYaml(standIn.url));
    [strict, lenient] = await Promise.all([
      startGateway(config, { env: redis.env }),
      startGateway(config, { env: { ...redis.env, READINESS_REDIS: 'ignored' } }),
    ]);
  });
  after(async () => {
    await Promise.all([strict, lenient].map((gateway) => gateway?.stop()));
    await redis?.stop();
    await standIn?.close();
  });

  it('503 with the reason while Redis is down, 200 again once it is back', async () => {
    const up = await readyUntil(strict.url, (res) => res.status === 200);
    assert.deepEqual(up.json().info.dispatch_queue, { status: 'up', backend: 'redis', required: true });

    await redis.server!.stop();
    const down = await readyUntil(strict.url, (res) => res.status === 503, 5000);
    const report = down.json().error.dispatch_queue;
    assert.equal(report.status, 'down');
    assert.match(report.reason, /Redis/);
    // The models themselves are still ready: the queue alone is why.
    assert.equal(down.json().details.qwen2.status, 'up');
    const generate = await request(`${strict.url}/v1/generate`, { body: { model_id: 'qwen2', inputs: 'hi' } });
    assert.equal(generate.status, 503, 'the readiness answer matches what requests get');

    const reported = await readyUntil(lenient.url, (res) => res.json().details.dispatch_queue?.status === 'degraded');
    assert.equal(reported.status, 200, 'READINESS_REDIS=ignored reports the outage without failing readiness');
    assert.match(reported.json().details.dispatch_queue.reason, /Redis/);

    await redis.server!.start();
    const back = await readyUntil(strict.url, (res) => res.status === 200, 10_000);
    assert.equal(back.json().info.dispatch_queue.status, 'up');
    const served = await request(`${strict.url}/v1/generate`, { body: { model_id: 'qwen2', inputs: 'hi' } });
    assert.equal(served.status, 200, served.text);
  });
});
