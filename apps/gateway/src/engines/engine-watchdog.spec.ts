import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { ModelRegistry, parseRegistryConfig } from '#model-registry';
import { EngineWatchdog } from './engine-watchdog.js';

function watched(limit: number) {
  const replaced: string[] = [];
  const watchdog = new EngineWatchdog(limit, (entry, misses) => replaced.push(`${entry.id}:${misses}`));
  const config = parseRegistryConfig(
    'models: [{ id: llama3, quantization: q, backend: { type: local, model_path: m.gguf } }]',
    'test.yaml',
  );
  const entry = new ModelRegistry(config).get('llama3');
  return { watchdog, entry, replaced };
}

describe('EngineWatchdog', () => {
  it('replaces an engine after `limit` failed probes in a row once it has served, and counts again after', () => {
    const { watchdog, entry, replaced } = watched(3);
    entry.markLoading();
    entry.markReady();
    watchdog.record(entry, 'down');
    entry.markUnhealthy('backend health check failed');
    watchdog.record(entry, 'down');
    assert.deepEqual(replaced, []);
    watchdog.record(entry, 'loading'); // a 503 from an engine that had served is no better than silence
    assert.deepEqual(replaced, ['llama3:3']);
    watchdog.record(entry, 'down');
    watchdog.record(entry, 'down');
    assert.deepEqual(replaced, ['llama3:3'], 'the count starts again after a replacement');
  });

  it('forgives failures that a ready probe interrupts', () => {
    const { watchdog, entry, replaced } = watched(2);
    entry.markLoading();
    entry.markReady();
    for (let i = 0; i < 5; i++) {
      watchdog.record(entry, 'down');
      watchdog.record(entry, 'ready');
    }
    assert.deepEqual(replaced, []);
  });

  it('leaves a model that is still loading to its startup_ms, and does nothing with a limit of 0', () => {
    const loading = watched(1);
    loading.entry.markLoading();
    loading.watchdog.record(loading.entry, 'down');
    assert.deepEqual(loading.replaced, []);

    const off = watched(0);
    off.entry.markLoading();
    off.entry.markReady();
    for (let i = 0; i < 10; i++) off.watchdog.record(off.entry, 'down');
    assert.deepEqual(off.replaced, []);
  });
});
