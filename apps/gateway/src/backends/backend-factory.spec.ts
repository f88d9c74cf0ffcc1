import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { OpenAiBackend, TgiBackend } from '#backends';
import { ModelRegistry, parseRegistryConfig } from '#model-registry';
import { backendFactory, missingBackendKeys } from './backend-factory.js';

const REGISTRY = `
models:
  - { id: a, quantization: q, backend: { type: tgi, url: "http://tgi:80" } }
  - { id: b, quantization: q, backend: { type: openai, url: "http://vllm:8000", model: served, api_key_env: B_KEY } }
  - { id: c, quantization: q, backend: { type: openai, url: "http://llama:8080" } }
`;

describe('backendFactory and the backend keys', () => {
  const registry = new ModelRegistry(parseRegistryConfig(REGISTRY, 'test.yaml'));
  const backendOf = (id: string) => registry.get(id).descriptor.backend;

  it("builds each model's client by its backend type, with the served model name", () => {
    const create = backendFactory(1_000, { B_KEY: 'sk-1' });
    const tgi = create('http://tgi:80', backendOf('a'));
    const vllm = create('http://vllm:8000', backendOf('b'));
    const llama = create('http://llama:8080', backendOf('c'));
    try {
      assert.ok(tgi instanceof TgiBackend);
      assert.ok(vllm instanceof OpenAiBackend);
      assert.equal(vllm.servedModel, 'served');
      assert.ok(llama instanceof OpenAiBackend);
      assert.equal(llama.servedModel, undefined, 'learned from /v1/models by the first probe');
    } finally {
      for (const backend of [tgi, vllm, llama]) backend.close();
    }
  });

  it('names every api_key_env that is not set, so the gateway refuses to start', () => {
    assert.deepEqual(missingBackendKeys(registry, { B_KEY: 'sk-1' }), []);
    assert.deepEqual(missingBackendKeys(registry, { B_KEY: '' }), [
      {
        path: 'models[1].backend.api_key_env',
        message:
          'B_KEY (the API key of model "b"\'s server) is not set — export it, or remove api_key_env if the server takes no key',
      },
    ]);
  });

  it("names a replica's api_key_env by its place in the replicas list", () => {
    const replicated = new ModelRegistry(
      parseRegistryConfig(
        `
models:
  - id: r
    quantization: q
    replicas:
      - { type: openai, url: "http://vllm-0:8000", model: served }
      - { type: openai, url: "http://vllm-1:8000", model: served, api_key_env: R_KEY }
`,
        'test.yaml',
      ),
    );
    assert.deepEqual(
      missingBackendKeys(replicated, {}).map((problem) => problem.path),
      ['models[0].replicas[1].api_key_env'],
    );
  });

  it("names the api_key_env of replicas found in DNS, and builds each found address's client with the settings", () => {
    const discovered = new ModelRegistry(
      parseRegistryConfig(
        `
models:
  - id: d
    quantization: q
    replicas: { discover: dns, host: vllm-pods, port: 8000, type: openai, model: served, api_key_env: D_KEY }
`,
        'test.yaml',
      ),
    );
    assert.deepEqual(
      missingBackendKeys(discovered, {}).map((problem) => problem.path),
      ['models[0].replicas.api_key_env'],
    );
    const found = discovered.addReplica('d', 'http://10.1.2.3:8000');
    const backend = backendFactory(1000, { D_KEY: 'sk-d' })(found.status.address!, found.descriptor.backend);
    assert.ok(backend instanceof OpenAiBackend);
    assert.equal(backend.baseUrl, 'http://10.1.2.3:8000');
    backend.close();
  });
});
