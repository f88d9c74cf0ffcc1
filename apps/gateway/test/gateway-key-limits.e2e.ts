import assert from 'node:assert/strict';
import { mkdtempSync, writeFileSync } from 'node:fs';
import http from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import OpenAI, { RateLimitError } from 'openai';
import { startTgiStandIn, type StandInScript, type TgiStandIn } from '#backends/testing';
import { redisForGateways, type GatewayRedis } from '#dispatch/testing';
import { hashApiKey } from '#gateway/auth/key-ring';
import { startGateway, writeModelsConfig, type RunningGateway } from '#test-support/gateway';
import { parseSse, request, type HttpResult } from '#test-support/http-client';
import { parsePrometheusText } from '#metrics/testing';

/**
 * API keys' limits held exactly across three REAL gateway processes sharing one REAL redis-server: every replica
 * counts the same requests, slots and tokens. The models are TGI stand-ins: `qwen2` answers at once, `llama3` slowly
 * (its own stand-in, so that its count of generations at once belongs to the concurrency case alone).
 */
const TOKENS_PER_MINUTE = 40;
const KEYS = {
  requests: { name: 'ten-a-minute', limits: 'requests_per_minute: 10' },
  concurrent: { name: 'three-at-once', limits: 'max_concurrent: 3' },
  generateTokens: { name: 'generate-tokens', limits: `tokens_per_minute: ${TOKENS_PER_MINUTE}` },
  chatTokens: { name: 'chat-tokens', limits: `tokens_per_minute: ${TOKENS_PER_MINUTE}` },
  leaver: { name: 'leaves-mid-stream', limits: 'tokens_per_minute: 1000' },
  free: { name: 'free', limits: '' },
} as const;
type KeyName = keyof typeof KEYS;
const secret = (key: KeyName) => `sk-test-${key}-0123456789abcdef`;

function keysFile(): string {
  const entries = Object.entries(KEYS).map(
    ([key, { name, limits }]) =>
      `  - { name: ${name}, sha256: ${hashApiKey(secret(key as KeyName))}${limits ? `, limits: { ${limits} }` : ''} }`,
  );
  const path = join(mkdtempSync(join(tmpdir(), 'sluice-keys-')), 'keys.yaml');
  writeFileSync(path, `keys:\n${entries.join('\n')}\n`);
  return path;
}

function modelsConfig(quick: string, slow: string): string {
  const model = (id: string, url: string) =>
    `  - { id: ${id}, quantization: gptq-int4, vram_budget_gb: 6, gpu: "0", backend: { type: tgi, url: ${url} } }`;
  return writeModelsConfig(`gpus: [{ id: "0", memory_gb: 12 }]
readiness: { required: all }
defaults:
  max_concurrent: 16
  max_queued: 64
  max_new_tokens: 64
  default_max_new_tokens: 16
  timeouts: { connect_ms: 1000, first_byte_ms: 5000, inter_token_ms: 5000, total_ms: 15000, startup_ms: 60000 }
models:
${model('qwen2', quick)}
${model('llama3', slow)}
`);
}

const QUICK: StandInScript = { tokens: [' one', ' two', ' three'], tokenDelayMs: 2 };
const SLOW: StandInScript = { tokens: Array.from({ length: 40 }, (_, i) => ` t${i}`), tokenDelayMs: 50 };

describe('per-key limits across three gateway replicas sharing one Redis', () => {
  let quick: TgiStandIn;
  let slow: TgiStandIn;
  let redis: GatewayRedis;
  let gateways: RunningGateway[] = [];

  before(async () => {
    [quick, slow] = await Promise.all([
      startTgiStandIn({ script: QUICK, maxConcurrentRequests: 1000 }),
      startTgiStandIn({ script: SLOW, maxConcurrentRequests: 1000 }),
    ]);
    redis = await redisForGateways({ own: true }); // the last case stops and restarts it
    const config = modelsConfig(quick.url, slow.url);
    const env = { ...redis.env, API_KEYS_FILE: keysFile() };
    gateways = await Promise.all([0, 1, 2].map(() => startGateway(config, { env })));
  });
  after(async () => {
    await Promise.all(gateways.map((gateway) => gateway.stop()));
    await Promise.all([quick?.close(), slow?.close()]);
    await redis?.stop();
  });

  const generate = (i: number, key: KeyName, body: Record<string, unknown>): Promise<HttpResult> =>
    request(`${gateways[i % 3]!.url}/v1/generate`, {
      method: 'POST',
      body: { model_id: 'qwen2', ...body },
      headers: { authorization: `Bearer ${secret(key)}` },
    });

  /** A 429 of the key's own limits in /v1/generate's shape, with its Retry-After and the request id. */
  function assertRateLimited(res: HttpResult, maxRetryAfterS: number): number {
    assert.equal(res.status, 429, res.text);
    const body = res.json();
    assert.equal(body.error_type, 'rate_limited');
    assert.equal(body.request_id, res.headers['x-request-id']);
    const retryAfter = Number(res.headers['retry-after']);
    assert.ok(retryAfter >= 1 && retryAfter <= maxRetryAfterS, `Retry-After ${res.headers['retry-after']}`);
    return retryAfter;
  }

  it('lets exactly requests_per_minute requests through, counted over all replicas, and refuses the rest', async () => {
    const answers = await Promise.all(Array.from({ length: 30 }, (_, i) => generate(i, 'requests', { inputs: 'hi' })));
    const ok = answers.filter((res) => res.status === 200);
    const refused = answers.filter((res) => res.status !== 200);
    assert.equal(ok.length, 10, `statuses: ${answers.map((res) => res.status).join(' ')}`);
    // Each admission saw the shared count: the remaining values are 9 down to 0, once each, whichever replica.
    assert.deepEqual(
      ok.map((res) => Number(res.headers['x-ratelimit-remaining-requests'])).sort((a, b) => b - a),
      [9, 8, 7, 6, 5, 4, 3, 2, 1, 0],
    );
    for (const res of refused) {
      assertRateLimited(res, 60);
      assert.match(res.json().error, /requests_per_minute \(10\)/);
      assert.equal(res.headers['x-ratelimit-limit-requests'], '10');
      assert.equal(res.headers['x-ratelimit-remaining-requests'], '0');
      assert.match(String(res.headers['x-ratelimit-reset-requests']), /^\d+(\.\d+)?s$/);
    }
    for (const res of answers) assert.equal(res.headers['x-ratelimit-limit-tokens'], undefined, 'no token limit');
    // Another key is not touched by this one's count, and an unlimited key gets no headers.
    const free = await generate(0, 'free', { inputs: 'hi' });
    assert.equal(free.status, 200);
    assert.equal(free.headers['x-ratelimit-limit-requests'], undefined);
  });

  it('never runs more than max_concurrent of a key at once over all replicas, and frees each slot at the end', async () => {
    const answers = await Promise.all(
      Array.from({ length: 12 }, (_, i) =>
        generate(i, 'concurrent', { model_id: 'llama3', inputs: 'slow', parameters: { max_new_tokens: 40 } }),
      ),
    );
    const ok = answers.filter((res) => res.status === 200);
    assert.equal(slow.stats.maxInFlight, 3, "the backend's own count of generations at once");
    assert.ok(ok.length >= 3 && ok.length < 12, `statuses: ${answers.map((res) => res.status).join(' ')}`);
    for (const res of answers.filter((r) => r.status !== 200)) {
      assert.equal(assertRateLimited(res, 1), 1);
      assert.match(res.json().error, /max_concurrent \(3\)/);
    }
    const again = await Promise.all(
      [0, 1, 2].map((i) =>
        generate(i, 'concurrent', { model_id: 'llama3', inputs: 'slow', parameters: { max_new_tokens: 2 } }),
      ),
    );
    assert.deepEqual(
      again.map((res) => res.status),
      [200, 200, 200],
      'every slot came back',
    );
  });

  it('charges /v1/generate the usage its answers report, streams included, and refuses once the window holds the limit', async () => {
    const words = Array.from({ length: 11 }, (_, i) => `w${i}`).join(' ');
    let charged = 0;
    for (let i = 0; charged < TOKENS_PER_MINUTE; i++) {
      const stream = i % 2 === 1;
      const res = await generate(i, 'generateTokens', { inputs: words, stream });
      assert.equal(res.status, 200, res.text);
      assert.equal(res.headers['x-ratelimit-limit-tokens'], String(TOKENS_PER_MINUTE));
      assert.equal(Number(res.headers['x-ratelimit-remaining-tokens']), TOKENS_PER_MINUTE - charged);
      const usage = stream ? parseSse(res.text).at(-1).usage : res.json().usage;
      assert.ok(usage.input_tokens === 11 && usage.output_tokens > 0, JSON.stringify(usage));
      charged += usage.input_tokens + usage.output_tokens;
    }
    const refused = await generate(0, 'generateTokens', { inputs: 'hi' });
    const retryAfter = assertRateLimited(refused, 60);
    assert.ok(retryAfter >= 50, `the first charge leaves the window about 60 s after it was made: ${retryAfter}`);
    assert.match(refused.json().error, /tokens_per_minute \(40\)/);
    assert.equal(refused.headers['x-ratelimit-remaining-tokens'], '0');
    assert.match(String(refused.headers['x-ratelimit-reset-tokens']), /^\d+(\.\d+)?s$/);
  });

  it('charges /v1/chat/completions the usage the OpenAI SDK reads, streams included, and refuses with its 429', async () => {
    const clients = gateways.map(
      (gateway) => new OpenAI({ baseURL: `${gateway.url}/v1`, apiKey: secret('chatTokens'), maxRetries: 0 }),
    );
    const messages = [{ role: 'user' as const, content: 'tell me about the limits of this gateway please' }];
    let charged = 0;
    for (let i = 0; charged < TOKENS_PER_MINUTE; i++) {
      const client = clients[i % 3]!;
      let usage: OpenAI.CompletionUsage | undefined;
      let headers: Headers;
      if (i % 2 === 0) {
        const { data, response } = await client.chat.completions
          .create({ model: 'qwen2', messages, max_tokens: 8 })
          .withResponse();
        usage = data.usage;
        headers = response.headers;
      } else {
        const { data, response } = await client.chat.completions
          .create({ model: 'qwen2', messages, max_tokens: 8, stream: true, stream_options: { include_usage: true } })
          .withResponse();
        for await (const chunk of data) usage = chunk.usage ?? usage;
        headers = response.headers;
      }
      assert.ok(usage && usage.prompt_tokens > 0 && usage.completion_tokens > 0, JSON.stringify(usage));
      assert.equal(Number(headers.get('x-ratelimit-remaining-tokens')), TOKENS_PER_MINUTE - charged);
      charged += usage.prompt_tokens + usage.completion_tokens;
    }
    const refusal = await clients[0]!.chat.completions.create({ model: 'qwen2', messages }).catch((error) => error);
    assert.ok(refusal instanceof RateLimitError, String(refusal));
    assert.equal(refusal.code, 'rate_limited');
    assert.equal(refusal.type, 'rate_limit_error');
    assert.ok(Number(refusal.headers?.get('retry-after')) >= 1);
    assert.equal(refusal.headers?.get('x-ratelimit-remaining-tokens'), '0');
  });

  it('charges a client that leaves mid-stream what was streamed to it, plus its prompt estimate, not a whole answer', async (t) => {
    let received = 0;
    await new Promise<void>((resolve, reject) => {
      const req = http.request(
        `${gateways[1]!.url}/v1/generate`,
        {
          method: 'POST',
          headers: { 'content-type': 'application/json', authorization: `Bearer ${secret('leaver')}` },
        },
        (res) => {
          res.on('data', (chunk: Buffer) => {
            received += chunk.toString('utf8').split('data:').length - 1;
            if (received >= 3) {
              req.destroy();
              resolve();
            }
          });
        },
      );
      req.on('error', (error) => (req.destroyed ? resolve() : reject(error)));
      req.end(JSON.stringify({ model_id: 'llama3', inputs: 'slow', stream: true, parameters: { max_new_tokens: 40 } }));
    });
    while (slow.stats.inFlight > 0) await new Promise((resolve) => setTimeout(resolve, 20));
    await new Promise((resolve) => setTimeout(resolve, 200)); // the gateway's release follows the aborted call
    const probe = await generate(2, 'leaver', { inputs: 'hi' });
    assert.equal(probe.status, 200, probe.text);
    const charged = 1000 - Number(probe.headers['x-ratelimit-remaining-tokens']);
    // 'slow' is 4 characters: an estimate of 1 token. A whole answer would have been 1 + 40.
    t.diagnostic(`charged ${charged} tokens after ${received} streamed to the client`);
    assert.ok(charged >= received + 1 && charged < 41, `charged ${charged} after ${received} tokens streamed`);
  });

  it('with Redis down, refuses limited keys with 503 at once (RATE_LIMIT_REDIS_DOWN=refuse), says so once, and recovers', async () => {
    await redis.server!.stop();
    const startedAt = performance.now();
    const answers = await Promise.all([0, 1, 2, 3].map((i) => generate(i, 'requests', { inputs: 'hi' })));
    assert.ok(performance.now() - startedAt < 2000, 'answered at once, not after a timeout');
    for (const res of answers) {
      assert.equal(res.status, 503, res.text);
      assert.equal(res.json().error_type, 'unavailable');
      assert.match(res.json().error, /limits of API key "ten-a-minute" cannot be checked/);
      assert.equal(res.headers['retry-after'], '1');
    }
    const outages = gateways[0]!.process.output.filter((line) => line.includes('Redis is unreachable')).length;
    assert.equal(outages, 1, 'logged once per outage, whatever the number of requests');
    const metrics = await request(`${gateways[0]!.url}/metrics`, {
      headers: { authorization: `Bearer ${secret('free')}` },
    });
    const refused = parsePrometheusText(metrics.text).get(
      'sluice_rate_limit_decisions_without_redis_total{decision="refuse"}',
    );
    assert.equal(refused, 2, 'requests 0 and 3 went to this replica');
    await redis.server!.start();
    // Until the queue's connections are back too, an attempt the limiter admitted may still fail: each one counts.
    const deadline = Date.now() + 10_000;
    let admitted = 0;
    let res: HttpResult;
    do {
      await new Promise((resolve) => setTimeout(resolve, 200));
      res = await generate(1, 'requests', { inputs: 'hi' });
      if (res.headers['x-ratelimit-remaining-requests'] !== undefined) admitted++;
    } while (res.status !== 200 && Date.now() < deadline);
    assert.equal(res.status, 200, res.text);
    assert.equal(Number(res.headers['x-ratelimit-remaining-requests']), 10 - admitted, 'the restarted Redis is empty');
  });
});
