import { Logger } from '@nestjs/common';
import type { ServerResponse } from 'node:http';
import type { FastifyInstance } from 'fastify';
import { clipText } from '#backends';
import type { RequestView } from './exchange.js';

const logger = new Logger('Gateway');

/**
 * A client that closes its connection before its answer is complete (curl's Ctrl-C, a timeout of its own, a cut
 * body) is an ordinary event, not the gateway's failure: one info line names the request, and whatever was working
 * on it stops through the disconnect signal (client-disconnect.ts).
 */
export function installClientDepartureLog(fastify: FastifyInstance): void {
  fastify.addHook('onRequest', (request, reply, done) => {
    logDeparture(request, reply.raw);
    done();
  });
}

/** Logs the client's departure if `response` closes before it is complete (every route's, hot or not). */
export function logDeparture(request: Pick<RequestView, 'id' | 'method' | 'url'>, response: ServerResponse): void {
  (response as Answer)[REQUEST] = request;
  response.on('close', onResponseClose);
}

const REQUEST = Symbol('sluice.departingRequest');
type Answer = ServerResponse & { [REQUEST]?: Pick<RequestView, 'id' | 'method' | 'url'> };

/** One listener for every answer (no closure per request): the request rides on its response. A response closes once. */
function onResponseClose(this: Answer): void {
  const request = this[REQUEST];
  if (this.writableFinished || request === undefined) return;
  const url = clipText(request.url, 200);
  logger.log(`${request.id}: ${request.method} ${url}: the client left before its answer was complete (cancelled)`);
}
