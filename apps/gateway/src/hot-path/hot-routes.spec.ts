import assert from 'node:assert/strict';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { after, before, describe, it } from 'node:test';
import lightMyRequest from 'light-my-request';
import { GatewayMetrics } from '#metrics';
import { ModelRegistry, parseRegistryConfig } from '#model-registry';
import { GenerateRequestDto } from '../generate/generate-request.dto.js';
import { GatewayValidationPipe } from '../http/gateway-validation.pipe.js';
import { ShutdownDrain } from '../http/shutdown-drain.js';
import { RequestFollower } from '../metrics/request-metrics.hook.js';
import { openAiEvents } from '../testing/answers.js';
import { startInProcessGateway, TEST_REGISTRY_YAML, type InProcessGateway } from '../testing/in-process-gateway.js';
import { HotRoutes } from './hot-routes.js';

describe('the hot routes take only ordinary requests, and leave the rest to Fastify untouched', () => {
  const LIMIT = 1024;
  const body = JSON.stringify({ model_id: 'qwen2', inputs: 'Hi' });
  const answered: string[] = [];
  const hot = new HotRoutes({
    routes: [
      {
        path: '/v1/generate',
        dto: GenerateRequestDto,
        answer: async (checked, exchange) => {
          answered.push((checked as GenerateRequestDto).inputs);
          exchange.res.end('hot');
        },
      },
    ],
    bodyLimitBytes: LIMIT,
    drain: new ShutdownDrain(),
    follower: new RequestFollower(
      new GatewayMetrics(null, { processMetrics: false }),
      new ModelRegistry(parseRegistryConfig(TEST_REGISTRY_YAML, 'hot-routes.spec.yaml')),
    ),
    validation: new GatewayValidationPipe(),
    fallback: () => assert.fail('take() hands a request back by returning false, not by calling the fallback'),
  });
  /** Whether take() kept the request; one it leaves is answered 'left' here, as Fastify would answer it. */
  const taken = async (options: Parameters<typeof lightMyRequest>[1]): Promise<boolean> => {
    let kept = false;
    const answer = await lightMyRequest((request: IncomingMessage, response: ServerResponse) => {
      kept = hot.take(request, response);
      if (!kept) response.end('left');
    }, options);
    assert.equal(answer.body, kept ? 'hot' : 'left');
    return kept;
  };
  const post = (extra: Record<string, unknown> = {}) => ({
    method: 'POST' as const,
    url: '/v1/generate',
    headers: { 'content-type': 'application/json' },
    payload: body,
    ...extra,
  });

  it('takes a POST of a JSON body with its length to the exact path, in the JSON spellings clients send', async () => {
    assert.equal(await taken(post()), true);
    for (const type of ['application/json; charset=utf-8', 'Application/JSON;charset="UTF-8"'])
      assert.equal(await taken(post({ headers: { 'content-type': type } })), true, type);
    assert.deepEqual(answered, ['Hi', 'Hi', 'Hi']);
  });

  it('leaves another path, method, query string or media type, and a body that is empty, chunked, expected or too large', async () => {
    const left = [
      post({ url: '/v1/generate/' }),
      post({ url: '/v1/generate?x=1' }),
      post({ url: '/v1/completions' }),
      { method: 'GET' as const, url: '/v1/generate' },
      post({ headers: { 'content-type': 'text/plain' } }),
      post({ headers: { 'content-type': 'application/json-patch+json' } }),
      post({ headers: {} }),
      post({ payload: '' }),
      post({ payload: 'x'.repeat(LIMIT + 1) }),
      post({ headers: { 'content-type': 'application/json', expect: '100-continue' } }),
      post({ headers: { 'content-type': 'application/json', 'transfer-encoding': 'chunked' } }),
    ];
    for (const options of left) assert.equal(await taken(options), false, JSON.stringify(options));
  });

  it('leaves every request once the server is closing', async () => {
    hot.close();
    assert.equal(await taken(post()), false);
  });
});

describe('a hot route answers every body exactly as its Fastify route does', () => {
  let gateway: InProcessGateway;
  before(async () => {
    gateway = await startInProcessGateway();
  });
  after(() => gateway?.close());

  /** The same request twice: to the hot route, and with a query string, which the hot routes leave to Fastify. */
  const both = async (url: string, payload: string, headers: Record<string, string> = {}) => {
    const ask = (path: string) =>
      gateway.app.inject({
        method: 'POST',
        url: path,
        headers: { 'content-type': 'application/json', 'x-request-id': 'same-id', ...headers },
        payload,
      });
    return { hot: await ask(url), framework: await ask(`${url}?via=fastify`) };
  };
  /** What may differ between two answers to one request: the times, and the second a chat answer's id holds. */
  const timeless = (text: string): unknown =>
    JSON.parse(text, (key, value: unknown) =>
      key.endsWith('_ms') || key === 'created' ? '<time>' : key === 'id' ? '<id>' : value,
    );

  const generateBodies = [
    JSON.stringify({ model_id: 'qwen2', inputs: 'one two three' }),
    JSON.stringify({ model_id: 'qwen2-7b', inputs: 'a b', parameters: { details: true, max_new_tokens: 1 } }),
    JSON.stringify({ model_id: 'qwen2', inputs: 'fail' }),
    JSON.stringify({ model_id: 'qwen2', inputs: 'backend-422' }),
    JSON.stringify({ model_id: 'gpt-9', inputs: 'Hi' }),
    JSON.stringify({ model_id: 'qwen2', inputs: 'Hi', parameters: { max_new_tokens: 100000 } }),
    JSON.stringify({ model_id: 'qwen2', inputs: 'Hi', unknown_field: 1 }),
    JSON.stringify({ model_id: 'qwen2', inputs: 7, parameters: { temperature: -1, top_p: 2 } }),
    JSON.stringify({ model_id: 'qwen2' }),
    '{"model_id": "qwen2",',
    '[1, 2]',
    '"text"',
    '{"__proto__": {"admin": true}, "model_id": "qwen2", "inputs": "Hi"}',
    '{"model_id": "qwen2", "inputs": "Hi", "constructor": {"prototype": {"admin": true}}}',
    '{"\\u005f_proto__": {"admin": true}, "model_id": "qwen2", "inputs": "Hi"}',
    '{"model_id": "qwen2", "inputs": "Hi", "\\u0063onstructor": {"prototype": {"admin": true}}}',
    '{"model_id": "qwen2", "inputs": "the constructor of __proto__ \\u00e9"}',
    '\ufeff{"model_id": "qwen2", "inputs": "Hi"}',
    `{"model_id": "qwen2", "inputs": "Hi", "parameters": ${'['.repeat(200)}${']'.repeat(200)}}`,
  ];

  it('POST /v1/generate: the same status, headers that matter and body, for answers, refusals and failures', async () => {
    for (const payload of generateBodies) {
      const { hot, framework } = await both('/v1/generate', payload);
      assert.equal(hot.statusCode, framework.statusCode, payload);
      assert.equal(hot.headers['content-type'], framework.headers['content-type'], payload);
      assert.equal(hot.headers['x-request-id'], 'same-id', payload);
      assert.equal(hot.headers['retry-after'], framework.headers['retry-after'], payload);
      assert.deepEqual(timeless(hot.body), timeless(framework.body), payload);
    }
  });

  it('POST /v1/generate streamed: the same events', async () => {
    const payload = JSON.stringify({ model_id: 'qwen2', inputs: 'one two', stream: true });
    const { hot, framework } = await both('/v1/generate', payload);
    assert.equal(hot.statusCode, 200);
    assert.equal(hot.headers['content-type'], 'text/event-stream');
    const events = (text: string) =>
      text
        .split('\n\n')
        .filter(Boolean)
        .map((event) => timeless(event.replace(/^data:/, '')));
    assert.deepEqual(events(hot.body), events(framework.body));
  });

  it('POST /v1/chat/completions: the same answers and refusals, in OpenAI shape, streamed or not', async () => {
    const chat = (extra: Record<string, unknown>) =>
      JSON.stringify({ model: 'qwen2', messages: [{ role: 'user', content: 'one two three' }], ...extra });
    const bodies = [
      chat({}),
      chat({ max_tokens: 1, stop: ['two'] }),
      chat({ model: 'gpt-9' }),
      chat({ tools: [{ type: 'function', function: { name: 'f' } }] }),
      chat({ temperature: 5 }),
      chat({ messages: [] }),
      chat({ messages: [{ role: 'user', content: 'fail' }] }),
      '{"model": ',
    ];
    for (const payload of bodies) {
      const { hot, framework } = await both('/v1/chat/completions', payload);
      assert.equal(hot.statusCode, framework.statusCode, payload);
      assert.equal(hot.headers['content-type'], framework.headers['content-type'], payload);
      assert.deepEqual(timeless(hot.body), timeless(framework.body), payload);
    }
    const { hot, framework } = await both('/v1/chat/completions', chat({ stream: true }));
    const events = (text: string) => openAiEvents(text).map((event) => timeless(JSON.stringify(event)));
    assert.deepEqual(events(hot.body), events(framework.body));
    assert.ok(events(hot.body).length >= 3);
  });
});
