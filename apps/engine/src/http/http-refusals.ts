import { STATUS_CODES } from 'node:http';
import type { Socket } from 'node:net';
import type { FastifyInstance } from 'fastify';
import { RouteMethods, type TgiErrorEvent } from '#backends';

/**
 * Node's HTTP parser refuses some requests before Fastify sees one (headers too large 431, too slow 408, not HTTP
 * 400): they get TGI's error shape too, written on the socket. Fastify's `clientErrorHandler`.
 */
export function answerClientError(error: Error & { code?: string }, socket: Socket): void {
  if (error.code === 'ECONNRESET' || socket.destroyed) return;
  if (socket.writable) {
    const status = error.code === 'ERR_HTTP_REQUEST_TIMEOUT' ? 408 : error.code === 'HPE_HEADER_OVERFLOW' ? 431 : 400;
    const body: TgiErrorEvent = {
      error: `${STATUS_CODES[status]}: ${error.code ?? error.message}`,
      error_type: 'validation',
    };
    const payload = JSON.stringify(body);
    socket.write(
      `HTTP/1.1 ${status} ${STATUS_CODES[status]}\r\ncontent-type: application/json\r\n` +
        `content-length: ${Buffer.byteLength(payload)}\r\nconnection: close\r\n\r\n${payload}`,
    );
  }
  socket.destroy(error);
}

/** A known path asked with another method (`GET /generate`) is answered 405 with `Allow`, in TGI's error shape. */
export function installMethodNotAllowed(app: FastifyInstance): void {
  const routes = new RouteMethods();
  app.addHook('onRoute', (route) => routes.add(route.url, route.method));
  app.addHook('onRequest', (request, reply, done) => {
    if (request.routeOptions.url !== undefined) return done();
    const path = request.url.split('?', 1)[0]!;
    const allowed = routes.allowedFor(path);
    if (allowed.length === 0) return done();
    const body: TgiErrorEvent = {
      error: `Method ${request.method} is not allowed here: use ${allowed.join(', ')}`,
      error_type: 'validation',
    };
    void reply.code(405).header('allow', allowed.join(', ')).send(body);
  });
}
