import assert from 'node:assert/strict';
import { after, afterEach, describe, it } from 'node:test';
import { startTgiStandIn, type StandInScript, type TgiStandIn } from '#backends/testing';
import { redisForGateways, until, type GatewayRedis } from '#dispatch/testing';
import { modelView, startGateway, waitForModel, writeModelsConfig, type RunningGateway } from '#test-support/gateway';
import { parseSse, postJson, request, type HttpResult } from '#test-support/http-client';

/**
 * Routing, failover and outlier ejection over several replicas of one model, each a TGI STAND-IN (`#backends/testing`,
 * faithful to TGI's protocol; TGI itself cannot run here). Each stand-in's behaviour is switched while the test runs.
 */
interface Replica {
  standIn: TgiStandIn;
  script: StandInScript;
}

async function startReplica(script: StandInScript = {}): Promise<Replica> {
  const replica: Replica = { script, standIn: undefined as unknown as TgiStandIn };
  replica.standIn = await startTgiStandIn({ script: () => replica.script });
  return replica;
}

function replicasYaml(urls: string[], maxConcurrent = 4): string {
  return `gpus: []
defaults:
  max_concurrent: ${maxConcurrent}
  max_queued: 64
  max_new_tokens: 64
  default_max_new_tokens: 8
  timeouts: { connect_ms: 1000, first_byte_ms: 2000, inter_token_ms: 2000, total_ms: 8000, startup_ms: 60000 }
models:
  - id: qwen2
    quantization: gptq-int4
    replicas:
${urls.map((url) => `      - { type: tgi, url: ${url} }`).join('\n')}
`;
}

const TOKENS = Array.from({ length: 8 }, (_, i) => ` t${i}`);
const generate = (gateway: RunningGateway): Promise<HttpResult> =>
  postJson(`${gateway.url}/v1/generate`, { model_id: 'qwen2', inputs: 'hello', parameters: { max_new_tokens: 8 } });

/** `clients` callers, each sending `each` requests one after the other; every answer, in order of arrival. */
async function load(gateway: RunningGateway, clients: number, each: number): Promise<HttpResult[]> {
  const answers: HttpResult[] = [];
  await Promise.all(
    Array.from({ length: clients }, async () => {
      for (let i = 0; i < each; i++) answers.push(await generate(gateway));
    }),
  );
  return answers;
}

// The same behaviour from both dispatch queues: in process (no REDIS_URL), and BullMQ over a real redis-server, whose
// caps (global and per worker) follow the ready replicas too.
for (const queue of ['in-process', 'BullMQ (Redis)'] as const)
  describe(`a model of several TGI replicas (stand-ins), ${queue} dispatch queue`, () => {
    let gateway: RunningGateway | undefined;
    let redis: GatewayRedis | undefined;
    const replicas: Replica[] = [];

    async function start(scripts: StandInScript[], env: NodeJS.ProcessEnv = {}, maxConcurrent?: number) {
      for (const script of scripts) replicas.push(await startReplica(script));
      const urls = replicas.map((replica) => replica.standIn.url);
      redis = queue === 'in-process' ? undefined : await redisForGateways();
      gateway = await startGateway(writeModelsConfig(replicasYaml(urls, maxConcurrent)), {
        env: { ...redis?.env, ...env },
      });
      return gateway;
    }

    afterEach(async () => {
      await gateway?.stop();
      gateway = undefined;
      await redis?.stop();
      await Promise.all(replicas.splice(0).map((replica) => replica.standIn.close()));
    });
    after(async () => gateway?.stop());

    it('sends more of the traffic to the faster replica (fewest outstanding first), and the cap adds up', async () => {
      const gw = await start([
        { tokens: TOKENS, tokenDelayMs: 2 },
        { tokens: TOKENS, tokenDelayMs: 40 },
      ]);
      const view = await waitForModel(gw.url, 'qwen2', (v) => v.replicas.every((r: any) => r.state === 'ready'));
      assert.deepEqual(
        view.replicas.map((r: any) => [r.replica, r.backend.type, r.backend.address]),
        replicas.map((replica, index) => [index, 'tgi', replica.standIn.url]),
      );
      // The calls both replicas hold at the same moment, sampled while the load runs.
      let mostAtOnce = 0;
      const sampler = setInterval(() => {
        const atOnce = replicas.reduce((sum, replica) => sum + replica.standIn.stats.inFlight, 0);
        mostAtOnce = Math.max(mostAtOnce, atOnce);
      }, 2);
      const answers = await load(gw, 6, 8).finally(() => clearInterval(sampler));
      assert.equal(answers.length, 48);
      assert.deepEqual(new Set(answers.map((answer) => answer.status)), new Set([200]));
      const [fast, slow] = replicas.map((replica) => replica.standIn.stats.requests);
      assert.equal(fast! + slow!, 48, 'each request reached exactly one replica once');
      assert.ok(fast! > 2 * slow!, `fast ${fast}, slow ${slow}`);
      // Two ready replicas of max_concurrent 4 make a cap of 8: the 6 callers run at once, not 4 of them.
      assert.ok(mostAtOnce > 4, `at most ${mostAtOnce} at once`);
    });

    it('ejects a replica that fails calls in a row; it gets no traffic until a health check after its ejection passes', async () => {
      const gw = await start([{ tokens: TOKENS }, { tokens: TOKENS }], {
        OUTLIER_FAILURES: '3',
        OUTLIER_EJECTION_MS: '1500',
      });
      await waitForModel(gw.url, 'qwen2', (v) => v.replicas.every((r: any) => r.state === 'ready'));
      const bad = replicas[1]!;
      bad.script = { tokens: TOKENS, errorAfterTokens: { tokens: 0, errorType: 'generation', message: 'CUDA error' } };
      const before = await load(gw, 1, 12);
      assert.equal(bad.standIn.stats.requests, 3, 'three failures in a row, then ejected');
      assert.equal(before.filter((answer) => answer.status === 502).length, 3);
      const ejected = (await modelView(gw.url, 'qwen2')).replicas[1];
      assert.equal(ejected.ejected, true);
      assert.equal(ejected.ejections, 1);
      assert.match(ejected.last_error.message, /CUDA error/);
      // Healthy again but failing its health checks: its ejection time passes, and it still gets nothing.
      bad.script = { tokens: TOKENS };
      bad.standIn.health = 'unhealthy';
      await new Promise((resolve) => setTimeout(resolve, 1800));
      const whileUnhealthy = await load(gw, 2, 5);
      assert.ok(whileUnhealthy.every((answer) => answer.status === 200));
      assert.equal(bad.standIn.stats.requests, 3);
      bad.standIn.health = 'ready';
      await waitForModel(gw.url, 'qwen2', (v) => v.replicas[1].state === 'ready' && !v.replicas[1].ejected, 5000);
      await load(gw, 4, 4);
      assert.ok(bad.standIn.stats.requests > 3, 'back in routing');
      const metrics = (await request(`${gw.url}/metrics`)).text;
      assert.match(metrics, /^sluice_replica_ejections_total\{model="qwen2",replica="1"\} 1$/m);
      assert.match(metrics, /^sluice_replica_calls_total\{model="qwen2",replica="1",outcome="failed"\} 3$/m);
    });

    it('tries a request that a replica refuses before its first token (503, overloaded) once more on another', async () => {
      const gw = await start([{ tokens: TOKENS }, { tokens: TOKENS }], { OUTLIER_FAILURES: '0' });
      await waitForModel(gw.url, 'qwen2', (v) => v.replicas.every((r: any) => r.state === 'ready'));
      const [good, bad] = replicas as [Replica, Replica];
      for (const refusal of [
        { httpError: { status: 503, body: { error: 'loading', error_type: 'unavailable' } } },
        { overloaded: true },
        { httpError: { status: 429, body: { error: 'Model is overloaded', error_type: 'overloaded' } } },
      ] satisfies StandInScript[]) {
        bad.script = refusal;
        const [goodBefore, badBefore] = [good.standIn.stats.requests, bad.standIn.stats.requests];
        const answers = await load(gw, 2, 6);
        assert.deepEqual(new Set(answers.map((answer) => answer.status)), new Set([200]), JSON.stringify(refusal));
        assert.equal(good.standIn.stats.requests - goodBefore, 12, 'every request ends on the good replica');
        assert.ok(bad.standIn.stats.requests - badBefore > 0, 'and some were tried on the refusing one first');
      }
      const metrics = (await request(`${gw.url}/metrics`)).text;
      assert.match(metrics, /^sluice_replica_failovers_total\{model="qwen2",replica="1"\} [1-9]\d*$/m);
    });

    it('with every replica refusing, tries each request at most twice and answers 503 with Retry-After at once', async () => {
      const refuse: StandInScript = {
        httpError: { status: 503, body: { error: 'no slot', error_type: 'unavailable' } },
      };
      const gw = await start([refuse, refuse, refuse], { OUTLIER_FAILURES: '0' });
      await waitForModel(gw.url, 'qwen2', (v) => v.replicas.every((r: any) => r.state === 'ready'));
      const startedAt = Date.now();
      const answers = await Promise.all(Array.from({ length: 10 }, () => generate(gw)));
      const tookMs = Date.now() - startedAt;
      for (const answer of answers) {
        assert.equal(answer.status, 503);
        assert.equal(answer.json().error_type, 'unavailable');
        assert.ok(Number(answer.headers['retry-after']) >= 1);
      }
      const tries = replicas.reduce((sum, replica) => sum + replica.standIn.stats.requests, 0);
      assert.equal(tries, 20, 'two tries per request, on two different replicas');
      assert.ok(tookMs < 1000, `answered within the connect timeout (1000 ms), took ${tookMs} ms`);
    });

    it('never fails over once a token has gone out: a replica cut mid-stream is one 502', async () => {
      const gw = await start(
        [
          { tokens: TOKENS, closeAfterTokens: 2 },
          { tokens: TOKENS, closeAfterTokens: 2 },
        ],
        {
          OUTLIER_FAILURES: '0',
        },
      );
      await waitForModel(gw.url, 'qwen2', (v) => v.replicas.every((r: any) => r.state === 'ready'));
      // Streamed clients: a non-streamed one reads nothing before the end (its backend call is one answer). The cut
      // reaches the client as a 502 when no token was relayed yet, else as the stream's final error event.
      for (let i = 0; i < 4; i++) {
        const answer = await postJson(`${gw.url}/v1/generate`, {
          model_id: 'qwen2',
          inputs: 'hello',
          stream: true,
          parameters: { max_new_tokens: 8 },
        });
        const errorType = answer.status === 200 ? parseSse(answer.text).at(-1)?.error_type : answer.json().error_type;
        assert.ok([200, 502].includes(answer.status), answer.text);
        assert.equal(errorType, 'upstream', answer.text);
      }
      await until(() => replicas.reduce((sum, r) => sum + r.standIn.stats.requests, 0) === 4);
    });
  });
