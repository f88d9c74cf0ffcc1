import assert from 'node:assert/strict';
import type { AddressInfo } from 'node:net';
import { after, before, describe, it } from 'node:test';
import OpenAI from 'openai';
import { startInProcessGateway, type InProcessGateway } from '../testing/in-process-gateway.js';
import { entryOf, entryYaml, generateApiKey, grantOf } from './api-key-issuing.js';

/**
 * The official openai SDK against a listening gateway with keys: it sends the key as Bearer, and raises
 * AuthenticationError for a bad key and PermissionDeniedError for a model outside the key's scope, with OpenAI's
 * error body (`invalid_api_key` for the first, as OpenAI answers).
 */
describe('the openai SDK and API keys', () => {
  let gateway: InProcessGateway;
  let baseURL: string;
  const scoped = generateApiKey();
  const client = (apiKey: string) => new OpenAI({ baseURL, apiKey, maxRetries: 0 });
  const messages = [{ role: 'user' as const, content: 'one two' }];

  before(async () => {
    gateway = await startInProcessGateway({
      keysYaml: `keys:\n${entryYaml(entryOf(scoped, grantOf('team-qwen', { models: ['qwen2'] })))}\n`,
    });
    await gateway.app.listen(0, '127.0.0.1');
    baseURL = `http://127.0.0.1:${(gateway.app.getHttpServer().address() as AddressInfo).port}/v1`;
  });
  after(() => gateway?.close());

  it('a key in scope: chat completions (plain and streamed) and the models it may use', async () => {
    const answer = await client(scoped).chat.completions.create({ model: 'qwen2', messages, max_tokens: 4 });
    assert.equal(answer.choices[0]?.message.content, 'one two');
    let text = '';
    for await (const chunk of await client(scoped).chat.completions.create({ model: 'qwen2', messages, stream: true }))
      text += chunk.choices[0]?.delta.content ?? '';
    assert.equal(text, 'one two');
    const ids: string[] = [];
    for await (const model of client(scoped).models.list()) ids.push(model.id);
    assert.deepEqual(ids.sort(), ['qwen2', 'qwen2-7b']);
  });

  it('a wrong key raises AuthenticationError with code invalid_api_key', async () => {
    await assert.rejects(
      client(generateApiKey()).chat.completions.create({ model: 'qwen2', messages }),
      (error: unknown) => {
        assert.ok(error instanceof OpenAI.AuthenticationError, String(error));
        assert.equal(error.status, 401);
        assert.equal(error.code, 'invalid_api_key');
        assert.equal(error.type, 'invalid_request_error');
        assert.ok(error.requestID === null || typeof error.requestID === 'string');
        return true;
      },
    );
    await assert.rejects(client('sk-not-a-key').models.list(), OpenAI.AuthenticationError);
  });

  it('a model outside the scope raises PermissionDeniedError, streamed or not', async () => {
    for (const stream of [false, true])
      await assert.rejects(
        client(scoped).chat.completions.create({ model: 'llama3', messages, stream }),
        (error: unknown) => {
          assert.ok(error instanceof OpenAI.PermissionDeniedError, String(error));
          assert.equal(error.status, 403);
          assert.equal(error.code, 'forbidden');
          assert.equal(error.param, 'model');
          assert.match(error.message, /may not use model "llama3"/);
          return true;
        },
      );
    await assert.rejects(
      client(scoped).completions.create({ model: 'llama3', prompt: 'a' }),
      OpenAI.PermissionDeniedError,
    );
    await assert.rejects(client(scoped).models.retrieve('llama3'), OpenAI.PermissionDeniedError);
  });
});
