import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { ChatDelta } from './inference-backend.js';
import { CLOSED_EARLY } from './backend-call.js';
import { rejection, standInBackends } from './testing/backend-under-test.js';
import { testCallOptions } from './testing/call-options.js';
import { testChatRequest } from './testing/chat-request.js';
import type { StandInScript } from './testing/tgi-stand-in.js';

/** The stand-in's script for a chat call is chosen by its last message. */
const scriptedBy =
  (scripts: Record<string, StandInScript>) =>
  (r: { body: unknown }): StandInScript =>
    scripts[(r.body as { messages?: Array<{ content: string }> }).messages?.at(-1)?.content ?? ''] ?? {};

describe('TgiBackend.chat against the TGI stand-in', () => {
  const { setUp } = standInBackends();

  it('streams the text into deltas with their logprobs, and returns text, usage, finish reason and logprobs', async () => {
    const tokens = ['Hello', ',', ' world'];
    const { standIn, backend } = await setUp({ script: { tokens, tokenDelayMs: 5 } });
    const deltas: ChatDelta[] = [];
    const request = testChatRequest('one two three', {
      messages: [
        { role: 'system', content: 'be brief' },
        { role: 'user', content: 'one two three' },
      ],
      temperature: 0.5,
      logprobs: true,
      top_logprobs: 2,
    });
    const outcome = await backend.chat(request, testCallOptions({ onDelta: (delta) => deltas.push(delta) }));
    assert.deepEqual(
      deltas.map((d) => [d.content, d.logprobs?.map((l) => l.token)]),
      tokens.map((text) => [text, [text]]),
    );
    assert.deepEqual(
      { ...outcome, logprobs: undefined, timings: undefined },
      {
        generatedText: tokens.join(''),
        finishReason: 'eos_token',
        inputTokens: 5, // the stand-in's tokenizer counts the words of every message
        outputTokens: tokens.length + 1, // and the end token
        seed: null,
        logprobs: undefined,
        timings: undefined,
      },
    );
    assert.deepEqual(
      outcome.logprobs?.map((l) => [l.token, l.bytes, l.top_logprobs.length]),
      [...tokens, '</s>'].map((token) => [token, null, 2]),
      "every token's, the end token's too, in OpenAI's shape",
    );
    assert.ok(outcome.timings.firstTokenMs > 0 && outcome.timings.firstTokenMs <= outcome.timings.backendMs);
    assert.ok(outcome.timings.backendMs >= 10);
    const sent = standIn.received[0]!;
    assert.equal(sent.route, '/v1/chat/completions');
    const { kind: _kind, ...fields } = request;
    assert.deepEqual(sent.body, { ...fields, model: 'tgi', stream: true, stream_options: { include_usage: true } });
  });

  it('reports length and stop_sequence, and no logprobs unless asked for', async () => {
    const { backend } = await setUp({
      script: scriptedBy({ long: { tokens: ['a', 'b', 'c', 'd'] }, stop: { finishReason: 'stop_sequence' } }),
    });
    const cut = await backend.chat(testChatRequest('long', { max_tokens: 2 }), testCallOptions());
    assert.deepEqual(
      [cut.generatedText, cut.finishReason, cut.outputTokens, 'logprobs' in cut],
      ['ab', 'length', 2, false],
    );
    assert.equal((await backend.chat(testChatRequest('stop'), testCallOptions())).finishReason, 'stop_sequence');
  });

  it('is complete without [DONE] after the finish, and takes no delta from a role-only first chunk', async () => {
    const { backend } = await setUp({ script: { tokens: ['a', 'b'], roleChunkFirst: true, omitDone: true } });
    const deltas: string[] = [];
    const outcome = await backend.chat(
      testChatRequest('x'),
      testCallOptions({ onDelta: (d) => deltas.push(d.content) }),
    );
    assert.deepEqual(deltas, ['a', 'b']);
    assert.deepEqual([outcome.generatedText, outcome.finishReason, outcome.outputTokens], ['ab', 'eos_token', 3]);
  });

  it("maps error events inside the 200 stream, TGI's and OpenAI's, as the generate path does", async () => {
    const generation = { errorAfterTokens: { tokens: 2, errorType: 'generation' } } as const;
    const { backend } = await setUp({
      script: scriptedBy({
        'tgi generation': generation,
        'tgi overloaded': { overloaded: true },
        'error-response generation': { ...generation, chatErrorForm: 'error-response' },
        'error-response overloaded': { overloaded: true, chatErrorForm: 'error-response' },
        'openai generation': { ...generation, chatErrorForm: 'openai' },
        'openai overloaded': { overloaded: true, chatErrorForm: 'openai' },
        'openai validation': { errorAfterTokens: { tokens: 0, errorType: 'validation' }, chatErrorForm: 'openai' },
      }),
    });
    for (const form of ['tgi', 'error-response', 'openai']) {
      let relayed = 0;
      const failed = await rejection(
        backend.chat(testChatRequest(`${form} generation`), testCallOptions({ onDelta: () => relayed++ })),
      );
      assert.deepEqual([failed.type, failed.status, relayed], ['upstream', 502, 2], form);
      assert.match(failed.message, /^Request failed during generation/, form);
      const overloaded = await rejection(backend.chat(testChatRequest(`${form} overloaded`), testCallOptions()));
      assert.deepEqual(
        [overloaded.type, overloaded.status, overloaded.message],
        ['overloaded', 429, 'Model is overloaded'],
      );
    }
    // TGI validates max_tokens inside the stream, and says 422 whatever the cause: its wording says validation.
    const tgiValidation = await rejection(backend.chat(testChatRequest('x', { max_tokens: 0 }), testCallOptions()));
    assert.deepEqual(
      [tgiValidation.type, tgiValidation.status, tgiValidation.message],
      ['validation', 422, 'Input validation error: `max_new_tokens` must be strictly positive'],
    );
    const openAiValidation = await rejection(backend.chat(testChatRequest('openai validation'), testCallOptions()));
    assert.deepEqual([openAiValidation.type, openAiValidation.status], ['validation', 422]);
  });

  it("maps non-200 answers of either shape: 429 with Retry-After, 400 kept, 503, 500, and TGI's own 422", async () => {
    const openAiError = (message: string, type: string, code: string | null) => ({
      error: { message, type, param: null, code },
    });
    const { backend } = await setUp({
      script: scriptedBy({
        'tgi 429': {
          httpError: {
            status: 429,
            body: { error: 'Model is overloaded', error_type: 'overloaded' },
            headers: { 'retry-after': '7' },
          },
        },
        'openai 429': {
          httpError: {
            status: 429,
            body: openAiError('Rate limit reached', 'rate_limit_error', 'rate_limit_exceeded'),
            headers: { 'retry-after': '3' },
          },
        },
        'openai 400': {
          httpError: { status: 400, body: openAiError('max_tokens is too large', 'invalid_request_error', null) },
        },
        '503': { httpError: { status: 503, body: 'Service Unavailable' } },
        'openai 500': { httpError: { status: 500, body: openAiError('engine crashed', 'server_error', null) } },
      }),
    });
    const call = (prompt: string) => rejection(backend.chat(testChatRequest(prompt), testCallOptions()));
    const tgi429 = await call('tgi 429');
    assert.deepEqual(
      [tgi429.type, tgi429.status, tgi429.retryAfterS, tgi429.message],
      ['overloaded', 429, 7, 'Model is overloaded'],
    );
    const openAi429 = await call('openai 429');
    assert.deepEqual(
      [openAi429.type, openAi429.status, openAi429.retryAfterS, openAi429.message],
      ['overloaded', 429, 3, 'Rate limit reached'],
    );
    const badRequest = await call('openai 400');
    assert.deepEqual(
      [badRequest.type, badRequest.status, badRequest.backendStatus, badRequest.message],
      ['validation', 400, 400, 'max_tokens is too large'],
    );
    assert.deepEqual([(await call('503')).type, (await call('503')).status], ['unavailable', 503]);
    const upstream = await call('openai 500');
    assert.deepEqual(
      [upstream.type, upstream.status, upstream.message],
      ['upstream', 502, 'backend answered 500: engine crashed'],
    );
    // A body TGI cannot read is refused before any stream, with its status.
    const refused = await rejection(
      backend.chat({ kind: 'chat', max_tokens: 4 } as unknown as Parameters<typeof backend.chat>[0], testCallOptions()),
    );
    assert.deepEqual([refused.type, refused.status], ['validation', 422]);
    assert.match(refused.message, /missing field `messages`/);
  });

  it('fails with upstream when the stream is cut, or ends, before its finish', async () => {
    const { backend } = await setUp({
      script: scriptedBy({ cut: { closeAfterTokens: 1 }, end: { endAfterTokens: 2 } }),
    });
    for (const prompt of ['cut', 'end']) {
      const error = await rejection(backend.chat(testChatRequest(prompt), testCallOptions()));
      assert.deepEqual([error.type, error.message], ['upstream', CLOSED_EARLY], prompt);
    }
  });

  it('retries once on a new socket when a reused keep-alive socket is reset before any byte', async () => {
    const { standIn, backend } = await setUp({ script: (r) => ({ resetOnArrival: r.number === 2 }) });
    await backend.chat(testChatRequest('x'), testCallOptions());
    const outcome = await backend.chat(testChatRequest('x'), testCallOptions());
    assert.equal(outcome.generatedText, 'Hello, world');
    assert.deepEqual(
      standIn.received.map((r) => [r.route, r.reusedConnection]),
      [
        ['/v1/chat/completions', false],
        ['/v1/chat/completions', true],
        ['/v1/chat/completions', false],
      ],
    );
  });
});
