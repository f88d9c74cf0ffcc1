import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { request as httpRequest } from 'node:http';
import { connect } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { promisify } from 'node:util';
import { localModelsYaml, startGateway, writeModelsConfig, type RunningGateway } from '#test-support/gateway';
import { request, type HttpResult } from '#test-support/http-client';

/** Short receive timeouts, so that a half-sent request is answered within the suite's patience. */
const REQUEST_TIMEOUT_MS = 3000;

interface Answer {
  status: number;
  headers: Record<string, string>;
  body: string;
}

/** The abuse a curl loop finds, against a gateway with both shipped models in real engines, each probe the way a
 * client library would not hide it (raw sockets, node:http, curl): a 4xx in the documented shape, never a 5xx, no
 * hang past the request timeout; and the engines stay ready and /health/ready answers 200 within 1 s throughout. */
describe('abuse: every bound holds with real engines, and the gateway stays ready', () => {
  let gateway: RunningGateway;
  let port: number;
  let engines: Record<string, string>;
  const polls: Array<{ status: number; ms: number; what: string }> = [];
  let polling = true;
  let poller: Promise<void>;

  before(async () => {
    gateway = await startGateway(writeModelsConfig(localModelsYaml()), {
      env: { REQUEST_TIMEOUT_MS: String(REQUEST_TIMEOUT_MS), HEADERS_TIMEOUT_MS: '2000' },
    });
    port = Number(new URL(gateway.url).port);
    const models = (await request(`${gateway.url}/models`)).json<{ models: any[] }>().models;
    engines = Object.fromEntries(models.map((m) => [m.id, m.backend.address as string]));
    poller = pollHealth();
  });
  after(async () => {
    polling = false;
    await poller;
    await gateway?.stop();
  });

  /** /health/ready and each engine's /health every 100 ms while the suite runs, each poll timed. */
  async function pollHealth(): Promise<void> {
    while (polling) {
      await Promise.all(
        [`${gateway.url}/health/ready`, ...Object.values(engines).map((url) => `${url}/health`)].map(async (url) => {
          const started = performance.now();
          const answer = await request(url).catch(() => ({ status: 0 }));
          polls.push({ status: answer.status, ms: performance.now() - started, what: url });
        }),
      );
      await new Promise((resolve) => setTimeout(resolve, 100));
    }
  }

  /** Sends raw bytes on a new connection and reads until the server closes it (or `waitMs` passes). */
  function raw(bytes: string, waitMs = REQUEST_TIMEOUT_MS + 3000, to = port): Promise<{ answer?: Answer; ms: number }> {
    const started = performance.now();
    return new Promise((resolve) => {
      const socket = connect(to, '127.0.0.1');
      let text = '';
      const timer = setTimeout(() => socket.destroy(), waitMs);
      socket.setEncoding('utf8').on('data', (chunk: string) => (text += chunk));
      socket.on('error', () => undefined);
      socket.on('close', () => {
        clearTimeout(timer);
        resolve({ answer: parseAnswer(text), ms: performance.now() - started });
      });
      socket.write(bytes);
    });
  }

  const generation = (body: object) => JSON.stringify({ model_id: 'qwen2', ...body });
  const emoji = '😀'.repeat(100_000);

  it('six concurrent prompts of 100,000 emoji (within the 100,000 characters): 422 at once, engines stay ready', async () => {
    const started = performance.now();
    const answers = await Promise.all(
      Array.from({ length: 6 }, (_, i) =>
        request(`${gateway.url}/v1/generate`, {
          method: 'POST',
          body: { model_id: i % 2 ? 'llama3' : 'qwen2', inputs: emoji, parameters: { max_new_tokens: 4 } },
        }),
      ),
    );
    for (const answer of answers) assertGatewayError(answer, 422, /must have less than \d+ tokens/);
    const chat = await request(`${gateway.url}/v1/chat/completions`, {
      method: 'POST',
      body: { model: 'qwen2', messages: [{ role: 'user', content: emoji }], max_tokens: 4 },
    });
    assertOpenAiError(chat, 400);
    assert.ok(performance.now() - started < 10_000, `answered in ${Math.round(performance.now() - started)} ms`);
  });

  it("the engine's own /tokenize and /generate: the same caps, at once, in TGI's shape", async () => {
    for (const url of Object.values(engines)) {
      const started = performance.now();
      const tokenize = await request(`${url}/tokenize`, { method: 'POST', body: { inputs: emoji } });
      assert.equal(tokenize.status, 422, tokenize.text);
      assert.deepEqual(Object.keys(tokenize.json()).sort(), ['error', 'error_type']);
      const sliced = await request(`${url}/generate`, { method: 'POST', body: { inputs: '😀'.repeat(8000) } });
      assert.equal(sliced.status, 422, sliced.text);
      assert.ok(performance.now() - started < 2000, `${Math.round(performance.now() - started)} ms`);
    }
  });

  it('a body nested 100,000 deep: 400, not a stack overflow reported as 502', async () => {
    const deep = '['.repeat(100_000) + ']'.repeat(100_000);
    for (const path of ['/v1/generate', '/v1/chat/completions', '/models/qwen2/generate']) {
      const answer = await request(`${gateway.url}${path}`, {
        method: 'POST',
        rawBody: deep,
        headers: { 'content-type': 'application/json' },
      });
      assert.equal(answer.status, 400, `${path}: ${answer.text}`);
      assert.match(answer.text, /nests deeper than 64 levels/);
      assert.ok(answer.headers['x-request-id']);
    }
  });

  it('60,000 unknown keys: a short 400; 900 of them: a 422 that names five', async () => {
    const keys = (n: number) => Object.fromEntries(Array.from({ length: n }, (_, i) => [`k_${i}`, 0])); // 60,000: 780 kB
    const wide = await request(`${gateway.url}/v1/generate`, {
      method: 'POST',
      body: { model_id: 'qwen2', inputs: 'Hi', ...keys(60_000) },
    });
    assertGatewayError(wide, 400, /more than 1000 keys/);
    assert.ok(wide.text.length < 500, `${wide.text.length} bytes`);
    const many = await request(`${gateway.url}/v1/generate`, {
      method: 'POST',
      body: { model_id: 'qwen2', inputs: 'Hi', ...keys(900) },
    });
    assertGatewayError(many, 422, /k_4 should not exist; and 895 more$/);
    assert.ok(many.text.length < 500, `${many.text.length} bytes`);
  });

  it('a 12 MB body: 413 read by curl (Expect: 100-continue), and by node:http sending it all, from the gateway and an engine', async () => {
    const file = join(mkdtempSync(join(tmpdir(), 'sluice-abuse-')), 'big.json');
    writeFileSync(file, generation({ inputs: 'a'.repeat(12_000_000) }));
    const curl = await promisify(execFile)('curl', [
      '-s',
      '-i',
      '-m',
      '20',
      `${gateway.url}/v1/generate`,
      '-H',
      'content-type: application/json',
      '--data-binary',
      `@${file}`,
    ]).catch((error: { stdout?: string; code?: unknown }) => ({
      stdout: `curl failed: ${String(error.code)} ${error.stdout}`,
    }));
    assert.match(curl.stdout, /^HTTP\/1\.1 413 /m, curl.stdout.slice(0, 300));
    assert.match(curl.stdout, /"error_type":"validation","request_id":"[^"]+"\}$/);

    for (const url of [`${gateway.url}/v1/generate`, `${Object.values(engines)[0]}/generate`]) {
      const whole = await sendWhole(url, Buffer.alloc(12_000_000, 'a'));
      assert.equal(whole.status, 413, `${url}: ${whole.text}`);
      assert.equal(whole.error, undefined, `${url}: the whole body went out without a reset`);
      assert.equal(JSON.parse(whole.text).error_type, 'validation');
    }
  });

  /** node:http writing a whole body at once (Content-Length, no Expect) and then reading the answer. */
  function sendWhole(url: string, body: Buffer): Promise<{ status: number; text: string; error?: string }> {
    return new Promise((resolve) => {
      let error: string | undefined;
      const req = httpRequest(
        url,
        { method: 'POST', headers: { 'content-type': 'application/json', 'content-length': body.length } },
        (res) => {
          let text = '';
          res.setEncoding('utf8').on('data', (chunk: string) => (text += chunk));
          res.on('end', () => resolve({ status: res.statusCode!, text, error }));
        },
      );
      req.on('error', (e: NodeJS.ErrnoException) => (error = e.code));
      req.end(body);
    });
  }

  it('a form post, text/plain or no content type: 415 on every POST route of the gateway and the engines', async () => {
    const gatewayRoutes = [
      '/v1/generate',
      '/v1/chat/completions',
      '/v1/completions',
      '/models/qwen2/generate',
      '/models/qwen2/generate_stream',
      '/models/qwen2',
      '/models/qwen2/v1/completions',
    ];
    for (const path of gatewayRoutes) {
      for (const type of ['application/x-www-form-urlencoded', 'text/plain', 'multipart/form-data; boundary=x']) {
        const answer = await request(`${gateway.url}${path}`, {
          method: 'POST',
          rawBody: 'model_id=qwen2&inputs=Hi',
          headers: { 'content-type': type },
        });
        assert.equal(answer.status, 415, `${path} ${type}: ${answer.text}`);
        assert.ok(answer.headers['x-request-id'], path);
        JSON.parse(answer.text);
      }
    }
    for (const url of Object.values(engines)) {
      for (const path of [
        '/generate',
        '/generate_stream',
        '/',
        '/tokenize',
        '/v1/chat/completions',
        '/v1/completions',
      ]) {
        const answer = await request(`${url}${path}`, {
          method: 'POST',
          rawBody: 'inputs=Hi',
          headers: { 'content-type': 'application/x-www-form-urlencoded' },
        });
        assert.equal(answer.status, 415, `engine ${path}: ${answer.text}`);
        assert.deepEqual(Object.keys(answer.json()).sort(), ['error', 'error_type']);
      }
    }
  });

  it('half a body: 408 in the documented shape within the request timeout, not minutes later', async () => {
    const { answer, ms } = await raw(
      'POST /v1/generate HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nContent-Length: 1000\r\n\r\n{"model_id":',
    );
    assert.equal(answer?.status, 408, answer?.body);
    assert.ok(ms < REQUEST_TIMEOUT_MS + 2000, `closed after ${Math.round(ms)} ms`);
    const body = JSON.parse(answer.body);
    assert.equal(body.error_type, 'validation');
    assert.equal(body.request_id, answer.headers['x-request-id']);
  });

  it('headers that never end: 408 within the header timeout', async () => {
    const { answer, ms } = await raw('POST /v1/generate HTTP/1.1\r\nHost: x\r\n');
    assert.equal(answer?.status, 408, answer?.body);
    assert.ok(ms < 2000 + 2000, `closed after ${Math.round(ms)} ms`);
  });

  it("an engine's headers that never end: 408 in TGI's shape within its 10 s header timeout", async () => {
    const enginePort = Number(new URL(Object.values(engines)[0]!).port);
    const { answer, ms } = await raw('POST /generate HTTP/1.1\r\nHost: x\r\n', 15_000, enginePort);
    assert.equal(answer?.status, 408, answer?.body);
    assert.deepEqual(Object.keys(JSON.parse(answer.body)).sort(), ['error', 'error_type']);
    assert.ok(ms < 12_000, `closed after ${Math.round(ms)} ms`);
  });

  it('a wrong method on a known path: 405 with Allow, in the route shape', async () => {
    const generate = await request(`${gateway.url}/v1/generate`);
    assertGatewayError(generate, 405, /GET is not allowed on \/v1\/generate/);
    assert.equal(generate.headers.allow, 'POST');
    const engine = await request(`${Object.values(engines)[0]}/generate`);
    assert.equal(engine.status, 405);
    assert.equal(engine.headers.allow, 'POST');
  });

  it('not HTTP, or headers too large: 400 and 431 in the documented shape', async () => {
    const garbage = await raw('HELLO\r\n\r\n');
    assert.equal(garbage.answer?.status, 400);
    assert.equal(JSON.parse(garbage.answer.body).error_type, 'validation');
    const big = await raw(`GET /health/live HTTP/1.1\r\nHost: x\r\nX-Big: ${'a'.repeat(20_000)}\r\n\r\n`);
    assert.equal(big.answer?.status, 431);
    assert.ok(big.answer.headers['x-request-id']);
  });

  it('a client that leaves mid-stream is one info line "cancelled", not an error with a stack', async () => {
    const before = gateway.process.output.length;
    const socket = connect(port, '127.0.0.1');
    const body = generation({ inputs: 'Once upon a time', stream: true, parameters: { max_new_tokens: 200 } });
    socket.write(
      `POST /v1/generate HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nContent-Length: ${Buffer.byteLength(body)}\r\n\r\n${body}`,
    );
    await new Promise<void>((resolve) => socket.once('data', () => resolve()));
    socket.destroy();
    await gateway.process.waitForLine(/the client left before its answer was complete \(cancelled\)/, 5000);
    await new Promise((resolve) => setTimeout(resolve, 300));
    const lines = gateway.process.output.slice(before);
    assert.deepEqual(
      lines.filter((line) => /ERROR|\n\s+at /.test(line)),
      [],
      lines.join('\n'),
    );
  });

  it('after all of it: both engines ready on 127.0.0.1, and every health poll answered 200 within 1 s', async () => {
    const models = (await request(`${gateway.url}/models`)).json<{ models: any[] }>().models;
    for (const model of models) {
      assert.equal(model.state, 'ready', `${model.id}: ${JSON.stringify(model.last_error)}`);
      assert.equal(new URL(model.backend.address).hostname, '127.0.0.1');
    }
    assert.ok(gateway.process.output.some((line) => /listening on http:\/\/127\.0\.0\.1:\d+ /.test(line)));
    assert.ok(polls.length > 20, `${polls.length} polls`);
    const bad = polls.filter((poll) => poll.status !== 200 || poll.ms > 1000);
    assert.deepEqual(bad, [], `${bad.length} of ${polls.length} polls failed or took over 1 s`);
  });
});

function parseAnswer(text: string): Answer | undefined {
  const end = text.indexOf('\r\n\r\n');
  if (end < 0) return undefined;
  const [statusLine, ...lines] = text.slice(0, end).split('\r\n');
  const headers = Object.fromEntries(
    lines.map((line) => [line.slice(0, line.indexOf(':')).toLowerCase(), line.slice(line.indexOf(':') + 1).trim()]),
  );
  return { status: Number(statusLine?.split(' ')[1]), headers, body: text.slice(end + 4) };
}

function assertGatewayError(answer: HttpResult, status: number, message: RegExp): void {
  assert.equal(answer.status, status, answer.text.slice(0, 300));
  const body = answer.json<{ error: string; error_type: string; request_id: string }>();
  assert.deepEqual(Object.keys(body).sort(), ['error', 'error_type', 'request_id']);
  assert.equal(body.request_id, answer.headers['x-request-id']);
  assert.match(body.error, message);
}

function assertOpenAiError(answer: HttpResult, status: number): void {
  assert.equal(answer.status, status, answer.text.slice(0, 300));
  assert.deepEqual(Object.keys(answer.json<{ error: object }>().error).sort(), ['code', 'message', 'param', 'type']);
  assert.ok(answer.headers['x-request-id']);
}
