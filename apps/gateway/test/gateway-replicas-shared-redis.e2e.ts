import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { startTgiStandIn, type TgiStandIn } from '#backends/testing';
import { redisForGateways, type GatewayRedis } from '#dispatch/testing';
import { startGateway, waitForModel, writeModelsConfig, type RunningGateway } from '#test-support/gateway';
import { postJson } from '#test-support/http-client';

/**
 * Three gateway processes sharing one REAL redis-server in front of two replicas of one model, each a TGI STAND-IN
 * (TGI cannot run here) that counts the generations it runs at once. Each gateway alone would route by its own calls
 * in flight and could send a replica more than its max_concurrent with the others' calls on it; counted in Redis over
 * all three, the per-replica cap holds.
 */
const MAX_CONCURRENT = 2;
const TOKENS = Array.from({ length: 10 }, (_, i) => ` t${i}`);

function replicasYaml(urls: string[]): string {
  return `gpus: []
defaults:
  max_concurrent: ${MAX_CONCURRENT}
  max_queued: 128
  max_new_tokens: 64
  default_max_new_tokens: 10
  timeouts: { connect_ms: 1000, first_byte_ms: 5000, inter_token_ms: 5000, total_ms: 20000, startup_ms: 60000 }
models:
  - id: qwen2
    quantization: gptq-int4
    replicas:
${urls.map((url) => `      - { type: tgi, url: ${url} }`).join('\n')}
`;
}

describe('three gateways on one Redis, a model of two replicas (stand-ins)', () => {
  let standIns: TgiStandIn[] = [];
  let redis: GatewayRedis;
  let gateways: RunningGateway[] = [];

  before(async () => {
    // The stand-ins would take far more at once: their own count is what the test reads.
    standIns = await Promise.all(
      [0, 1].map(() => startTgiStandIn({ script: { tokens: TOKENS, tokenDelayMs: 15 }, maxConcurrentRequests: 100 })),
    );
    redis = await redisForGateways();
    const config = writeModelsConfig(replicasYaml(standIns.map((standIn) => standIn.url)));
    gateways = await Promise.all([0, 1, 2].map(() => startGateway(config, { env: redis.env })));
    for (const gateway of gateways)
      await waitForModel(gateway.url, 'qwen2', (v) => v.replicas.every((r: any) => r.state === 'ready'));
  });
  after(async () => {
    await Promise.all(gateways.map((gateway) => gateway.stop()));
    await Promise.all(standIns.map((standIn) => standIn.close()));
    await redis?.stop();
  });

  it('never sends a replica more than its max_concurrent over all gateways, and spreads the load over both', async () => {
    const answers = await Promise.all(
      Array.from({ length: 3 }, (_, g) =>
        Promise.all(
          Array.from({ length: 4 }, async () => {
            const statuses: number[] = [];
            for (let i = 0; i < 5; i++)
              statuses.push(
                (await postJson(`${gateways[g]!.url}/v1/generate`, { model_id: 'qwen2', inputs: `hello from ${g}` }))
                  .status,
              );
            return statuses;
          }),
        ),
      ),
    );
    const statuses = answers.flat(2);
    assert.equal(statuses.length, 60, 'every request answered once');
    assert.deepEqual(new Set(statuses), new Set([200]));
    const [a, b] = standIns.map((standIn) => standIn.stats);
    assert.equal(a!.requests + b!.requests, 60, 'each request reached one replica once');
    assert.ok(a!.maxInFlight <= MAX_CONCURRENT, `replica 0 ran ${a!.maxInFlight} at once`);
    assert.ok(b!.maxInFlight <= MAX_CONCURRENT, `replica 1 ran ${b!.maxInFlight} at once`);
    assert.equal(a!.maxInFlight + b!.maxInFlight, 2 * MAX_CONCURRENT, 'both replicas were filled: the caps add up');
    assert.ok(a!.requests >= 20 && b!.requests >= 20, `the load spreads: ${a!.requests} and ${b!.requests}`);
  });
});
