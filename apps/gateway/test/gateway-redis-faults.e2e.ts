import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { after, before, describe, it } from 'node:test';
import { startTgiStandIn, type StandInScript, type TgiStandIn } from '#backends/testing';
import { redisContents, redisForGateways, type GatewayRedis } from '#dispatch/testing';
import { SHIPPED_MODELS, startReadyEngine, type RunningEngine } from '#test-support/engine';
import {
  engineModelsYaml,
  modelView,
  startGateway,
  tgiModelsYaml,
  writeModelsConfig,
  type RunningGateway,
} from '#test-support/gateway';
import { postJson, type HttpResult } from '#test-support/http-client';

/**
 * Faults of the shared dispatch queue, seen by clients of gateway processes over one REAL redis-server: Redis hung
 * (SIGSTOP, then SIGCONT) under load in front of two real engines, and a replica killed while its workers run other
 * replicas' clients' jobs (there the backend is the TGI stand-in, whose generations can be made to hang).
 */
const MAX_CONCURRENT = 4;
const MODELS = ['qwen2', 'llama3'] as const;
const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

function scriptFor(inputs: string): StandInScript {
  switch (inputs.split(' ')[0]) {
    case 'hang':
      return { firstTokenDelayMs: 30_000 };
    default:
      return { tokens: [' a', ' b', ' c'], firstTokenDelayMs: 20, tokenDelayMs: 20 };
  }
}

/** One answer in the route's documented shape: 200 with text, or the gateway's error JSON with the request id. */
function assertDocumented(res: HttpResult): void {
  assert.ok(res.headers['x-request-id'], `x-request-id on ${res.status}`);
  if (res.status === 200) return assert.equal(typeof res.json().generated_text, 'string');
  const body = res.json();
  assert.deepEqual(Object.keys(body).sort(), ['error', 'error_type', 'request_id'], res.text);
  assert.equal(body.request_id, res.headers['x-request-id']);
}

describe('gateway replicas over a Redis that hangs, in front of two real engines', () => {
  const engines = {} as Record<(typeof MODELS)[number], RunningEngine>;
  let redis: GatewayRedis;
  let config: string;
  const gateways: RunningGateway[] = [];
  const secret = `secret-${randomUUID()}`;

  before(async () => {
    [engines.qwen2, engines.llama3] = await Promise.all([
      startReadyEngine(SHIPPED_MODELS.qwen2, ['--sequences', '2']),
      startReadyEngine(SHIPPED_MODELS.llama3, ['--sequences', '2']),
    ]);
    redis = await redisForGateways({ own: true }); // this suite pauses it
    config = writeModelsConfig(
      engineModelsYaml({ qwen2: engines.qwen2.url, llama3: engines.llama3.url }, { maxConcurrent: 2, maxQueued: 16 }),
    );
  });
  after(async () => {
    await Promise.all(gateways.map((gateway) => gateway.stop()));
    await Promise.all(Object.values(engines).map((engine) => engine.stop()));
    await redis?.stop();
  });

  const start = async () => {
    const gateway = await startGateway(config, { env: redis.env });
    gateways.push(gateway);
    return gateway;
  };
  const generate = (gateway: RunningGateway, model: string, inputs: string) =>
    postJson(`${gateway.url}/v1/generate`, { model_id: model, inputs, parameters: { max_new_tokens: 8 } });

  it('Redis hung 10 s under 10 requests a second: each answered once as documented, both replicas serve within 5 s of its return, no ticket left', async (t) => {
    const [a, b] = await Promise.all([start(), start()]);
    const answers: Array<Promise<HttpResult>> = [];
    let sending = true;
    const sender = (async () => {
      // Each gateway gets each model in turn: i % 2 picks the gateway, (i >> 1) % 2 the model.
      for (let i = 0; sending; i++) {
        answers.push(generate(i % 2 ? a : b, MODELS[(i >> 1) % 2]!, `${secret} ${i}`));
        await sleep(100);
      }
    })();
    const servingAfterMs: number[] = [];
    try {
      await sleep(1000);
      redis.server!.pause();
      await sleep(10_000);
      redis.server!.resume();
      const resumedAt = performance.now();
      for (const gateway of [a, b]) {
        for (const model of MODELS) {
          for (;;) {
            const res = await generate(gateway, model, `${secret} after`);
            if (res.status === 200) break;
            assert.ok(
              performance.now() - resumedAt < 5000,
              `still ${res.status} 5 s after Redis returned: ${res.text}`,
            );
            await sleep(100);
          }
          servingAfterMs.push(performance.now() - resumedAt);
        }
      }
      await sleep(1000); // the load goes on over the recovered Redis
    } finally {
      sending = false;
      await sender;
    }
    const results = await Promise.all(answers);
    const statuses: Record<number, number> = {};
    for (const res of results) {
      assertDocumented(res);
      statuses[res.status] = (statuses[res.status] ?? 0) + 1;
    }
    t.diagnostic(
      `answers by status ${JSON.stringify(statuses)}; serving again after ${servingAfterMs.map(Math.round)} ms`,
    );
    assert.ok((statuses[503] ?? 0) > 0, `the hang was felt: ${JSON.stringify(statuses)}`);
    assert.ok((statuses[200] ?? 0) > 0, `served before and after: ${JSON.stringify(statuses)}`);
    assert.ok(
      servingAfterMs.every((ms) => ms < 5000),
      `serving again after ${servingAfterMs.map(Math.round)} ms`,
    );
    // Every client was answered: now Redis must hold no ticket, and /models must say so on both replicas.
    const contents = await redisContents(redis.env.REDIS_URL!, redis.env.DISPATCH_PREFIX!);
    for (const model of MODELS) {
      for (const gateway of [a, b]) assert.equal((await modelView(gateway.url, model)).admitted, 0, model);
      const tickets = contents.get(`${redis.env.DISPATCH_PREFIX!}:${model}:admitted`);
      assert.ok(tickets === undefined || tickets === '[]', `${model} tickets left: ${tickets}`);
    }
    assert.deepEqual(
      [...contents].filter(([, text]) => text.includes(secret)).map(([key]) => key),
      [],
      'no prompt left in Redis',
    );
  });
});

describe('gateway replicas over one Redis, one of them killed mid-job', () => {
  let standIn: TgiStandIn;
  let redis: GatewayRedis;
  let config: string;
  const gateways: RunningGateway[] = [];

  before(async () => {
    standIn = await startTgiStandIn({
      script: (req) => scriptFor((req.body as { inputs: string }).inputs),
      maxConcurrentRequests: 1000,
    });
    redis = await redisForGateways();
    config = writeModelsConfig(
      tgiModelsYaml(standIn.url, {
        maxConcurrent: MAX_CONCURRENT,
        maxQueued: 16,
        firstByteMs: 15_000,
        interTokenMs: 5000,
        totalMs: 15_000,
      }),
    );
  });
  after(async () => {
    await Promise.all(gateways.map((gateway) => gateway.stop()));
    await standIn?.close();
    await redis?.stop();
  });

  const start = async (env: Record<string, string> = {}) => {
    const gateway = await startGateway(config, { env: { ...redis.env, ...env } });
    gateways.push(gateway);
    return gateway;
  };
  const generate = (gateway: RunningGateway, inputs: string) =>
    postJson(`${gateway.url}/v1/generate`, { model_id: 'qwen2', inputs, parameters: { max_new_tokens: 8 } });

  it('a replica killed mid-job: the clients of another replica whose jobs it ran are answered 502 within a few seconds', async () => {
    const front = await start({ DISPATCH_WORKERS: 'off' });
    const doomed = await start();
    const before = standIn.stats.inFlight;
    const hanging = Array.from({ length: 2 }, (_, i) => generate(front, `hang ${i}`));
    while (standIn.stats.inFlight < before + 2) await sleep(10);
    // Started now, the survivor's workers cannot have taken those jobs: the doomed replica runs both.
    await start();
    const killedAt = performance.now();
    doomed.process.child.kill('SIGKILL');
    const answered = await Promise.all(
      hanging.map(async (pending) => ({ res: await pending, afterMs: performance.now() - killedAt })),
    );
    for (const { res, afterMs } of answered) {
      assertDocumented(res);
      assert.equal(res.status, 502, res.text);
      assert.match(res.json().error, /stopped mid-generation/);
      assert.ok(afterMs < 6000, `answered ${Math.round(afterMs)} ms after the replica died`);
    }
  });
});
