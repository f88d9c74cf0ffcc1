import assert from 'node:assert/strict';
import http, { type ServerResponse } from 'node:http';
import net, { type AddressInfo } from 'node:net';
import { describe, it } from 'node:test';
import { GatewayMetrics } from '#metrics';
import { ModelRegistry, parseRegistryConfig } from '#model-registry';
import type { ApiKeys } from '../auth/api-keys.js';
import { addressCaller, type Caller } from '../auth/caller.js';
import { GenerateRequestDto } from '../generate/generate-request.dto.js';
import { GatewayValidationPipe } from '../http/gateway-validation.pipe.js';
import { ShutdownDrain } from '../http/shutdown-drain.js';
import { RequestFollower } from '../metrics/request-metrics.hook.js';
import { until } from '../testing/answers.js';
import { TEST_REGISTRY_YAML } from '../testing/in-process-gateway.js';
import { HotRoutes } from './hot-routes.js';

describe('a client that leaves while its key is looked up', () => {
  it('is counted once, as cancelled, and its request is never answered or parsed', async () => {
    const metrics = new GatewayMetrics(null, { processMetrics: false });
    let found!: (caller: Caller) => void;
    let lookups = 0;
    // The key store's one part here: a lookup that answers when the test says (a slow Redis, say).
    const keys = {
      find: () => {
        lookups++;
        return new Promise<Caller>((resolve) => (found = resolve));
      },
    } as unknown as ApiKeys;
    let answered = 0;
    const hot = new HotRoutes({
      routes: [{ path: '/v1/generate', dto: GenerateRequestDto, answer: async () => void answered++ }],
      bodyLimitBytes: 1024,
      keys,
      drain: new ShutdownDrain(),
      follower: new RequestFollower(
        metrics,
        new ModelRegistry(parseRegistryConfig(TEST_REGISTRY_YAML, 'hot-routes.spec.yaml')),
      ),
      validation: new GatewayValidationPipe(),
      fallback: () => assert.fail('a found key keeps the request on the hot route'),
    });
    let response: ServerResponse | undefined;
    const server = http.createServer((request, res) => {
      response = res;
      if (!hot.take(request, res)) res.end('left');
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    try {
      const body = JSON.stringify({ model_id: 'qwen2', inputs: 'Hi' });
      const socket = net.connect((server.address() as AddressInfo).port, '127.0.0.1');
      socket.end(
        `POST /v1/generate HTTP/1.1\r\nhost: x\r\nauthorization: Bearer sk-slow\r\n` +
          `content-type: application/json\r\ncontent-length: ${body.length}\r\n\r\n${body}`,
      );
      await until(() => lookups === 1);
      socket.destroy();
      await until(() => response?.closed === true); // the server saw the client go
      found(addressCaller('127.0.0.1'));
      await until(async () => /outcome="cancelled"/.test(await metrics.prometheus.exposition()));
      const counted = (await metrics.prometheus.exposition())
        .split('\n')
        .filter((line) => line.startsWith('sluice_requests_total{') && !line.endsWith(' 0'));
      assert.equal(counted.length, 1, `counted once, as nothing else: ${counted.join('; ')}`);
      assert.match(counted[0]!, /outcome="cancelled".* 1$/);
      assert.equal(answered, 0, 'the route never answered it');
    } finally {
      server.close();
    }
  });
});
