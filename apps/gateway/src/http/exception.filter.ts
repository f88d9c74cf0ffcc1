import { type ArgumentsHost, Catch, type ExceptionFilter, HttpException, Logger } from '@nestjs/common';
import type { FastifyReply, FastifyRequest } from 'fastify';
import { GatewayError } from '#backends';
import { noteError } from '../metrics/request-observation.js';
import { errorResponse } from './error-body.js';

/**
 * The one place where an exception becomes an HTTP answer: the taxonomy's JSON error with its request id.
 * Health checks keep Terminus's own body (probes and dashboards read it).
 */
@Catch()
export class GatewayExceptionFilter implements ExceptionFilter {
  private readonly logger = new Logger('Gateway');

  catch(exception: unknown, host: ArgumentsHost): void {
    const http = host.switchToHttp();
    const request = http.getRequest<FastifyRequest>();
    const reply = http.getResponse<FastifyReply>();
    if (reply.sent || reply.raw.headersSent) return;
    if (exception instanceof HttpException && !(exception instanceof GatewayError)) {
      const body = exception.getResponse();
      if (typeof body === 'object' && body !== null && 'status' in body && 'details' in body) {
        void reply.code(exception.getStatus()).send(body); // Terminus
        return;
      }
      const status = exception.getStatus();
      const type = status === 404 ? 'not_found' : status < 500 ? 'validation' : 'internal';
      const message = status === 415 ? 'send the body as JSON with Content-Type: application/json' : exception.message;
      noteError(request.raw, type);
      void reply.code(status).send({ error: message, error_type: type, request_id: request.id });
      return;
    }
    const fromFramework = frameworkError(exception);
    const { status, body, headers } = errorResponse(fromFramework ?? exception, request.id);
    noteError(request.raw, body.error_type);
    if (status >= 500 && !(exception instanceof GatewayError))
      this.logger.error(`${request.id}: ${(exception as Error)?.stack ?? exception}`);
    void reply.code(status).headers(headers).send(body);
  }
}

/** Errors Fastify raises before a handler runs (bad JSON, too large, wrong media type), in the taxonomy. */
export function frameworkError(error: unknown): GatewayError | undefined {
  const code = (error as { code?: string } | null)?.code;
  const message = (error as Error | null)?.message ?? String(error);
  switch (code) {
    case 'FST_ERR_CTP_BODY_TOO_LARGE':
      return new GatewayError('validation', `request body is larger than the limit (${message})`, { status: 413 });
    case 'FST_ERR_CTP_INVALID_MEDIA_TYPE':
      return new GatewayError('validation', 'send the body as JSON with Content-Type: application/json', {
        status: 415,
      });
    case 'FST_ERR_CTP_EMPTY_JSON_BODY':
      return new GatewayError('validation', 'the request body is empty: send a JSON object', { status: 400 });
    case 'FST_ERR_CTP_INVALID_JSON_BODY':
      return new GatewayError('validation', `the request body is not valid JSON: ${message}`, { status: 400 });
  }
  if (error instanceof SyntaxError)
    return new GatewayError('validation', `the request body is not valid JSON: ${message}`, { status: 400 });
  return undefined;
}
