import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { postJson } from '#test-support/http-client';
import type { GenerationRequest } from './inference-backend.js';
import { TgiBackend } from './tgi-backend.js';
import { assertTimeout, rejection, standInBackends, timedRejection } from './testing/backend-under-test.js';
import { testCallOptions } from './testing/call-options.js';
import type { StandInScript, TgiStandIn } from './testing/tgi-stand-in.js';
import { startUnacceptingPort } from './testing/unaccepting-port.js';

/** A generation on TGI's one-answer route. */
const oneAnswer = (inputs: string, parameters: Record<string, unknown> = {}): GenerationRequest => ({
  inputs,
  parameters,
  route: 'generate',
});

/** What the stand-in answers this request when asked directly: the answer the backend must relay. */
async function directAnswer(standIn: TgiStandIn, request: GenerationRequest) {
  const res = await postJson(`${standIn.url}/generate`, { inputs: request.inputs, parameters: request.parameters });
  assert.equal(res.status, 200, res.text);
  return res;
}

describe("TgiBackend route 'generate' (POST /generate) against the TGI stand-in", () => {
  const backends = standInBackends();
  const { cleanups } = backends;
  const setUp = (script: StandInScript | ((r: { number: number; body: unknown }) => StandInScript) = {}) =>
    backends.setUp({ script });

  it('sends the parameters as given and, without details, reads the token counts from the headers', async () => {
    const { standIn, backend } = await setUp({ tokens: ['Hello', ',', ' world'], inputLength: 9 });
    let relayed = 0;
    const request = oneAnswer('one two three four', { max_new_tokens: 16, temperature: 0.5 });
    const outcome = await backend.generate(request, testCallOptions({ onToken: () => relayed++ }));
    const direct = await directAnswer(standIn, request);
    assert.deepEqual(
      { ...outcome, timings: undefined },
      {
        generatedText: direct.json().generated_text,
        finishReason: 'eos_token',
        inputTokens: Number(direct.headers['x-prompt-tokens']),
        outputTokens: Number(direct.headers['x-generated-tokens']),
        seed: null,
        timings: undefined,
      },
    );
    assert.equal(outcome.inputTokens, 9, "the backend's own prompt count");
    assert.equal(relayed, 0, 'one answer: no token events');
    // One answer: its time to first token is the whole answer's arrival.
    assert.equal(outcome.timings.firstTokenMs, outcome.timings.backendMs);
    assert.ok(outcome.timings.backendMs > 0);
    const sent = standIn.received[0]!;
    assert.equal(sent.route, '/generate');
    assert.deepEqual(sent.body, { inputs: request.inputs, parameters: request.parameters }, 'details not forced');
    assert.equal(sent.headers.accept, 'application/json');
  });

  it('without details, infers the end: max_new_tokens reached is length, a stop string at the end stop_sequence', async () => {
    const { backend } = await setUp({ tokens: ['a', 'b', 'c', ' end'] });
    const cut = await backend.generate(oneAnswer('x', { max_new_tokens: 2 }), testCallOptions());
    assert.deepEqual([cut.generatedText, cut.finishReason, cut.outputTokens], ['ab', 'length', 2]);
    const stopped = await backend.generate(oneAnswer('x', { stop: [' end'] }), testCallOptions());
    assert.equal(stopped.finishReason, 'stop_sequence');
  });

  it('with details, relays them as sent and reads finish reason, seed and counts from them', async () => {
    const { backend, standIn } = await setUp({ tokens: ['a', 'b', 'c'] });
    for (const request of [
      oneAnswer('one two', { details: true, do_sample: true, seed: 7 }),
      oneAnswer('one two', { details: true, max_new_tokens: 2 }),
    ]) {
      const outcome = await backend.generate(request, testCallOptions());
      const direct = await directAnswer(standIn, request);
      const { details } = direct.json();
      assert.deepEqual(outcome.details, details);
      assert.deepEqual(
        [outcome.generatedText, outcome.finishReason, outcome.seed, outcome.outputTokens, outcome.inputTokens],
        [
          direct.json().generated_text,
          details.finish_reason,
          details.seed,
          details.generated_tokens,
          Number(direct.headers['x-prompt-tokens']),
        ],
      );
    }
  });

  it('relays the prompt tokens (decoder_input_details) and the top tokens (top_n_tokens)', async () => {
    const { backend, standIn } = await setUp({ tokens: ['a', 'b'] });
    const request = oneAnswer('the prompt here', { decoder_input_details: true, top_n_tokens: 3 });
    const outcome = await backend.generate(request, testCallOptions());
    const { details } = (await directAnswer(standIn, request)).json();
    assert.deepEqual(outcome.details, details);
    assert.equal(outcome.details!.prefill.length, 3, 'every prompt token');
    assert.deepEqual(
      outcome.details!.top_tokens!.map((top) => top.length),
      outcome.details!.tokens.map(() => 3),
    );
  });

  it('maps non-200 answers as the stream call does: 422, 429 with Retry-After, 424, 500, a 503 that is not JSON', async () => {
    const { backend } = await setUp((r) => {
      switch ((r.body as { inputs: string }).inputs) {
        case 'busy':
          return {
            httpError: {
              status: 429,
              body: { error: 'Model is overloaded', error_type: 'overloaded' },
              headers: { 'retry-after': '7' },
            },
          };
        case 'overloaded':
          return { overloaded: true };
        case 'generation':
          return { errorAfterTokens: { tokens: 1, errorType: 'generation' } };
        case 'incomplete':
          return { errorAfterTokens: { tokens: 2, errorType: 'incomplete_generation' } };
        case 'proxy':
          return { httpError: { status: 503, body: 'Service Unavailable' } };
        default:
          return {};
      }
    });
    const call = (inputs: string, parameters = {}) =>
      rejection(backend.generate(oneAnswer(inputs, parameters), testCallOptions()));
    const invalid = await call('x', { max_new_tokens: 0 });
    assert.deepEqual(
      [invalid.type, invalid.status, invalid.backendStatus, invalid.message],
      ['validation', 422, 422, 'Input validation error: `max_new_tokens` must be strictly positive'],
    );
    const busy = await call('busy');
    assert.deepEqual([busy.type, busy.status, busy.retryAfterS], ['overloaded', 429, 7]);
    const overloaded = await call('overloaded');
    assert.deepEqual([overloaded.type, overloaded.message], ['overloaded', 'Model is overloaded']);
    const generation = await call('generation');
    assert.deepEqual([generation.type, generation.status, generation.backendStatus], ['upstream', 502, 424]);
    assert.match(generation.message, /^backend answered 424: Request failed during generation/);
    const incomplete = await call('incomplete');
    assert.deepEqual([incomplete.type, incomplete.backendStatus], ['upstream', 500]);
    const proxy = await call('proxy');
    assert.deepEqual([proxy.type, proxy.status], ['unavailable', 503]);
    assert.match(proxy.message, /503 with a body that is not JSON: Service Unavailable/);
  });

  it("fails with upstream on a 200 whose body is not TGI's GenerateResponse, and keeps the connection", async () => {
    const bodies: Record<string, string> = {
      html: '<html>hello</html>',
      array: '[{"generated_text":"a"}]',
      untyped: '{"generated_text":7}',
      details: '{"generated_text":"a","details":{"finish_reason":"tired"}}',
      missing: '{"generated_text":"a"}',
    };
    const { backend, standIn } = await setUp((r) => ({ answerBody: bodies[(r.body as { inputs: string }).inputs] }));
    const failure = async (inputs: string, parameters = {}) => {
      const error = await rejection(backend.generate(oneAnswer(inputs, parameters), testCallOptions()));
      assert.equal(error.type, 'upstream', inputs);
      return error.message;
    };
    assert.equal(await failure('html'), 'backend answered /generate with a body that is not JSON: <html>hello</html>');
    assert.match(await failure('array'), /JSON that is not a GenerateResponse/);
    assert.match(await failure('untyped'), /without `generated_text`/);
    assert.match(await failure('details'), /`details` are not TGI Details/);
    assert.match(await failure('missing', { details: true }), /without `details` although the call asked for them/);
    assert.equal(standIn.stats.connections, 1, 'a complete answer, however wrong, leaves the socket in the pool');
  });

  it('first byte: does not bound one answer, whose first byte comes when it is done; the total does', async () => {
    const { standIn, backend } = await setUp({ firstTokenDelayMs: 5_000 });
    const disconnected = standIn.nextDisconnect();
    const result = await timedRejection(() =>
      backend.generate(oneAnswer('x'), testCallOptions({ timeouts: { firstByteMs: 100, totalMs: 400 } })),
    );
    assertTimeout(result, 'backend total timeout after 400 ms', 400);
    await disconnected;
  });

  it('total: bounds the whole call, and no inter-token timeout applies to one answer', async () => {
    const { standIn, backend } = await setUp({ tokens: Array.from({ length: 40 }, () => 't'), tokenDelayMs: 20 });
    const disconnected = standIn.nextDisconnect();
    const result = await timedRejection(() =>
      backend.generate(oneAnswer('x'), testCallOptions({ timeouts: { totalMs: 400, interTokenMs: 5 } })),
    );
    assertTimeout(result, 'backend total timeout after 400 ms', 400);
    await disconnected;
    const slowTokens = await backend.generate(
      oneAnswer('x', { max_new_tokens: 5 }),
      testCallOptions({ timeouts: { interTokenMs: 5 } }),
    );
    assert.equal(slowTokens.outputTokens, 5);
  });

  it('connect: fires when the TCP connect does not complete', async () => {
    const port = await startUnacceptingPort();
    const backend = new TgiBackend(port.url);
    cleanups.push(
      () => backend.close(),
      () => port.close(),
    );
    const result = await timedRejection(() =>
      backend.generate(oneAnswer('x'), testCallOptions({ timeouts: { connectMs: 300, firstByteMs: 5_000 } })),
    );
    assertTimeout(result, 'backend connect timeout after 300 ms', 300);
  });

  it('client abort: rejects with the reason at once, and the backend sees the disconnect within 100 ms', async () => {
    const { standIn, backend } = await setUp({ firstTokenDelayMs: 5_000 });
    const controller = new AbortController();
    const reason = new Error('client went away');
    const disconnected = standIn.nextDisconnect();
    const call = backend.generate(oneAnswer('x'), testCallOptions({ signal: controller.signal }));
    await new Promise((r) => setTimeout(r, 100));
    const abortedAt = performance.now();
    controller.abort(reason);
    const { error } = await timedRejection(() => call);
    assert.equal(error, reason, 'the signal reason, not wrapped');
    await disconnected;
    assert.ok(performance.now() - abortedAt < 100);
    assert.equal(standIn.stats.inFlight, 0);
    const { error: early } = await timedRejection(() =>
      backend.generate(oneAnswer('x'), testCallOptions({ signal: AbortSignal.abort(reason) })),
    );
    assert.equal(early, reason);
    assert.equal(standIn.stats.requests, 1, 'an already aborted call sends nothing');
  });

  it('retries once, on a new socket, when a reused keep-alive socket is reset before any byte; never twice', async () => {
    const { standIn, backend } = await setUp((r) => ({ resetOnArrival: r.number === 2 || r.number >= 4 }));
    await backend.generate(oneAnswer('one'), testCallOptions());
    const retried = await backend.generate(oneAnswer('one'), testCallOptions());
    assert.equal(retried.generatedText, 'Hello, world');
    assert.deepEqual(
      standIn.received.map((r) => r.reusedConnection),
      [false, true, false],
    );
    const error = await rejection(backend.generate(oneAnswer('one'), testCallOptions()));
    assert.deepEqual([error.type, error.status], ['unavailable', 503]);
    assert.equal(standIn.stats.requests, 5, 'the reused socket, then one new one');
  });
});
