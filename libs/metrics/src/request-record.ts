/** How a request ended: served, refused or failed with one of the error taxonomy's types, or left by its client. */
export type RequestOutcome =
  | 'ok'
  | 'validation'
  | 'model_not_found'
  | 'overloaded'
  | 'unavailable'
  | 'timeout'
  | 'upstream'
  | 'internal'
  | 'unauthorized'
  | 'forbidden'
  | 'rate_limited'
  | 'cancelled';

export const REQUEST_OUTCOMES: readonly RequestOutcome[] = [
  'ok',
  'validation',
  'model_not_found',
  'overloaded',
  'unavailable',
  'timeout',
  'upstream',
  'internal',
  'unauthorized',
  'forbidden',
  'rate_limited',
  'cancelled',
];

/** The generation route a request came in by: the gateway's own, one of the OpenAI ones, or a per-model TGI route. */
export type RequestRoute = 'generate' | 'chat_completions' | 'completions' | 'tgi';

/**
 * Everything the gateway knows about one finished generation request (`/v1/generate` or an OpenAI route); recorded
 * once, when its answer is done.
 */
export interface RequestRecord {
  /** Absent: `generate`. Prometheus labels the request counter with it; StatsD's keys count every route alike. */
  route?: RequestRoute;
  /** The canonical id of a model the gateway serves; null when the request named none it knows (or none at all). */
  modelId: string | null;
  outcome: RequestOutcome;
  /** End to end in the gateway: from the request's arrival to the last byte of its answer, ms. */
  latencyMs: number;
  /** Known only when the backend answered. */
  inputTokens?: number;
  outputTokens?: number;
  /** Waiting for a slot of the model (and, with Redis, getting the job to a worker and the answer back), ms. */
  queueMs?: number;
  /** From dispatch to the backend's first token, ms. */
  timeToFirstTokenMs?: number;
  /** The gateway's own share: latency minus the queue wait and the backend call, ms. */
  overheadMs?: number;
}
