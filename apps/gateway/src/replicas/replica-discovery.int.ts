import assert from 'node:assert/strict';
import { afterEach, describe, it } from 'node:test';
import type { NestFastifyApplication } from '@nestjs/platform-fastify';
import { freeTcpPort, startTgiStandIn, type StandInScript, type TgiStandIn } from '#backends/testing';
import { GatewayMetrics } from '#metrics';
import { ModelRegistry, parseRegistryConfig } from '#model-registry';
import { request, type HttpResult } from '#test-support/http-client';
import { createGatewayApp } from '../create-gateway-app.js';
import { EngineSupervisor } from '../engines/engine-supervisor.service.js';
import { readGatewayConfig } from '../gateway-config.js';
import { ReadinessMonitor } from '../readiness/readiness-monitor.service.js';
import { until } from '../testing/answers.js';
import type { HostResolver } from './host-resolver.js';
import { ReplicaDiscovery } from './replica-discovery.service.js';

/**
 * `replicas: {discover: dns}` over TGI STAND-INS (faithful to TGI's protocol; TGI cannot run here) listening on one
 * port at three loopback addresses, as pods behind a headless Service do, and a resolver whose answer the test
 * changes — the one stand-in here: what the name resolves to. Everything else is the gateway as main.ts starts it.
 */
const HOST = 'tgi-qwen2.sluice.test';
const ADDRESSES = ['127.0.0.1', '127.0.0.2', '127.0.0.3'];
const TOKENS = Array.from({ length: 6 }, (_, i) => ` t${i}`);

function discoveryYaml(port: number): string {
  return `gpus: []
defaults:
  max_concurrent: 2
  max_queued: 64
  max_new_tokens: 64
  default_max_new_tokens: 6
  timeouts: { connect_ms: 1000, first_byte_ms: 2000, inter_token_ms: 2000, total_ms: 8000, startup_ms: 60000 }
models:
  - id: qwen2
    quantization: gptq-int4
    replicas: { discover: dns, host: ${HOST}, port: ${port}, type: tgi, resolve_every_ms: 100 }
`;
}

interface Setup {
  url: string;
  standIns: TgiStandIn[];
  scripts: StandInScript[];
  /** What the name resolves to now; an Error: the resolver fails. */
  answer: { now: string[] | Error };
  asked: string[];
  app: NestFastifyApplication;
}

describe('replicas found in DNS (discover: dns)', () => {
  let setup: Setup | undefined;

  afterEach(async () => {
    await setup?.app.close();
    await Promise.all(setup?.standIns.map((standIn) => standIn.close()) ?? []);
    setup = undefined;
  });

  async function start(first: string[]): Promise<Setup> {
    const port = await freeTcpPort();
    const scripts: StandInScript[] = ADDRESSES.map(() => ({ tokens: TOKENS, tokenDelayMs: 15 }));
    const standIns = await Promise.all(
      ADDRESSES.map((host, index) => startTgiStandIn({ script: () => scripts[index]!, at: { host, port } })),
    );
    const answer: Setup['answer'] = { now: first };
    const asked: string[] = [];
    const resolveHost: HostResolver = async (host) => {
      asked.push(host);
      if (answer.now instanceof Error) throw answer.now;
      return [...answer.now];
    };
    const config = readGatewayConfig({ STATSD_HOST: 'off', HEALTH_POLL_MS: '100' });
    const registry = new ModelRegistry(parseRegistryConfig(discoveryYaml(port), 'discovery.yaml'));
    const metrics = new GatewayMetrics(null, { processMetrics: false });
    const app = await createGatewayApp({ config, registry, metrics, resolveHost, logger: false });
    await app.listen(0, '127.0.0.1');
    app.get(EngineSupervisor).startAll();
    app.get(ReplicaDiscovery).start();
    app.get(ReadinessMonitor).start();
    setup = { url: await app.getUrl(), standIns, scripts, answer, asked, app };
    return setup;
  }

  const model = async ({ url }: Setup) => (await request(`${url}/models/qwen2`)).json();
  const readyAddresses = async (s: Setup) =>
    (await model(s)).replicas.filter((r: any) => r.state === 'ready').map((r: any) => r.backend.address);
  const generate = ({ url }: Setup): Promise<HttpResult> =>
    request(`${url}/v1/generate`, { body: { model_id: 'qwen2', inputs: 'hello' } });

  /** `clients` callers, each sending `each` requests in turn; the answers' statuses, and the most held at once. */
  async function load(s: Setup, clients: number, each: number): Promise<{ statuses: number[]; mostAtOnce: number }> {
    let mostAtOnce = 0;
    const sampler = setInterval(() => {
      const atOnce = s.standIns.reduce((sum, standIn) => sum + standIn.stats.inFlight, 0);
      mostAtOnce = Math.max(mostAtOnce, atOnce);
    }, 2);
    const statuses: number[] = [];
    await Promise.all(
      Array.from({ length: clients }, async () => {
        for (let i = 0; i < each; i++) statuses.push((await generate(s)).status);
      }),
    ).finally(() => clearInterval(sampler));
    return { statuses, mostAtOnce };
  }

  it('makes every address a replica; one that appears serves only once its health check passes; caps add up', async () => {
    const s = await start(ADDRESSES.slice(0, 2));
    const urls = ADDRESSES.map((address) => `http://${address}:${new URL(s.standIns[0]!.url).port}`);
    await until(async () => (await readyAddresses(s)).length === 2, 5000);
    const view = await model(s);
    assert.deepEqual(
      view.replicas.map((r: any) => [r.replica, r.backend.type, r.backend.address]),
      [
        [0, 'tgi', urls[0]],
        [1, 'tgi', urls[1]],
      ],
    );
    assert.ok(s.asked.every((host) => host === HOST));

    const two = await load(s, 6, 4);
    assert.deepEqual(new Set(two.statuses), new Set([200]));
    assert.ok(s.standIns[0]!.stats.requests > 0 && s.standIns[1]!.stats.requests > 0, 'both replicas served');
    // Two ready replicas of max_concurrent 2: a cap of 4, so more than one replica's 2 run at once, never above 4.
    assert.ok(two.mostAtOnce > 2 && two.mostAtOnce <= 4, `at most ${two.mostAtOnce} at once`);

    // A third address appears, its server not ready yet: listed as loading, sent nothing.
    s.standIns[2]!.health = 'unhealthy';
    s.answer.now = ADDRESSES;
    await until(async () => (await model(s)).replicas.length === 3, 5000);
    assert.notEqual((await model(s)).replicas[2].state, 'ready');
    const whileLoading = await load(s, 4, 2);
    assert.deepEqual(new Set(whileLoading.statuses), new Set([200]));
    assert.equal(s.standIns[2]!.stats.requests, 0, 'a replica not yet probed ready gets no request');

    s.standIns[2]!.health = 'ready';
    await until(async () => (await readyAddresses(s)).length === 3, 5000);
    const three = await load(s, 8, 4);
    assert.deepEqual(new Set(three.statuses), new Set([200]));
    assert.ok(s.standIns[2]!.stats.requests > 0, 'the new replica serves once ready');
    assert.ok(three.mostAtOnce > 4 && three.mostAtOnce <= 6, `at most ${three.mostAtOnce} at once`);
  });

  it('drains an address that disappears: its calls finish, it gets no new one, and it leaves /models and /metrics', async () => {
    const s = await start(ADDRESSES.slice(0, 2));
    await until(async () => (await readyAddresses(s)).length === 2, 5000);
    s.scripts[0] = { tokens: TOKENS, tokenDelayMs: 150 }; // long enough to be cut off, were draining wrong
    const held = [generate(s), generate(s)]; // fewest outstanding: one on each replica
    await until(() => s.standIns[0]!.stats.inFlight === 1, 2000);

    s.answer.now = [ADDRESSES[1]!];
    await until(async () => (await model(s)).replicas.length === 1, 5000);
    const before = s.standIns[0]!.stats.requests;
    const after = await load(s, 3, 3);
    assert.deepEqual(new Set(after.statuses), new Set([200]));
    assert.equal(s.standIns[0]!.stats.requests, before, 'no new request for the replica that went');
    assert.deepEqual(
      (await Promise.all(held)).map((answer) => answer.status),
      [200, 200],
      'the calls it held finished',
    );
    assert.equal(s.standIns[0]!.stats.disconnects, 0);
    await until(
      async () => !/sluice_replica_in_flight\{[^}]*replica="0"/.test((await request(`${s.url}/metrics`)).text),
    );
    assert.deepEqual(
      (await model(s)).replicas.map((r: any) => r.replica),
      [1],
    );
  });

  it('keeps its replicas when the name cannot be resolved, and is unhealthy (503) while it has no address', async () => {
    const s = await start([ADDRESSES[0]!]);
    await until(async () => (await readyAddresses(s)).length === 1, 5000);
    s.answer.now = Object.assign(new Error('queryA EAI_AGAIN'), { code: 'EAI_AGAIN' });
    await until(async () => /cannot resolve/.test((await model(s)).last_error?.message ?? ''), 5000);
    assert.equal((await generate(s)).status, 200, 'the replica known still serves');

    s.answer.now = [];
    await until(async () => (await model(s)).state === 'unhealthy', 5000);
    const refused = await generate(s);
    assert.equal(refused.status, 503, refused.text);
    assert.equal(refused.json().error_type, 'unavailable');

    s.answer.now = [ADDRESSES[1]!];
    await until(async () => (await model(s)).state === 'ready', 5000);
    assert.equal((await generate(s)).status, 200);
    assert.deepEqual(
      (await model(s)).replicas.map((r: any) => [r.replica, r.state]),
      [[1, 'ready']],
    );
  });
});
