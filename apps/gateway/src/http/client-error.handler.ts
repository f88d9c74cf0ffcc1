import { STATUS_CODES } from 'node:http';
import type { Socket } from 'node:net';
import { randomUUID } from 'node:crypto';
import { errorReply } from './error-responses.js';

/**
 * Node's HTTP parser refuses some requests before Fastify sees one (headers too large 431, too slow 408, not HTTP
 * 400): they get the documented error shape too, written on the socket, as there is no request to answer through.
 * Fastify's `clientErrorHandler`; like its default, it says nothing to a connection that is already gone.
 */
export function answerClientError(error: Error & { code?: string }, socket: Socket): void {
  if (error.code === 'ECONNRESET' || socket.destroyed) return;
  if (socket.writable) {
    const { status, headers, body } = errorReply(error, randomUUID());
    const payload = JSON.stringify(body);
    const head = Object.entries({
      ...headers,
      'content-length': String(Buffer.byteLength(payload)),
      connection: 'close',
    })
      .map(([name, value]) => `${name}: ${value}\r\n`)
      .join('');
    socket.write(`HTTP/1.1 ${status} ${STATUS_CODES[status]}\r\n${head}\r\n${payload}`);
  }
  socket.destroy(error);
}
