import { GatewayError, type GatewayErrorType } from './gateway-error.js';

/**
 * A backend's error answer, as received: either a non-200 HTTP reply (status, raw body, Retry-After) or, with
 * `status` 200, an error event inside a streaming answer (TGI sends every streaming error that way).
 */
export class BackendErrorReply {
  constructor(
    readonly status: number,
    /** The raw body text (non-200), or the parsed error event (200): TGI's `{error, error_type}` or OpenAI's. */
    readonly body: string | { error?: unknown; error_type?: unknown },
    readonly retryAfter?: string | undefined,
  ) {}
}

/** errno codes that mean the backend could not be reached at all: nothing was generated, trying later may work. */
const UNREACHABLE_CODES = new Set([
  'ECONNREFUSED',
  'ECONNRESET',
  'EPIPE',
  'ENOTFOUND',
  'EAI_AGAIN',
  'EHOSTUNREACH',
  'ENETUNREACH',
  'ETIMEDOUT',
  'EADDRNOTAVAIL',
  // undici's: the backend closed the connection (a FIN, where node:http says ECONNRESET) before any answer.
  'UND_ERR_SOCKET',
]);

/** The one mapping from anything that went wrong talking to a backend to the gateway's taxonomy. */
export function toGatewayError(error: unknown): GatewayError {
  if (error instanceof GatewayError) return error;
  if (error instanceof BackendErrorReply) return fromBackendReply(error);
  const code = errnoCode(error);
  if (code !== undefined && UNREACHABLE_CODES.has(code)) {
    const why =
      code === 'ECONNREFUSED'
        ? 'backend refused the connection (ECONNREFUSED): not listening yet, still loading, or down'
        : code === 'UND_ERR_SOCKET'
          ? 'backend closed the connection before answering'
          : `backend unreachable (${code})`;
    return new GatewayError('unavailable', why, { cause: error });
  }
  const message = error instanceof Error ? error.message : String(error);
  return new GatewayError('upstream', `backend call failed: ${message}`, { cause: error });
}

/** The errno code of a node error, also when axios wrapped it (AxiosError keeps the original as `cause`). */
export function errnoCode(error: unknown): string | undefined {
  if (typeof error !== 'object' || error === null) return undefined;
  const cause = (error as { cause?: { code?: unknown } }).cause;
  if (typeof cause?.code === 'string') return cause.code;
  const code = (error as { code?: unknown }).code;
  return typeof code === 'string' ? code : undefined;
}

function fromBackendReply(reply: BackendErrorReply): GatewayError {
  const { status } = reply;
  const body = typeof reply.body === 'string' ? parseJson(reply.body) : reply.body;
  const said = readErrorBody(body);
  if (status === 200) {
    // Streaming errors: validation and overload are the client's to act on; the rest failed mid-generation.
    return new GatewayError(
      said.kind ?? 'upstream',
      said.message ?? `backend sent an error event without a message: ${JSON.stringify(body).slice(0, 200)}`,
    );
  }
  const type = typeForStatus(status);
  const opts = { backendStatus: status, retryAfterS: parseRetryAfter(reply.retryAfter) };
  if (said.message !== undefined) {
    // Validation and overload messages are written for the client; others get the backend's status in front.
    const message =
      type === 'validation' || type === 'overloaded' ? said.message : `backend answered ${status}: ${said.message}`;
    return new GatewayError(type, message, opts);
  }
  const text = typeof reply.body === 'string' ? reply.body : JSON.stringify(reply.body);
  const what = body === undefined ? 'a body that is not JSON' : 'JSON without an `error` field';
  return new GatewayError(type, `backend answered ${status} with ${what}: ${text.slice(0, 200)}`, opts);
}

/** What an error body says, in either protocol: its message, and whether the client or the load is at fault. */
interface ErrorBodySays {
  message?: string;
  kind?: 'validation' | 'overloaded';
}

/**
 * TGI's `{error: "...", error_type}`, or OpenAI's `{error: {message, type, code}}` (vLLM and llama-server send that
 * too; TGI 3.x does in its `/v1` streams, with a fixed `http_status_code` of 422 in place of a type).
 */
function readErrorBody(body: ErrorBody | undefined): ErrorBodySays {
  // vLLM before 0.10 and SGLang send the OpenAI error's fields at the top level, marked `object: "error"`.
  if (body?.error === undefined && body?.object === 'error') return readErrorBody({ error: body });
  const error = body?.error;
  if (typeof error === 'string') {
    const kind = body?.error_type;
    return { message: error, kind: kind === 'validation' || kind === 'overloaded' ? kind : undefined };
  }
  if (typeof error !== 'object' || error === null) return {};
  const { message, type, code, http_status_code } = error as Record<string, unknown>;
  if (typeof message !== 'string') return {};
  return { message, kind: openAiErrorKind(message, [type, code], http_status_code) };
}

const VALIDATION_NAMES = new Set<unknown>(['validation', 'invalid_request_error', 'BadRequestError', 400, 422]);
const OVERLOADED_NAMES = new Set<unknown>(['overloaded', 'rate_limit_exceeded', 'RateLimitError', 429]);

function openAiErrorKind(message: string, names: unknown[], tgiStatus: unknown): ErrorBodySays['kind'] {
  if (names.some((name) => VALIDATION_NAMES.has(name))) return 'validation';
  if (names.some((name) => OVERLOADED_NAMES.has(name))) return 'overloaded';
  if (tgiStatus === undefined) return undefined;
  // TGI says 422 whatever went wrong (router/src/infer/mod.rs, into_openai_event); its InferError's wording says what.
  if (message.startsWith('Input validation error')) return 'validation';
  return message === 'Model is overloaded' ? 'overloaded' : undefined;
}

function typeForStatus(status: number): GatewayErrorType {
  if (status === 400 || status === 413 || status === 422) return 'validation';
  if (status === 429) return 'overloaded';
  if (status === 503) return 'unavailable';
  return 'upstream'; // TGI's 424 (generation) and 500 (incomplete generation), and anything unexpected
}

type ErrorBody = { error?: unknown; error_type?: unknown; object?: unknown };

function parseJson(text: string): ErrorBody | undefined {
  try {
    const value: unknown = JSON.parse(text);
    return typeof value === 'object' && value !== null ? value : undefined;
  } catch {
    return undefined;
  }
}

/** Retry-After is either delay-seconds or an HTTP date (RFC 9110 §10.2.3). */
export function parseRetryAfter(value: string | undefined): number | undefined {
  if (value === undefined || value === '') return undefined;
  if (/^\d+$/.test(value.trim())) return Number(value.trim());
  const at = Date.parse(value);
  return Number.isNaN(at) ? undefined : Math.max(0, Math.ceil((at - Date.now()) / 1000));
}
