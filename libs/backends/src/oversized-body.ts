import type { FastifyInstance } from 'fastify';

/** The most bytes of a refused body a server reads and discards so that its client can read the 413. */
const MAX_DISCARDED_BYTES = 64 * 1_048_576;

/**
 * A body whose Content-Length is over the limit is refused with 413 before it is parsed, so that the client reads
 * the answer instead of a reset connection. To a client that asked `Expect: 100-continue` (curl does for large
 * bodies) the 413 goes instead of the 100, and the connection closes, as the body was never sent; from any other,
 * the body is read and discarded first (up to 64 MiB, within the server's request timeout), as a client that writes
 * its whole body before reading would otherwise be cut off mid-write and never see the 413. A chunked body without
 * a length that goes over the limit is still refused by Fastify's parser, which closes the connection. Shared by the
 * gateway and the engine.
 */
export function installOversizedBodyRefusal(
  fastify: FastifyInstance,
  limitBytes: number,
  /** The refusal, in the server's own error type and shape (status 413). */
  tooLarge: () => Error,
): void {
  const server = fastify.server;
  server.on('checkContinue', (request, response) => {
    if (Number(request.headers['content-length']) <= limitBytes) response.writeContinue();
    server.emit('request', request, response);
  });
  // A callback hook, not an async one: every request passes here, and nearly all of them at the first line.
  fastify.addHook('onRequest', (request, reply, done) => {
    const length = Number(request.headers['content-length']);
    if (!(length > limitBytes)) return done();
    if (/100-continue/i.test(request.headers.expect ?? '') || length > MAX_DISCARDED_BYTES) {
      void reply.header('connection', 'close');
      return done(tooLarge());
    }
    void discardBody(request.raw).then(() => done(tooLarge()));
  });
}

/** Reads the request's body to its end and drops it; resolves also when the connection goes. */
function discardBody(body: NodeJS.ReadableStream & { readableEnded: boolean; destroyed: boolean }): Promise<void> {
  return new Promise((resolve) => {
    if (body.readableEnded || body.destroyed) return resolve();
    body.on('end', resolve).on('close', resolve).on('error', resolve);
    body.resume();
  });
}
