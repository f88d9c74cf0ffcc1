import assert from 'node:assert/strict';
import type { AddressInfo } from 'node:net';
import { after, before, describe, it } from 'node:test';
import OpenAI from 'openai';
import { startInProcessGateway, type InProcessGateway } from '../testing/in-process-gateway.js';

/**
 * The official openai SDK as the client of a listening gateway whose models have the scripted backend: what the
 * SDK reads from every route, the error classes it raises from the answers, and its retry honouring Retry-After.
 */
describe('the openai SDK against the gateway', () => {
  let gateway: InProcessGateway;
  let client: OpenAI;

  before(async () => {
    gateway = await startInProcessGateway();
    await gateway.app.listen(0, '127.0.0.1');
    const { port } = gateway.app.getHttpServer().address() as AddressInfo;
    client = new OpenAI({ baseURL: `http://127.0.0.1:${port}/v1`, apiKey: 'unused', maxRetries: 0 });
  });
  after(() => gateway?.close());

  it('lists and retrieves models', async () => {
    const ids: string[] = [];
    for await (const model of client.models.list()) ids.push(model.id);
    assert.deepEqual(ids.sort(), ['llama3', 'qwen2', 'qwen2-7b']);
    const model = await client.models.retrieve('qwen2-7b');
    assert.equal(model.id, 'qwen2-7b');
    assert.equal(model.object, 'model');
  });

  it('creates a chat completion, plain and streamed with usage', async () => {
    const messages = [{ role: 'user' as const, content: 'one two three' }];
    const plain = await client.chat.completions.create({ model: 'qwen2-7b', messages, max_tokens: 8 });
    assert.equal(plain.model, 'qwen2');
    assert.equal(plain.choices[0]?.message.content, 'one two three');
    assert.equal(plain.choices[0]?.finish_reason, 'stop');
    assert.equal(plain.usage?.completion_tokens, 3);

    const stream = await client.chat.completions.create({
      model: 'qwen2',
      messages,
      stream: true,
      stream_options: { include_usage: true },
    });
    let text = '';
    let finish: string | null = null;
    let usage: OpenAI.CompletionUsage | null | undefined;
    for await (const chunk of stream) {
      text += chunk.choices[0]?.delta.content ?? '';
      finish = chunk.choices[0]?.finish_reason ?? finish;
      if (chunk.usage) usage = chunk.usage;
    }
    assert.equal(text, plain.choices[0]?.message.content);
    assert.equal(finish, 'stop');
    assert.deepEqual(usage, plain.usage);
  });

  it('creates a completion, plain and streamed', async () => {
    const plain = await client.completions.create({ model: 'llama3', prompt: 'one two', max_tokens: 1 });
    assert.equal(plain.choices[0]?.text, ' one');
    assert.equal(plain.choices[0]?.finish_reason, 'length');
    const stream = await client.completions.create({
      model: 'llama3',
      prompt: 'one two',
      stream: true,
      stream_options: { include_usage: true },
    });
    let text = '';
    let usage: OpenAI.CompletionUsage | undefined;
    for await (const chunk of stream) {
      text += chunk.choices[0]?.text ?? '';
      if (chunk.usage) usage = chunk.usage;
    }
    assert.equal(text, ' one two');
    assert.equal(usage?.total_tokens, 4);
  });

  it('raises BadRequestError, NotFoundError and RateLimitError with the body it reads', async () => {
    const messages = [{ role: 'user' as const, content: 'hi' }];
    await assert.rejects(client.chat.completions.create({ model: 'qwen2', messages, n: 2 }), (error: unknown) => {
      assert.ok(error instanceof OpenAI.BadRequestError);
      assert.equal(error.status, 400);
      assert.equal(error.code, 'validation');
      assert.equal(error.param, 'n');
      assert.equal(error.type, 'invalid_request_error');
      assert.match(error.message, /n must be 1/);
      return true;
    });
    await assert.rejects(client.chat.completions.create({ model: 'gpt-9', messages }), OpenAI.NotFoundError);
    await assert.rejects(client.models.retrieve('gpt-9'), OpenAI.NotFoundError);
    await assert.rejects(
      client.chat.completions.create({ model: 'qwen2', messages: [{ role: 'user', content: 'overloaded' }] }),
      (error: unknown) => error instanceof OpenAI.RateLimitError && error.code === 'overloaded',
    );
  });

  it('throws on an error event after the stream started', async () => {
    const stream = await client.chat.completions.create({
      model: 'qwen2',
      messages: [{ role: 'user', content: 'fail-midstream' }],
      stream: true,
    });
    const received: string[] = [];
    await assert.rejects(
      (async () => {
        for await (const chunk of stream) received.push(chunk.choices[0]?.delta.content ?? '');
      })(),
      /CUDA error/,
    );
    assert.deepEqual(received, ['', 'a', 'b']);
  });

  it("retries a 429 after its Retry-After (1 s), as the SDK's maxRetries allows", async () => {
    const retrying = client.withOptions({ maxRetries: 1 });
    const calls = gateway.backend.chatCalls.length;
    const started = performance.now();
    await assert.rejects(
      retrying.chat.completions.create({ model: 'qwen2', messages: [{ role: 'user', content: 'overloaded' }] }),
      OpenAI.RateLimitError,
    );
    assert.equal(gateway.backend.chatCalls.length - calls, 2);
    assert.ok(performance.now() - started >= 1000, 'the retry waited out Retry-After: 1');
  });
});
