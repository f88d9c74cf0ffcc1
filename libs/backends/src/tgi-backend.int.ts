import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { HttpService } from '@nestjs/axios';
import axios from 'axios';
import type { TgiStreamEvent } from './tgi-protocol.js';
import { TgiBackend } from './tgi-backend.js';
import { testCallOptions } from './testing/call-options.js';
import { rejection, standInBackends } from './testing/backend-under-test.js';

describe('TgiBackend against the TGI stand-in', () => {
  const { setUp, cleanups } = standInBackends();

  it('returns the text, token counts, finish reason and timings, relaying every token event', async () => {
    const { standIn, backend } = await setUp({ script: { tokens: ['Hello', ',', ' world'], tokenDelayMs: 5 } });
    const events: TgiStreamEvent[] = [];
    const outcome = await backend.generate(
      { inputs: 'one two three four', parameters: { max_new_tokens: 16, details: false, temperature: 0.5 } },
      testCallOptions({ onToken: (e) => events.push(e) }),
    );
    assert.deepEqual(
      { ...outcome, timings: undefined },
      {
        generatedText: 'Hello, world',
        finishReason: 'eos_token',
        inputTokens: 4,
        outputTokens: 4,
        seed: 42,
        timings: undefined,
      },
    );
    assert.deepEqual(
      events.map((e) => e.token.text),
      ['Hello', ',', ' world', '</s>'],
    );
    assert.ok(outcome.timings.firstTokenMs > 0 && outcome.timings.firstTokenMs <= outcome.timings.backendMs);
    assert.ok(outcome.timings.backendMs >= 10);
    const sent = standIn.received[0]!;
    assert.equal(sent.route, '/generate_stream');
    assert.deepEqual(sent.body, {
      inputs: 'one two three four',
      parameters: { max_new_tokens: 16, details: true, temperature: 0.5 },
    });
  });

  it('reports length when max_new_tokens cuts the generation', async () => {
    const { backend } = await setUp({ script: { tokens: ['a', 'b', 'c', 'd'] } });
    const outcome = await backend.generate({ inputs: 'x', parameters: { max_new_tokens: 2 } }, testCallOptions());
    assert.deepEqual(
      [outcome.generatedText, outcome.finishReason, outcome.outputTokens, outcome.seed],
      ['ab', 'length', 2, null],
    );
  });

  it('maps error events inside a 200 stream: validation, overloaded, generation failures', async () => {
    const { backend } = await setUp({
      script: (r) => {
        const inputs = (r.body as { inputs: string }).inputs;
        if (inputs === 'overloaded') return { overloaded: true };
        if (inputs === 'generation') return { errorAfterTokens: { tokens: 2, errorType: 'generation' } };
        if (inputs === 'incomplete') return { errorAfterTokens: { tokens: 1, errorType: 'incomplete_generation' } };
        return {};
      },
    });
    const validation = await rejection(backend.generate({ inputs: '', parameters: {} }, testCallOptions()));
    assert.deepEqual(
      [validation.type, validation.status, validation.message],
      ['validation', 422, 'Input validation error: `inputs` cannot be empty'],
    );
    const overloaded = await rejection(backend.generate({ inputs: 'overloaded', parameters: {} }, testCallOptions()));
    assert.deepEqual(
      [overloaded.type, overloaded.status, overloaded.message],
      ['overloaded', 429, 'Model is overloaded'],
    );
    let relayed = 0;
    const generation = await rejection(
      backend.generate({ inputs: 'generation', parameters: {} }, testCallOptions({ onToken: () => relayed++ })),
    );
    assert.deepEqual([generation.type, generation.status, relayed], ['upstream', 502, 2]);
    assert.match(generation.message, /Request failed during generation/);
    assert.equal(
      (await rejection(backend.generate({ inputs: 'incomplete', parameters: {} }, testCallOptions()))).type,
      'upstream',
    );
  });

  it('maps non-200 answers: 429 with Retry-After, 503, 422, and a 500 whose body is not JSON', async () => {
    const { backend } = await setUp({
      script: (r) => {
        switch ((r.body as { inputs: string }).inputs) {
          case '429':
            return {
              httpError: {
                status: 429,
                body: { error: 'Model is overloaded', error_type: 'overloaded' },
                headers: { 'retry-after': '7' },
              },
            };
          case '503':
            return { httpError: { status: 503, body: 'Service Unavailable' } };
          case '422':
            return {
              httpError: { status: 422, body: { error: 'Input validation error: bad', error_type: 'validation' } },
            };
          default:
            return { httpError: { status: 500, body: '<html>oops</html>' } };
        }
      },
    });
    const call = (inputs: string) => rejection(backend.generate({ inputs, parameters: {} }, testCallOptions()));
    const overloaded = await call('429');
    assert.deepEqual(
      [overloaded.type, overloaded.status, overloaded.retryAfterS, overloaded.backendStatus],
      ['overloaded', 429, 7, 429],
    );
    const unavailable = await call('503');
    assert.deepEqual([unavailable.type, unavailable.status], ['unavailable', 503]);
    assert.match(unavailable.message, /503 with a body that is not JSON: Service Unavailable/);
    assert.deepEqual(
      [(await call('422')).type, (await call('422')).message],
      ['validation', 'Input validation error: bad'],
    );
    const upstream = await call('500');
    assert.deepEqual([upstream.type, upstream.status], ['upstream', 502]);
    assert.match(upstream.message, /not JSON/);
  });

  it('fails with upstream when the stream ends or breaks before the final event', async () => {
    const { backend } = await setUp({
      script: (r) =>
        (r.body as { inputs: string }).inputs === 'end' ? { endAfterTokens: 2 } : { closeAfterTokens: 1 },
    });
    for (const inputs of ['end', 'cut']) {
      const error = await rejection(backend.generate({ inputs, parameters: {} }, testCallOptions()));
      assert.deepEqual([error.type, error.message], ['upstream', 'backend closed the stream before the end'], inputs);
    }
  });

  it('fails with unavailable when the backend refuses the connection', async () => {
    const { standIn, backend } = await setUp({ loaded: false });
    const error = await rejection(backend.generate({ inputs: 'x', parameters: {} }, testCallOptions()));
    assert.deepEqual([error.type, error.status], ['unavailable', 503]);
    assert.match(error.message, /ECONNREFUSED/);
    assert.equal(standIn.stats.requests, 0);
  });

  it('probes: loading while refused, ready, loading on 503, down on other answers', async () => {
    const { standIn, backend } = await setUp({ loaded: false });
    assert.equal(await backend.probe(), 'loading');
    await standIn.load();
    assert.equal(await backend.probe(), 'ready');
    standIn.health = 'unhealthy';
    assert.equal(await backend.probe(), 'loading');
    standIn.health = 'broken';
    assert.equal(await backend.probe(), 'down');
  });

  it('probes down when the host does not resolve', async () => {
    const backend = new TgiBackend('http://no-such-host.invalid:8080');
    cleanups.push(() => backend.close());
    assert.equal(await backend.probe(), 'down');
  });

  it('reads /info', async () => {
    const { backend } = await setUp({ modelId: 'Qwen/Qwen2-7B-Instruct-GPTQ-Int4' });
    const info = await backend.info();
    assert.equal(info.model_id, 'Qwen/Qwen2-7B-Instruct-GPTQ-Int4');
    assert.equal(info.max_concurrent_requests, 128);
  });

  it('sends its control calls (/info, /health) through the HttpService it is given; generations go over node:http', async () => {
    const seen: string[] = [];
    const instance = axios.create();
    instance.interceptors.request.use((config) => {
      seen.push(String(config.url));
      return config;
    });
    const { standIn, backend } = await setUp({}, { httpService: new HttpService(instance) });
    await backend.info();
    assert.equal(await backend.probe(), 'ready');
    await backend.generate({ inputs: 'x', parameters: {} }, testCallOptions());
    assert.deepEqual(
      seen.map((url) => new URL(url).pathname),
      ['/info', '/health'],
    );
    assert.equal(standIn.received.length, 1, 'the generation reached the backend');
  });

  it('holds at most maxSockets requests in flight at the backend', async () => {
    const { standIn, backend } = await setUp({ script: { tokenDelayMs: 20 } }, { maxSockets: 2 });
    await Promise.all([1, 2, 3, 4, 5].map(() => backend.generate({ inputs: 'x', parameters: {} }, testCallOptions())));
    assert.equal(standIn.stats.requests, 5);
    assert.equal(standIn.stats.maxInFlight, 2);
  });

  it('rejects a base URL that is not http(s)', () => {
    assert.throws(() => new TgiBackend('localhost:8080'), /not an http\(s\) URL/);
  });
});
