import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import OpenAI from 'openai';
import { localModelsYaml, startGateway, writeModelsConfig, type RunningGateway } from '#test-support/gateway';

/**
 * The official openai SDK against a gateway over the two shipped models on real engines: chat goes to each engine's
 * /v1/chat/completions (the model's own chat template), completions to its /generate_stream.
 */

describe('the openai SDK against the gateway over two real engines', () => {
  let gateway: RunningGateway;
  let client: OpenAI;

  before(async () => {
    // One request at a time per model and no line: a burst meets the gateway's 429 at once (the requests of the
    // other cases run one after another).
    gateway = await startGateway(writeModelsConfig(localModelsYaml({ maxConcurrent: 1, maxQueued: 0 })));
    client = new OpenAI({ baseURL: `${gateway.url}/v1`, apiKey: 'unused', maxRetries: 0 });
  });
  after(() => gateway?.stop());

  it('lists every model id and alias', async () => {
    const ids: string[] = [];
    for await (const model of client.models.list()) ids.push(model.id);
    assert.deepEqual(ids.sort(), ['llama3', 'llama3-tiny', 'qwen2', 'qwen2-tiny']);
  });

  it('completes a prompt; the stream carries the same text with a seed, and include_usage the usage', async () => {
    for (const model of ['qwen2', 'llama3-tiny']) {
      const request = { model, prompt: 'The king said', max_tokens: 12, temperature: 0.8, seed: 42 };
      const plain = await client.completions.create(request);
      assert.equal(plain.model, model.replace('-tiny', ''));
      assert.match(plain.id, /^cmpl-/);
      const text = plain.choices[0]?.text ?? '';
      assert.ok(text.length > 0);
      assert.ok(['length', 'stop'].includes(plain.choices[0]?.finish_reason ?? ''));
      assert.ok((plain.usage?.prompt_tokens ?? 0) > 0 && (plain.usage?.completion_tokens ?? 0) <= 12);

      const again = await client.completions.create(request);
      assert.equal(again.choices[0]?.text, text, 'the same seed gives the same text');

      const stream = await client.completions.create({
        ...request,
        stream: true,
        stream_options: { include_usage: true },
      });
      let streamed = '';
      let usage: OpenAI.CompletionUsage | undefined;
      for await (const chunk of stream) {
        streamed += chunk.choices[0]?.text ?? '';
        if (chunk.usage) usage = chunk.usage;
      }
      assert.equal(streamed, text);
      assert.deepEqual(usage, plain.usage);
    }
  });

  it('stops at a stop sequence with finish_reason stop, and echoes the prompt', async () => {
    const request = { model: 'qwen2', prompt: 'Once upon a time', max_tokens: 40, temperature: 0 };
    const free = (await client.completions.create(request)).choices[0]?.text ?? '';
    const word = free.trim().split(/\s+/)[2];
    assert.ok(word, `a third word to stop at in ${JSON.stringify(free)}`);
    const stopped = await client.completions.create({ ...request, stop: [word] });
    assert.equal(stopped.choices[0]?.finish_reason, 'stop');
    assert.ok(free.startsWith(stopped.choices[0]?.text ?? '\u0000'));
    assert.ok((stopped.usage?.completion_tokens ?? 0) < 40);
    const echoed = await client.completions.create({ ...request, max_tokens: 4, echo: true });
    assert.ok(echoed.choices[0]?.text.startsWith('Once upon a time'));
  });

  it('refuses a bad request as BadRequestError and an unknown model as NotFoundError', async () => {
    await assert.rejects(
      client.completions.create({ model: 'qwen2', prompt: 'x', max_tokens: 100_000 }),
      OpenAI.BadRequestError,
    );
    await assert.rejects(client.completions.create({ model: 'gpt-9', prompt: 'x' }), OpenAI.NotFoundError);
  });

  it('refuses a burst past capacity as RateLimitError with Retry-After, which the SDK waits out', async () => {
    const chat = (sdk: OpenAI) =>
      sdk.chat.completions.create({
        model: 'llama3',
        messages: [{ role: 'user', content: 'Tell me a long story.' }],
        max_tokens: 128,
      });
    const burst = await Promise.allSettled(Array.from({ length: 6 }, () => chat(client)));
    const refused = burst.flatMap((r) => (r.status === 'rejected' ? [r.reason as unknown] : []));
    assert.ok(burst.some((r) => r.status === 'fulfilled'));
    assert.ok(refused.length > 0, 'one slot and no line: some of six at once are refused');
    let retryAfterS = 0;
    for (const error of refused) {
      assert.ok(error instanceof OpenAI.RateLimitError, String(error));
      assert.equal((error.error as { code?: string }).code, 'overloaded');
      retryAfterS = Math.max(retryAfterS, Number(error.headers.get('retry-after')));
    }
    assert.ok(retryAfterS >= 1, `Retry-After ${retryAfterS}`);

    // The same burst from a client that retries: every request is served, the refused ones after Retry-After.
    const patient = new OpenAI({ baseURL: `${gateway.url}/v1`, apiKey: 'unused', maxRetries: 8 });
    const started = performance.now();
    const served = await Promise.all(Array.from({ length: 6 }, () => chat(patient)));
    assert.equal(served.length, 6);
    assert.ok(
      performance.now() - started >= retryAfterS * 1000,
      'a refused request came back no sooner than its Retry-After',
    );
  });

  describe('chat', () => {
    const messages = [
      { role: 'system' as const, content: 'You are brief.' },
      { role: 'user' as const, content: 'Tell me about the king.' },
    ];

    it('answers a chat completion, and the same seed the same text', async () => {
      const request = { model: 'qwen2', messages, max_tokens: 16, temperature: 0.8, seed: 7 };
      const first = await client.chat.completions.create(request);
      assert.match(first.id, /^chatcmpl-/);
      assert.equal(first.choices[0]?.message.role, 'assistant');
      assert.ok((first.choices[0]?.message.content ?? '').length > 0);
      assert.ok(['length', 'stop'].includes(first.choices[0]?.finish_reason ?? ''));
      const second = await client.chat.completions.create(request);
      assert.equal(second.choices[0]?.message.content, first.choices[0]?.message.content);
    });

    it('streams the same text, with usage on include_usage', async () => {
      const request = { model: 'llama3', messages, max_tokens: 16, temperature: 0 };
      const plain = await client.chat.completions.create(request);
      const stream = await client.chat.completions.create({
        ...request,
        stream: true,
        stream_options: { include_usage: true },
      });
      let text = '';
      let usage: OpenAI.CompletionUsage | null | undefined;
      for await (const chunk of stream) {
        text += chunk.choices[0]?.delta.content ?? '';
        if (chunk.usage) usage = chunk.usage;
      }
      assert.equal(text, plain.choices[0]?.message.content);
      assert.deepEqual(usage, plain.usage);
    });

    it('answers JSON that parses and matches the schema in JSON mode', async () => {
      const schema = {
        type: 'object',
        properties: { name: { type: 'string', maxLength: 16 }, age: { type: 'integer' } },
        required: ['name', 'age'],
        additionalProperties: false,
      };
      for (const model of ['qwen2', 'llama3']) {
        const answer = await client.chat.completions.create({
          model,
          messages: [{ role: 'user', content: 'Describe the king as a JSON object.' }],
          max_tokens: 200,
          temperature: 0,
          response_format: { type: 'json_schema', json_schema: { name: 'person', schema } },
        });
        const content = answer.choices[0]?.message.content ?? '';
        assert.equal(answer.choices[0]?.finish_reason, 'stop', `a complete object within 200 tokens: ${content}`);
        const value = JSON.parse(content) as Record<string, unknown>;
        assert.deepEqual(Object.keys(value).sort(), ['age', 'name'], content);
        assert.equal(typeof value.name, 'string');
        assert.ok(Number.isInteger(value.age), content);
      }
    });

    it('stops at a stop sequence, and gives logprobs when asked', async () => {
      const request = { model: 'qwen2', messages, max_tokens: 24, temperature: 0 };
      const free = (await client.chat.completions.create(request)).choices[0]?.message.content ?? '';
      // Three characters from the middle of the free answer: the stopped answer is what came before their first
      // occurrence, without them (OpenAI leaves the stop sequence out).
      const stop = free.slice(Math.floor(free.length / 2), Math.floor(free.length / 2) + 3);
      assert.equal(stop.trim().length, 3, `a stop sequence from ${JSON.stringify(free)}`);
      const stopped = await client.chat.completions.create({ ...request, stop, logprobs: true, top_logprobs: 2 });
      const choice = stopped.choices[0];
      assert.equal(choice?.finish_reason, 'stop');
      assert.equal(choice?.message.content, free.slice(0, free.indexOf(stop)));
      const logprobs = choice?.logprobs?.content ?? [];
      assert.ok(logprobs.length > 0);
      for (const token of logprobs) {
        assert.ok(token.logprob <= 0);
        assert.equal(token.top_logprobs.length, 2);
      }
    });
  });
});
