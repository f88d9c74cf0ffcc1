import assert from 'node:assert/strict';
import { request as httpRequest, type Server } from 'node:http';
import { connect, type AddressInfo } from 'node:net';
import { after, before, describe, it } from 'node:test';
import { postLargeBody } from '#test-support/http-client';
import { parseResponses, readAll, type RawResponse } from '#test-support/raw-http';
import { until } from '../testing/answers.js';
import { startInProcessGateway, type InProcessGateway } from '../testing/in-process-gateway.js';

/**
 * The refusals only a real socket can provoke — Node's HTTP parser answers before Fastify sees a request (431, 408,
 * 400 for what is not HTTP), and a closing server answers requests still arriving on a busy connection (503) — in
 * the documented shape. The gateway is the in-process one (scripted backends), listening on a free port.
 */
describe('the gateway answers on the socket in the documented shape too', () => {
  let gateway: InProcessGateway;
  let port: number;

  before(async () => {
    gateway = await startInProcessGateway();
    // Short enough for a test (Node's defaults: 60 s for headers, checked every 30 s); read when it starts listening.
    const server = gateway.app.getHttpServer() as Server & { connectionsCheckingInterval: number };
    server.headersTimeout = 200;
    server.requestTimeout = 400;
    server.connectionsCheckingInterval = 50;
    await gateway.app.listen(0, '127.0.0.1');
    port = (server.address() as AddressInfo).port;
  });
  after(() => gateway?.close());

  it('431 validation for headers larger than Node accepts', async () => {
    const [answer] = await exchange(`GET /health/live HTTP/1.1\r\nHost: x\r\nX-Big: ${'a'.repeat(20_000)}\r\n\r\n`);
    assertErrorAnswer(answer, 431, 'validation', /headers are too large/);
  });

  it('400 validation for bytes that are not an HTTP request', async () => {
    const [answer] = await exchange('HELLO THERE\r\n\r\n');
    assertErrorAnswer(answer, 400, 'validation', /not valid HTTP\/1\.1 \(HPE_/);
  });

  it('408 validation for a request whose headers do not arrive in time', async () => {
    const [answer] = await exchange('POST /v1/generate HTTP/1.1\r\nHost: x\r\n');
    assertErrorAnswer(answer, 408, 'validation', /did not arrive in time/);
  });

  it('413 validation for a large body, refused by its Content-Length before it is read', async () => {
    const big = Buffer.from(JSON.stringify({ model_id: 'qwen2', inputs: 'x'.repeat(256 * 1024) }));
    const answer = await postLargeBody(`http://127.0.0.1:${port}/v1/generate`, big);
    assert.equal(answer.status, 413);
    const body = answer.json();
    assert.deepEqual(Object.keys(body).sort(), ['error', 'error_type', 'request_id']);
    assert.equal(body.error_type, 'validation');
  });

  it('408 validation for a body that stops halfway, within the request timeout', async () => {
    const started = performance.now();
    const [answer] = await exchange(
      'POST /v1/generate HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nContent-Length: 100\r\n\r\n{"model_id":',
    );
    assertErrorAnswer(answer, 408, 'validation', /did not arrive in time/);
    assert.ok(performance.now() - started < 2000, `answered after ${Math.round(performance.now() - started)} ms`);
  });

  it('a stream is not cut by the request timeout: it bounds receiving the request, not sending the answer', async () => {
    const body = JSON.stringify({ model_id: 'llama3', inputs: 'hold', stream: true });
    const socket = connect(port, '127.0.0.1');
    const received = readAll(socket);
    socket.write(
      `POST /v1/generate HTTP/1.1\r\nHost: x\r\nConnection: close\r\nContent-Type: application/json\r\nContent-Length: ${body.length}\r\n\r\n${body}`,
    );
    await until(() => gateway.backend.calls.some((call) => call.inputs === 'hold'));
    await new Promise((resolve) => setTimeout(resolve, 1200)); // three request timeouts
    gateway.backend.release();
    const text = await received;
    assert.match(text, /^HTTP\/1\.1 200 /);
    assert.match(text, /"generated_text":" hold"/);
    gateway.backend.calls.splice(0); // the closing test below waits for a held call of its own
  });

  it('413 to a client that writes its whole body before reading: the body is read and dropped, the answer arrives', async () => {
    const body = Buffer.alloc(2 * 1_048_576, 'a');
    const answer = await new Promise<{ status: number; body: string; writeError?: string }>((resolve, reject) => {
      let writeError: string | undefined;
      const request = httpRequest(
        {
          port,
          host: '127.0.0.1',
          method: 'POST',
          path: '/v1/generate',
          headers: { 'content-type': 'application/json' },
        },
        (response) => {
          let text = '';
          response.setEncoding('utf8').on('data', (chunk: string) => (text += chunk));
          response.on('end', () => resolve({ status: response.statusCode!, body: text, writeError }));
        },
      );
      request.on('error', (error: NodeJS.ErrnoException) => (writeError = error.code ?? error.message));
      request.on('close', () => setTimeout(() => reject(new Error(`no answer (${writeError})`)), 100));
      request.end(body);
    });
    assert.equal(answer.status, 413, answer.body);
    assert.equal(answer.writeError, undefined, 'the whole body was written without a reset');
    assert.equal(JSON.parse(answer.body).error_type, 'validation');
  });

  it('413 instead of 100 Continue to a client that asks first (as curl does), then the connection closes', async () => {
    const [answer, ...more] = await exchange(
      'POST /v1/generate HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nContent-Length: 12000000\r\nExpect: 100-continue\r\n\r\n',
    );
    assertErrorAnswer(answer, 413, 'validation', /BODY_LIMIT_BYTES/);
    assert.equal(answer?.headers.connection, 'close');
    assert.deepEqual(more, [], 'no 100 Continue before or after');
  });

  it('503 unavailable with Retry-After for a request that arrives while the gateway closes', async () => {
    const socket = connect(port, '127.0.0.1');
    const received = readAll(socket);
    const body = JSON.stringify({ model_id: 'qwen2', inputs: 'hold' });
    const generate = `POST /v1/generate HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nContent-Length: ${body.length}\r\n\r\n${body}`;
    socket.write(generate);
    await until(() => gateway.backend.calls.some((call) => call.inputs === 'hold'));
    const closed = gateway.app.close();
    const server = gateway.app.getHttpServer();
    await until(() => !server.listening); // Fastify is closing: it stops listening after its preClose hooks
    socket.write('GET /health/live HTTP/1.1\r\nHost: x\r\nX-Request-Id: late-1\r\n\r\n');
    await new Promise((resolve) => setTimeout(resolve, 50));
    gateway.backend.release();
    const [served, refused] = parseResponses(await received);
    await closed;
    assert.equal(served?.status, 200);
    const body503 = assertErrorAnswer(refused, 503, 'unavailable', /shutting down/);
    assert.equal(body503.request_id, 'late-1');
    assert.equal(refused?.headers['retry-after'], '1');
    assert.equal(refused?.headers.connection, 'close');
  });

  /** Sends raw bytes on a new connection; resolves with the answers once the server closes it. */
  async function exchange(bytes: string): Promise<RawResponse[]> {
    const socket = connect(port, '127.0.0.1');
    const received = readAll(socket);
    socket.write(bytes);
    return parseResponses(await received);
  }
});

function assertErrorAnswer(answer: RawResponse | undefined, status: number, errorType: string, message: RegExp) {
  assert.ok(answer, 'an answer');
  assert.equal(answer.status, status, answer.body);
  assert.match(answer.headers['content-type'] ?? '', /^application\/json/);
  const body = JSON.parse(answer.body);
  assert.deepEqual(Object.keys(body).sort(), ['error', 'error_type', 'request_id']);
  assert.equal(body.error_type, errorType);
  assert.match(body.error, message);
  assert.equal(body.request_id, answer.headers['x-request-id']);
  return body as { request_id: string };
}
