import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { assertTimeout, standInBackends, timedRejection } from './testing/backend-under-test.js';
import { testCallOptions } from './testing/call-options.js';
import { testChatRequest } from './testing/chat-request.js';
import type { StandInScript } from './testing/tgi-stand-in.js';

describe('TgiBackend.chat timeouts and client abort', () => {
  const backends = standInBackends();
  const setUp = (script: StandInScript) => backends.setUp({ script });

  it('first byte: fires when the first chunk is late, and the backend sees the disconnect', async () => {
    const { standIn, backend } = await setUp({ firstTokenDelayMs: 5_000 });
    const disconnected = standIn.nextDisconnect();
    const result = await timedRejection(() =>
      backend.chat(testChatRequest('x'), testCallOptions({ timeouts: { firstByteMs: 300 } })),
    );
    assertTimeout(result, 'backend first byte timeout after 300 ms', 300);
    await disconnected;
  });

  it('inter-token: fires when the gap between two chunks is too long', async () => {
    const { standIn, backend } = await setUp({ tokens: ['a', 'b', 'c'], tokenDelayMs: 5_000 });
    const disconnected = standIn.nextDisconnect();
    let firstDeltaAt = 0;
    const options = testCallOptions({
      timeouts: { interTokenMs: 300 },
      onDelta: () => (firstDeltaAt ||= performance.now()),
    });
    const { error } = await timedRejection(() => backend.chat(testChatRequest('x'), options));
    assertTimeout({ error, ms: performance.now() - firstDeltaAt }, 'backend inter-token timeout after 300 ms', 300);
    await disconnected;
  });

  it('total: fires when the whole call is too long even though chunks keep coming', async () => {
    const { standIn, backend } = await setUp({ tokens: Array.from({ length: 100 }, () => 't'), tokenDelayMs: 20 });
    const disconnected = standIn.nextDisconnect();
    const result = await timedRejection(() =>
      backend.chat(testChatRequest('x'), testCallOptions({ timeouts: { totalMs: 400, interTokenMs: 200 } })),
    );
    assertTimeout(result, 'backend total timeout after 400 ms', 400);
    await disconnected;
  });

  it('client abort: rejects with the signal reason at once, and the backend sees the disconnect within 100 ms', async () => {
    const { standIn, backend } = await setUp({ tokens: ['a', 'b', 'c'], tokenDelayMs: 5_000 });
    const controller = new AbortController();
    const reason = new Error('client went away');
    const disconnected = standIn.nextDisconnect();
    const { error } = await timedRejection(() =>
      backend.chat(
        testChatRequest('x'),
        testCallOptions({ signal: controller.signal, onDelta: () => controller.abort(reason) }),
      ),
    );
    const abortedAt = performance.now();
    assert.equal(error, reason, 'the signal reason, not wrapped');
    await disconnected;
    assert.ok(performance.now() - abortedAt < 100, 'the request was destroyed at once');
    assert.equal(standIn.stats.inFlight, 0);
  });
});
