import type { FastifyInstance } from 'fastify';
import { GatewayError, RouteMethods } from '#backends';

/**
 * A known path asked with a method it does not take (`GET /v1/generate`) is answered 405 with `Allow`, in the
 * route's error shape, instead of the 404 of a path the gateway does not have.
 */
export function installMethodNotAllowed(fastify: FastifyInstance): void {
  const routes = new RouteMethods();
  fastify.addHook('onRoute', (route) => routes.add(route.url, route.method));
  fastify.addHook('onRequest', (request, reply, done) => {
    if (request.routeOptions.url !== undefined) return done(); // a route took it
    const path = request.url.split('?', 1)[0]!;
    const allowed = routes.allowedFor(path);
    if (allowed.length === 0) return done();
    const allow = allowed.join(', ');
    void reply.header('allow', allow);
    done(
      new GatewayError('validation', `${request.method} is not allowed on ${path}: it takes ${allow}`, { status: 405 }),
    );
  });
}
