import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { GenerationRequest } from './inference-backend.js';
import { assertTimeout, rejection, standInBackends, timedRejection } from './testing/backend-under-test.js';
import { testCallOptions } from './testing/call-options.js';
import type { StandInScript } from './testing/tgi-stand-in.js';

/** A generation as the gateway sends it for a client that does not stream: no route asked, nothing relayed. */
const generation = (inputs: string, parameters: Record<string, unknown> = {}): GenerationRequest => ({
  inputs,
  parameters,
});

describe('TgiBackend oneAnswer (a generation nobody streams) against the TGI stand-in', () => {
  const backends = standInBackends();
  const setUp = (script: StandInScript) => backends.setUp({ script });

  it('goes to POST /generate with details, and answers what the stream would have: text, counts, finish, seed', async () => {
    const { standIn, backend } = await setUp({ tokens: ['Hello', ',', ' world'], inputLength: 9 });
    const request = generation('one two three', { max_new_tokens: 16, do_sample: true, seed: 5 });
    const streamed = await backend.generate(request, testCallOptions());
    const answered = await backend.generate(request, { ...testCallOptions(), oneAnswer: true });
    assert.deepEqual({ ...answered, timings: undefined }, { ...streamed, timings: undefined });
    assert.deepEqual(
      [answered.generatedText, answered.inputTokens, answered.finishReason],
      ['Hello, world', 9, 'eos_token'],
    );
    assert.equal(answered.details, undefined, 'details go to the backend, but reach no one who did not ask');
    assert.deepEqual(
      standIn.received.map((r) => r.route),
      ['/generate_stream', '/generate'],
    );
    assert.deepEqual(standIn.received[1]!.body, {
      inputs: request.inputs,
      parameters: { ...request.parameters, details: true },
    });
  });

  it('relays the backend’s details when the request asked for them, and never calls onToken', async () => {
    const { backend } = await setUp({ tokens: ['a', 'b'] });
    let relayed = 0;
    const outcome = await backend.generate(generation('x', { details: true, max_new_tokens: 2 }), {
      ...testCallOptions({ onToken: () => relayed++ }),
      oneAnswer: true,
    });
    assert.equal(relayed, 0);
    assert.equal(outcome.finishReason, 'length');
    assert.deepEqual(
      outcome.details?.tokens.map((t) => t.text),
      ['a', 'b'],
    );
  });

  it('a generation longer than the first-byte timeout is answered: its first byte comes only when it is done', async () => {
    const { backend } = await setUp({ tokens: ['a', 'b', 'c'], tokenDelayMs: 250 });
    const outcome = await backend.generate(generation('x'), {
      ...testCallOptions({ timeouts: { firstByteMs: 200, totalMs: 5_000 } }),
      oneAnswer: true,
    });
    assert.equal(outcome.generatedText, 'abc');
    assert.ok(outcome.timings.backendMs >= 500, `answered after ${outcome.timings.backendMs.toFixed(0)} ms`);
  });

  it('the total timeout bounds the whole answer, and the backend sees the disconnect', async () => {
    const { standIn, backend } = await setUp({ tokens: ['a', 'b', 'c'], tokenDelayMs: 400 });
    const disconnected = standIn.nextDisconnect();
    const result = await timedRejection(() =>
      backend.generate(generation('x'), {
        ...testCallOptions({ timeouts: { firstByteMs: 100, totalMs: 500 } }),
        oneAnswer: true,
      }),
    );
    assertTimeout(result, 'backend total timeout after 500 ms', 500);
    await disconnected;
  });

  it('a backend that drops the connection during the generation failed it: upstream, not unreachable', async () => {
    const { backend } = await setUp({ tokens: ['a', 'b', 'c'], closeAfterTokens: 1 });
    const error = await rejection(backend.generate(generation('x'), { ...testCallOptions(), oneAnswer: true }));
    assert.equal(error.type, 'upstream');
    assert.match(error.message, /closed the connection before its answer/);
  });
});
