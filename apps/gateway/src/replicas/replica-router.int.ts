import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { after, before, describe, it } from 'node:test';
import { GatewayError, Stop } from '#backends';
import { externalRedisUrl, startRedisServer, until, type TestRedis } from '#dispatch/testing';
import { GatewayMetrics } from '#metrics';
import { readGatewayConfig } from '../gateway-config.js';
import { readyReplicas } from '../testing/ready-replicas.js';
import { ReplicaCallsHost } from './replica-calls.provider.js';
import { ReplicaRouter } from './replica-router.service.js';

/**
 * A call that waits for a place on replicas that are all at their cap, counted over every gateway in a REAL
 * redis-server: its client's leaving ends the wait at once, with the client's own reason.
 */
describe('ReplicaRouter.acquire over shared counts (Redis), every replica full', () => {
  let server: TestRedis | undefined;
  let host: ReplicaCallsHost;
  let router: ReplicaRouter;

  before(async () => {
    const url = externalRedisUrl() ?? (server = await startRedisServer()).url;
    const { registry, directory } = readyReplicas(
      `gpus: []
models:
  - id: qwen2
    quantization: gptq-int4
    max_concurrent: 1
    replicas:
      - { type: tgi, url: "http://replica-0:80" }
      - { type: tgi, url: "http://replica-1:80" }
`,
      'qwen2',
    );
    const config = readGatewayConfig({
      STATSD_HOST: 'off',
      REDIS_URL: url,
      DISPATCH_PREFIX: `sluice-test-${randomUUID()}`,
    });
    host = new ReplicaCallsHost(config);
    // Its commands fail at once until the connection is up (and routing then counts this gateway's calls only).
    const connected = () =>
      host.calls!.inFlight('qwen2', ['http://replica-0:80']).then(
        () => true,
        () => false,
      );
    await until(connected);
    router = new ReplicaRouter(registry, directory, config, new GatewayMetrics(null, { processMetrics: false }), host);
  });
  after(async () => {
    host?.onApplicationShutdown();
    await server?.stop();
  });

  it('ends the wait when the client leaves, with its reason, not an overload refusal at the deadline', async () => {
    const none = new Set<number>();
    const held = await Promise.all(
      [0, 1].map(async () => router.acquire('qwen2', none, Date.now() + 30_000, new Stop())),
    );
    assert.deepEqual(held.map((place) => place?.replica).sort(), [0, 1], 'one call on each replica: both at the cap');
    try {
      const client = new Stop();
      const left = new Error('client disconnected');
      const startedAt = Date.now();
      const waiting = Promise.resolve(router.acquire('qwen2', none, Date.now() + 10_000, client));
      setTimeout(() => client.abort(left), 150);
      await assert.rejects(waiting, (error) => error === left);
      const waitedMs = Date.now() - startedAt;
      assert.ok(waitedMs < 1_000, `the wait ended ${waitedMs} ms after it began, not at the 10 s deadline`);
    } finally {
      for (const place of held) place?.release();
    }
  });

  it('still refuses with overloaded (429, Retry-After) at the deadline while the client waits', async () => {
    const none = new Set<number>();
    const held = await Promise.all(
      [0, 1].map(async () => router.acquire('qwen2', none, Date.now() + 30_000, new Stop())),
    );
    try {
      const waiting = Promise.resolve(router.acquire('qwen2', none, Date.now() + 300, new Stop()));
      await assert.rejects(
        waiting,
        (error) => error instanceof GatewayError && error.type === 'overloaded' && error.retryAfterS === 1,
      );
    } finally {
      for (const place of held) place?.release();
    }
  });
});
