import type { FastifyInstance } from 'fastify';
import { GatewayError } from '#backends';

interface KnownPath {
  pattern: RegExp;
  methods: Set<string>;
}

/** `/models/:id/generate` as a regular expression over request paths: a parameter is one segment, `*` the rest. */
function patternOf(url: string): RegExp {
  const source = url
    .split(/(:[A-Za-z0-9_]+|\*)/)
    .map((part) => (part === '*' ? '.*' : part.startsWith(':') ? '[^/]+' : part.replace(/[.+?^${}()|[\]\\]/g, '\\$&')))
    .join('');
  return new RegExp(`^${source}/?$`);
}

/**
 * A known path asked with a method it does not take (`GET /v1/generate`) is answered 405 with `Allow`, in the
 * route's error shape, instead of the 404 a path the gateway does not have gets. Learns every route as it is added.
 */
export function installMethodNotAllowed(fastify: FastifyInstance): void {
  const known = new Map<string, KnownPath>();
  fastify.addHook('onRoute', (route) => {
    const entry = known.get(route.url) ?? { pattern: patternOf(route.url), methods: new Set<string>() };
    for (const method of [route.method].flat()) entry.methods.add(method);
    known.set(route.url, entry);
  });
  fastify.addHook('onRequest', (request, reply, done) => {
    if (request.routeOptions.url !== undefined) return done(); // a route took it
    const path = request.url.split('?', 1)[0]!;
    const allowed = new Set<string>();
    for (const { pattern, methods } of known.values()) if (pattern.test(path)) methods.forEach((m) => allowed.add(m));
    if (allowed.size === 0) return done();
    const allow = [...allowed].sort().join(', ');
    void reply.header('allow', allow);
    done(
      new GatewayError('validation', `${request.method} is not allowed on ${path}: it takes ${allow}`, {
        status: 405,
      }),
    );
  });
}
