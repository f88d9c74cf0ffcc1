import type { IncomingMessage } from 'node:http';
import secureJson from 'secure-json-parse';
import { GatewayError, jsonShapeProblem } from '#backends';
import { frameworkRefusal } from '../http/error-responses.js';

/**
 * A request's JSON body, read and checked as Fastify's JSON parser and the body-shape hook check it on every other
 * route: `__proto__` and `constructor.prototype` keys refused (secure-json-parse, as Fastify calls it), then a
 * bound on nesting and keys. Each refusal is the same error, with the same message, as on those routes.
 */
export function readJsonBody(request: IncomingMessage, done: (error: unknown, body?: unknown) => void): void {
  const chunks: Buffer[] = [];
  request.on('data', (chunk: Buffer) => chunks.push(chunk));
  request.on('error', done);
  request.on('end', () => {
    let body: unknown;
    try {
      body = parseJsonBody(chunks.length === 1 ? chunks[0]!.toString('utf8') : Buffer.concat(chunks).toString('utf8'));
    } catch (error) {
      return done(error);
    }
    done(undefined, body);
  });
}

const POISONING = { protoAction: 'error', constructorAction: 'error' } as const;

function parseJsonBody(text: string): unknown {
  if (text.length === 0) throw frameworkRefusal('FST_ERR_CTP_EMPTY_JSON_BODY');
  let body: unknown;
  try {
    body = secureJson.parse(text, undefined, POISONING);
  } catch {
    throw frameworkRefusal('FST_ERR_CTP_INVALID_JSON_BODY');
  }
  const problem = jsonShapeProblem(body);
  if (problem !== undefined) throw new GatewayError('validation', problem, { status: 400 });
  return body;
}
