import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { ModelRegistry } from './model-registry.js';
import { replicasOf } from './registry-config.js';
import { modelStateOf, pathTo } from './replica-follower.js';
import { parseRaw, problemsOf, validRawConfig } from './testing/registry-fixtures.js';

function withQwen2(change: (model: Record<string, any>) => void): Record<string, any> {
  const raw = validRawConfig();
  change(raw['models'][0]);
  return raw;
}

describe('replicas in models.yaml', () => {
  it('a replicas: list of TGI servers becomes one backend each, the first also being `backend`', () => {
    const config = parseRaw(
      withQwen2((model) => {
        delete model['backend'];
        model['replicas'] = [
          { type: 'tgi', url: 'http://tgi-a:80/' },
          { type: 'tgi', url: 'http://tgi-b:80' },
        ];
      }),
    );
    const qwen2 = config.models[0]!;
    assert.deepEqual(replicasOf(qwen2), [
      { type: 'tgi', url: 'http://tgi-a:80' },
      { type: 'tgi', url: 'http://tgi-b:80' },
    ]);
    assert.deepEqual(qwen2.backend, { type: 'tgi', url: 'http://tgi-a:80' });
  });

  it('replicas: N beside a local backend starts N engines of the same settings', () => {
    const config = parseRaw(
      withQwen2((model) => {
        model['backend'] = { type: 'local', model_path: 'models/qwen2-tiny-q8_0.gguf' };
        model['gpu'] = null;
        model['vram_budget_gb'] = 0;
        model['replicas'] = 3;
      }),
    );
    const replicas = replicasOf(config.models[0]!);
    assert.equal(replicas.length, 3);
    assert.ok(
      replicas.every((backend) => backend.type === 'local' && backend.modelPath.endsWith('qwen2-tiny-q8_0.gguf')),
    );
    assert.notEqual(replicas[0], replicas[1], 'each engine has its own settings object');
  });

  it('a model with only backend: keeps one replica and no replicas key (configs written before replicas)', () => {
    const config = parseRaw(validRawConfig());
    assert.equal(config.models[0]!.replicas, undefined);
    assert.deepEqual(replicasOf(config.models[0]!), [config.models[0]!.backend]);
  });

  it('refuses, naming key, value and fix: both backend and a list, neither, a count of one URL, a fixed port, a bad item', () => {
    const both = problemsOf(withQwen2((model) => (model['replicas'] = [{ type: 'tgi', url: 'http://b:80' }])));
    assert.match(both.join('\n'), /models\[0\]\.backend: is written beside a replicas: list — move it into the list/);
    const neither = problemsOf(withQwen2((model) => delete model['backend']));
    assert.match(neither.join('\n'), /models\[0\]\.backend: missing — write backend:/);
    const countOfUrl = problemsOf(withQwen2((model) => (model['replicas'] = 2)));
    assert.match(countOfUrl.join('\n'), /models\[0\]\.replicas: 2 copies of one tgi URL .* list each server/);
    const fixedPort = problemsOf(
      withQwen2((model) => {
        model['backend'] = { type: 'local', model_path: 'm.gguf', port: 9001 };
        model['gpu'] = null;
        model['vram_budget_gb'] = 0;
        model['replicas'] = 2;
      }),
    );
    assert.match(fixedPort.join('\n'), /models\[0\]\.backend\.port: 9001 can be bound by one of the 2 engines only/);
    const badItem = problemsOf(
      withQwen2((model) => {
        delete model['backend'];
        model['replicas'] = [
          { type: 'tgi', url: 'http://a:80' },
          { type: 'tgi', url: 'not a url' },
        ];
      }),
    );
    assert.match(badItem.join('\n'), /models\[0\]\.replicas\[1\]\.url: "not a url" is not an absolute http\(s\) URL/);
    const routing = problemsOf(withQwen2((model) => (model['routing'] = 'sideways')));
    assert.match(routing.join('\n'), /models\[0\]\.routing: "sideways" is not least_outstanding or prefix/);
    const zero = problemsOf(withQwen2((model) => (model['replicas'] = 0)));
    assert.match(zero.join('\n'), /models\[0\]\.replicas: 0 is not a whole number from 1 to 64/);
  });
});

describe('a model of several replicas', () => {
  it('serves while any replica serves, loads while one loads, and is unhealthy only when none is better off', () => {
    assert.equal(modelStateOf(['unhealthy', 'ready']), 'ready');
    assert.equal(modelStateOf(['unhealthy', 'loading']), 'loading');
    assert.equal(modelStateOf(['failed', 'unhealthy']), 'unhealthy');
    assert.equal(modelStateOf(['failed', 'failed']), 'failed');
  });

  it('moves only through allowed states (ready to loading goes by unhealthy)', () => {
    assert.deepEqual(pathTo('ready', 'loading'), ['unhealthy', 'loading']);
    assert.deepEqual(pathTo('ready', 'ready'), []);
    assert.deepEqual(pathTo('loading', 'ready'), ['ready']);
  });

  it("follows its replicas' entries, each of which keeps its own state and index", () => {
    const config = parseRaw(
      withQwen2((model) => {
        delete model['backend'];
        model['replicas'] = [
          { type: 'tgi', url: 'http://tgi-a:80' },
          { type: 'tgi', url: 'http://tgi-b:80' },
        ];
      }),
    );
    const registry = new ModelRegistry(config);
    const model = registry.get('qwen2');
    const [a, b] = registry.replicas('qwen2');
    assert.deepEqual([a!.replica, b!.replica], [0, 1]);
    assert.deepEqual([a!.status.address, b!.status.address], ['http://tgi-a:80', 'http://tgi-b:80']);
    a!.markLoading();
    assert.equal(model.state, 'loading');
    a!.markReady();
    b!.markLoading();
    assert.equal(model.state, 'ready');
    a!.markUnhealthy('health check failed');
    assert.equal(model.state, 'loading', 'b is still on its way');
    b!.markUnhealthy('startup deadline passed');
    assert.equal(model.state, 'unhealthy');
    assert.match(model.status.lastError!.message, /replica 1: startup deadline passed/);
    b!.markReady();
    assert.equal(model.state, 'ready');
    assert.deepEqual(registry.replicas('llama3'), [registry.get('llama3')], 'a model of one is its own replica');
  });
});

describe('replicas found in DNS (replicas: {discover: dns})', () => {
  const discovered = (settings: Record<string, unknown>) =>
    withQwen2((model) => {
      delete model['backend'];
      model['replicas'] = { discover: 'dns', host: 'vllm-qwen2.ml.svc.cluster.local', port: 8000, ...settings };
    });

  it('reads the name, the port, how often to resolve it (10 s unless written) and the backend settings of each address', () => {
    const openai = parseRaw(discovered({ type: 'openai', model: 'Qwen/Qwen2-7B', api_key_env: 'VLLM_KEY' })).models[0]!;
    assert.deepEqual(openai.discovery, { host: 'vllm-qwen2.ml.svc.cluster.local', port: 8000, everyMs: 10_000 });
    assert.deepEqual(openai.backend, {
      type: 'openai',
      url: 'http://vllm-qwen2.ml.svc.cluster.local:8000',
      model: 'Qwen/Qwen2-7B',
      apiKeyEnv: 'VLLM_KEY',
    });
    const tgi = parseRaw(discovered({ type: 'tgi', resolve_every_ms: 2000 })).models[0]!;
    assert.deepEqual(
      [tgi.backend, tgi.discovery!.everyMs],
      [{ type: 'tgi', url: 'http://vllm-qwen2.ml.svc.cluster.local:8000' }, 2000],
    );
  });

  it('refuses, naming key, value and fix: a local type, a bad name or port, an unknown key, a backend beside it', () => {
    const local = problemsOf(discovered({ type: 'local' }));
    assert.match(
      local.join('\n'),
      /models\[0\]\.replicas\.type: "local" is not tgi or openai — .*local engines are started by the gateway/,
    );
    const host = problemsOf(discovered({ type: 'tgi', host: 'http://tgi:80' }));
    assert.match(host.join('\n'), /models\[0\]\.replicas\.host: "http:\/\/tgi:80" is not a DNS name/);
    const port = problemsOf(discovered({ type: 'tgi', port: 0 }));
    assert.match(port.join('\n'), /models\[0\]\.replicas\.port: 0 is not a whole number from 1 to 65535/);
    const typo = problemsOf(discovered({ type: 'tgi', resolve_every: 5000 }));
    assert.match(
      typo.join('\n'),
      /models\[0\]\.replicas\.resolve_every: unknown key — did you mean resolve_every_ms\?/,
    );
    const beside = problemsOf(
      withQwen2((model) => (model['replicas'] = { discover: 'dns', host: 'tgi', port: 80, type: 'tgi' })),
    );
    assert.match(beside.join('\n'), /models\[0\]\.backend: is written beside replicas: \{discover: dns\}/);
  });

  it("refuses an OpenAI server's settings (model, api_key_env) on TGI servers, which would ignore them", () => {
    const problems = problemsOf(discovered({ type: 'tgi', model: 'Qwen/Qwen2-7B', api_key_env: 'TGI_KEY' }));
    assert.deepEqual(problems, [
      'models[0].replicas.model: is for type: openai only — a TGI server serves one model and takes no key: remove model, or write type: openai',
      'models[0].replicas.api_key_env: is for type: openai only — a TGI server serves one model and takes no key: remove api_key_env, or write type: openai',
    ]);
  });

  it('adds and removes replicas as they are found and lost, numbering each anew; the model follows the ones it has', () => {
    const registry = new ModelRegistry(parseRaw(discovered({ type: 'tgi' })));
    const model = registry.get('qwen2');
    assert.deepEqual(registry.replicas('qwen2'), [], 'none until the name is resolved');
    const changes: string[] = [];
    registry.onReplicaChange((replica) => changes.push(`${replica.replica}:${replica.state}`));
    const a = registry.addReplica('qwen2', 'http://10.0.0.1:8000');
    const b = registry.addReplica('qwen2', 'http://10.0.0.2:8000');
    assert.deepEqual(
      [a.replica, b.replica, a.status.address, b.descriptor.backend],
      [0, 1, 'http://10.0.0.1:8000', { type: 'tgi', url: 'http://10.0.0.2:8000' }],
    );
    a.markLoading();
    a.markReady();
    b.markLoading();
    assert.equal(model.state, 'ready');
    registry.removeReplica('qwen2', 0, '10.0.0.1 is no longer an address');
    assert.deepEqual(registry.replicas('qwen2'), [b]);
    assert.equal(model.state, 'loading', 'only b, loading, is left');
    assert.deepEqual(
      changes,
      ['0:loading', '0:ready', '1:loading', '0:stopped'],
      'listeners saw a found replica and the removal',
    );
    registry.removeReplica('qwen2', 1, '10.0.0.2 is no longer an address');
    assert.equal(model.state, 'unhealthy');
    assert.match(model.status.lastError!.message, /replica 1: 10\.0\.0\.2 is no longer an address/);
    const c = registry.addReplica('qwen2', 'http://10.0.0.1:8000');
    assert.equal(c.replica, 2, 'a number is never reused');
    assert.throws(() => registry.addReplica('llama3', 'http://x:1'), /model "llama3" has no discovery/);
  });
});
