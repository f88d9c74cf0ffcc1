import { createHash, timingSafeEqual } from 'node:crypto';
import type { FastifyInstance } from 'fastify';
import { GatewayError } from '#backends';

const digest = (text: string) => createHash('sha256').update(text, 'utf8').digest();

/**
 * METRICS_TOKEN: GET /metrics answers only `Authorization: Bearer <token>` (what Prometheus sends with
 * `authorization: { credentials_file }`), 401 otherwise; API keys do not open it, nor does the token open anything
 * else. Compared in constant time, as digests, so neither its content nor its length leaks.
 */
export function installMetricsToken(fastify: FastifyInstance, token: string): void {
  const expected = digest(token);
  fastify.addHook('onRequest', (request, _reply, done) => {
    if (request.routeOptions.url !== '/metrics') return done();
    const match = /^Bearer[ \t]+(\S+)[ \t]*$/i.exec(request.headers.authorization ?? '');
    if (match && timingSafeEqual(digest(match[1]!), expected)) return done();
    done(
      new GatewayError('unauthorized', 'GET /metrics needs the metrics token: "Authorization: Bearer <METRICS_TOKEN>"'),
    );
  });
}
