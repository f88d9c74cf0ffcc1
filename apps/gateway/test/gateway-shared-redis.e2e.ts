import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { after, before, describe, it } from 'node:test';
import { startTgiStandIn, type StandInScript, type TgiStandIn } from '#backends/testing';
import { redisContents, redisForGateways, type GatewayRedis } from '#dispatch/testing';
import { modelView, startGateway, tgiModelsYaml, writeModelsConfig, type RunningGateway } from '#test-support/gateway';
import { parseSse, postJson } from '#test-support/http-client';

/**
 * Several gateway processes sharing one REAL redis-server (BullMQ) in front of one TGI stand-in: what only a cluster
 * of replicas shows. Replicas A and B run jobs; C only enqueues, so its clients' jobs always run in another process.
 */
const MAX_CONCURRENT = 4;

function sharedConfig(url: string) {
  return writeModelsConfig(
    tgiModelsYaml(url, {
      maxConcurrent: MAX_CONCURRENT,
      maxQueued: 64,
      firstByteMs: 5000,
      interTokenMs: 5000,
      totalMs: 15000,
    }),
  );
}

function scriptFor(inputs: string): StandInScript {
  switch (inputs.split(' ')[0]) {
    case 'short':
      return { tokens: [' a', ' b', ' c'], firstTokenDelayMs: 10, tokenDelayMs: 10 };
    case 'slow':
      return { tokens: Array.from({ length: 40 }, (_, i) => ` t${i}`), tokenDelayMs: 25 };
    default:
      return { tokens: [' one', ' two', ' three'], tokenDelayMs: 5 };
  }
}

describe('gateway replicas sharing one Redis (BullMQ dispatch queue)', () => {
  let standIn: TgiStandIn;
  let redis: GatewayRedis;
  let a: RunningGateway;
  let b: RunningGateway;
  let c: RunningGateway;
  const secret = `secret-${randomUUID()}`;

  before(async () => {
    standIn = await startTgiStandIn({
      script: (req) => scriptFor((req.body as { inputs: string }).inputs),
      maxConcurrentRequests: 1000,
    });
    redis = await redisForGateways({ own: true }); // this suite stops and restarts it
    const config = sharedConfig(standIn.url);
    [a, b, c] = await Promise.all([
      startGateway(config, { env: redis.env }),
      startGateway(config, { env: redis.env }),
      startGateway(config, { env: { ...redis.env, DISPATCH_WORKERS: 'off' } }),
    ]);
  });
  after(async () => {
    await Promise.all([a, b, c].map((gateway) => gateway?.stop()));
    await standIn?.close();
    await redis?.stop();
  });

  const generate = (gateway: RunningGateway, inputs: string, extra: Record<string, unknown> = {}) =>
    postJson(`${gateway.url}/v1/generate`, { model_id: 'qwen2', inputs, parameters: { max_new_tokens: 64 }, ...extra });

  it('two gateway processes together never exceed the model cap at the backend, and /models shows the shared queue', async () => {
    const seen = { inFlight: 0, queued: 0 };
    let bursting = true;
    const watching = (async () => {
      while (bursting) {
        const view = await modelView(c.url, 'qwen2');
        seen.inFlight = Math.max(seen.inFlight, view.in_flight);
        seen.queued = Math.max(seen.queued, view.queued);
        await new Promise((resolve) => setTimeout(resolve, 20));
      }
    })();
    const results = await Promise.all(
      Array.from({ length: 40 }, (_, i) => generate(i % 2 ? a : b, `short ${secret} ${i}`)),
    );
    bursting = false;
    await watching;
    assert.deepEqual(
      results.map((r) => r.status),
      Array(40).fill(200),
    );
    assert.equal(standIn.stats.maxInFlight, MAX_CONCURRENT, "the backend's own count of generations at once");
    assert.equal(seen.inFlight, MAX_CONCURRENT, 'in_flight seen from a third replica');
    assert.ok(seen.queued > 0, 'queued seen from a third replica');
  });

  it("streams a client's tokens from a job that another gateway process runs", async () => {
    const before = standIn.stats.requests;
    const res = await generate(c, `stream ${secret}`, { stream: true });
    assert.equal(res.status, 200);
    const events = parseSse(res.text);
    assert.deepEqual(
      events.slice(0, -1).map((e) => e.token.text),
      [' one', ' two', ' three'],
    );
    assert.equal(events.at(-1).generated_text, ' one two three');
    assert.equal(events.at(-1).model_id, 'qwen2');
    assert.equal(standIn.stats.requests, before + 1);
  });

  it('answers 503 at once while Redis is down, with none hanging, and serves again by itself when it is back', async () => {
    const pending = Array.from({ length: 8 }, (_, i) => generate(i % 2 ? a : c, `slow ${secret} ${i}`));
    while (standIn.stats.inFlight < MAX_CONCURRENT) await new Promise((resolve) => setTimeout(resolve, 10));
    const stoppedAt = performance.now();
    await redis.server!.stop();
    const answered = await Promise.all(
      pending.map(async (p) => ({ res: await p, afterMs: performance.now() - stoppedAt })),
    );
    for (const { res, afterMs } of answered) {
      assert.equal(res.status, 503, res.text);
      assert.equal(res.json().error_type, 'unavailable');
      assert.ok(afterMs < 1000, `answered ${Math.round(afterMs)} ms after Redis stopped`);
    }
    const sentAt = performance.now();
    const refused = await generate(b, `short ${secret} while down`);
    assert.equal(refused.status, 503);
    assert.equal(refused.headers['retry-after'], '1');
    assert.ok(performance.now() - sentAt < 500, 'refused at once');
    assert.equal((await modelView(b.url, 'qwen2')).in_flight, null, '/models says the shared counts are unknown');

    await redis.server!.start();
    for (const gateway of [a, c]) {
      const deadline = Date.now() + 10_000;
      let res = await generate(gateway, `short ${secret} after`);
      while (res.status !== 200 && Date.now() < deadline) {
        await new Promise((resolve) => setTimeout(resolve, 100));
        res = await generate(gateway, `short ${secret} after`);
      }
      assert.equal(res.status, 200, res.text);
    }
  });

  it('leaves no job and no prompt text in Redis', async () => {
    await new Promise((resolve) => setTimeout(resolve, 200));
    const contents = await redisContents(redis.env.REDIS_URL!, redis.env.DISPATCH_PREFIX!);
    assert.deepEqual(
      [...contents].filter(([, text]) => text.includes(secret)).map(([key]) => key),
      [],
    );
    assert.deepEqual(
      [...contents.keys()].filter((key) => /:qwen2:[0-9a-f-]{36}/.test(key)),
      [],
    );
  });
});
