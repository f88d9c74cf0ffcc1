import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { parsePrometheusText } from '#metrics/testing';
import { hashApiKey } from '../auth/key-ring.js';
import {
  assertErrorAnswer,
  assertOpenAiError,
  postGenerate,
  postOpenAi,
  type InjectedAnswer,
} from '../testing/answers.js';
import { startInProcessGateway, type InProcessGateway } from '../testing/in-process-gateway.js';

/**
 * API keys' limits on every generation route, through the gateway's real pipeline in process (the in-process limiter,
 * real time): the refusal in each dialect's shape with Retry-After and OpenAI's x-ratelimit-* headers, the headers on
 * an admitted request's answer whatever it is, and what a failed request is charged. Across replicas, with Redis and
 * real backends: apps/gateway/test/gateway-key-limits.e2e.ts.
 */
const KEYS = {
  'one-a-minute': 'requests_per_minute: 1',
  'one-each-route': 'requests_per_minute: 1',
  'tgi-once': 'requests_per_minute: 1',
  budget: 'tokens_per_minute: 1000',
  'stream-once': 'requests_per_minute: 1',
} as const;
type Key = keyof typeof KEYS;
const secret = (key: Key) => `sk-${key}-secret-value`;
const auth = (key: Key) => ({ authorization: `Bearer ${secret(key)}` });

describe('API keys limits on the generation routes', () => {
  let gateway: InProcessGateway;
  before(async () => {
    const keys = Object.entries(KEYS).map(
      ([name, limits]) => `  - { name: ${name}, sha256: ${hashApiKey(secret(name as Key))}, limits: { ${limits} } }`,
    );
    gateway = await startInProcessGateway({ bodyLimitBytes: 65_536, keysYaml: `keys:\n${keys.join('\n')}\n` });
  });
  after(() => gateway?.close());

  const generate = (key: Key, inputs: string, extra: Record<string, unknown> = {}) =>
    postGenerate(gateway.app, { model_id: 'qwen2', inputs, ...extra }, auth(key));

  function assertLimitHeaders(answer: InjectedAnswer, limit: string, remaining: string): void {
    assert.equal(answer.headers['x-ratelimit-limit-requests'], limit);
    assert.equal(answer.headers['x-ratelimit-remaining-requests'], remaining);
    assert.match(String(answer.headers['x-ratelimit-reset-requests']), /^((\d+m)?\d+(\.\d+)?s|\d+ms)$/);
  }

  it('/v1/generate: 429 rate_limited in its own shape, with Retry-After from the window and the x-ratelimit-* headers', async () => {
    const first = await generate('one-a-minute', 'hello there');
    assert.equal(first.statusCode, 200, first.body);
    assertLimitHeaders(first, '1', '0');
    assert.equal(first.headers['x-ratelimit-reset-requests'], '1m0s', 'the request just admitted leaves in 60 s');
    const refused = await generate('one-a-minute', 'hello again');
    assertErrorAnswer(refused, 429, 'rate_limited', /API key "one-a-minute" is at its requests_per_minute \(1\)/);
    const retryAfter = Number(refused.headers['retry-after']);
    assert.ok(retryAfter >= 59 && retryAfter <= 60, `Retry-After ${retryAfter}`);
    assertLimitHeaders(refused, '1', '0');
  });

  it('a stream refused by its key is a JSON 429, not a 200 stream', async () => {
    assert.equal((await generate('stream-once', 'a b', { stream: true })).statusCode, 200);
    const refused = await generate('stream-once', 'a b', { stream: true });
    assertErrorAnswer(refused, 429, 'rate_limited');
    assertLimitHeaders(refused, '1', '0');
  });

  it("OpenAI routes: OpenAI's 429 (rate_limit_error, code rate_limited) with the same headers", async () => {
    const chat = (content: string) =>
      postOpenAi(
        gateway.app,
        '/v1/chat/completions',
        { model: 'qwen2', messages: [{ role: 'user', content }] },
        auth('one-each-route'),
      );
    assert.equal((await chat('hi there')).statusCode, 200);
    const refused = await chat('hi again');
    assertOpenAiError(refused, 429, 'rate_limited', { message: /requests_per_minute/ });
    assert.ok(Number(refused.headers['retry-after']) >= 59);
    assertLimitHeaders(refused, '1', '0');
    const completion = await postOpenAi(
      gateway.app,
      '/v1/completions',
      { model: 'qwen2', prompt: 'hi' },
      auth('one-each-route'),
    );
    assertOpenAiError(completion, 429, 'rate_limited');
  });

  it("per-model TGI routes: TGI's {error, error_type} 429", async () => {
    const post = (url: string) =>
      gateway.app.inject({
        method: 'POST',
        url,
        headers: { 'content-type': 'application/json', ...auth('tgi-once') },
        payload: JSON.stringify({ inputs: 'one two' }),
      });
    assert.equal((await post('/models/qwen2/generate')).statusCode, 200);
    const refused = await post('/models/qwen2/generate_stream');
    assert.equal(refused.statusCode, 429);
    assert.deepEqual(refused.json(), { error: refused.json().error, error_type: 'rate_limited' });
    assert.ok(Number(refused.headers['retry-after']) >= 59);
    assertLimitHeaders(refused, '1', '0');
  });

  it("charges the backend's usage on success, and a failed request what was streamed plus its prompt's estimate", async () => {
    const remaining = async () => {
      // A request the backend refuses before any work ('overloaded') is charged nothing: it only reads the headers.
      const probe = await generate('budget', 'overloaded');
      assertErrorAnswer(probe, 429, 'overloaded');
      return Number(probe.headers['x-ratelimit-remaining-tokens']);
    };
    assert.equal(await remaining(), 1000);
    const ok = await generate('budget', 'one two three four');
    assert.equal(ok.statusCode, 200);
    const { input_tokens, output_tokens } = ok.json().usage;
    assert.equal(await remaining(), 1000 - input_tokens - output_tokens);
    // 'fail-midstream' streams two tokens, then fails: 2 + ceil(14 characters / 4) = 6, streamed or not.
    const before = await remaining();
    assertErrorAnswer(await generate('budget', 'fail-midstream'), 502, 'upstream');
    assert.equal(await remaining(), before - 6);
    const streamed = await generate('budget', 'fail-midstream', { stream: true });
    assert.equal(streamed.statusCode, 200, 'the failure came after the first token: the last event says it');
    assert.equal(await remaining(), before - 12);
    // A backend that times out may have read the prompt: its estimate, ceil(7 / 4).
    assertErrorAnswer(await generate('budget', 'timeout'), 504, 'timeout');
    assert.equal(await remaining(), before - 14);
    assert.equal(ok.headers['x-ratelimit-limit-tokens'], '1000');
    assert.equal(ok.headers['x-ratelimit-limit-requests'], undefined, 'only the limits the key has');
  });

  it('counts refusals in Prometheus by key name and limit', async () => {
    const metrics = await gateway.app.inject({ method: 'GET', url: '/metrics', headers: auth('budget') });
    assert.equal(metrics.statusCode, 200, metrics.body);
    const samples = parsePrometheusText(metrics.body);
    const refusals = (key: string) => samples.get(`sluice_rate_limited_total{key="${key}",limit="requests"}`);
    assert.equal(refusals('one-a-minute'), 1);
    assert.equal(refusals('one-each-route'), 2);
  });
});
