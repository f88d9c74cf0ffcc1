import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { ModelEntry } from './model-entry.js';
import { residencyOf } from './registry-config.js';
import { parseRaw, problemsOf, validRawConfig } from './testing/registry-fixtures.js';

function withProcessBackend(backend: Record<string, unknown>) {
  const raw = validRawConfig();
  raw.models[1].backend = { type: 'process', ...backend };
  return raw;
}

const LLAMA_SERVER = ['llama-server', '-m', '${MODEL_PATH}', '--port', '${PORT}'];

describe('parseRegistryConfig: a process backend (any server the gateway starts)', () => {
  it('reads the command with its placeholders and fills in the defaults', () => {
    const config = parseRaw(withProcessBackend({ command: LLAMA_SERVER, model_path: 'models/llama3.gguf' }));
    assert.deepEqual(config.models[1]!.backend, {
      type: 'process',
      command: LLAMA_SERVER,
      modelPath: 'models/llama3.gguf',
      host: '127.0.0.1',
      port: null,
      health: '/health',
      stopSignal: 'SIGTERM',
      protocol: 'tgi',
      model: null,
    });
    assert.equal(new ModelEntry(config.models[1]!).status.address, null, 'learned once it listens');
  });

  it('reads protocol openai with its served model name, a stop signal and a health route', () => {
    const config = parseRaw(
      withProcessBackend({
        command: ['vllm', 'serve', 'Qwen/Qwen2-7B', '--port', '${PORT}'],
        protocol: 'openai',
        model: 'Qwen/Qwen2-7B',
        stop_signal: 'SIGINT',
        health: '/v1/models',
      }),
    );
    const backend = config.models[1]!.backend;
    assert.equal(backend.type, 'process');
    assert.deepEqual(
      backend.type === 'process' && [
        backend.protocol,
        backend.model,
        backend.stopSignal,
        backend.health,
        backend.modelPath,
      ],
      ['openai', 'Qwen/Qwen2-7B', 'SIGINT', '/v1/models', null],
    );
  });

  it('refuses a command without ${PORT}, an empty one, a bad signal, protocol and health route', () => {
    const cases: Array<[Record<string, unknown>, RegExp]> = [
      [{ command: ['llama-server', '--port', '8080'] }, /models\[1\]\.backend\.command: names no \$\{PORT\}/],
      [{ command: [] }, /models\[1\]\.backend\.command: the list is empty/],
      [{ command: 'llama-server --port ${PORT}' }, /command: "llama-server --port \$\{PORT\}" is not a list of words/],
      [
        { command: LLAMA_SERVER, stop_signal: 'SIGSTOP' },
        /stop_signal: "SIGSTOP" is not SIGTERM, SIGINT, SIGQUIT, SIGHUP/,
      ],
      [{ command: LLAMA_SERVER, protocol: 'grpc' }, /protocol: "grpc" is not tgi or openai/],
      [{ command: LLAMA_SERVER, health: 'health' }, /health: "health" is not a route such as \/health/],
    ];
    for (const [backend, expected] of cases) {
      const problems = problemsOf(withProcessBackend(backend));
      assert.ok(
        problems.some((problem) => expected.test(problem)),
        `${expected} in:\n${problems.join('\n')}`,
      );
    }
  });
});

describe('parseRegistryConfig: residency (load, keep_alive, min_residency)', () => {
  it('reads a model on demand with its durations; a model that says nothing is loaded always', () => {
    const raw = validRawConfig();
    Object.assign(raw.models[1], { load: 'on_demand', keep_alive: '90s', min_residency: '500ms' });
    const config = parseRaw(raw);
    assert.deepEqual(config.models[1]!.residency, { load: 'on_demand', keepAliveMs: 90_000, minResidencyMs: 500 });
    assert.deepEqual(residencyOf(config.models[0]!), { load: 'always', keepAliveMs: 300_000, minResidencyMs: 10_000 });
    assert.deepEqual(config.requiredForReadiness, ['qwen2'], '/health/ready does not wait for a model on demand');
  });

  it('refuses on_demand for a remote server and a duration without a unit', () => {
    const raw = validRawConfig();
    Object.assign(raw.models[0], { load: 'on_demand' });
    Object.assign(raw.models[1], { keep_alive: '5' });
    const problems = problemsOf(raw);
    assert.ok(
      problems.some((p) =>
        /models\[0\]\.load: on_demand needs a backend the gateway starts itself, but this one is type: tgi/.test(p),
      ),
      problems.join('\n'),
    );
    assert.ok(
      problems.some((p) => /models\[1\]\.keep_alive: "5" is not a duration such as 30s/.test(p)),
      problems.join('\n'),
    );
  });

  it('lets models on demand share a GPU whose memory holds only some of them at once', () => {
    const raw = validRawConfig();
    raw.models = ['a', 'b', 'c'].map((id) => ({
      id,
      quantization: 'gguf-q8_0',
      vram_budget_gb: 5,
      gpu: '0',
      load: 'on_demand',
      backend: { type: 'local', model_path: `models/${id}.gguf`, engine: { context_size: 1024, gpu_layers: 'auto' } },
    }));
    assert.equal(parseRaw(raw).models.length, 3);
    raw.models[0].load = 'always';
    raw.models[1].load = 'always';
    const problems = problemsOf(raw);
    assert.match(
      problems.join('\n'),
      /models\[2\]\.vram_budget_gb: 5 does not fit GPU "0" \(memory_gb 12\) beside its models loaded always \(10\)/,
    );
  });
});
