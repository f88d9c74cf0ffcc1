import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { SHIPPED_MODELS, startReadyEngine, waitUntilIdle, type RunningEngine } from '#test-support/engine';
import { postJson } from '#test-support/http-client';
import { GatewayError } from './gateway-error.js';
import type { ChatDelta } from './inference-backend.js';
import { OpenAiBackend } from './openai-backend.js';
import type { TgiStreamEvent } from './tgi-protocol.js';
import { testCallOptions } from './testing/call-options.js';
import { testChatRequest } from './testing/chat-request.js';

/** The engine's own OpenAI routes (TGI's `/v1/completions` and `/v1/chat/completions`), real, as an OpenAI backend. */
describe("OpenAiBackend against our real engine's OpenAI routes", () => {
  let engine: RunningEngine;
  let backend: OpenAiBackend;
  before(async () => {
    engine = await startReadyEngine(SHIPPED_MODELS.qwen2);
    backend = new OpenAiBackend(engine.url);
  });
  after(async () => {
    backend?.close();
    await engine?.stop();
  });

  it("probes ready on the engine's /health and learns its model from /v1/models", async () => {
    assert.equal(await backend.probe(), 'ready');
    const listed = await fetch(`${engine.url}/v1/models`).then((r) => r.json() as Promise<{ id: string }>);
    assert.equal(backend.servedModel, listed.id);
    assert.equal((await backend.info()).model_id, listed.id);
  });

  it('a greedy generation through /v1/completions is what /generate generates, with its token counts', async () => {
    const events: TgiStreamEvent[] = [];
    const outcome = await backend.generate(
      { inputs: 'The river', parameters: { max_new_tokens: 12, do_sample: false } },
      testCallOptions({ onToken: (e) => events.push(e) }),
    );
    const direct = await postJson(`${engine.url}/generate`, {
      inputs: 'The river',
      parameters: { max_new_tokens: 12, do_sample: false },
    });
    assert.equal(direct.status, 200, direct.text);
    assert.equal(outcome.generatedText, direct.json().generated_text);
    assert.equal(outcome.inputTokens, Number(direct.headers['x-prompt-tokens']));
    assert.equal(outcome.outputTokens, Number(direct.headers['x-generated-tokens']));
    assert.ok(outcome.finishReason === 'length' || outcome.finishReason === 'eos_token', outcome.finishReason);
    const final = events.at(-1)!;
    assert.equal(final.generated_text, outcome.generatedText);
    assert.equal(
      events
        .slice(0, -1)
        .map((e) => e.token.text)
        .join(''),
      outcome.generatedText,
      'the relayed tokens spell the text',
    );
    assert.ok(outcome.timings.firstTokenMs <= outcome.timings.backendMs);
  });

  it('a greedy chat is what the engine answers in one piece', async () => {
    const deltas: ChatDelta[] = [];
    const request = testChatRequest('Tell me about the sea', { max_tokens: 16, temperature: 0 });
    const outcome = await backend.chat(request, testCallOptions({ onDelta: (d) => deltas.push(d) }));
    const direct = await postJson(`${engine.url}/v1/chat/completions`, {
      model: 'tgi',
      messages: request.messages,
      max_tokens: 16,
      temperature: 0,
    });
    assert.equal(direct.status, 200, direct.text);
    const answer = direct.json();
    assert.equal(outcome.generatedText, answer.choices[0].message.content);
    assert.equal(deltas.map((d) => d.content).join(''), outcome.generatedText);
    assert.deepEqual(
      [outcome.inputTokens, outcome.outputTokens],
      [answer.usage.prompt_tokens, answer.usage.completion_tokens],
    );
  });

  it("maps the engine's refusal to validation (422)", async () => {
    const error = await backend
      .generate({ inputs: 'x', parameters: { temperature: -1 } }, testCallOptions())
      .catch((e: unknown) => e);
    assert.ok(error instanceof GatewayError, String(error));
    assert.deepEqual([error.type, error.status], ['validation', 422]);
    assert.match(error.message, /temperature/);
  });

  it('a client abort frees the engine', async () => {
    const controller = new AbortController();
    const call = backend.generate(
      { inputs: 'Once upon a time', parameters: { max_new_tokens: 400, do_sample: true } },
      testCallOptions({
        signal: controller.signal,
        onToken: (e) => e.index === 2 && controller.abort(new Error('client left')),
      }),
    );
    await assert.rejects(call, { message: 'client left' });
    await waitUntilIdle(engine.url, 2_000);
  });
});
