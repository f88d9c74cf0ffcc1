import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import OpenAI from 'openai';
import { startOpenAiStandIn, type OpenAiStandIn } from '#backends/testing';
import { SHIPPED_MODELS, startReadyEngine, type RunningEngine } from '#test-support/engine';
import { modelView, startGateway, waitForModel, writeModelsConfig, type RunningGateway } from '#test-support/gateway';
import { parseSse, postJson } from '#test-support/http-client';

/** One model, `qwen2`, on an OpenAI-protocol backend at `url`. */
function openAiModelYaml(url: string, backendExtra = ''): string {
  return `gpus: []
readiness: { required: all }
defaults:
  max_concurrent: 2
  max_queued: 8
  max_new_tokens: 64
  default_max_new_tokens: 16
  timeouts: { connect_ms: 2000, first_byte_ms: 20000, inter_token_ms: 10000, total_ms: 30000, startup_ms: 60000 }
models:
  - id: qwen2
    aliases: [Qwen/Qwen2-tiny]
    quantization: gguf-q8_0
    backend: { type: openai, url: "${url}"${backendExtra} }
`;
}

/**
 * A gateway whose one model is on `type: openai`, pointed at a REAL engine's OpenAI routes (`/v1/completions`,
 * `/v1/chat/completions`): the official openai SDK and `/v1/generate` get the engine's own greedy text.
 */
describe('a model on type: openai over a real engine, through the openai SDK and /v1/generate', () => {
  let engine: RunningEngine;
  let gateway: RunningGateway;
  let client: OpenAI;

  before(async () => {
    engine = await startReadyEngine(SHIPPED_MODELS.qwen2, ['--sequences', '2']);
    gateway = await startGateway(writeModelsConfig(openAiModelYaml(engine.url)));
    client = new OpenAI({ baseURL: `${gateway.url}/v1`, apiKey: 'unused', maxRetries: 0 });
  });
  after(async () => {
    await gateway?.stop();
    await engine?.stop();
  });

  const engineGreedy = async (inputs: string, maxNewTokens: number) => {
    const direct = await postJson(`${engine.url}/generate`, {
      inputs,
      parameters: { max_new_tokens: maxNewTokens, do_sample: false },
    });
    assert.equal(direct.status, 200, direct.text);
    return direct.json<{ generated_text: string }>();
  };

  it('shows the backend type and address in /models', async () => {
    const view = await modelView(gateway.url, 'qwen2');
    assert.deepEqual([view.state, view.backend.type, view.backend.address], ['ready', 'openai', engine.url]);
  });

  it('/v1/generate, whole and streamed, gives the engine’s greedy text and its token counts', async () => {
    const expected = await engineGreedy('The river', 12);
    const body = { model_id: 'qwen2', inputs: 'The river', parameters: { max_new_tokens: 12, temperature: 0 } };
    const whole = await postJson(`${gateway.url}/v1/generate`, body);
    assert.equal(whole.status, 200, whole.text);
    assert.equal(whole.json().generated_text, expected.generated_text);
    const direct = await postJson(`${engine.url}/generate`, {
      inputs: 'The river',
      parameters: { max_new_tokens: 12, do_sample: false },
    });
    assert.deepEqual(whole.json().usage, {
      input_tokens: Number(direct.headers['x-prompt-tokens']),
      output_tokens: Number(direct.headers['x-generated-tokens']),
    });

    const streamed = await postJson(`${gateway.url}/v1/generate`, { ...body, stream: true });
    assert.equal(streamed.status, 200);
    const events = parseSse(streamed.text);
    const final = events.at(-1);
    assert.equal(final.generated_text, expected.generated_text);
    assert.equal(final.details.finish_reason, whole.json().finish_reason);
    assert.equal(
      events
        .slice(0, -1)
        .map((e) => e.token.text)
        .join(''),
      expected.generated_text,
    );
  });

  it('/v1/generate refuses with 422 a parameter the OpenAI protocol cannot carry', async () => {
    const refused = await postJson(`${gateway.url}/v1/generate`, {
      model_id: 'qwen2',
      inputs: 'x',
      parameters: { top_n_tokens: 2 },
    });
    assert.equal(refused.status, 422, refused.text);
    assert.equal(refused.json().error_type, 'validation');
    assert.match(refused.json().error, /`top_n_tokens`/);
  });

  it('the SDK’s chat, whole and streamed with usage, gives what the engine answers greedily', async () => {
    const messages = [{ role: 'user' as const, content: 'Tell me about the sea' }];
    const direct = await postJson(`${engine.url}/v1/chat/completions`, {
      model: 'tgi',
      messages,
      max_tokens: 12,
      temperature: 0,
    });
    assert.equal(direct.status, 200, direct.text);
    const expected = direct.json();

    const answer = await client.chat.completions.create({ model: 'qwen2', messages, max_tokens: 12, temperature: 0 });
    assert.equal(answer.choices[0]?.message.content, expected.choices[0].message.content);
    assert.equal(answer.usage?.completion_tokens, expected.usage.completion_tokens);
    assert.equal(answer.usage?.prompt_tokens, expected.usage.prompt_tokens);

    const stream = await client.chat.completions.create({
      model: 'Qwen/Qwen2-tiny',
      messages,
      max_tokens: 12,
      temperature: 0,
      stream: true,
      stream_options: { include_usage: true },
    });
    let text = '';
    let usage: OpenAI.CompletionUsage | undefined | null;
    for await (const chunk of stream) {
      text += chunk.choices[0]?.delta.content ?? '';
      usage ??= chunk.usage;
    }
    assert.equal(text, expected.choices[0].message.content);
    assert.equal(usage?.completion_tokens, expected.usage.completion_tokens);
  });

  it('the SDK’s completions give the engine’s greedy text', async () => {
    const expected = await engineGreedy('Once upon a time', 10);
    const completion = await client.completions.create({
      model: 'qwen2',
      prompt: 'Once upon a time',
      max_tokens: 10,
      temperature: 0,
    });
    assert.equal(completion.choices[0]?.text, expected.generated_text);
  });
});

/**
 * The gateway's readiness and error mapping for OpenAI-protocol servers that cannot run here, against STAND-INS
 * faithful to their documented answers (libs/backends/src/testing/openai-stand-in.ts).
 */
describe('a model on type: openai over the llama-server and vLLM stand-ins', () => {
  let standIn: OpenAiStandIn | undefined;
  let gateway: RunningGateway | undefined;
  after(async () => {
    await gateway?.stop();
    await standIn?.close();
  });

  it('llama-server: loading (503 "Loading model") until it has loaded, then ready and serving', async () => {
    standIn = await startOpenAiStandIn({ flavour: 'llama-server', loaded: false, servedModel: 'qwen2-q4.gguf' });
    gateway = await startGateway(writeModelsConfig(openAiModelYaml(standIn.url)), { waitReady: false });
    await waitForModel(gateway.url, 'qwen2', (v) => v.state === 'loading');
    const early = await postJson(`${gateway.url}/v1/generate`, { model_id: 'qwen2', inputs: 'hi', timeout_ms: 300 });
    assert.equal(early.status, 503, early.text);
    await standIn.load();
    await waitForModel(gateway.url, 'qwen2', (v) => v.state === 'ready');
    const served = await postJson(`${gateway.url}/v1/generate`, { model_id: 'qwen2', inputs: 'hi' });
    assert.equal(served.status, 200, served.text);
    assert.equal(served.json().generated_text, 'Hello, world');
    assert.equal(standIn.received.at(-1)!.body.model, 'qwen2-q4.gguf', 'the name learned from /v1/models');
    await gateway.stop();
    await standIn.close();
    gateway = standIn = undefined;
  });

  it('vLLM: sends the key from api_key_env; its 429 reaches the client as 429 with Retry-After', async () => {
    standIn = await startOpenAiStandIn({
      flavour: 'vllm',
      apiKey: 'sk-test',
      servedModel: 'Qwen/Qwen2-7B-Instruct',
      script: (r) =>
        r.body.prompt === 'busy'
          ? {
              httpError: {
                status: 429,
                body: { error: { message: 'Too many requests', type: 'rate_limit_error', param: null, code: 429 } },
                headers: { 'retry-after': '2' },
              },
            }
          : {},
    });
    const yaml = openAiModelYaml(standIn.url, ', model: "Qwen/Qwen2-7B-Instruct", api_key_env: TEST_VLLM_KEY');
    gateway = await startGateway(writeModelsConfig(yaml), { env: { TEST_VLLM_KEY: 'sk-test' } });
    const served = await postJson(`${gateway.url}/v1/generate`, { model_id: 'qwen2', inputs: 'hi' });
    assert.equal(served.status, 200, served.text);
    assert.equal(standIn.received.at(-1)!.headers.authorization, 'Bearer sk-test');
    const busy = await postJson(`${gateway.url}/v1/generate`, { model_id: 'qwen2', inputs: 'busy' });
    assert.equal(busy.status, 429, busy.text);
    assert.equal(busy.json().error_type, 'overloaded');
    assert.equal(busy.headers['retry-after'], '2');
  });

  for (const llamaServerForm of ['field', 'data'] as const)
    it(`llama-server: an error mid-stream (${llamaServerForm === 'field' ? 'its `error:` field' : 'a `data:` error'}) reaches each route as its documented error`, async () => {
      await gateway?.stop();
      await standIn?.close();
      standIn = await startOpenAiStandIn({
        flavour: 'llama-server',
        script: {
          tokens: ['one', ' two', ' three'],
          errorAfterTokens: { tokens: 2, message: 'CUDA error: out of memory', llamaServerForm },
        },
      });
      gateway = await startGateway(writeModelsConfig(openAiModelYaml(standIn.url)));
      const plain = await postJson(`${gateway.url}/v1/generate`, { model_id: 'qwen2', inputs: 'hi' });
      assert.equal(plain.status, 502, plain.text);
      assert.deepEqual([plain.json().error_type, plain.json().error], ['upstream', 'CUDA error: out of memory']);

      const streamed = await postJson(`${gateway.url}/v1/generate`, { model_id: 'qwen2', inputs: 'hi', stream: true });
      assert.equal(streamed.status, 200);
      const events = parseSse(streamed.text);
      assert.deepEqual(
        events.slice(0, -1).map((e) => e.token.text),
        ['one', ' two'],
      );
      assert.deepEqual([events.at(-1).error_type, events.at(-1).error], ['upstream', 'CUDA error: out of memory']);

      const client = new OpenAI({ baseURL: `${gateway.url}/v1`, apiKey: 'unused', maxRetries: 0 });
      const stream = await client.chat.completions.create({
        model: 'qwen2',
        messages: [{ role: 'user', content: 'hi' }],
        stream: true,
      });
      let text = '';
      await assert.rejects(
        (async () => {
          for await (const chunk of stream) text += chunk.choices[0]?.delta.content ?? '';
        })(),
        (error: unknown) => {
          assert.ok(error instanceof OpenAI.APIError, String(error));
          assert.match(error.message, /CUDA error: out of memory/);
          return true;
        },
      );
      assert.equal(text, 'one two', 'the tokens before the failure arrived');
      await gateway.stop();
      await standIn.close();
      gateway = standIn = undefined;
    });
});
