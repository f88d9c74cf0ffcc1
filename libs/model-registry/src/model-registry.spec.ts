import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { ModelRegistry } from './model-registry.js';
import type { RegistryConfig } from './registry-config.js';
import { RegistryConfigError } from './registry-config-error.js';
import { descriptor, manualClock } from './testing/descriptors.js';
import { parseRaw, validRawConfig } from './testing/registry-fixtures.js';

function twoModels(requiredForReadiness = ['qwen2', 'llama3']): RegistryConfig {
  return {
    gpus: [],
    requiredForReadiness,
    models: [
      descriptor({ id: 'qwen2', aliases: ['Qwen2-7B-Instruct-GPTQ-Int4'] }),
      descriptor({
        id: 'llama3',
        aliases: ['Meta-Llama-3.1-8B-Instruct-GPTQ-INT4'],
        backend: { type: 'tgi', url: 'http://tgi-llama3:80' },
      }),
    ],
  };
}

describe('ModelRegistry', () => {
  it('resolves ids and aliases, case-sensitively', () => {
    const registry = new ModelRegistry(parseRaw(validRawConfig()));
    assert.equal(registry.resolve('qwen2')?.id, 'qwen2');
    assert.equal(registry.resolve('qwen2-7b-instruct')?.id, 'qwen2');
    assert.equal(registry.resolve('llama3-8b-instruct')?.id, 'llama3');
    assert.equal(registry.resolve('Qwen2'), undefined);
    assert.equal(registry.resolve('mistral'), undefined);
    assert.equal(registry.resolve('__proto__'), undefined);
  });

  it('lists models in config order and gets them by id only', () => {
    const registry = new ModelRegistry(twoModels());
    assert.deepEqual(
      registry.list().map((entry) => entry.id),
      ['qwen2', 'llama3'],
    );
    assert.equal(registry.get('llama3').descriptor.backend.type, 'tgi');
    assert.throws(
      () => registry.get('Meta-Llama-3.1-8B-Instruct-GPTQ-INT4'),
      /unknown model id "Meta-Llama-3.1-8B-Instruct-GPTQ-INT4" \(models: qwen2, llama3\)/,
    );
    registry.list().pop();
    assert.equal(registry.list().length, 2, 'list() hands out a copy');
  });

  it('is ready when every required model is ready, and only then', () => {
    const registry = new ModelRegistry(twoModels(['qwen2']));
    assert.equal(registry.isReady(), false);
    registry.get('llama3').markReady();
    assert.equal(registry.isReady(), false, 'llama3 is not required');
    registry.get('qwen2').markReady();
    assert.equal(registry.isReady(), true);
    registry.get('qwen2').markUnhealthy('probe failed');
    assert.equal(registry.isReady(), false);
    assert.equal(new ModelRegistry(twoModels([])).isReady(), true, 'nothing required: ready at once');
  });

  it('waits for all models when readiness.required is all', () => {
    const registry = new ModelRegistry(parseRaw(validRawConfig()));
    registry.get('qwen2').markReady();
    assert.equal(registry.isReady(), false);
    registry.get('llama3').markReady();
    assert.equal(registry.isReady(), true);
  });

  it("passes its clock to every entry and forwards every entry's changes to onChange", () => {
    const clock = manualClock();
    const registry = new ModelRegistry(twoModels(), { now: clock.now });
    const seen: string[] = [];
    const unsubscribe = registry.onChange((entry, previous) => seen.push(`${entry.id}:${previous}->${entry.state}`));
    clock.advance(250);
    registry.get('qwen2').markReady();
    registry.get('llama3').markLoading();
    unsubscribe();
    registry.get('llama3').markReady();
    assert.deepEqual(seen, ['qwen2:starting->ready', 'llama3:starting->loading']);
    assert.equal(registry.get('qwen2').status.coldStartMs, 250);
  });

  it('refuses a config built in code that breaks a cross-key rule', () => {
    const config = twoModels(['qwen2', 'mistral']);
    config.models[1]!.aliases.push('Qwen2-7B-Instruct-GPTQ-Int4');
    assert.throws(
      () => new ModelRegistry(config),
      (error: unknown) =>
        error instanceof RegistryConfigError &&
        error.problems.length === 2 &&
        error.problems.includes(
          'readiness.required[1]: "mistral" is not a model id (models: qwen2, llama3) — name a declared model, or write required: all',
        ),
    );
    assert.throws(
      () => new ModelRegistry({ gpus: [], requiredForReadiness: [], models: [] }),
      /models: the list is empty/,
    );
  });
});
