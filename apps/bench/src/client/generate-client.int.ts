import assert from 'node:assert/strict';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { after, before, describe, it } from 'node:test';
import type { RequestSpec } from '../load/workload.js';
import { GenerateClient } from './generate-client.js';

/** A scripted stand-in for the gateway's /v1/generate answers, by the request's `inputs`. */
function gatewayLike(): Promise<{
  url: string;
  bodies: unknown[];
  authorizations: Array<string | undefined>;
  close(): Promise<void>;
}> {
  const bodies: unknown[] = [];
  const authorizations: Array<string | undefined> = [];
  const summary = {
    model_id: 'qwen2',
    finish_reason: 'length',
    usage: { input_tokens: 7, output_tokens: 3 },
    latency_ms: 12.5,
    queue_ms: 0.5,
    time_to_first_token_ms: 4.25,
    seed: null,
    request_id: 'r',
  };
  const token = (i: number) => ({
    index: i,
    token: { id: i, text: `t${i}`, logprob: null, special: false },
    generated_text: null,
    details: null,
  });
  const server = http.createServer((req, res) => {
    let text = '';
    req.on('data', (c) => (text += c));
    req.on('end', () => {
      const body = JSON.parse(text);
      bodies.push(body);
      authorizations.push(req.headers.authorization);
      const sse = () => res.writeHead(200, { 'content-type': 'text/event-stream' });
      switch (body.inputs) {
        case 'json':
          return res
            .writeHead(200, { 'content-type': 'application/json; charset=utf-8' })
            .end(JSON.stringify({ generated_text: 'abc', ...summary }));
        case 'stream':
          sse();
          res.write(`data:${JSON.stringify(token(1))}\n\n`);
          setTimeout(() => res.write(`data:${JSON.stringify(token(2))}\r\n\r\n: keep-alive\n\n`), 20);
          setTimeout(
            () =>
              res.end(
                `data: ${JSON.stringify({ ...token(3), generated_text: 't1t2t3', details: { finish_reason: 'length', generated_tokens: 3 }, ...summary })}\n\n`,
              ),
            40,
          );
          return;
        case 'overloaded':
          return res
            .writeHead(429, { 'content-type': 'application/json', 'retry-after': '1' })
            .end(JSON.stringify({ error: 'at capacity', error_type: 'overloaded', request_id: 'r' }));
        case 'mid-stream error':
          sse();
          res.write(`data:${JSON.stringify(token(1))}\n\n`);
          return res.end(`data:${JSON.stringify({ error: 'backend failed', error_type: 'upstream' })}\n\n`);
        case 'proxy page':
          return res.writeHead(502, { 'content-type': 'text/html' }).end('<html>bad gateway</html>');
        case 'cut':
          sse();
          return res.end(`data:${JSON.stringify(token(1))}\n\n`);
        case 'hang':
          return;
      }
    });
  });
  return new Promise((resolve) =>
    server.listen(0, '127.0.0.1', () =>
      resolve({
        url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
        bodies,
        authorizations,
        close: () => new Promise<void>((r) => (server.closeAllConnections(), server.close(() => r()))),
      }),
    ),
  );
}

const spec = (inputs: string, { stream = false } = {}): RequestSpec => ({
  model: 'qwen2',
  scenario: 'qa',
  lang: 'en',
  inputs,
  maxNewTokens: 3,
  temperature: 0.7,
  topP: 0.9,
  stream,
});

describe('the generation client', () => {
  let server: Awaited<ReturnType<typeof gatewayLike>>;
  let client: GenerateClient;
  before(async () => {
    server = await gatewayLike();
    client = new GenerateClient({ url: server.url, api: 'gateway' }, { originMs: performance.now(), timeoutMs: 300 });
  });
  after(async () => {
    client.close();
    await server.close();
  });

  it('sends an API key as a Bearer token only when the target has one', async () => {
    assert.equal((await client.send(0, spec('json'), 0)).ok, true);
    assert.equal(server.authorizations.at(-1), undefined);
    const keyed = new GenerateClient(
      { url: server.url, api: 'gateway', apiKey: 'sk-test-0123456789' },
      { originMs: performance.now(), timeoutMs: 300 },
    );
    try {
      assert.equal((await keyed.send(0, spec('json'), 0)).ok, true);
      assert.equal(server.authorizations.at(-1), 'Bearer sk-test-0123456789');
    } finally {
      keyed.close();
    }
  });

  it("sends the gateway's body and reads usage and timings from a JSON answer", async () => {
    const r = await client.send(0, spec('json'), 0);
    assert.equal(r.ok, true);
    assert.deepEqual(server.bodies.at(-1), {
      model_id: 'qwen2',
      inputs: 'json',
      scenario: 'qa',
      parameters: { max_new_tokens: 3, temperature: 0.7, top_p: 0.9 },
    });
    assert.deepEqual(r.usage, { input_tokens: 7, output_tokens: 3 });
    assert.deepEqual(r.server, { latency_ms: 12.5, queue_ms: 0.5, ttft_ms: 4.25 });
    assert.deepEqual(r.token_ms, []);
    assert.ok(r.sent_ms! >= r.intended_ms && r.end_ms! >= r.sent_ms!);
  });

  it('times every token event of a stream and reads usage from its last event', async () => {
    const r = await client.send(1, spec('stream', { stream: true }), 0);
    assert.equal(r.ok, true, r.error ?? '');
    assert.equal((server.bodies.at(-1) as { stream?: boolean }).stream, true);
    assert.equal(r.token_ms.length, 3);
    assert.equal(r.first_token_ms, r.token_ms[0]);
    assert.ok(
      r.token_ms[1]! - r.token_ms[0]! >= 15 && r.token_ms[2]! - r.token_ms[1]! >= 15,
      `token times ${r.token_ms}`,
    );
    assert.deepEqual(r.usage, { input_tokens: 7, output_tokens: 3 });
    assert.equal(r.server!.ttft_ms, 4.25);
  });

  it("takes the error type from the server's JSON error, or from the status when the body does not say", async () => {
    const overloaded = await client.send(2, spec('overloaded'), 0);
    assert.deepEqual(
      [overloaded.ok, overloaded.status, overloaded.error_type, overloaded.error],
      [false, 429, 'overloaded', 'at capacity'],
    );
    const page = await client.send(3, spec('proxy page'), 0);
    assert.deepEqual([page.status, page.error_type], [502, 'upstream']);
  });

  it('fails a stream on an error event after tokens, and on a stream that ends without its last event', async () => {
    const mid = await client.send(4, spec('mid-stream error', { stream: true }), 0);
    assert.deepEqual([mid.ok, mid.status, mid.error_type, mid.token_ms.length], [false, 200, 'upstream', 1]);
    const cut = await client.send(5, spec('cut', { stream: true }), 0);
    assert.deepEqual([cut.ok, cut.error_type], [false, 'protocol']);
  });

  it('gives up after the client timeout, and says so', async () => {
    const r = await client.send(6, spec('hang'), 0);
    assert.deepEqual([r.ok, r.status, r.error_type], [false, 0, 'client_timeout']);
    assert.ok(r.end_ms! - r.sent_ms! >= 290);
  });

  it('records a refused connection as a network error', async () => {
    const closed = http.createServer();
    await new Promise<void>((r) => closed.listen(0, '127.0.0.1', r));
    const port = (closed.address() as AddressInfo).port;
    await new Promise<void>((r) => closed.close(() => r()));
    const c = new GenerateClient(
      { url: `http://127.0.0.1:${port}`, api: 'gateway' },
      { originMs: performance.now(), timeoutMs: 1000 },
    );
    const r = await c.send(0, spec('json'), 0);
    c.close();
    assert.deepEqual([r.ok, r.status, r.error_type], [false, 0, 'network']);
    assert.match(r.error!, /ECONNREFUSED/);
  });

  it('sends TGI bodies without model_id, with details when streaming, to /generate_stream', async () => {
    const seen: Array<{ url: string; body: unknown }> = [];
    const tgi = http.createServer((req, res) => {
      let text = '';
      req.on('data', (c) => (text += c));
      req.on('end', () => {
        seen.push({ url: req.url!, body: JSON.parse(text) });
        res.writeHead(200, { 'content-type': 'text/event-stream' });
        res.end(
          `data:${JSON.stringify({ index: 1, token: { id: 1, text: 'a', logprob: null, special: false }, generated_text: 'a', details: { finish_reason: 'length', generated_tokens: 1, input_length: 4, seed: null } })}\n\n`,
        );
      });
    });
    await new Promise<void>((r) => tgi.listen(0, '127.0.0.1', r));
    const c = new GenerateClient(
      { url: `http://127.0.0.1:${(tgi.address() as AddressInfo).port}`, api: 'tgi' },
      { originMs: performance.now(), timeoutMs: 1000 },
    );
    const r = await c.send(0, spec('x', { stream: true }), 0);
    c.close();
    await new Promise<void>((done) => (tgi.closeAllConnections(), tgi.close(() => done())));
    assert.deepEqual(seen, [
      {
        url: '/generate_stream',
        body: { inputs: 'x', parameters: { max_new_tokens: 3, temperature: 0.7, top_p: 0.9, details: true } },
      },
    ]);
    assert.deepEqual(r.usage, { input_tokens: 4, output_tokens: 1 });
    assert.equal(r.server, null);
  });
});
