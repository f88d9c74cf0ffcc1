import assert from 'node:assert/strict';
import { connect, type AddressInfo, type Socket } from 'node:net';
import { afterEach, describe, it } from 'node:test';
import { parseResponses, readAll } from '#test-support/raw-http';
import { until } from '../testing/answers.js';
import { startInProcessGateway, type InProcessGateway } from '../testing/in-process-gateway.js';
import { ShutdownDrain } from './shutdown-drain.js';

/**
 * What main.ts's SIGTERM drives, on real sockets: the in-process gateway (scripted backends, `hold` waits for its
 * release) with a ShutdownDrain the test begins and cuts.
 */
describe('the shutdown drain on open connections', () => {
  let gateway: InProcessGateway | undefined;
  afterEach(async () => {
    gateway?.backend.release();
    await gateway?.close();
    gateway = undefined;
  });

  async function listening(drain: ShutdownDrain): Promise<{ port: number; gateway: InProcessGateway }> {
    gateway = await startInProcessGateway({ drain });
    await gateway.app.listen(0, '127.0.0.1');
    const { port } = gateway.app.getHttpServer().address() as AddressInfo;
    return { port, gateway };
  }

  function holdOn(socket: Socket, id: string): void {
    const body = JSON.stringify({ model_id: 'qwen2', inputs: 'hold' });
    socket.write(
      `POST /v1/generate HTTP/1.1\r\nHost: x\r\nX-Request-Id: ${id}\r\nContent-Type: application/json\r\nContent-Length: ${body.length}\r\n\r\n${body}`,
    );
  }

  it('an answer in flight when the drain begins says Connection: close, and its connection closes after it', async () => {
    const drain = new ShutdownDrain();
    const { port, gateway } = await listening(drain);
    const socket = connect(port, '127.0.0.1');
    const received = readAll(socket);
    holdOn(socket, 'in-flight-1');
    await until(() => gateway.backend.calls.some((call) => call.inputs === 'hold'));
    drain.begin();
    gateway.backend.release();
    const [answer, ...more] = parseResponses(await received); // resolves only once the server closed the socket
    assert.equal(answer?.status, 200, answer?.body);
    assert.equal(answer?.headers.connection, 'close');
    assert.deepEqual(more, []);
  });

  it('a request pipelined behind one in flight still gets its 503: only the last answer closes the connection', async () => {
    const drain = new ShutdownDrain();
    const { port, gateway } = await listening(drain);
    const socket = connect(port, '127.0.0.1');
    const received = readAll(socket);
    holdOn(socket, 'in-flight-2');
    await until(() => gateway.backend.calls.some((call) => call.inputs === 'hold'));
    drain.begin();
    const closed = gateway.app.close();
    const server = gateway.app.getHttpServer();
    await until(() => !server.listening);
    socket.write('GET /health/live HTTP/1.1\r\nHost: x\r\nX-Request-Id: late-2\r\n\r\n');
    await new Promise((resolve) => setTimeout(resolve, 50));
    gateway.backend.release();
    const [served, refused] = parseResponses(await received);
    await closed;
    assert.equal(served?.status, 200, served?.body);
    assert.notEqual(served?.headers.connection, 'close');
    assert.equal(refused?.status, 503, refused?.body);
    assert.equal(JSON.parse(refused.body).error_type, 'unavailable');
    assert.equal(refused?.headers['retry-after'], '1');
    assert.equal(refused?.headers.connection, 'close');
  });

  it('past the grace, a request in flight is answered 503 unavailable with Retry-After before its socket closes', async () => {
    const drain = new ShutdownDrain();
    const { port, gateway } = await listening(drain);
    const socket = connect(port, '127.0.0.1');
    const received = readAll(socket);
    holdOn(socket, 'cut-1');
    await until(() => gateway.backend.calls.some((call) => call.inputs === 'hold'));
    drain.begin();
    await drain.cutInFlight();
    const [answer] = parseResponses(await received);
    assert.equal(answer?.status, 503, answer?.body);
    const body = JSON.parse(answer.body);
    assert.deepEqual(Object.keys(body).sort(), ['error', 'error_type', 'request_id']);
    assert.equal(body.error_type, 'unavailable');
    assert.match(body.error, /grace period ran out/);
    assert.equal(body.request_id, 'cut-1');
    assert.equal(answer?.headers['retry-after'], '1');
    assert.equal(answer?.headers.connection, 'close');
    assert.equal(drain.inFlightCount, 0);
  });
});
