import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { InferenceBackend } from '#backends';
import { GatewayMetrics } from '#metrics';
import { ModelRegistry, parseRegistryConfig } from '#model-registry';
import { BackendDirectory } from '../backends/backend-directory.js';
import { readGatewayConfig } from '../gateway-config.js';
import { readyReplicas } from '../testing/ready-replicas.js';
import { ReplicaRouter } from './replica-router.service.js';

/** Three TGI replicas, all ready, with addresses that nothing is called on: pick() only chooses. */
function routerFor(routing = 'least_outstanding', env: Record<string, string> = {}) {
  const { registry, directory } = readyReplicas(
    `gpus: []
models:
  - id: qwen2
    quantization: gptq-int4
    max_concurrent: 2
    routing: ${routing}
    replicas:
      - { type: tgi, url: "http://replica-0:80" }
      - { type: tgi, url: "http://replica-1:80" }
      - { type: tgi, url: "http://replica-2:80" }
`,
    'qwen2',
  );
  const config = readGatewayConfig({ STATSD_HOST: 'off', ...env });
  const router = new ReplicaRouter(registry, directory, config, new GatewayMetrics(null, { processMetrics: false }));
  return { router, registry };
}

const none = new Set<number>();

describe('ReplicaRouter.pick', () => {
  it('takes the replica with the fewest calls outstanding, ties in turn', () => {
    const { router } = routerFor();
    assert.deepEqual(
      [0, 1, 2, 3].map(() => router.pick('qwen2', none)),
      [0, 1, 2, 0],
    );
    router.callStarted('qwen2', 0);
    router.callStarted('qwen2', 1);
    assert.equal(router.pick('qwen2', none), 2);
    router.callStarted('qwen2', 2);
    router.callStarted('qwen2', 2);
    assert.equal(router.pick('qwen2', none), 0, 'after 2 comes 0 among the tied 0 and 1');
    assert.equal(router.pick('qwen2', new Set([0])), 1, 'a replica already tried is not picked again');
  });

  it('skips replicas that are not ready, and ejected ones unless only ejected ones are left', () => {
    const { router, registry } = routerFor('least_outstanding', { OUTLIER_FAILURES: '1' });
    const [zero, one] = registry.replicas('qwen2');
    zero!.markUnhealthy('health check failed');
    router.callStarted('qwen2', 1);
    router.callEnded('qwen2', 1, 'failed', new Error('cut mid-stream'));
    assert.equal(router.view('qwen2')[1]!.ejected, true);
    assert.deepEqual(
      [0, 1, 2].map(() => router.pick('qwen2', none)),
      [2, 2, 2],
    );
    assert.equal(router.pick('qwen2', new Set([2])), 1, 'the ejected replica rather than none');
    one!.markUnhealthy('health check failed');
    assert.equal(router.pick('qwen2', new Set([2])), undefined);
  });

  it('under routing: prefix, sends prompts that start alike to one replica while it is not full', () => {
    const { router } = routerFor('prefix');
    const system = 'You are a helpful assistant. '.repeat(12);
    const first = router.pick('qwen2', none, system);
    assert.ok(first !== undefined);
    assert.deepEqual(
      [1, 2, 3].map(() => router.pick('qwen2', none, system)),
      [first, first, first],
    );
    const spread = new Set(Array.from({ length: 30 }, (_, i) => router.pick('qwen2', none, `prompt ${i}`)));
    assert.equal(spread.size, 3, 'different prefixes spread over the replicas');
    router.callStarted('qwen2', first);
    router.callStarted('qwen2', first);
    assert.notEqual(router.pick('qwen2', none, system), first, 'full (max_concurrent 2): least outstanding instead');
  });

  it('under routing: prefix, prefers a replica found in DNS by its address: two gateways that found them in another order agree', () => {
    const addresses = ['http://10.0.0.1:80', 'http://10.0.0.2:80', 'http://10.0.0.3:80'];
    const gatewayFinding = (order: string[]) => {
      const registry = new ModelRegistry(
        parseRegistryConfig(
          `gpus: []
models:
  - id: qwen2
    quantization: gptq-int4
    max_concurrent: 2
    routing: prefix
    replicas: { discover: dns, host: tgi-pods, port: 80, type: tgi }
`,
          'discovered.yaml',
        ),
      );
      const directory = new BackendDirectory((baseUrl) => ({ baseUrl }) as InferenceBackend);
      for (const url of order) {
        const replica = registry.addReplica('qwen2', url);
        directory.set('qwen2', url, replica.descriptor.backend, replica.replica);
        replica.markLoading();
        replica.markReady();
      }
      const config = readGatewayConfig({ STATSD_HOST: 'off' });
      const router = new ReplicaRouter(
        registry,
        directory,
        config,
        new GatewayMetrics(null, { processMetrics: false }),
      );
      const addressOf = (replica: number | undefined) =>
        registry.replicas('qwen2').find((entry) => entry.replica === replica)?.status.address;
      return (prefix: string) => addressOf(router.pick('qwen2', none, prefix));
    };
    const one = gatewayFinding(addresses);
    const other = gatewayFinding([...addresses].reverse());
    const prompts = Array.from({ length: 20 }, (_, i) => `system prompt ${i} `.repeat(10));
    assert.deepEqual(prompts.map(other), prompts.map(one));
    assert.equal(new Set(prompts.map(one)).size, 3, 'and the prompts still spread over the replicas');
  });
});
