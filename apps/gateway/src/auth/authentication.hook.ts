import type { IncomingHttpHeaders } from 'node:http';
import type { FastifyInstance } from 'fastify';
import { GatewayError } from '#backends';
import { isConsoleAssetRoute } from '../console/console-assets.js';
import type { ApiKeys } from './api-keys.js';
import { ANONYMOUS_CALLER } from './caller.js';

/**
 * Routes every caller may reach without a key, by the route they matched (not by the raw URL, which a client can
 * spell many ways): the probes must answer whatever the keys say; the OpenAPI document describes the API and holds
 * nothing a key protects; /metrics has its own token (metrics-token.hook.ts); the console's page and its script hold no
 * data (they ask for a key, and /console/state wants the admin scope).
 */
function isOpenRoute(route: string | undefined): boolean {
  if (route === undefined) return false;
  return (
    route.startsWith('/health/') ||
    route === '/docs' ||
    route.startsWith('/docs/') ||
    route === '/metrics' ||
    isConsoleAssetRoute(route)
  );
}

/** The key a request shows: `Authorization: Bearer <key>` (what the OpenAI SDKs send) or `x-api-key: <key>`. */
export function presentedKey(request: { readonly headers: IncomingHttpHeaders }): string | undefined {
  const authorization = request.headers.authorization;
  if (typeof authorization === 'string') {
    const match = /^Bearer[ \t]+(\S+)[ \t]*$/i.exec(authorization);
    if (match) return match[1];
  }
  const apiKey = request.headers['x-api-key'];
  return typeof apiKey === 'string' && apiKey !== '' ? apiKey : undefined;
}

/**
 * With keys configured, every request but the open routes must show one before its body is read: 401 without a key
 * or with one the gateway does not hold (unknown or revoked), in the route's error shape. The caller it finds is the
 * request's (callerOf).
 */
export function installAuthentication(fastify: FastifyInstance, keys: ApiKeys): void {
  fastify.addHook('onRequest', async (request) => {
    const key = presentedKey(request);
    if (isOpenRoute(request.routeOptions.url)) {
      // Never the address caller, which is an admin: an open route shows a caller without a valid key what anyone
      // may see. A bad key is no reason to refuse a probe, and Redis being away neither.
      request.caller =
        (key === undefined ? undefined : await keys.find(key).catch(() => undefined)) ?? ANONYMOUS_CALLER;
      return;
    }
    if (key === undefined)
      throw new GatewayError(
        'unauthorized',
        'this gateway needs an API key: send it as "Authorization: Bearer <key>" or "x-api-key: <key>"',
      );
    const caller = await keys.find(key);
    if (!caller) throw new GatewayError('unauthorized', 'the API key is not valid (unknown or revoked)');
    request.caller = caller;
  });
}
