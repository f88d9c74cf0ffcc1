import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import OpenAI from 'openai';
import type { ChatGenerationRequest } from '#backends';
import { startTgiStandIn, type StandInScript, type TgiStandIn } from '#backends/testing';
import { startGateway, tgiModelsYaml, writeModelsConfig, type RunningGateway } from '#test-support/gateway';

/** The body a TGI backend received for a chat request, as the gateway sent it. */
type SentChatBody = Omit<ChatGenerationRequest, 'kind'> & {
  model: string;
  stream: boolean;
  stream_options: { include_usage: boolean };
};

/** The stand-in's misbehaviour, chosen by the last user message of a chat (or a completion's prompt). */
function scriptFor(body: unknown): StandInScript {
  const { messages, inputs } = body as { messages?: Array<{ content: string }>; inputs?: string };
  const text = messages?.at(-1)?.content ?? inputs ?? '';
  switch (text) {
    case 'overloaded':
      return { overloaded: true };
    case 'fail midway':
      return { tokens: ['one', ' two', ' three'], errorAfterTokens: { tokens: 2, errorType: 'generation' } };
    case 'refuse':
      return {
        httpError: {
          status: 422,
          body: { error: 'Input validation error: grammar not supported', error_type: 'validation' },
        },
      };
    default:
      return { tokens: ['The', ' king', ' said', ' so'] };
  }
}

/**
 * The official openai SDK through the gateway to a TGI backend: chat goes to TGI's own /v1/chat/completions (here the
 * TGI stand-in, whose Messages API is checked against contracts/tgi-openapi.json by its own tests), completions to
 * /generate_stream, and TGI's refusals come back as the SDK's error classes.
 */
describe('the openai SDK through the gateway to a TGI backend (stand-in)', () => {
  let standIn: TgiStandIn;
  let gateway: RunningGateway;
  let client: OpenAI;

  before(async () => {
    standIn = await startTgiStandIn({ script: (request) => scriptFor(request.body) });
    gateway = await startGateway(writeModelsConfig(tgiModelsYaml(standIn.url, { maxQueued: 5 })));
    client = new OpenAI({ baseURL: `${gateway.url}/v1`, apiKey: 'unused', maxRetries: 0 });
  });
  after(async () => {
    await gateway?.stop();
    await standIn?.close();
  });

  const lastChatBody = (): SentChatBody => {
    const sent = standIn.received.filter((r) => r.route === '/v1/chat/completions').at(-1);
    assert.ok(sent, 'the stand-in received a chat request');
    return sent.body as SentChatBody;
  };

  it("sends chat as TGI's Messages API asks for it and answers in OpenAI's shape", async () => {
    const answer = await client.chat.completions.create({
      model: 'Qwen2-7B-Instruct-GPTQ-Int4',
      messages: [
        { role: 'system', content: 'You are brief.' },
        {
          role: 'user',
          content: [
            { type: 'text', text: 'Tell me' },
            { type: 'text', text: ' more.' },
          ],
        },
      ],
      max_tokens: 8,
      temperature: 0,
      seed: 3,
      stop: ['\n'],
    });
    assert.equal(answer.object, 'chat.completion');
    assert.equal(answer.model, 'qwen2');
    assert.equal(answer.choices[0]?.message.content, 'The king said so');
    assert.equal(answer.usage?.completion_tokens, 5, 'four words and the end-of-sequence token, as TGI counts');

    const sent = lastChatBody();
    assert.equal(sent.model, 'tgi', 'TGI reads any other name as a LoRA adapter');
    assert.equal(sent.stream, false, 'nobody streams it: one answer, which carries its usage');
    assert.equal(sent.stream_options, undefined);
    assert.deepEqual(sent.messages, [
      { role: 'system', content: 'You are brief.' },
      { role: 'user', content: 'Tell me more.' },
    ]);
    assert.equal(sent.max_tokens, 8);
    assert.equal(sent.temperature, 0);
    assert.equal(sent.seed, 3);
    assert.deepEqual(sent.stop, ['\n']);
  });

  it('streams the chunks in OpenAI order, with the usage chunk on include_usage', async () => {
    const stream = await client.chat.completions.create({
      model: 'qwen2',
      messages: [{ role: 'user', content: 'Hello' }],
      stream: true,
      stream_options: { include_usage: true },
    });
    const chunks: OpenAI.Chat.ChatCompletionChunk[] = [];
    for await (const chunk of stream) chunks.push(chunk);
    assert.equal(chunks[0]?.choices[0]?.delta.role, 'assistant');
    const text = chunks.map((c) => c.choices[0]?.delta.content ?? '').join('');
    assert.equal(text, 'The king said so');
    const finish = chunks.findIndex((c) => c.choices[0]?.finish_reason != null);
    assert.equal(chunks[finish]?.choices[0]?.finish_reason, 'stop');
    const last = chunks.at(-1);
    assert.equal(finish, chunks.length - 2, 'the usage chunk comes last');
    assert.deepEqual(last?.choices, []);
    assert.equal(last?.usage?.completion_tokens, 5);
  });

  it('hands JSON mode to TGI as its grammar, and a non-streamed completion to /generate', async () => {
    const schema = { type: 'object', properties: { name: { type: 'string' } }, required: ['name'] };
    await client.chat.completions.create({
      model: 'qwen2',
      messages: [{ role: 'user', content: 'JSON please' }],
      response_format: { type: 'json_schema', json_schema: { name: 'person', schema } },
    });
    assert.deepEqual(lastChatBody().response_format, { type: 'json', value: schema });

    const completion = await client.completions.create({ model: 'qwen2', prompt: 'Once', max_tokens: 3 });
    assert.equal(completion.choices[0]?.text, 'The king said');
    // Nobody reads a non-streamed completion token by token: the backend answers it in one piece.
    assert.equal(standIn.received.at(-1)?.route, '/generate');
  });

  it("answers TGI's refusals as the SDK's error classes, and a failure mid-stream as a thrown APIError", async () => {
    const chat = (content: string) =>
      client.chat.completions.create({ model: 'qwen2', messages: [{ role: 'user', content }] });
    await assert.rejects(chat('overloaded'), OpenAI.RateLimitError);
    await assert.rejects(chat('refuse'), (error: unknown) => {
      assert.ok(error instanceof OpenAI.BadRequestError, String(error));
      assert.match(error.message, /grammar not supported/);
      return true;
    });
    await assert.rejects(chat('fail midway'), OpenAI.InternalServerError);

    const stream = await client.chat.completions.create({
      model: 'qwen2',
      messages: [{ role: 'user', content: 'fail midway' }],
      stream: true,
    });
    let text = '';
    await assert.rejects(
      (async () => {
        for await (const chunk of stream) text += chunk.choices[0]?.delta.content ?? '';
      })(),
      OpenAI.APIError,
    );
    assert.equal(text, 'one two', 'the tokens before the failure arrived');

    const healthy = await chat('after the failures');
    assert.equal(healthy.choices[0]?.message.content, 'The king said so');
  });
});
