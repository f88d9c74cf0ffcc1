import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { assertTimeout, rejection, standInBackends, timedRejection } from './testing/backend-under-test.js';
import { testCallOptions } from './testing/call-options.js';
import { testChatRequest } from './testing/chat-request.js';

/** What the two calls' outcomes may differ in: when things arrived. */
const untimed = <T extends { timings: unknown }>(outcome: T) => ({ ...outcome, timings: undefined });

describe('TgiBackend.chat oneAnswer (a chat nobody streams) against the TGI stand-in', () => {
  const { setUp } = standInBackends();

  it('asks for one answer (stream false, no stream_options) and returns what the stream would have', async () => {
    const { standIn, backend } = await setUp({ script: { tokens: ['Hello', ',', ' world'] } });
    const request = testChatRequest('one two three', { temperature: 0.5, logprobs: true, top_logprobs: 2 });
    const streamed = await backend.chat(request, testCallOptions());
    let relayed = 0;
    const answered = await backend.chat(request, {
      ...testCallOptions({ onDelta: () => relayed++ }),
      oneAnswer: true,
    });
    assert.deepEqual(untimed(answered), untimed(streamed));
    assert.equal(relayed, 0, 'one answer has no deltas to relay');
    assert.deepEqual(
      [answered.generatedText, answered.inputTokens, answered.outputTokens, answered.finishReason],
      ['Hello, world', 3, 4, 'eos_token'],
    );
    assert.deepEqual(
      answered.logprobs?.map((l) => l.token),
      ['Hello', ',', ' world', '</s>'],
    );
    const { kind: _kind, ...fields } = request;
    assert.deepEqual(standIn.received[1]!.body, { ...fields, model: 'tgi', stream: false });
    assert.equal(answered.timings.firstTokenMs, answered.timings.backendMs);
  });

  it('reads the finish reason of a stop string and of the token limit as the stream does', async () => {
    const { backend } = await setUp({ script: { tokens: ['a', ' end', 'b'] } });
    for (const request of [testChatRequest('x', { stop: [' end'] }), testChatRequest('x', { max_tokens: 2 })]) {
      const streamed = await backend.chat(request, testCallOptions());
      const answered = await backend.chat(request, { ...testCallOptions(), oneAnswer: true });
      assert.deepEqual(untimed(answered), untimed(streamed));
    }
  });

  it('a chat longer than the first-byte timeout is answered; the total bounds it, and the backend sees the cut', async () => {
    const { standIn, backend } = await setUp({ script: { tokens: ['a', 'b', 'c'], tokenDelayMs: 200 } });
    const outcome = await backend.chat(testChatRequest('x'), {
      ...testCallOptions({ timeouts: { firstByteMs: 150 } }),
      oneAnswer: true,
    });
    assert.equal(outcome.generatedText, 'abc');
    const disconnected = standIn.nextDisconnect();
    const result = await timedRejection(() =>
      backend.chat(testChatRequest('x'), {
        ...testCallOptions({ timeouts: { firstByteMs: 100, totalMs: 300 } }),
        oneAnswer: true,
      }),
    );
    assertTimeout(result, 'backend total timeout after 300 ms', 300);
    await disconnected;
  });

  it("maps the backend's refusal and a dropped connection as a stream's", async () => {
    const { backend } = await setUp({
      script: (r) =>
        (r.body as { messages: Array<{ content: string }> }).messages[0]!.content === 'cut'
          ? { tokens: ['a', 'b'], closeAfterTokens: 1 }
          : { overloaded: true },
    });
    const overloaded = await rejection(
      backend.chat(testChatRequest('busy'), { ...testCallOptions(), oneAnswer: true }),
    );
    assert.deepEqual([overloaded.type, overloaded.status], ['overloaded', 429]);
    const cut = await rejection(backend.chat(testChatRequest('cut'), { ...testCallOptions(), oneAnswer: true }));
    assert.deepEqual([cut.type, cut.message], ['upstream', 'backend closed the connection before its answer']);
  });

  it('refuses an answer that is not a chat completion, as upstream', async () => {
    const { backend } = await setUp({ script: { answerBody: '{"choices": []}' } });
    const error = await rejection(backend.chat(testChatRequest('x'), { ...testCallOptions(), oneAnswer: true }));
    assert.equal(error.type, 'upstream');
    assert.match(error.message, /^backend answered \/v1\/chat\/completions with no choice/);
  });
});
