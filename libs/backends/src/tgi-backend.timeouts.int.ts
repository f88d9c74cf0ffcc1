import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { BackendPool } from './backend-pool.js';
import { TgiBackend } from './tgi-backend.js';
import { testCallOptions } from './testing/call-options.js';
import { assertTimeout, standInBackends, timedRejection } from './testing/backend-under-test.js';
import type { StandInScript } from './testing/tgi-stand-in.js';
import { startUnacceptingPort } from './testing/unaccepting-port.js';

describe('TgiBackend timeouts and client abort', () => {
  const backends = standInBackends();
  const { cleanups } = backends;
  const setUp = (script: StandInScript) => backends.setUp({ script });

  it('first byte: fires when the first token is late, and the backend sees the disconnect', async () => {
    const { standIn, backend } = await setUp({ firstTokenDelayMs: 5_000 });
    const disconnected = standIn.nextDisconnect();
    const result = await timedRejection(() =>
      backend.generate({ inputs: 'x', parameters: {} }, testCallOptions({ timeouts: { firstByteMs: 300 } })),
    );
    assertTimeout(result, 'backend first byte timeout after 300 ms', 300);
    await disconnected;
    assert.equal(standIn.stats.disconnects, 1);
  });

  it('first byte: fires when the backend never answers at all', async () => {
    const { standIn, backend } = await setUp({ hang: true });
    const disconnected = standIn.nextDisconnect();
    const result = await timedRejection(() =>
      backend.generate({ inputs: 'x', parameters: {} }, testCallOptions({ timeouts: { firstByteMs: 300 } })),
    );
    assertTimeout(result, 'backend first byte timeout after 300 ms', 300);
    await disconnected;
  });

  it('inter-token: fires when the gap between two tokens is too long', async () => {
    const { standIn, backend } = await setUp({ tokens: ['a', 'b', 'c'], tokenDelayMs: 5_000 });
    const disconnected = standIn.nextDisconnect();
    let firstTokenAt = 0;
    const options = testCallOptions({
      timeouts: { interTokenMs: 300 },
      onToken: () => (firstTokenAt ||= performance.now()),
    });
    const { error } = await timedRejection(() => backend.generate({ inputs: 'x', parameters: {} }, options));
    assertTimeout({ error, ms: performance.now() - firstTokenAt }, 'backend inter-token timeout after 300 ms', 300);
    await disconnected;
  });

  it('inter-token: a steady stream that lasts many gaps is not cut (the wait runs from the latest token)', async () => {
    const { backend } = await setUp({ tokens: Array.from({ length: 30 }, () => 't'), tokenDelayMs: 40 });
    const startedAt = performance.now();
    const outcome = await backend.generate(
      { inputs: 'x', parameters: {} },
      testCallOptions({ timeouts: { interTokenMs: 150, totalMs: 10_000 } }),
    );
    assert.equal(outcome.generatedText, 't'.repeat(30));
    assert.ok(performance.now() - startedAt > 4 * 150, 'the stream outlasted several inter-token gaps');
  });

  it('total: fires when the whole call is too long even though tokens keep coming', async () => {
    const { standIn, backend } = await setUp({ tokens: Array.from({ length: 100 }, () => 't'), tokenDelayMs: 20 });
    const disconnected = standIn.nextDisconnect();
    const result = await timedRejection(() =>
      backend.generate(
        { inputs: 'x', parameters: {} },
        testCallOptions({ timeouts: { totalMs: 400, interTokenMs: 200 } }),
      ),
    );
    assertTimeout(result, 'backend total timeout after 400 ms', 400);
    await disconnected;
  });

  it('connect: fires when the TCP connect does not complete, and drops the pending socket', async () => {
    const port = await startUnacceptingPort();
    const backend = new TgiBackend(port.url);
    cleanups.push(
      () => backend.close(),
      () => port.close(),
    );
    const result = await timedRejection(() =>
      backend.generate(
        { inputs: 'x', parameters: {} },
        testCallOptions({ timeouts: { connectMs: 300, firstByteMs: 5_000 } }),
      ),
    );
    assertTimeout(result, 'backend connect timeout after 300 ms', 300);
    const pool = (backend as unknown as { pool: BackendPool }).pool;
    await new Promise((r) => setTimeout(r, 20));
    assert.equal(pool.connections, 0, 'the pending connection was dropped');
  });

  it('client abort: rejects with the signal reason at once and the backend sees the disconnect within 100 ms', async () => {
    const { standIn, backend } = await setUp({ tokens: ['a', 'b', 'c'], tokenDelayMs: 5_000 });
    const controller = new AbortController();
    const reason = new Error('client went away');
    const disconnected = standIn.nextDisconnect();
    const call = backend.generate(
      { inputs: 'x', parameters: {} },
      testCallOptions({ signal: controller.signal, onToken: () => controller.abort(reason) }),
    );
    const { error } = await timedRejection(() => call);
    const abortedAt = performance.now();
    assert.equal(error, reason, 'the signal reason, not wrapped');
    await disconnected;
    assert.ok(
      performance.now() - abortedAt < 100,
      `backend saw the disconnect after ${(performance.now() - abortedAt).toFixed(0)} ms`,
    );
    assert.equal(standIn.stats.inFlight, 0);
  });

  it('client abort before the first byte reaches the backend too', async () => {
    const { standIn, backend } = await setUp({ firstTokenDelayMs: 5_000 });
    const controller = new AbortController();
    const disconnected = standIn.nextDisconnect();
    const call = backend.generate({ inputs: 'x', parameters: {} }, testCallOptions({ signal: controller.signal }));
    await new Promise((r) => setTimeout(r, 100));
    const abortedAt = performance.now();
    controller.abort();
    const { error } = await timedRejection(() => call);
    assert.equal((error as Error).name, 'AbortError');
    await disconnected;
    assert.ok(performance.now() - abortedAt < 100);
  });

  it('an already aborted signal sends nothing', async () => {
    const { standIn, backend } = await setUp({});
    const reason = new Error('deadline passed');
    const { error } = await timedRejection(() =>
      backend.generate({ inputs: 'x', parameters: {} }, testCallOptions({ signal: AbortSignal.abort(reason) })),
    );
    assert.equal(error, reason);
    await new Promise((r) => setTimeout(r, 50));
    assert.equal(standIn.stats.requests, 0);
  });
});
