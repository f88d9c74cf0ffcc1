import assert from 'node:assert/strict';
import type { Socket } from 'node:net';
import { describe, it } from 'node:test';
import { answerClientError } from './client-error.handler.js';

/** What the handler wrote and did to the connection: the socket's side of a refusal, without a socket. */
function recordingSocket(state: { writable?: boolean; destroyed?: boolean } = {}) {
  const record = { written: '', destroyed: false };
  const socket = {
    writable: state.writable ?? true,
    destroyed: state.destroyed ?? false,
    write: (chunk: string) => {
      record.written += chunk;
      return true;
    },
    destroy: () => {
      record.destroyed = true;
    },
  };
  return { socket: socket as unknown as Socket, record };
}

function parserError(code: string): Error & { code: string } {
  return Object.assign(new Error(`Parse Error: ${code}`), { code });
}

function parseAnswer(raw: string) {
  const [head = '', body = ''] = raw.split('\r\n\r\n');
  const [statusLine = '', ...lines] = head.split('\r\n');
  const headers = Object.fromEntries(lines.map((line) => line.split(': ') as [string, string]));
  return { statusLine, headers, body: JSON.parse(body) as Record<string, unknown> };
}

describe("Node's parser refusals, answered on the socket in the documented shape", () => {
  for (const [code, status, statusText, hint] of [
    ['HPE_HEADER_OVERFLOW', 431, 'Request Header Fields Too Large', /headers are too large/],
    ['ERR_HTTP_REQUEST_TIMEOUT', 408, 'Request Timeout', /did not arrive in time/],
    ['HPE_INVALID_METHOD', 400, 'Bad Request', /not valid HTTP\/1\.1 \(HPE_INVALID_METHOD\)/],
  ] as const) {
    it(`${status} validation for ${code}, then the connection is closed`, () => {
      const { socket, record } = recordingSocket();
      answerClientError(parserError(code), socket);
      const answer = parseAnswer(record.written);
      assert.equal(answer.statusLine, `HTTP/1.1 ${status} ${statusText}`);
      assert.equal(answer.headers['content-type'], 'application/json; charset=utf-8');
      assert.equal(answer.headers.connection, 'close');
      assert.equal(answer.headers['x-request-id'], answer.body.request_id);
      assert.equal(Number(answer.headers['content-length']), Buffer.byteLength(record.written.split('\r\n\r\n')[1]!));
      assert.deepEqual(Object.keys(answer.body).sort(), ['error', 'error_type', 'request_id']);
      assert.equal(answer.body.error_type, 'validation');
      assert.match(String(answer.body.error), hint);
      assert.ok(record.destroyed);
    });
  }

  it('writes nothing to a connection the client already reset or that is gone', () => {
    const reset = recordingSocket();
    answerClientError(parserError('ECONNRESET'), reset.socket);
    assert.equal(reset.record.written, '');
    const gone = recordingSocket({ destroyed: true });
    answerClientError(parserError('HPE_HEADER_OVERFLOW'), gone.socket);
    assert.equal(gone.record.written, '');
    const closing = recordingSocket({ writable: false });
    answerClientError(parserError('HPE_HEADER_OVERFLOW'), closing.socket);
    assert.deepEqual(closing.record, { written: '', destroyed: true });
  });
});
