import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { SHIPPED_MODELS, startReadyEngine, waitUntilIdle, type RunningEngine } from '#test-support/engine';
import { postJson } from '#test-support/http-client';
import { GatewayError } from './gateway-error.js';
import type { TgiStreamEvent } from './tgi-protocol.js';
import { TgiBackend } from './tgi-backend.js';
import { testCallOptions } from './testing/call-options.js';

describe('TgiBackend against our real engine', () => {
  let engine: RunningEngine;
  let backend: TgiBackend;
  before(async () => {
    engine = await startReadyEngine(SHIPPED_MODELS.qwen2);
    backend = new TgiBackend(engine.url);
  });
  after(async () => {
    backend?.close();
    await engine?.stop();
  });

  it('generates what the engine generates, with its token counts', async () => {
    const request = { inputs: 'The river', parameters: { max_new_tokens: 12, do_sample: false } };
    const events: TgiStreamEvent[] = [];
    const outcome = await backend.generate(request, testCallOptions({ onToken: (e) => events.push(e) }));
    const direct = await postJson(`${engine.url}/generate`, request);
    assert.equal(direct.status, 200);
    assert.equal(outcome.generatedText, direct.json().generated_text);
    assert.equal(outcome.inputTokens, Number(direct.headers['x-prompt-tokens']));
    assert.equal(outcome.outputTokens, Number(direct.headers['x-generated-tokens']));
    assert.equal(outcome.outputTokens, events.length);
    assert.ok(outcome.finishReason === 'length' || outcome.finishReason === 'eos_token');
    assert.ok(outcome.timings.firstTokenMs <= outcome.timings.backendMs);
  });

  it("answers route 'generate' with the engine's details: the prompt's and every token's logprobs, the top tokens", async () => {
    const parameters = {
      max_new_tokens: 8,
      do_sample: false,
      details: true,
      decoder_input_details: true,
      top_n_tokens: 2,
    };
    const request = { inputs: 'The river', parameters, route: 'generate' as const };
    const outcome = await backend.generate(request, testCallOptions());
    const direct = await postJson(`${engine.url}/generate`, { inputs: request.inputs, parameters });
    assert.equal(direct.status, 200, direct.text);
    const expected = direct.json();
    assert.equal(outcome.generatedText, expected.generated_text);
    const details = outcome.details!;
    assert.ok(details, 'the details, as the engine sent them');
    const shape = (d: typeof details) => ({
      finish_reason: d.finish_reason,
      generated_tokens: d.generated_tokens,
      prefill: d.prefill.map((t) => [t.id, t.text]),
      tokens: d.tokens.map((t) => [t.id, t.text, t.special]),
      top_tokens: d.top_tokens?.map((top) => top.length),
    });
    assert.deepEqual(shape(details), shape(expected.details), 'greedy decoding: the same tokens as a direct call');
    details.tokens.forEach((token, i) =>
      assert.ok(Math.abs(token.logprob! - expected.details.tokens[i].logprob) < 1e-3, `logprob of token ${i}`),
    );
    assert.equal(details.prefill.length, Number(direct.headers['x-prompt-tokens']));
    assert.deepEqual(
      [outcome.finishReason, outcome.outputTokens, outcome.inputTokens],
      [details.finish_reason, details.generated_tokens, Number(direct.headers['x-prompt-tokens'])],
    );
    assert.equal(outcome.timings.firstTokenMs, outcome.timings.backendMs);
  });

  it('maps the engine validation error event to validation (422)', async () => {
    const error = await backend
      .generate({ inputs: 'x', parameters: { temperature: -1 } }, testCallOptions())
      .catch((e: unknown) => e);
    assert.ok(error instanceof GatewayError, String(error));
    assert.deepEqual([error.type, error.status], ['validation', 422]);
    assert.match(error.message, /^Input validation error/);
  });

  it('probes ready and reads /info', async () => {
    assert.equal(await backend.probe(), 'ready');
    assert.equal(typeof (await backend.info()).model_id, 'string');
  });

  it('a client abort frees the engine', async () => {
    const controller = new AbortController();
    const call = backend.generate(
      { inputs: 'Once upon a time', parameters: { max_new_tokens: 400 } },
      testCallOptions({
        signal: controller.signal,
        onToken: (e) => e.index === 2 && controller.abort(new Error('client left')),
      }),
    );
    await assert.rejects(call, { message: 'client left' });
    await waitUntilIdle(engine.url, 2_000);
  });
});
