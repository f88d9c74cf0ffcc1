import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import { startTgiStandIn, type StandInScript, type TgiStandIn } from '#backends/testing';
import { redisForGateways, until, type GatewayRedis } from '#dispatch/testing';
import {
  modelView,
  startGateway,
  tgiModelsYaml,
  waitForModel,
  writeModelsConfig,
  type RunningGateway,
  type TgiModelsOptions,
} from '#test-support/gateway';
import { openStream, parseSse, postJson, request } from '#test-support/http-client';

/**
 * Behaviour only a real TGI shows (its 429, errors inside 200 streams, binding late), against the protocol-faithful
 * TGI STAND-IN from `#backends/testing` — not against TGI itself, which cannot run here.
 */
function tgiConfig(url: string, options: TgiModelsOptions = {}) {
  return writeModelsConfig(tgiModelsYaml(url, options));
}

/** The stand-in's behaviour is chosen by the prompt, so one backend serves every case. */
function scriptFor(inputs: string): StandInScript {
  switch (inputs) {
    case 'overload':
      return { overloaded: true };
    case 'fail-midstream':
      return {
        tokens: ['a', 'b', 'c', 'd'],
        tokenDelayMs: 20,
        errorAfterTokens: { tokens: 2, errorType: 'generation', message: 'CUDA error' },
      };
    case 'silent':
      return { firstTokenDelayMs: 5000 };
    case 'long':
      return { tokens: [' one', ' two', ' three'], tokenDelayMs: 500 };
    case 'cut':
      return { tokens: ['a', 'b', 'c'], closeAfterTokens: 1 };
    case 'slow':
      return { tokens: Array.from({ length: 8 }, (_, i) => ` t${i}`), tokenDelayMs: 40 };
    default:
      return { tokens: [' one', ' two', ' three'] };
  }
}

const generate = (gateway: RunningGateway, inputs: string, extra: Record<string, unknown> = {}) =>
  postJson(`${gateway.url}/v1/generate`, { model_id: 'qwen2', inputs, parameters: { max_new_tokens: 16 }, ...extra });

// The same behaviour from both dispatch queues: in process (no REDIS_URL), and BullMQ over a real redis-server.
for (const queue of ['in-process', 'BullMQ (Redis)'] as const)
  describe(`gateway in front of a TGI backend (stand-in), ${queue} dispatch queue`, () => {
    let standIn: TgiStandIn;
    let gateway: RunningGateway;
    let redis: GatewayRedis | undefined;

    before(async () => {
      standIn = await startTgiStandIn({ script: (req) => scriptFor((req.body as { inputs: string }).inputs) });
      redis = queue === 'in-process' ? undefined : await redisForGateways();
      gateway = await startGateway(tgiConfig(standIn.url), { env: redis?.env ?? {} });
    });
    after(async () => {
      await gateway?.stop();
      await standIn?.close();
      await redis?.stop();
    });

    it("relays a generation with TGI's token counts", async () => {
      const res = await generate(gateway, 'hello there');
      assert.equal(res.status, 200);
      assert.equal(res.json().generated_text, ' one two three');
      assert.deepEqual(res.json().usage, { input_tokens: 2, output_tokens: 4 }); // three tokens and the EOS token
      assert.equal(res.json().finish_reason, 'eos_token');
    });

    it('turns TGI\'s "Model is overloaded" into 429 with Retry-After', async () => {
      const res = await generate(gateway, 'overload');
      assert.equal(res.status, 429);
      assert.equal(res.json().error_type, 'overloaded');
      assert.ok(Number(res.headers['retry-after']) >= 1);
    });

    it("turns an error inside TGI's 200 stream into 502 for a plain request, and into an error event for a streaming one", async () => {
      const plain = await generate(gateway, 'fail-midstream');
      assert.equal(plain.status, 502);
      assert.equal(plain.json().error_type, 'upstream');
      assert.match(plain.json().error, /CUDA error/);
      const streamed = await generate(gateway, 'fail-midstream', { stream: true });
      assert.equal(streamed.status, 200);
      const events = parseSse(streamed.text);
      assert.deepEqual(
        events.slice(0, 2).map((e) => e.token.text),
        ['a', 'b'],
      );
      assert.equal(events.at(-1).error_type, 'upstream');
      assert.equal(events.at(-1).request_id, streamed.headers['x-request-id']);
    });

    it('answers 502 when the backend cuts the connection mid-generation', async () => {
      const res = await generate(gateway, 'cut');
      assert.equal(res.status, 502);
      assert.equal(res.json().error_type, 'upstream');
    });

    it('answers 504 when the first token does not come within first_byte_ms, and drops the backend call', async () => {
      const disconnect = standIn.nextDisconnect();
      const started = performance.now();
      const res = await generate(gateway, 'silent', { stream: true });
      assert.equal(res.status, 504);
      assert.equal(res.json().error_type, 'timeout');
      assert.ok(performance.now() - started < 2000);
      await disconnect; // the backend saw the gateway hang up
    });

    it('answers a non-streamed generation longer than first_byte_ms: its one answer is bounded by total_ms', async () => {
      const started = performance.now();
      const res = await generate(gateway, 'long');
      assert.equal(res.status, 200, res.text);
      assert.equal(res.json().generated_text, ' one two three');
      assert.ok(performance.now() - started >= 1000, 'longer than first_byte_ms (800)');
    });

    it('holds the per-model cap at the backend and answers a burst in full', async () => {
      const before = standIn.stats.maxInFlight;
      assert.ok(before <= 3);
      const results = await Promise.all(Array.from({ length: 8 }, () => generate(gateway, 'slow')));
      assert.deepEqual(
        results.map((r) => r.status),
        Array(8).fill(200),
      );
      assert.equal(standIn.stats.maxInFlight, 3, 'the backend saw exactly max_concurrent at once');
    });

    it('refuses past max_queued with 429 and Retry-After, answering every request exactly once', async () => {
      const results = await Promise.all(Array.from({ length: 12 }, () => generate(gateway, 'slow')));
      const statuses = results.map((r) => r.status).sort();
      assert.equal(statuses.filter((s) => s === 200).length, 8); // 3 running + 5 queued
      assert.equal(statuses.filter((s) => s === 429).length, 4);
      for (const refused of results.filter((r) => r.status === 429))
        assert.ok(Number(refused.headers['retry-after']) >= 1);
    });

    it('never sends a request whose client left while it was queued', async () => {
      const seenBefore = standIn.stats.requests;
      const busy = Array.from({ length: 3 }, () => generate(gateway, 'slow'));
      // The three take every slot; with the Redis queue, on a loaded machine, they may need more than a few ms to get there.
      await until(() => standIn.stats.requests >= seenBefore + 3);
      const received = standIn.stats.requests;
      const leaver = openStream(
        `${gateway.url}/v1/generate`,
        { model_id: 'qwen2', inputs: 'default-after-leaving', parameters: { max_new_tokens: 4 } },
        () => {},
      );
      await new Promise((r) => setTimeout(r, 50));
      assert.equal((await modelView(gateway.url, 'qwen2')).queued, 1);
      leaver.abort();
      await Promise.all(busy);
      await new Promise((r) => setTimeout(r, 100));
      assert.equal(standIn.stats.requests, received, 'nothing reached the backend after the three busy ones');
      assert.ok(!standIn.received.some((r) => (r.body as { inputs: string }).inputs === 'default-after-leaving'));
      assert.equal((await modelView(gateway.url, 'qwen2')).queued, 0);
    });

    it("ends a request with 504 at the client's own timeout_ms while it waits in the queue", async () => {
      const busy = Array.from({ length: 3 }, () => generate(gateway, 'slow'));
      await new Promise((r) => setTimeout(r, 50));
      const sentAt = performance.now();
      const res = await generate(gateway, 'default-with-deadline', { timeout_ms: 150 });
      assert.equal(res.status, 504);
      assert.equal(res.json().error_type, 'timeout');
      assert.ok(performance.now() - sentAt < 1000);
      await Promise.all(busy);
      assert.ok(!standIn.received.some((r) => (r.body as { inputs: string }).inputs === 'default-with-deadline'));
    });

    it('shows the TGI model on /models with its address, GPU and budget', async () => {
      const view = await modelView(gateway.url, 'Qwen2-7B-Instruct-GPTQ-Int4');
      assert.equal(view.id, 'qwen2');
      assert.deepEqual(view.backend, { type: 'tgi', address: standIn.url, pid: null });
      assert.equal(view.gpu, '0');
      assert.equal(view.vram_budget_gb, 6.8);
      const all = (await request(`${gateway.url}/models`)).json();
      assert.deepEqual(
        all.gpus.map((g: any) => [g.id, g.memory_gb, g.vram_budget_gb]),
        [['0', 12, 6.8]],
      );
    });
  });

describe('gateway whose TGI backend is down at start-up', () => {
  let standIn: TgiStandIn;
  let gateway: RunningGateway;

  before(async () => {
    standIn = await startTgiStandIn({ loaded: false }); // refuses connections, as TGI does while it loads
    gateway = await startGateway(tgiConfig(standIn.url, { startupMs: 1500 }), { waitReady: false });
  });
  after(async () => {
    await gateway?.stop();
    await standIn?.close();
  });

  it('stays up, counts "connection refused" as loading, then unhealthy after startup_ms', async () => {
    assert.equal((await request(`${gateway.url}/health/live`)).status, 200);
    assert.equal((await modelView(gateway.url, 'qwen2')).state, 'loading');
    const ready = await request(`${gateway.url}/health/ready`);
    assert.equal(ready.status, 503);
    assert.equal(ready.json().error.qwen2.state, 'loading');
    const unhealthy = await waitForModel(gateway.url, 'qwen2', (v) => v.state === 'unhealthy', 10_000);
    assert.match(unhealthy.last_error.message, /not ready .* after start/);
    const res = await generate(gateway, 'hello');
    assert.equal(res.status, 503);
    assert.equal(res.json().error_type, 'unavailable');
    assert.ok(Number(res.headers['retry-after']) >= 1);
  });

  it('serves as soon as the backend comes up', async () => {
    await standIn.load();
    await waitForModel(gateway.url, 'qwen2', (v) => v.state === 'ready', 10_000);
    assert.equal((await request(`${gateway.url}/health/ready`)).status, 200);
    assert.equal((await generate(gateway, 'hello')).status, 200);
  });
});

describe('health polls of a TGI backend (stand-in) that is answering traffic', () => {
  let standIn: TgiStandIn;
  let gateway: RunningGateway;

  before(async () => {
    standIn = await startTgiStandIn();
    gateway = await startGateway(tgiConfig(standIn.url), { env: { HEALTH_POLL_MS: '100' } });
  });
  after(async () => {
    await gateway?.stop();
    await standIn?.close();
  });

  /** Requests one after another for `ms`, each of them answered 200. */
  async function traffic(ms: number): Promise<void> {
    const ends = Date.now() + ms;
    while (Date.now() < ends) {
      assert.equal((await generate(gateway, 'hello')).status, 200);
      await sleep(10);
    }
  }

  it("asks /health only when the backend answered no call since the last poll: a call's answer stands in for the probe", async () => {
    const idleFrom = standIn.stats.healthChecks;
    await sleep(1000);
    const idleProbes = standIn.stats.healthChecks - idleFrom;
    assert.ok(idleProbes >= 5, `idle, every poll asks: ${idleProbes} probes in 1 s of 100 ms polls`);

    const busyFrom = standIn.stats.healthChecks;
    await traffic(1000);
    const busyProbes = standIn.stats.healthChecks - busyFrom;
    assert.ok(busyProbes <= 3, `answering, the polls take the answers as evidence: ${busyProbes} probes in 1 s`);
  });

  it('keeps a backend whose /health fails ready while its calls are answered, and finds it unhealthy once they stop', async () => {
    standIn.health = 'unhealthy';
    try {
      await traffic(600);
      assert.equal((await modelView(gateway.url, 'qwen2')).state, 'ready');
      const unhealthy = await waitForModel(gateway.url, 'qwen2', (v) => v.state === 'unhealthy', 5000);
      assert.match(unhealthy.last_error.message, /loading|health/);
    } finally {
      standIn.health = 'ready';
    }
    await waitForModel(gateway.url, 'qwen2', (v) => v.state === 'ready', 5000);
    assert.equal((await generate(gateway, 'hello')).status, 200);
  });
});
