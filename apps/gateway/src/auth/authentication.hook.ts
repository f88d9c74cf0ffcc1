import type { FastifyInstance, FastifyRequest } from 'fastify';
import { GatewayError } from '#backends';
import type { KeyRing } from './key-ring.js';

/** Routes every caller may reach without a key: probes must answer whatever the keys say. */
function isOpenRoute(url: string): boolean {
  return url === '/health' || url.startsWith('/health/') || url.startsWith('/health?');
}

/** The key a request shows: `Authorization: Bearer <key>` (what the OpenAI SDKs send) or `x-api-key: <key>`. */
export function presentedKey(request: FastifyRequest): string | undefined {
  const authorization = request.headers.authorization;
  if (typeof authorization === 'string') {
    const match = /^Bearer[ \t]+(\S+)[ \t]*$/i.exec(authorization);
    if (match) return match[1];
  }
  const apiKey = request.headers['x-api-key'];
  return typeof apiKey === 'string' && apiKey !== '' ? apiKey : undefined;
}

/**
 * With keys configured, every request but the probes must show one before its body is read: 401 without a key or
 * with one the ring does not hold (unknown or revoked), in the route's error shape. The caller it finds is the
 * request's (callerOf).
 */
export function installAuthentication(fastify: FastifyInstance, keys: KeyRing): void {
  fastify.decorateRequest('caller', null);
  fastify.addHook('onRequest', (request, _reply, done) => {
    if (isOpenRoute(request.url)) return done();
    const key = presentedKey(request);
    if (key === undefined)
      return done(
        new GatewayError(
          'unauthorized',
          'this gateway needs an API key: send it as "Authorization: Bearer <key>" or "x-api-key: <key>"',
        ),
      );
    const caller = keys.find(key);
    if (!caller) return done(new GatewayError('unauthorized', 'the API key is not valid (unknown or revoked)'));
    request.caller = caller;
    done();
  });
}
