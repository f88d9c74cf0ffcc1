/**
 * The gateway's one error taxonomy and its mapping to HTTP. Everything that can fail on a request ends as one of
 * these, so the wire status, `error_type` and the `requests.errors.<type>` metric always agree.
 */
export type GatewayErrorType =
  | 'validation'
  | 'model_not_found'
  | 'not_found'
  | 'overloaded'
  | 'unavailable'
  | 'timeout'
  | 'upstream'
  | 'internal'
  | 'unauthorized'
  | 'forbidden'
  | 'rate_limited';

/** In read-back order: where two types share a status, the first is what the status reads back as (see below). */
const STATUS: Readonly<Record<GatewayErrorType, number>> = {
  validation: 422,
  model_not_found: 404,
  /** A route the gateway does not have. */
  not_found: 404,
  overloaded: 429,
  unavailable: 503,
  timeout: 504,
  upstream: 502,
  /** The gateway's own fault, never reported as `upstream`. */
  internal: 500,
  /** No API key, or one the gateway does not know (or has revoked). */
  unauthorized: 401,
  /** A valid key used outside its scope: a model or an admin route it may not use. */
  forbidden: 403,
  /** The key's own limit (requests, tokens or concurrency), distinct from a model's full queue (`overloaded`). */
  rate_limited: 429,
};

export const GATEWAY_ERROR_TYPES = Object.keys(STATUS) as readonly GatewayErrorType[];

const TYPE_OF_STATUS = new Map<number, GatewayErrorType>();
for (const type of GATEWAY_ERROR_TYPES) if (!TYPE_OF_STATUS.has(STATUS[type])) TYPE_OF_STATUS.set(STATUS[type], type);

export function isGatewayErrorType(value: string): value is GatewayErrorType {
  return Object.hasOwn(STATUS, value);
}

/**
 * The taxonomy read backwards: the error type an answer's status stands for; undefined for a success. Any other 4xx
 * is validation (as 400, 413 and 415 are), any other 5xx internal, and 404 reads as model_not_found: the only 404 of
 * POST /v1/generate, whose answers the metrics read back.
 */
export function errorTypeForStatus(status: number): GatewayErrorType | undefined {
  if (status < 400) return undefined;
  return TYPE_OF_STATUS.get(status) ?? (status < 500 ? 'validation' : 'internal');
}

export interface GatewayErrorOptions {
  /** Sent as Retry-After (seconds) with overloaded/unavailable/rate_limited answers. */
  retryAfterS?: number;
  cause?: unknown;
  /** The backend's own HTTP status when the error came from a backend answer (for logs; a 400 keeps its 400). */
  backendStatus?: number;
  /**
   * Validation only: a more precise 4xx than 422 (400 bad JSON, 408 too slow, 413 too large, 414 URL too long,
   * 415 not JSON, 431 headers too large); ignored otherwise.
   */
  status?: number;
  /** The request field at fault (`messages.0.role`, `max_tokens`), where one is: OpenAI's error body names it. */
  param?: string;
}

export class GatewayError extends Error {
  override readonly name = 'GatewayError';
  readonly status: number;
  readonly retryAfterS?: number;
  readonly backendStatus?: number;
  readonly param?: string;

  constructor(
    readonly type: GatewayErrorType,
    message: string,
    opts: GatewayErrorOptions = {},
  ) {
    super(message, opts.cause === undefined ? undefined : { cause: opts.cause });
    this.status = type === 'validation' ? validationStatus(opts) : STATUS[type];
    if (opts.retryAfterS !== undefined) this.retryAfterS = opts.retryAfterS;
    if (opts.backendStatus !== undefined) this.backendStatus = opts.backendStatus;
    if (opts.param !== undefined) this.param = opts.param;
  }
}

/** 422 as TGI answers it, unless the caller names another 4xx or the backend said 400. */
function validationStatus({ status, backendStatus }: GatewayErrorOptions): number {
  if (status !== undefined && Number.isInteger(status) && status >= 400 && status < 500) return status;
  return backendStatus === 400 ? 400 : STATUS.validation;
}
