import { HttpException } from '@nestjs/common';
import {
  clipText,
  GatewayError,
  MAX_ERROR_MESSAGE_CHARS,
  type GatewayErrorType,
  type OpenAiErrorBody,
  type TgiErrorEvent,
} from '#backends';
import type { ErrorResponseDto } from './error-response.dto.js';

/**
 * The one mapping from anything that ends a request in an error to what goes on the wire: first into the taxonomy
 * (libs/backends' GatewayError, which owns every status), then into the shape of the route's API dialect — the
 * gateway's own `{error, error_type, request_id}`, OpenAI's `{error: {message, type, param, code}}` or TGI's
 * `{error, error_type}` — and into its two forms, side by side at the end: the JSON answer, and the event that ends
 * a stream whose 200 is already out.
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
  // Node's `aborted`: the client closed the connection while its body was still arriving (no one reads the answer).
  ECONNRESET: { status: 400, message: () => 'the connection closed before the request body was complete' },
  HPE_CHUNK_EXTENSIONS_OVERFLOW: { status: 413, message: () => 'the chunk extensions are too large' },
};

/** The gateway's answer to one of the framework's refusals, by its code, where the hot routes make the same refusal. */
export function frameworkRefusal(code: 'FST_ERR_CTP_EMPTY_JSON_BODY' | 'FST_ERR_CTP_INVALID_JSON_BODY'): GatewayError {
  const refusal = FRAMEWORK_REFUSALS[code]!;
  return new GatewayError('validation', refusal.message(new Error(code)), { status: refusal.status });
}

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
 * Which error shape a request answers in: OpenAI's on every `/v1/*` path but the gateway's own `/v1/generate` (unknown
 * ones included, so an OpenAI client that calls a route Sluice lacks reads the refusal); TGI's on the per-model TGI
 * routes (`/models/{id}/generate`, `…/generate_stream`, `…/info`, `…/health`, `…/v1/completions` and
 * `POST /models/{id}`), as TGI answers on each; the gateway's elsewhere (`GET /models/{id}` is its own view).
 */
export type ApiDialect = 'sluice' | 'openai' | 'tgi';

/** A model id is one path segment (`%2F` inside it), or two for a raw `org/name` id. */
const PER_MODEL_TGI_ROUTE = /^\/models\/[^/]+(?:\/[^/]+)?\/(?:generate|generate_stream|info|health)\/?$/;
const PER_MODEL_COMPAT_ROUTE = /^\/models\/[^/]+(?:\/[^/]+)?\/?$/;
const PER_MODEL_OPENAI_ROUTE = /^\/models\/[^/]+(?:\/[^/]+)?\/v1\//;
/** The admin routes on a model (Sluice's own, not TGI's): `/models/{id}/load` and `/unload`. */
const MODEL_ADMIN_ROUTE = /^\/models\/[^/]+\/(?:load|unload)\/?$/;

export function apiDialectOf(url: string, method = 'POST'): ApiDialect {
  const path = url.split('?', 1)[0]!;
  if (path === '/v1/generate' || path === '/v1/generate/') return 'sluice';
  if (path === '/v1' || path.startsWith('/v1/')) return 'openai';
  if (!path.startsWith('/models/') || MODEL_ADMIN_ROUTE.test(path)) return 'sluice';
  if (PER_MODEL_TGI_ROUTE.test(path) || PER_MODEL_OPENAI_ROUTE.test(path)) return 'tgi';
  return method === 'POST' && PER_MODEL_COMPAT_ROUTE.test(path) ? 'tgi' : 'sluice';
}

/**
 * OpenAI's `type` for each status class; `code` carries the taxonomy type itself. 422 becomes 400 on OpenAI
 * routes: clients such as LangChain retry a 422, and a bad field never gets better by retrying.
 */
function openAiStatus(status: number): number {
  return status === 422 ? 400 : status;
}

/** The taxonomy type, except where OpenAI's own code is what its clients look for: a bad key is `invalid_api_key`. */
function openAiCode(refusal: GatewayError): string {
  return refusal.type === 'unauthorized' ? 'invalid_api_key' : refusal.type;
}

function openAiType(status: number): string {
  if (status === 429) return 'rate_limit_error';
  return status >= 500 ? 'server_error' : 'invalid_request_error';
}

/**
 * TGI's status and `error_type` for each taxonomy type, where its clients have one to read: huggingface_hub raises
 * ValidationError, OverloadedError or GenerationError by `error_type`, and TGI fails a generation with 424. A
 * backend failure is TGI's 424 `generation`; a timeout keeps its 504 and the gateway's own fault its 500, both read
 * as a failed generation; the rest keep the taxonomy's status and name, which clients raise by status.
 */
function tgiStatusAndType(refusal: GatewayError): { status: number; errorType: string } {
  switch (refusal.type) {
    case 'upstream':
      return { status: 424, errorType: 'generation' };
    case 'timeout':
    case 'internal':
      return { status: refusal.status, errorType: 'generation' };
    default:
      return { status: refusal.status, errorType: refusal.type };
  }
}

export interface ErrorReply {
  status: number;
  /** Content type, request id, and Retry-After with every 429 and 503. */
  headers: Record<string, string>;
  body: ErrorResponseDto | OpenAiErrorBody | TgiErrorEvent;
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
  const message = clipText(refusal.message, MAX_ERROR_MESSAGE_CHARS);
  // RFC 9110: a 401 names the scheme that would be accepted.
  if (refusal.status === 401) headers['www-authenticate'] = 'Bearer realm="sluice"';
  if (dialect === 'openai') {
    const status = openAiStatus(refusal.status);
    const body: OpenAiErrorBody = {
      error: { message, type: openAiType(status), param: refusal.param ?? null, code: openAiCode(refusal) },
    };
    return { status, headers, body, type: refusal.type, dialect };
  }
  if (dialect === 'tgi') {
    // TGI's ErrorResponse exactly: its clients parse `{error, error_type}`; the request id is in its header.
    const { status, errorType } = tgiStatusAndType(refusal);
    return { status, headers, body: { error: message, error_type: errorType }, type: refusal.type, dialect };
  }
  return {
    status: refusal.status,
    headers,
    body: { error: message, error_type: refusal.type, request_id: requestId },
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
