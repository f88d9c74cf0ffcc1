import type { FastifyInstance } from 'fastify';
import { GatewayError } from '#backends';

/**
 * Once the server is closing, a request that still arrives (pipelined, or on a busy keep-alive connection) is
 * refused with the taxonomy's 503 and Retry-After: this replaces Fastify's `return503OnClosing`, whose body is its
 * own. Fastify itself marks such answers `Connection: close`.
 */
export function installClosingRefusal(fastify: FastifyInstance): void {
  let closing = false;
  fastify.addHook('preClose', (done) => {
    closing = true;
    done();
  });
  fastify.addHook('onRequest', (_request, _reply, done) => {
    if (!closing) return done();
    done(
      new GatewayError('unavailable', 'the gateway is shutting down: send the request again, to another replica', {
        retryAfterS: 1,
      }),
    );
  });
}
