import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { GatewayError } from '#backends';
import type { DispatchQueue, DispatchStats } from '#dispatch';
import { ModelRegistry, parseRegistryConfig } from '#model-registry';
import { ResidencyService, type ServerControl } from './residency.service.js';

/** Two models of 5 GB on demand on an 8 GB GPU: only one fits at a time. */
function setUp(minResidency = '0ms') {
  const model = (id: string) => `
  - id: ${id}
    quantization: q
    vram_budget_gb: 5
    gpu: "0"
    load: on_demand
    keep_alive: 1h
    min_residency: ${minResidency}
    backend: { type: local, model_path: models/${id}.gguf, engine: { context_size: 1024 } }`;
  const registry = new ModelRegistry(
    parseRegistryConfig(`gpus: [{ id: "0", memory_gb: 8 }]\nmodels:${model('a')}${model('b')}\n`, 'test.yaml'),
  );
  const calls: string[] = [];
  const control: ServerControl = {
    load: (id) => {
      calls.push(`load ${id}`);
      return true;
    },
    unload: async (id) => {
      calls.push(`unload ${id}`);
    },
  };
  // The dispatch queue's counts for each model: what another gateway may have queued.
  const queued = new Map<string, number>();
  const queue = {
    stats: async (id: string): Promise<DispatchStats> => ({
      inFlight: 0,
      queued: queued.get(id) ?? 0,
      admitted: queued.get(id) ?? 0,
      serviceRatePerS: null,
      predictedWaitMs: 0,
    }),
  } as unknown as DispatchQueue;
  const residency = new ResidencyService(registry, control, queue);
  return { registry, residency, calls, queued };
}

const never = new AbortController().signal;

describe('ResidencyService', () => {
  it('loads a model once for concurrent requests, and unloads the idle one when another needs the room', async () => {
    const { registry, residency, calls } = setUp();
    const [first, second] = await Promise.all([
      residency.admit(registry.get('a'), never, Date.now() + 5000),
      residency.admit(registry.get('a'), never, Date.now() + 5000),
    ]);
    assert.deepEqual(calls, ['load a']);
    assert.equal(residency.budgetInUseGb('0'), 5);
    first();
    second();
    const forB = await residency.admit(registry.get('b'), never, Date.now() + 5000);
    assert.deepEqual(calls, ['load a', 'unload a', 'load b']);
    assert.equal(residency.view('a')?.resident, false);
    assert.equal(residency.view('b')?.resident, true);
    assert.equal(residency.budgetInUseGb('0'), 5);
    forB();
  });

  it('never unloads a model with a request in flight: the other waits for it, then takes its place', async () => {
    const { registry, residency, calls } = setUp();
    const inFlight = await residency.admit(registry.get('a'), never, Date.now() + 5000);
    const waiting = residency.admit(registry.get('b'), never, Date.now() + 5000);
    await new Promise((resolve) => setImmediate(resolve));
    assert.deepEqual(calls, ['load a'], 'a stays while its request runs');
    // A new request for a, meanwhile, waits behind b's claim instead of keeping a loaded for ever.
    let lateForA = false;
    const late = residency.admit(registry.get('a'), never, Date.now() + 5000).then((release) => {
      lateForA = true;
      return release;
    });
    inFlight();
    const forB = await waiting;
    assert.deepEqual(calls.slice(0, 3), ['load a', 'unload a', 'load b']);
    assert.equal(lateForA, false, 'the late request for a waits for its turn');
    forB();
    (await late)();
    assert.deepEqual(calls, ['load a', 'unload a', 'load b', 'unload b', 'load a']);
  });

  it('never unloads a model with requests queued in the dispatch queue (any gateway), and answers 503 at the deadline', async () => {
    const { registry, residency, queued, calls } = setUp();
    (await residency.admit(registry.get('a'), never, Date.now() + 5000))();
    queued.set('a', 2);
    await assert.rejects(residency.admit(registry.get('b'), never, Date.now() + 100), (error: unknown) => {
      assert.ok(error instanceof GatewayError);
      assert.equal(error.type, 'unavailable');
      assert.equal(error.status, 503);
      assert.equal(error.retryAfterS, 5);
      assert.match(
        error.message,
        /model "b" is not loaded and its 5 GB do not fit GPU "0" \(GPU "0": 5 of 8 GB in use by a 5 GB\)/,
      );
      return true;
    });
    assert.deepEqual(calls, ['load a']);
  });

  it('frees the budget of a model whose start failed, keeping its reason', async () => {
    const { registry, residency, calls } = setUp();
    const release = await residency.admit(registry.get('a'), never, Date.now() + 5000);
    const entry = registry.get('a');
    entry.markFailed('models/a.gguf: cannot read the file');
    release();
    await new Promise((resolve) => setImmediate(resolve));
    assert.equal(residency.view('a')?.resident, false);
    assert.equal(residency.budgetInUseGb('0'), 0);
    assert.equal(entry.state, 'failed');
    (await residency.admit(registry.get('b'), never, Date.now() + 5000))();
    assert.deepEqual(calls, ['load a', 'unload a', 'load b']);
  });

  it('leaves the client that gave up: its wait ends with the signal', async () => {
    const { registry, residency } = setUp();
    await residency.admit(registry.get('a'), never, Date.now() + 5000);
    const client = new AbortController();
    const waiting = residency.admit(registry.get('b'), client.signal, Date.now() + 5000);
    client.abort(new Error('client left'));
    await assert.rejects(waiting, /client left/);
  });
});
