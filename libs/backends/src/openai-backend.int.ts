import assert from 'node:assert/strict';
import { after, describe, it } from 'node:test';
import type { ChatDelta } from './inference-backend.js';
import { OpenAiBackend, type OpenAiBackendOptions } from './openai-backend.js';
import type { TgiStreamEvent } from './tgi-protocol.js';
import { assertTimeout, rejection, timedRejection } from './testing/backend-under-test.js';
import { testCallOptions } from './testing/call-options.js';
import { testChatRequest } from './testing/chat-request.js';
import { startOpenAiStandIn, type OpenAiFlavour, type OpenAiStandInOptions } from './testing/openai-stand-in.js';
import { startUnacceptingPort } from './testing/unaccepting-port.js';

const generation = (parameters: Record<string, unknown> = {}) => ({ inputs: 'one two three', parameters });

function suite() {
  const cleanups: Array<() => unknown> = [];
  after(() => Promise.all(cleanups.map((c) => c())));
  return async (options: OpenAiStandInOptions, backendOptions: OpenAiBackendOptions = {}) => {
    const standIn = await startOpenAiStandIn(options);
    const backend = new OpenAiBackend(standIn.url, backendOptions);
    cleanups.push(
      () => standIn.close(),
      () => backend.close(),
    );
    return { standIn, backend };
  };
}

for (const flavour of ['vllm', 'llama-server'] as const satisfies OpenAiFlavour[]) {
  describe(`OpenAiBackend against the ${flavour} stand-in`, () => {
    const setUp = suite();

    it("relays a generation's tokens as TGI stream events and takes the counts from the usage", async () => {
      const { standIn, backend } = await setUp({ flavour, script: { tokens: ['Hi', ' there', '!'] } });
      assert.equal(await backend.probe(), 'ready');
      const events: TgiStreamEvent[] = [];
      const outcome = await backend.generate(
        generation({ max_new_tokens: 10, do_sample: false }),
        testCallOptions({ onToken: (e) => events.push(e) }),
      );
      assert.deepEqual(
        events.map((e) => [e.index, e.token.text, e.token.special, e.generated_text]),
        [
          [1, 'Hi', false, null],
          [2, ' there', false, null],
          [3, '!', false, null],
          [4, '', true, 'Hi there!'],
        ],
      );
      assert.deepEqual(events.at(-1)!.details, {
        finish_reason: 'eos_token',
        generated_tokens: 3,
        input_length: 3,
        seed: null,
      });
      assert.deepEqual(
        [outcome.generatedText, outcome.finishReason, outcome.inputTokens, outcome.outputTokens],
        ['Hi there!', 'eos_token', 3, 3],
      );
      assert.ok(outcome.timings.firstTokenMs <= outcome.timings.backendMs);
      const sent = standIn.received[0]!;
      assert.equal(sent.route, '/v1/completions');
      assert.deepEqual(sent.body, {
        model: standIn.flavour === 'vllm' ? 'stand-in/vllm-model' : 'stand-in-llama.gguf',
        prompt: 'one two three',
        max_tokens: 10,
        temperature: 0,
        stream: true,
        stream_options: { include_usage: true },
      });
    });

    it('reads `length` and, with return_full_text, puts the prompt in front as TGI does', async () => {
      const { backend } = await setUp({ flavour, script: { tokens: ['a', 'b', 'c', 'd'] } });
      const outcome = await backend.generate(
        generation({ max_new_tokens: 2, return_full_text: true, do_sample: true, seed: 9 }),
        testCallOptions(),
      );
      assert.deepEqual(
        [outcome.generatedText, outcome.finishReason, outcome.outputTokens, outcome.seed],
        ['one two threeab', 'length', 2, 9],
      );
    });

    it('relays a chat completion: deltas, text, usage', async () => {
      const { standIn, backend } = await setUp({ flavour, script: { tokens: ['Yes', '.'] } });
      const deltas: ChatDelta[] = [];
      const outcome = await backend.chat(
        testChatRequest('Is it so', { temperature: 0 }),
        testCallOptions({ onDelta: (d) => deltas.push(d) }),
      );
      assert.deepEqual(
        deltas.map((d) => d.content),
        ['Yes', '.'],
      );
      assert.deepEqual(
        [outcome.generatedText, outcome.finishReason, outcome.inputTokens, outcome.outputTokens],
        ['Yes.', 'eos_token', 3, 2],
      );
      const sent = standIn.received[0]!;
      assert.equal(sent.route, '/v1/chat/completions');
      assert.deepEqual(sent.body.stream_options, { include_usage: true });
    });

    it('answers a chat nobody streams from one answer (stream false), as the stream would have', async () => {
      const { standIn, backend } = await setUp({ flavour, script: { tokens: ['Yes', ' it', ' is'], tokenDelayMs: 5 } });
      for (const request of [
        testChatRequest('Is it so', { temperature: 0 }),
        testChatRequest('x', { max_tokens: 2 }),
      ]) {
        const streamed = await backend.chat(request, testCallOptions());
        const answered = await backend.chat(request, { ...testCallOptions(), oneAnswer: true });
        assert.deepEqual({ ...answered, timings: undefined }, { ...streamed, timings: undefined });
      }
      const sent = standIn.received.at(-1)!;
      assert.deepEqual(
        [sent.route, sent.body.stream, sent.body.stream_options],
        ['/v1/chat/completions', false, undefined],
      );
      const cut = await setUp({ flavour, script: { tokens: ['a', 'b'], tokenDelayMs: 5, closeAfterTokens: 1 } });
      const error = await rejection(cut.backend.chat(testChatRequest('x'), { ...testCallOptions(), oneAnswer: true }));
      assert.deepEqual([error.type, error.message], ['upstream', 'backend closed the connection before its answer']);
    });

    it("maps the server's 400 to validation, its status kept, with its message", async () => {
      const { backend } = await setUp({ flavour });
      const error = await rejection(backend.generate(generation({ max_new_tokens: 0 }), testCallOptions()));
      assert.deepEqual([error.type, error.status], ['validation', 400]);
      assert.match(error.message, /max_tokens/);
    });

    it('maps 429 to overloaded with its Retry-After, and 503 to unavailable', async () => {
      const body = { error: { message: 'Too many requests', type: 'rate_limit_error', param: null, code: 429 } };
      const { backend } = await setUp({
        flavour,
        script: (r) =>
          r.number === 1
            ? { httpError: { status: 429, body, headers: { 'retry-after': '3' } } }
            : {
                httpError: {
                  status: 503,
                  body: { error: { code: 503, message: 'Loading model', type: 'unavailable_error' } },
                },
              },
      });
      const overloaded = await rejection(backend.generate(generation(), testCallOptions()));
      assert.deepEqual([overloaded.type, overloaded.status, overloaded.retryAfterS], ['overloaded', 429, 3]);
      assert.equal(overloaded.message, 'Too many requests');
      const unavailable = await rejection(backend.chat(testChatRequest('x'), testCallOptions()));
      assert.deepEqual([unavailable.type, unavailable.status], ['unavailable', 503]);
      assert.equal(unavailable.message, 'backend answered 503: Loading model');
    });

    // vLLM says why in a `data:` event; llama-server in an `error:` field (older builds) or a `data:` event (newer).
    for (const llamaServerForm of flavour === 'vllm' ? (['data'] as const) : (['field', 'data'] as const)) {
      it(`fails an error event after the first token (${llamaServerForm}) with its message, as upstream (502)`, async () => {
        const { backend } = await setUp({
          flavour,
          script: { tokens: ['one', ' two'], errorAfterTokens: { tokens: 1, message: 'CUDA error', llamaServerForm } },
        });
        const tokens: string[] = [];
        const error = await rejection(
          backend.generate(generation(), testCallOptions({ onToken: (e) => tokens.push(e.token.text) })),
        );
        assert.deepEqual([error.type, error.status, error.message], ['upstream', 502, 'CUDA error']);
        assert.deepEqual(tokens, ['one']);
        const deltas: string[] = [];
        const chatError = await rejection(
          backend.chat(testChatRequest('x'), testCallOptions({ onDelta: (d) => deltas.push(d.content) })),
        );
        assert.deepEqual([chatError.type, chatError.status, chatError.message], ['upstream', 502, 'CUDA error']);
        assert.deepEqual(deltas, ['one']);
      });
    }

    it('counts one token per chunk when the server sends no usage', async () => {
      const { backend } = await setUp({ flavour, script: { omitUsage: true, tokens: ['a', 'b'] } });
      const outcome = await backend.generate(generation(), testCallOptions());
      assert.deepEqual([outcome.inputTokens, outcome.outputTokens], [0, 2]);
    });

    it('refuses what it cannot send with 422, before any call', async () => {
      const { standIn, backend } = await setUp({ flavour });
      const error = await rejection(backend.generate(generation({ top_n_tokens: 3 }), testCallOptions()));
      assert.deepEqual([error.type, error.status, error.param], ['validation', 422, 'top_n_tokens']);
      assert.equal(standIn.received.length, 0);
    });

    it('sends the API key, and reads a refusal of it as upstream (502), not the client’s fault', async () => {
      const { standIn, backend } = await setUp({ flavour, apiKey: 'sk-right' }, { apiKey: 'sk-right' });
      await backend.generate(generation(), testCallOptions());
      assert.equal(standIn.received[0]!.headers.authorization, 'Bearer sk-right');
      const wrong = new OpenAiBackend(standIn.url, { apiKey: 'sk-wrong', model: 'm' });
      const error = await rejection(wrong.generate(generation(), testCallOptions()));
      wrong.close();
      assert.deepEqual([error.type, error.status], ['upstream', 502]);
      assert.match(error.message, /^backend answered 401/);
    });

    it('probes loading while the model loads, then ready; learns the served model name', async () => {
      const { standIn, backend } = await setUp({ flavour, loaded: false, servedModel: 'my-model' });
      assert.equal(await backend.probe(), 'loading');
      assert.equal(backend.servedModel, undefined);
      await standIn.load();
      assert.equal(await backend.probe(), 'ready');
      assert.equal(backend.servedModel, 'my-model');
      await backend.chat(testChatRequest('x'), testCallOptions());
      assert.equal(standIn.received[0]!.body.model, 'my-model');
      assert.deepEqual((await backend.info()).model_id, 'my-model');
    });

    it('a configured model name wins over the listed one', async () => {
      const { standIn, backend } = await setUp({ flavour }, { model: 'configured' });
      assert.equal(await backend.probe(), 'ready');
      assert.equal(backend.servedModel, 'configured');
      const outcome = backend.generate(generation(), testCallOptions());
      if (flavour === 'vllm') {
        const error = await rejection(outcome);
        assert.deepEqual(
          [error.type, error.message],
          ['upstream', 'backend answered 404: The model `configured` does not exist.'],
        );
      } else {
        await outcome; // llama-server serves its one model whatever the name
      }
      assert.equal(standIn.received[0]!.body.model, 'configured');
    });

    it('a client abort closes the stream, and the server sees the disconnect', async () => {
      const { standIn, backend } = await setUp({
        flavour,
        script: { tokens: ['a', 'b', 'c', 'd'], tokenDelayMs: 200 },
      });
      const controller = new AbortController();
      const disconnected = standIn.nextDisconnect();
      const call = backend.generate(
        generation(),
        testCallOptions({
          signal: controller.signal,
          onToken: (e) => e.index === 1 && controller.abort(new Error('client left')),
        }),
      );
      await assert.rejects(call, { message: 'client left' });
      await disconnected;
      assert.equal(standIn.stats.disconnects, 1);
    });
  });
}

describe('OpenAiBackend health and timeouts', () => {
  const setUp = suite();

  it('vLLM: a refused port is loading; a dead engine (503) is not ready; no /health means /v1/models', async () => {
    const { standIn, backend } = await setUp({ flavour: 'vllm' });
    standIn.unhealthy = true;
    assert.notEqual(await backend.probe(), 'ready');
    const noHealth = await setUp({ flavour: 'llama-server', noHealthRoute: true });
    assert.equal(await noHealth.backend.probe(), 'ready');
    await standIn.close();
    const gone = new OpenAiBackend(standIn.url);
    assert.equal(await gone.probe(), 'loading', 'refused: not listening (yet)');
    gone.close();
  });

  it('first byte: fires when the server never answers, and the server sees the disconnect', async () => {
    const { standIn, backend } = await setUp({ flavour: 'vllm', script: { hang: true } });
    const disconnected = standIn.nextDisconnect();
    const result = await timedRejection(() =>
      backend.generate(generation(), testCallOptions({ timeouts: { firstByteMs: 300 } })),
    );
    assertTimeout(result, 'backend first byte timeout after 300 ms', 300);
    await disconnected;
  });

  it('inter-token: fires when the gap between two chunks is too long', async () => {
    const { standIn, backend } = await setUp({
      flavour: 'llama-server',
      script: { tokens: ['a', 'b'], tokenDelayMs: 5_000 },
    });
    const disconnected = standIn.nextDisconnect();
    let firstTokenAt = 0;
    const options = testCallOptions({
      timeouts: { interTokenMs: 300 },
      onDelta: () => (firstTokenAt ||= performance.now()),
    });
    const { error } = await timedRejection(() => backend.chat(testChatRequest('x'), options));
    assertTimeout({ error, ms: performance.now() - firstTokenAt }, 'backend inter-token timeout after 300 ms', 300);
    await disconnected;
  });

  it('total: fires even though chunks keep coming', async () => {
    const tokens = Array.from({ length: 100 }, () => 't');
    const { backend } = await setUp({ flavour: 'vllm', script: { tokens, tokenDelayMs: 20 } });
    const result = await timedRejection(() =>
      backend.generate(generation(), testCallOptions({ timeouts: { totalMs: 400, interTokenMs: 200 } })),
    );
    assertTimeout(result, 'backend total timeout after 400 ms', 400);
  });

  it('connect: fires when the TCP connect does not complete', async () => {
    const port = await startUnacceptingPort();
    const backend = new OpenAiBackend(port.url);
    try {
      const result = await timedRejection(() =>
        backend.generate(generation(), testCallOptions({ timeouts: { connectMs: 300 } })),
      );
      assertTimeout(result, 'backend connect timeout after 300 ms', 300);
    } finally {
      backend.close();
      await port.close();
    }
  });

  it('retries once, on a new socket, when a reused keep-alive socket is reset before any byte', async () => {
    const { standIn, backend } = await setUp({ flavour: 'vllm', script: (r) => ({ resetOnArrival: r.number === 2 }) });
    await backend.generate(generation(), testCallOptions());
    const outcome = await backend.generate(generation(), testCallOptions());
    assert.equal(outcome.generatedText, 'Hello, world');
    assert.deepEqual(
      standIn.received.map((r) => r.reusedConnection),
      [false, true, false],
    );
  });

  it('vLLM: a stop string ends as stop_sequence, told apart by stop_reason', async () => {
    const { backend } = await setUp({ flavour: 'vllm', script: { tokens: ['a', 'b'], stopString: '\n' } });
    const outcome = await backend.generate(generation({ stop: ['\n'] }), testCallOptions());
    assert.equal(outcome.finishReason, 'stop_sequence');
  });
});
