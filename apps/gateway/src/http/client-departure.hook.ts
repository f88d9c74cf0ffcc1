import { Logger } from '@nestjs/common';
import type { FastifyInstance } from 'fastify';
import { clipText } from '#backends';

const logger = new Logger('Gateway');

/**
 * A client that closes its connection before its answer is complete (curl's Ctrl-C, a timeout of its own, a cut
 * body) is an ordinary event, not the gateway's failure: one info line names the request, and whatever was working
 * on it stops through the disconnect signal (client-disconnect.ts).
 */
export function installClientDepartureLog(fastify: FastifyInstance): void {
  fastify.addHook('onRequest', (request, reply, done) => {
    reply.raw.once('close', () => {
      if (reply.raw.writableFinished) return;
      const url = clipText(request.url, 200);
      logger.log(`${request.id}: ${request.method} ${url}: the client left before its answer was complete (cancelled)`);
    });
    done();
  });
}
