import type { IncomingMessage, ServerResponse } from 'node:http';
import type { FastifyReply, FastifyRequest } from 'fastify';
import { callerOf, type Caller } from '../auth/caller.js';
import { errorAnswer } from './exception.filter.js';

/** A request as the answer paths read it: what Fastify's request has, and what the hot routes make of a raw one. */
export interface RequestView {
  readonly id: string;
  readonly raw: IncomingMessage;
  readonly url: string;
  readonly method: string;
}

/** One request and its answer, whichever way it came in: through Fastify's routes or the hot routes (hot-routes.ts). */
export interface Exchange extends RequestView {
  readonly res: ServerResponse;
  readonly caller: Caller;
  /** Milliseconds since the request arrived. */
  elapsedMs(): number;
}

/** A Fastify route's request as an exchange; the route has hijacked the reply and writes the raw answer itself. */
export function exchangeOf(request: FastifyRequest, reply: FastifyReply): Exchange {
  return {
    id: request.id,
    raw: request.raw,
    res: reply.raw,
    url: request.url,
    method: request.method,
    caller: callerOf(request),
    elapsedMs: () => reply.elapsedTime,
  };
}

/** A JSON answer with its length, written at once: headers and body leave in one write. */
export function writeJson(res: ServerResponse, status: number, headers: Record<string, string>, body: unknown): void {
  if (res.writableEnded || res.destroyed) return;
  const text = JSON.stringify(body);
  headers['content-length'] = String(Buffer.byteLength(text));
  res.writeHead(status, headers);
  res.end(text);
}

/** A route's 200 JSON answer, with its request id and any headers of its own. */
export function writeJsonAnswer(exchange: Exchange, body: unknown, headers: Record<string, string> = {}): void {
  writeJson(
    exchange.res,
    200,
    { 'content-type': 'application/json; charset=utf-8', 'x-request-id': exchange.id, ...headers },
    body,
  );
}

/** The error answer in the route's shape, unless an answer has started (a stream ends its own way). */
export function writeError(request: RequestView, res: ServerResponse, error: unknown): void {
  if (res.headersSent || res.writableEnded || res.destroyed) return;
  const { status, headers, body } = errorAnswer(error, request);
  writeJson(res, status, headers, body);
}
