import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { rejection, standInBackends } from './testing/backend-under-test.js';
import { BackendCall, callTarget, STALE_RESET_WINDOW_MS } from './backend-call.js';
import { BackendPool } from './backend-pool.js';
import { TgiGenerateAnswerReader } from './tgi-generate-answer-reader.js';
import { testCallOptions } from './testing/call-options.js';

const request = { inputs: 'one two', parameters: {} };
const pause = (ms: number) => new Promise((r) => setTimeout(r, ms));

describe('TgiBackend keep-alive pool', () => {
  const { setUp } = standInBackends();

  it('retries once, on a new socket, when a reused keep-alive socket is reset before any byte', async () => {
    const { standIn, backend } = await setUp({ script: (r) => ({ resetOnArrival: r.number === 2 }) });
    await backend.generate(request, testCallOptions());
    const outcome = await backend.generate(request, testCallOptions());
    assert.equal(outcome.generatedText, 'Hello, world');
    assert.deepEqual(
      standIn.received.map((r) => r.reusedConnection),
      [false, true, false],
    );
  });

  it('does not retry a reset on a new connection', async () => {
    const { standIn, backend } = await setUp({ script: { resetOnArrival: true } });
    const error = await rejection(backend.generate(request, testCallOptions()));
    assert.equal(error.type, 'unavailable');
    assert.equal(standIn.stats.requests, 1);
  });

  it('retries only once', async () => {
    const { standIn, backend } = await setUp({ script: (r) => ({ resetOnArrival: r.number > 1 }) });
    await backend.generate(request, testCallOptions());
    const error = await rejection(backend.generate(request, testCallOptions()));
    assert.deepEqual([error.type, error.status], ['unavailable', 503]);
    assert.equal(standIn.stats.requests, 3);
  });

  it('never retries after the first byte, even on a reused socket', async () => {
    const { standIn, backend } = await setUp({
      script: (r) => (r.number === 2 ? { closeAfterTokens: 0 } : r.number === 3 ? { closeAfterTokens: 1 } : {}),
    });
    await backend.generate(request, testCallOptions());
    for (const expected of [2, 3]) {
      const error = await rejection(backend.generate(request, testCallOptions()));
      assert.deepEqual([error.type, error.message], ['upstream', 'backend closed the stream before the end']);
      assert.equal(standIn.stats.requests, expected, 'no second attempt');
    }
  });

  it('retries a one-answer call whose reused socket is reset as it arrives', async () => {
    const { standIn, backend } = await setUp({ script: (r) => ({ resetOnArrival: r.number === 2 }) });
    const oneAnswer = { ...testCallOptions(), oneAnswer: true };
    await backend.generate(request, oneAnswer);
    const outcome = await backend.generate(request, oneAnswer);
    assert.equal(outcome.generatedText, 'Hello, world');
    assert.deepEqual(
      standIn.received.map((r) => [r.route, r.reusedConnection]),
      [
        ['/generate', false],
        ['/generate', true],
        ['/generate', false],
      ],
    );
  });

  it('never sends again a one-answer call that the backend cut while generating it on a reused socket', async () => {
    const { standIn, backend } = await setUp({
      script: (r) => (r.number === 2 ? { closeAfterTokens: 1, tokenDelayMs: STALE_RESET_WINDOW_MS + 150 } : {}),
    });
    const oneAnswer = { ...testCallOptions(), oneAnswer: true };
    await backend.generate(request, oneAnswer);
    const error = await rejection(backend.generate(request, oneAnswer));
    assert.deepEqual([error.type, error.message], ['upstream', 'backend closed the connection before its answer']);
    assert.deepEqual(
      standIn.received.map((r) => r.reusedConnection),
      [false, true],
      'no second attempt',
    );
  });

  it('reuses a warm socket and closes idle ones after keepAliveIdleMs', async () => {
    const { standIn, backend } = await setUp({}, { keepAliveIdleMs: 100 });
    await backend.generate(request, testCallOptions());
    await backend.generate(request, testCallOptions());
    assert.equal(standIn.stats.connections, 1, 'back-to-back calls share one connection');
    await pause(300);
    await backend.generate(request, testCallOptions());
    assert.equal(standIn.stats.connections, 2, 'the idle socket was closed by the pool, not reused');
  });

  it('puts a call on an idle connection in the turn it is made, and one made as the last answer ends on that connection a turn later', async () => {
    const { standIn } = await setUp({});
    const pool = new BackendPool(standIn.url);
    const target = callTarget(pool, '/generate', 'application/json');
    const call = () => {
      const made = new BackendCall(target, JSON.stringify(request), testCallOptions());
      return made.run(new TgiGenerateAnswerReader(made, request.parameters));
    };
    try {
      await call();
      assert.equal(pool.hasIdleConnection, false, 'undici gives the connection back a turn after its answer');
      await new Promise(setImmediate);
      assert.equal(pool.hasIdleConnection, true);
      const second = call();
      assert.equal(pool.hasIdleConnection, false, 'the call took the idle connection at once');
      await second;
      await call(); // made before the connection is back: it waits for it rather than open another
      assert.equal(standIn.stats.connections, 1);
    } finally {
      pool.close();
    }
  });

  it('does not cut an active stream that is quiet for longer than keepAliveIdleMs', async () => {
    const { backend } = await setUp(
      { script: { firstTokenDelayMs: 300, tokenDelayMs: 250 } },
      { keepAliveIdleMs: 100 },
    );
    const outcome = await backend.generate(request, testCallOptions());
    assert.equal(outcome.generatedText, 'Hello, world');
  });

  it('copes with a backend that closes idle sockets first', async () => {
    const { standIn, backend } = await setUp({ keepAliveTimeoutMs: 50 }, { keepAliveIdleMs: 10_000 });
    await backend.generate(request, testCallOptions());
    await pause(200);
    const outcome = await backend.generate(request, testCallOptions());
    assert.equal(outcome.outputTokens, 4);
    assert.equal(standIn.stats.connections, 2);
  });
});
