import assert from 'node:assert/strict';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { after, before, describe, it } from 'node:test';
import { LoadProfile } from '../load/profile.js';
import { executeRun } from '../load/run-load.js';
import { SCENARIO_PROMPTS, type RequestSpec, type Scenario } from '../load/workload.js';
import { startMockBackend, type RunningMockBackend } from '../mock-backend/mock-backend.js';
import { GenerateClient } from './generate-client.js';

const TTFT_MS = 5;

describe('--api openai against the mock backend', () => {
  let mock: RunningMockBackend;
  before(async () => {
    mock = await startMockBackend({ port: 0, ttftMs: TTFT_MS, itlMs: 1 });
  });
  after(() => mock.close());

  it("a short run: every answer read to [DONE], its tokens timed, usage the backend's", async () => {
    const maxNewTokens = 6;
    const outcome = await executeRun({
      target: { url: mock.url, api: 'openai', wireModel: 'tgi' },
      workload: {
        models: [{ id: 'm', weight: 1 }],
        languages: ['en'],
        maxNewTokens: [maxNewTokens],
        temperatures: [0.7],
        topP: 0.9,
        streamFraction: 0.5,
      },
      load: { kind: 'concurrency', profile: LoadProfile.constant(4, 500) },
      durationMs: 500,
      warmupMs: 0,
      maxRequests: Infinity,
      seed: 3,
      timeoutMs: 5000,
      thresholds: { maxLoopDelayMs: 1e9, maxScheduleLagMs: 1e9 },
    });
    const records = outcome.records;
    assert.ok(records.length >= 8, `${records.length} requests`);
    assert.deepEqual(
      records.filter((r) => !r.ok),
      [],
    );
    const streamed = records.filter((r) => r.stream);
    const plain = records.filter((r) => !r.stream);
    assert.ok(streamed.length > 0 && plain.length > 0, 'both kinds were drawn');
    for (const r of records) {
      const prompt = SCENARIO_PROMPTS[r.scenario as Scenario].en;
      assert.deepEqual(r.usage, {
        input_tokens: Math.ceil(Buffer.byteLength(prompt) / 4),
        output_tokens: maxNewTokens,
      });
    }
    for (const r of streamed) {
      assert.equal(r.token_ms.length, maxNewTokens, 'one token time per chunk with content');
      assert.equal(r.first_token_ms, r.token_ms[0]);
      assert.ok(r.first_token_ms - r.sent_ms! >= TTFT_MS - 1, `ttft ${r.first_token_ms - r.sent_ms!}`);
    }
    for (const r of plain) assert.deepEqual(r.token_ms, []);
  });
});

/**
 * A scripted stand-in for the gateway's OpenAI routes (not yet built when this was written), answering by the
 * user message: what the bench must read in OpenAI's error shapes and stream endings.
 */
function openAiGatewayStandIn(): Promise<{ url: string; close(): Promise<void> }> {
  const chunk = (content: string) =>
    `data: ${JSON.stringify({ id: 'c', object: 'chat.completion.chunk', created: 1, model: 'qwen2', system_fingerprint: 's', choices: [{ index: 0, delta: { content }, logprobs: null, finish_reason: null }] })}\n\n`;
  const error = (code: string | null, message: string, type = 'server_error') => ({
    error: { message, type, param: null, code },
  });
  const server = http.createServer((req, res) => {
    let text = '';
    req.on('data', (c) => (text += c));
    req.on('end', () => {
      const body = JSON.parse(text) as { messages: Array<{ content: string }> };
      const sse = () => res.writeHead(200, { 'content-type': 'text/event-stream' });
      switch (body.messages[0]!.content) {
        case 'overloaded':
          return res
            .writeHead(429, { 'content-type': 'application/json', 'retry-after': '1' })
            .end(JSON.stringify(error('overloaded', 'at capacity', 'rate_limit_error')));
        case 'bad field':
          return res
            .writeHead(400, { 'content-type': 'application/json' })
            .end(JSON.stringify(error(null, 'n must be 1', 'invalid_request_error')));
        case 'mid-stream error':
          sse();
          res.write(chunk('a'));
          return res.end(`data: ${JSON.stringify(error('upstream', 'backend failed'))}\n\n`);
        case 'no done':
          sse();
          return res.end(chunk('a'));
        case 'role first':
          sse();
          res.write(chunk(''));
          setTimeout(() => res.end(`${chunk('a')}${chunk('b')}data: [DONE]\n\n`), 20);
          return;
      }
    });
  });
  return new Promise((resolve) =>
    server.listen(0, '127.0.0.1', () =>
      resolve({
        url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
        close: () => new Promise<void>((r) => (server.closeAllConnections(), server.close(() => r()))),
      }),
    ),
  );
}

describe("--api openai reads OpenAI's errors and stream endings", () => {
  let server: Awaited<ReturnType<typeof openAiGatewayStandIn>>;
  let client: GenerateClient;
  before(async () => {
    server = await openAiGatewayStandIn();
    client = new GenerateClient({ url: server.url, api: 'openai' }, { originMs: performance.now(), timeoutMs: 2000 });
  });
  after(async () => {
    client.close();
    await server.close();
  });

  const spec = (inputs: string, stream: boolean): RequestSpec => ({
    model: 'qwen2',
    scenario: 'qa',
    lang: 'en',
    inputs,
    maxNewTokens: 4,
    temperature: null,
    topP: null,
    stream,
  });

  it("takes the error type from an OpenAI error's code, else from the status", async () => {
    const refused = await client.send(0, spec('overloaded', false), 0);
    assert.deepEqual(
      [refused.ok, refused.status, refused.error_type, refused.error],
      [false, 429, 'overloaded', 'at capacity'],
    );
    const bad = await client.send(1, spec('bad field', false), 0);
    assert.deepEqual([bad.status, bad.error_type, bad.error], [400, 'validation', 'n must be 1']);
  });

  it('fails a stream on an error event after content, and on a stream that ends without [DONE]', async () => {
    const mid = await client.send(2, spec('mid-stream error', true), 0);
    assert.deepEqual([mid.ok, mid.status, mid.error_type, mid.token_ms.length], [false, 200, 'upstream', 1]);
    const cut = await client.send(3, spec('no done', true), 0);
    assert.deepEqual([cut.ok, cut.error_type], [false, 'protocol']);
  });

  it('times the first token at the first chunk with content, not at the role-only chunk', async () => {
    const r = await client.send(4, spec('role first', true), 0);
    assert.equal(r.ok, true, r.error ?? '');
    assert.equal(r.token_ms.length, 2);
    assert.ok(r.first_token_ms! - r.sent_ms! >= 15, `first token after ${r.first_token_ms! - r.sent_ms!} ms`);
    assert.equal(r.usage, null, 'no usage chunk: no usage');
  });
});
