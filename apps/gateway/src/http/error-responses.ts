import { HttpException } from '@nestjs/common';
import { GatewayError, type GatewayErrorType, type OpenAiErrorBody } from '#backends';
import type { ErrorResponseDto } from './error-response.dto.js';

/**
 * The one mapping from anything that ends a request in an error to what goes on the wire: first into the taxonomy
 * (libs/backends' GatewayError, which owns every status), then into the shape of the route's API dialect — the
 * gateway's own `{error, error_type, request_id}` or OpenAI's `{error: {message, type, param, code}}` — and into its
 * two forms, side by side at the end: the JSON answer, and the event that ends a stream whose 200 is already out.
 */

/** Refusals made before any handler runs, by Fastify or Node's HTTP parser, by their error code. */
const FRAMEWORK_REFUSALS: Readonly<Record<string, { status: number; message: (error: Error) => string }>> = {
  FST_ERR_CTP_INVALID_JSON_BODY: {
    status: 400,
    message: () => 'the request body is not valid JSON: send a JSON object',
  },
  FST_ERR_CTP_EMPTY_JSON_BODY: { status: 400, message: () => 'the request body is empty: send a JSON object' },
  FST_ERR_CTP_INVALID_CONTENT_LENGTH: {
    status: 400,
    message: () => 'the request body is not as long as its Content-Length says',
  },
  FST_ERR_CTP_BODY_TOO_LARGE: {
    status: 413,
    message: () => 'the request body is larger than the gateway accepts (BODY_LIMIT_BYTES): send a shorter one',
  },
  FST_ERR_CTP_INVALID_MEDIA_TYPE: {
    status: 415,
    message: () => 'send the body as JSON with Content-Type: application/json',
  },
  FST_ERR_BAD_URL: { status: 400, message: (e) => `the URL is not valid: ${e.message}` },
  FST_ERR_MAX_PARAM_LENGTH: { status: 414, message: (e) => `the URL is too long: ${e.message}` },
  ERR_HTTP_REQUEST_TIMEOUT: {
    status: 408,
    message: () => 'the request did not arrive in time: send it again, all at once',
  },
  HPE_HEADER_OVERFLOW: {
    status: 431,
    message: () =>
      'the request line and headers are too large (Node takes 16 KiB by default): send fewer or shorter ones',
  },
  HPE_CHUNK_EXTENSIONS_OVERFLOW: { status: 413, message: () => 'the chunk extensions are too large' },
};

/** Anything thrown while answering a request, in the taxonomy; what is none of the known refusals is internal. */
export function asGatewayError(error: unknown): GatewayError {
  if (error instanceof GatewayError) return error;
  const code = frameworkCode(error);
  const refusal = code === undefined ? undefined : FRAMEWORK_REFUSALS[code];
  if (refusal) return new GatewayError('validation', refusal.message(error as Error), { status: refusal.status });
  if (code?.startsWith('HPE_'))
    return new GatewayError('validation', `the request is not valid HTTP/1.1 (${code})`, { status: 400 });
  if (error instanceof HttpException) {
    // Nest's own: the answer to a route it does not have, or a refusal by one of its building blocks.
    const status = error.getStatus();
    if (status === 404) return new GatewayError('not_found', error.message);
    if (status < 500) return new GatewayError('validation', error.message, { status });
  }
  return new GatewayError(
    'internal',
    'the gateway failed to answer this request; its log has the details under this request_id',
    { cause: error },
  );
}

/** The code of a Fastify or Node error, also when Nest wrapped it in an HttpException (the original is its cause). */
function frameworkCode(error: unknown): string | undefined {
  if (typeof error !== 'object' || error === null) return undefined;
  const { code, cause } = error as { code?: unknown; cause?: { code?: unknown } };
  if (typeof code === 'string') return code;
  return typeof cause?.code === 'string' ? cause.code : undefined;
}

/**
 * Which error shape a path answers in: OpenAI's on every `/v1/*` path but the gateway's own `/v1/generate` (unknown
 * ones included, so an OpenAI client that calls a route Sluice lacks reads the refusal), the gateway's elsewhere.
 */
export type ApiDialect = 'sluice' | 'openai';

export function apiDialectOf(url: string): ApiDialect {
  const path = url.split('?', 1)[0]!;
  if (path === '/v1/generate' || path === '/v1/generate/') return 'sluice';
  return path === '/v1' || path.startsWith('/v1/') ? 'openai' : 'sluice';
}

/**
 * OpenAI's `type` for each status class; `code` carries the taxonomy type itself. 422 becomes 400 on OpenAI
 * routes: clients such as LangChain retry a 422, and a bad field never gets better by retrying.
 */
function openAiStatus(status: number): number {
  return status === 422 ? 400 : status;
}

function openAiType(status: number): string {
  if (status === 429) return 'rate_limit_error';
  return status >= 500 ? 'server_error' : 'invalid_request_error';
}

export interface ErrorReply {
  status: number;
  /** Content type, request id, and Retry-After with every 429 and 503. */
  headers: Record<string, string>;
  body: ErrorResponseDto | OpenAiErrorBody;
  /** The taxonomy type the answer stands for (what the metrics count). */
  type: GatewayErrorType;
  dialect: ApiDialect;
}

/** The JSON form: an ordinary answer with the taxonomy's status, in the route's dialect. */
export function errorReply(error: unknown, requestId: string, dialect: ApiDialect = 'sluice'): ErrorReply {
  const refusal = asGatewayError(error);
  const headers: Record<string, string> = {
    'content-type': 'application/json; charset=utf-8',
    'x-request-id': requestId,
  };
  // A backend that did not say when to come back (TGI's in-stream overload) gets 1 s.
  const retryAfter = refusal.retryAfterS ?? (refusal.status === 429 || refusal.status === 503 ? 1 : undefined);
  if (retryAfter !== undefined) headers['retry-after'] = String(retryAfter);
  if (dialect === 'openai') {
    const status = openAiStatus(refusal.status);
    const body: OpenAiErrorBody = {
      error: { message: refusal.message, type: openAiType(status), param: refusal.param ?? null, code: refusal.type },
    };
    return { status, headers, body, type: refusal.type, dialect };
  }
  return {
    status: refusal.status,
    headers,
    body: { error: refusal.message, error_type: refusal.type, request_id: requestId },
    type: refusal.type,
    dialect,
  };
}

/**
 * The stream form: after the first token the status is sent, so the same body is the stream's last event (OpenAI's
 * clients throw on a `data:` event with an `error` key).
 */
export function errorEvent(reply: ErrorReply): string {
  return `${reply.dialect === 'openai' ? 'data: ' : 'data:'}${JSON.stringify(reply.body)}\n\n`;
}
