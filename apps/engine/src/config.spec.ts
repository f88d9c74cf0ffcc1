import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { ConfigError, parseEngineConfig, resolveModelLimits } from './config.js';

describe('parseEngineConfig', () => {
  it('reads flags, falls back to the environment, and flags win', () => {
    const draft = parseEngineConfig(['--model', 'models/a.gguf', '--port', '9000'], {
      ENGINE_PORT: '7000',
      ENGINE_CONTEXTS: '2',
    });
    assert.equal(draft.port, 9000);
    assert.equal(draft.contexts, 2);
    assert.equal(draft.modelId, 'a');
    assert.equal(draft.threads, 1);
    assert.equal(draft.gpuLayers, 0);
  });

  it('refuses a missing model and bad numbers with the option named', () => {
    assert.throws(
      () => parseEngineConfig([], {}),
      (e: unknown) => e instanceof ConfigError && /--model/.test(e.message),
    );
    assert.throws(
      () => parseEngineConfig(['--model', 'm', '--threads', 'two'], {}),
      /--threads \(ENGINE_THREADS\) must be an integer/,
    );
    assert.throws(() => parseEngineConfig(['--model', 'm', '--bogus', '1'], {}), /bogus/);
  });

  it('derives token limits from the context size and refuses impossible ones', () => {
    const draft = parseEngineConfig(['--model', 'm', '--context-size', '512'], {});
    const config = resolveModelLimits(draft, 4096);
    assert.equal(config.maxTotalTokens, 512);
    assert.equal(config.maxInputTokens, 511);
    assert.equal(resolveModelLimits(parseEngineConfig(['--model', 'm'], {}), 1024).contextSize, 1024);
    assert.throws(() => resolveModelLimits({ ...draft, maxTotalTokens: 1000 }, 4096), /exceeds --context-size/);
  });
});
