import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { ModelEntry } from './model-entry.js';
import { IllegalModelTransitionError, type ModelState } from './model-state.js';
import { descriptor, manualClock } from './testing/descriptors.js';

function localEntry(clock = manualClock()) {
  const entry = new ModelEntry(
    descriptor({
      id: 'llama3',
      backend: {
        type: 'local',
        modelPath: 'models/llama3-tiny-q8_0.gguf',
        host: '127.0.0.1',
        port: null,
        engine: { contexts: 1, sequences: 4, contextSize: null, threads: 1, gpuLayers: 0, maxConcurrentRequests: 128 },
      },
    }),
    { now: clock.now },
  );
  return { entry, clock };
}

describe('ModelEntry', () => {
  it('starts in starting, with no address for a local engine and the configured url for TGI', () => {
    const { entry, clock } = localEntry();
    assert.deepEqual(entry.status, {
      state: 'starting',
      since: new Date(clock.now()),
      coldStartMs: null,
      readySince: null,
      lastError: null,
      restarts: 0,
      address: null,
    });
    assert.equal(new ModelEntry(descriptor()).status.address, 'http://tgi-qwen2:80');
    entry.setAddress('http://127.0.0.1:41234/');
    assert.equal(entry.status.address, 'http://127.0.0.1:41234');
  });

  it('forgets the address of a server it ran when it stops or starts again; a configured url stays', () => {
    const { entry } = localEntry();
    entry.setAddress('http://127.0.0.1:41234');
    entry.markLoading();
    entry.markReady();
    entry.markStopped();
    assert.equal(entry.status.address, null, 'an unloaded engine listens nowhere');
    entry.markStarting();
    entry.setAddress('http://127.0.0.1:41999');
    entry.markUnhealthy('process died');
    assert.equal(entry.status.address, 'http://127.0.0.1:41999', 'unhealthy: its process may still listen');
    entry.markStarting();
    assert.equal(entry.status.address, null, 'a restart listens on a port of its own');
    const remote = new ModelEntry(descriptor());
    remote.markLoading();
    remote.markStopped();
    remote.markStarting();
    assert.equal(remote.status.address, 'http://tgi-qwen2:80');
  });

  it('measures the cold start from construction to the first ready', () => {
    const { entry, clock } = localEntry();
    clock.advance(300);
    entry.markLoading();
    clock.advance(1200);
    entry.markReady();
    const status = entry.status;
    assert.equal(status.state, 'ready');
    assert.equal(status.coldStartMs, 1500);
    assert.deepEqual(status.readySince, new Date(clock.now()));
    assert.deepEqual(status.since, new Date(clock.now()));
  });

  it('measures a restart from the last markStarting, and not a recovery from unhealthy', () => {
    const { entry, clock } = localEntry();
    entry.markReady();
    assert.equal(entry.status.coldStartMs, 0);
    clock.advance(50);
    entry.markUnhealthy('probe failed');
    clock.advance(50);
    entry.markReady();
    assert.equal(entry.status.coldStartMs, 0, 'a recovery is not a cold start');
    entry.markStopped();
    clock.advance(1000);
    entry.markStarting();
    clock.advance(100);
    entry.markStarting(); // starting again (e.g. a retried spawn) restarts the clock
    clock.advance(700);
    entry.markLoading();
    assert.equal(entry.status.coldStartMs, 0, 'the last completed cold start shows until the next one completes');
    clock.advance(200);
    entry.markReady();
    assert.equal(entry.status.coldStartMs, 900);
  });

  it('records the last error on markUnhealthy and recordError, and clears readySince when leaving ready', () => {
    const { entry, clock } = localEntry();
    entry.markReady();
    clock.advance(10);
    entry.markUnhealthy('connection refused');
    assert.deepEqual(entry.status.lastError, { message: 'connection refused', at: new Date(clock.now()) });
    assert.equal(entry.status.readySince, null);
    clock.advance(10);
    entry.markUnhealthy('still refused'); // a repeated probe failure updates the error, not the state
    assert.deepEqual(entry.status.lastError, { message: 'still refused', at: new Date(clock.now()) });
    assert.deepEqual(entry.status.since, new Date(clock.now() - 10));
    entry.recordError('engine exited with code 1');
    assert.equal(entry.status.state, 'unhealthy');
    assert.equal(entry.status.lastError?.message, 'engine exited with code 1');
  });

  it('counts restarts', () => {
    const { entry } = localEntry();
    entry.incrementRestarts();
    entry.incrementRestarts();
    assert.equal(entry.status.restarts, 2);
  });

  it('keeps the latest reason of a failed model, and measures its cold start from the retry that loads it', () => {
    const { entry, clock } = localEntry();
    entry.markFailed('cannot read the file: ENOENT');
    entry.markFailed('bad magic'); // a retry that fails again updates the reason, not the state
    assert.equal(entry.status.state, 'failed');
    assert.equal(entry.status.lastError?.message, 'bad magic');
    clock.advance(5000);
    entry.markStarting();
    clock.advance(300);
    entry.markLoading();
    entry.markReady();
    assert.equal(entry.status.coldStartMs, 300);
  });

  it('allows the documented moves and nothing else', () => {
    const reach: Record<ModelState, (entry: ModelEntry) => void> = {
      starting: () => {},
      loading: (e) => e.markLoading(),
      ready: (e) => e.markReady(),
      unhealthy: (e) => {
        e.markReady();
        e.markUnhealthy('x');
      },
      failed: (e) => e.markFailed('x'),
      stopped: (e) => e.markStopped(),
    };
    const move: Record<ModelState, (entry: ModelEntry) => void> = {
      starting: (e) => e.markStarting(),
      loading: (e) => e.markLoading(),
      ready: (e) => e.markReady(),
      unhealthy: (e) => e.markUnhealthy('x'),
      failed: (e) => e.markFailed('x'),
      stopped: (e) => e.markStopped(),
    };
    const allowed = new Set([
      'starting>loading',
      'starting>ready',
      'starting>unhealthy',
      'starting>failed',
      'starting>stopped',
      'loading>ready',
      'loading>unhealthy',
      'loading>failed',
      'loading>stopped',
      'ready>unhealthy',
      'ready>stopped',
      'unhealthy>ready',
      'unhealthy>loading',
      'unhealthy>starting',
      'unhealthy>stopped',
      'failed>starting',
      'failed>stopped',
      'stopped>starting',
      'stopped>loading',
    ]);
    const states = Object.keys(reach) as ModelState[];
    for (const from of states) {
      for (const to of states) {
        const { entry } = localEntry();
        reach[from](entry);
        assert.equal(entry.state, from);
        if (from === to || allowed.has(`${from}>${to}`)) {
          move[to](entry);
          assert.equal(entry.state, to, `${from} -> ${to}`);
        } else {
          assert.throws(
            () => move[to](entry),
            (error: unknown) =>
              error instanceof IllegalModelTransitionError &&
              error.message.startsWith(`model llama3: cannot go from ${from} to ${to}`),
            `${from} -> ${to} should throw`,
          );
          assert.equal(entry.state, from, 'a refused move changes nothing');
        }
      }
    }
  });

  it('tells listeners about each change with the previous state, and stops after unsubscribing', () => {
    const { entry } = localEntry();
    const seen: string[] = [];
    const unsubscribe = entry.onChange((changed, previous) =>
      seen.push(`${previous}->${changed.state}:${changed.status.coldStartMs}`),
    );
    entry.markLoading();
    entry.markLoading(); // no change, no event
    entry.markReady();
    unsubscribe();
    entry.markStopped();
    assert.deepEqual(seen, ['starting->loading:null', 'loading->ready:0']);
  });

  it('runs every listener even if one throws, then rethrows its error', () => {
    const { entry } = localEntry();
    let secondRan = false;
    entry.onChange(() => {
      throw new Error('listener bug');
    });
    entry.onChange(() => (secondRan = true));
    assert.throws(() => entry.markLoading(), /listener bug/);
    assert.equal(secondRan, true);
    assert.equal(entry.state, 'loading');
  });
});
