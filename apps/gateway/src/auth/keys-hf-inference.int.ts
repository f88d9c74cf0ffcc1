import assert from 'node:assert/strict';
import type { AddressInfo } from 'node:net';
import { after, before, describe, it } from 'node:test';
import { InferenceClientProviderApiError, textGeneration, textGenerationStream } from '@huggingface/inference';
import { startInProcessGateway, type InProcessGateway } from '../testing/in-process-gateway.js';
import { entryOf, entryYaml, generateApiKey, grantOf } from './api-key-issuing.js';

/**
 * @huggingface/inference, the client TGI users already have, against the per-model TGI routes of a gateway with
 * keys: its `accessToken` is sent as Bearer; a bad key is 401 and a model outside the key's scope 403, plain or
 * streamed, as the client's own error type.
 */
describe('@huggingface/inference and API keys on the TGI routes', () => {
  let gateway: InProcessGateway;
  let baseUrl: string;
  const scoped = generateApiKey();

  before(async () => {
    gateway = await startInProcessGateway({
      keysYaml: `keys:\n${entryYaml(entryOf(scoped, grantOf('team-qwen', { models: ['qwen2'] })))}\n`,
    });
    await gateway.app.listen(0, '127.0.0.1');
    baseUrl = `http://127.0.0.1:${(gateway.app.getHttpServer().address() as AddressInfo).port}`;
  });
  after(() => gateway?.close());

  const refusedWith = (status: number, pattern: RegExp) => (error: unknown) => {
    assert.ok(error instanceof InferenceClientProviderApiError, String(error));
    assert.equal(error.httpResponse.status, status);
    assert.match(error.message, pattern);
    return true;
  };

  it('a key in scope is served, plain and streamed', async () => {
    const endpointUrl = `${baseUrl}/models/qwen2`;
    const plain = await textGeneration({ endpointUrl, accessToken: scoped, inputs: 'one two' });
    assert.equal(plain.generated_text.trim(), 'one two', 'the in-process backend echoes the prompt');
    let streamed = '';
    for await (const chunk of textGenerationStream({ endpointUrl, accessToken: scoped, inputs: 'one two' })) {
      const { choices } = chunk as unknown as { choices: Array<{ text: string }> };
      streamed += choices[0]?.text ?? '';
    }
    assert.equal(streamed, plain.generated_text);
  });

  it('no key or a wrong key: 401', async () => {
    const endpointUrl = `${baseUrl}/models/qwen2`;
    await assert.rejects(textGeneration({ endpointUrl, inputs: 'x' }), refusedWith(401, /API key/i));
    await assert.rejects(
      textGeneration({ endpointUrl, accessToken: generateApiKey(), inputs: 'x' }),
      refusedWith(401, /API key/i),
    );
  });

  it('a model outside the key’s scope: 403, plain or streamed', async () => {
    const endpointUrl = `${baseUrl}/models/llama3`;
    await assert.rejects(textGeneration({ endpointUrl, accessToken: scoped, inputs: 'x' }), refusedWith(403, /llama3/));
    await assert.rejects(
      async () => {
        for await (const chunk of textGenerationStream({ endpointUrl, accessToken: scoped, inputs: 'x' })) void chunk;
      },
      refusedWith(403, /llama3/),
    );
  });
});
