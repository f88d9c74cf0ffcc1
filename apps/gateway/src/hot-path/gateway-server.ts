import http, { type IncomingMessage, type ServerResponse } from 'node:http';
import type { FastifyInstance, InjectOptions } from 'fastify';
import lightMyRequest from 'light-my-request';
import type { HotRoutes } from './hot-routes.js';

type Handler = (request: IncomingMessage, response: ServerResponse) => void;

/** The settings Fastify gives a server it makes itself (its `getServerInstance`). */
interface ServerSettings {
  http?: http.ServerOptions | null;
  keepAliveTimeout?: number;
  requestTimeout?: number;
  connectionTimeout?: number;
  maxRequestsPerSocket?: number;
}

/**
 * The gateway's HTTP server: each request meets the hot routes first and, if they leave it, Fastify. Built by
 * Fastify's `serverFactory`, before the routes exist (they are set once the app is), with the settings Fastify gives
 * its own servers.
 */
export class GatewayServer {
  private hot?: HotRoutes;
  private fastifyHandler?: Handler;
  private readonly handle: Handler = (request, response) => {
    if (this.hot?.take(request, response) !== true) this.fastifyHandler!(request, response);
  };

  /** Fastify's `serverFactory`. */
  readonly factory = (fastifyHandler: Handler, options: ServerSettings): http.Server => {
    this.fastifyHandler = fastifyHandler;
    const server = http.createServer(options.http ?? {}, this.handle);
    server.keepAliveTimeout = options.keepAliveTimeout ?? 72_000;
    server.requestTimeout = options.requestTimeout ?? 0;
    server.setTimeout(options.connectionTimeout ?? 0);
    if ((options.maxRequestsPerSocket ?? 0) > 0) server.maxRequestsPerSocket = options.maxRequestsPerSocket!;
    return server;
  };

  /** The hot routes, and Fastify's handler for what they leave; `inject` then goes the way a socket's request goes. */
  serve(hot: HotRoutes, fastify: FastifyInstance): void {
    this.hot = hot;
    fastify.addHook('preClose', (done) => {
      hot.close();
      done();
    });
    // Injected requests (the in-process tests) take the same way as a socket's: hot routes first, then Fastify.
    const inject = async (options: InjectOptions) => {
      await fastify.ready();
      return lightMyRequest(this.handle, options);
    };
    (fastify as { inject: unknown }).inject = inject;
  }

  /** Where a request the hot routes leave goes. */
  readonly fallback: Handler = (request, response) => this.fastifyHandler!(request, response);
}
