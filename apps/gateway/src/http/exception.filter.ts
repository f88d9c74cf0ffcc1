import { type ArgumentsHost, Catch, type ExceptionFilter, HttpException, Logger } from '@nestjs/common';
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { noteError } from '../metrics/request-observation.js';
import type { RequestView } from './exchange.js';
import { apiDialectOf, errorReply, type ErrorReply } from './error-responses.js';

const logger = new Logger('Gateway');

/**
 * Fastify's refusals (bad JSON, too large, wrong media type) reach the filter rewrapped by Nest as bare
 * HttpExceptions, without the Fastify code the one mapping reads; Fastify's onError hook, which runs before Nest's
 * error handler, keeps the original for the filter.
 */
const frameworkErrors = new WeakMap<object, Error>();

export function keepFrameworkErrors(fastify: FastifyInstance): void {
  fastify.addHook('onError', (request, _reply, error, done) => {
    frameworkErrors.set(request.raw, error);
    done();
  });
}

/**
 * The error answer to an exception on a request, from the one mapping (error-responses.ts): noted for the metrics,
 * and logged with its stack when it is the gateway's own fault. The filter and a failing stream both answer with it.
 */
export function errorAnswer(exception: unknown, request: RequestView): ErrorReply {
  const original = exception instanceof HttpException ? frameworkErrors.get(request.raw) : undefined;
  const reply = errorReply(original ?? exception, request.id, apiDialectOf(request.url, request.method));
  noteError(request.raw, reply.type);
  if (reply.type === 'internal')
    logger.error(`${request.id}: ${exception instanceof Error ? exception.stack : String(exception)}`);
  return reply;
}

/**
 * Where a thrown exception becomes an HTTP answer: every handler's, every framework refusal (bad JSON, too large,
 * wrong media type, unknown route) and every hook's. Registered as APP_FILTER, so any app built from AppModule has it.
 */
@Catch()
export class GatewayExceptionFilter implements ExceptionFilter {
  catch(exception: unknown, host: ArgumentsHost): void {
    const http = host.switchToHttp();
    const request = http.getRequest<FastifyRequest>();
    const reply = http.getResponse<FastifyReply>();
    if (reply.sent || reply.raw.headersSent) return;
    if (isHealthReport(exception)) {
      void reply.code(exception.getStatus()).send(exception.getResponse()); // probes and dashboards read Terminus's body
      return;
    }
    const { status, headers, body } = errorAnswer(exception, request);
    void reply.code(status).headers(headers).send(body);
  }
}

/** Terminus's 503 from GET /health/ready: a report of each model's state, not a refusal. */
function isHealthReport(exception: unknown): exception is HttpException {
  if (!(exception instanceof HttpException)) return false;
  const body = exception.getResponse();
  return typeof body === 'object' && body !== null && 'status' in body && 'details' in body;
}
