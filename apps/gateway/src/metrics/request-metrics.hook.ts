import type { ServerResponse } from 'node:http';
import type { FastifyInstance } from 'fastify';
import type { GatewayMetrics, RequestRecord, RequestRoute } from '#metrics';
import type { ModelRegistry } from '#model-registry';
import { gatewayOverheadMs } from '../serving/serving-path.service.js';
import { outcomeOfStatus, startObservation, type RequestObservation } from './request-observation.js';

/** What names a request's model: its parsed body, or its route parameters (the per-model TGI routes). */
export interface ModelSource {
  readonly body?: unknown;
  readonly params?: unknown;
}

type ModelNamer = (source: ModelSource) => unknown;

const inBody =
  (field: string): ModelNamer =>
  (source) =>
    (source.body as Record<string, unknown> | null | undefined)?.[field];

const inUrl: ModelNamer = (source) => (source.params as Record<string, string | undefined> | undefined)?.id;

const tgi = { route: 'tgi', modelOf: inUrl } as const;

export interface FollowedRoute {
  route: RequestRoute;
  modelOf: ModelNamer;
}

/** The generation routes the metrics follow, by their route pattern, and where each names its model. */
const FOLLOWED: Readonly<Record<string, FollowedRoute>> = {
  '/v1/generate': { route: 'generate', modelOf: inBody('model_id') },
  '/v1/chat/completions': { route: 'chat_completions', modelOf: inBody('model') },
  '/v1/completions': { route: 'completions', modelOf: inBody('model') },
  ...Object.fromEntries(
    ['', '/generate', '/generate_stream', '/v1/completions'].map((route) => [`/models/:id${route}`, tgi]),
  ),
};

/**
 * Follows every generation request (POST /v1/generate, the OpenAI routes and the per-model TGI routes, counted
 * alike) from arrival to the moment its answer is done — sent, failed (validation included, which happens before any
 * handler), or abandoned — and records it exactly once. The response's `close` event is the one thing every path
 * reaches, hijacked streams too.
 */
export class RequestFollower {
  constructor(
    readonly metrics: GatewayMetrics,
    readonly registry: ModelRegistry,
  ) {}

  /** The route a POST to `pattern` counts under, if the metrics follow it. */
  static routeOf(pattern: string): FollowedRoute | undefined {
    return FOLLOWED[pattern];
  }

  /** From now until `response` closes; `source` names the model once its body is parsed. */
  follow(
    response: ServerResponse,
    followed: FollowedRoute,
    source: ModelSource,
    observation: RequestObservation,
  ): void {
    (response as Followed)[FOLLOWING] = { follower: this, followed, source, observation };
    this.metrics.requestStarted();
    response.on('close', onResponseClose); // a response closes once: no `once` wrapper per request
  }
}

export function installRequestMetrics(fastify: FastifyInstance, follower: RequestFollower): void {
  fastify.addHook('onRequest', (request, reply, done) => {
    const followed = request.method === 'POST' ? RequestFollower.routeOf(request.routeOptions.url ?? '') : undefined;
    if (followed) follower.follow(reply.raw, followed, request, startObservation(request.raw));
    done();
  });
}

/** One listener for every response (no closure per request): what it needs rides on the request's following. */
function onResponseClose(this: Followed): void {
  const following = this[FOLLOWING];
  if (following === undefined) return;
  this[FOLLOWING] = undefined;
  const { metrics, registry } = following.follower;
  metrics.requestFinished(recordOf(following, this.writableFinished, this.statusCode, registry));
}

/** A followed request until its response closes. */
interface Following {
  follower: RequestFollower;
  followed: FollowedRoute;
  source: ModelSource;
  observation: RequestObservation;
}

/** A property of the response, not a WeakMap keyed by it: hashing responses into a map costs the hot path (PERFORMANCE.md). */
const FOLLOWING = Symbol('sluice.following');
type Followed = ServerResponse & { [FOLLOWING]?: Following | undefined };

function recordOf(
  { followed: { route, modelOf }, source, observation }: Following,
  finished: boolean,
  status: number,
  registry: ModelRegistry,
): RequestRecord & { route: RequestRoute } {
  const latencyMs = performance.now() - observation.arrivedAt;
  const { result } = observation;
  const outcome = observation.errorType ?? (finished ? outcomeOfStatus(status) : 'cancelled');
  if (!result) return { route, modelId: modelNamedIn(modelOf(source), registry), outcome, latencyMs };
  const { outcome: generation, queuedMs } = result;
  return {
    route,
    modelId: result.modelId,
    outcome,
    latencyMs,
    inputTokens: generation.inputTokens,
    outputTokens: generation.outputTokens,
    queueMs: queuedMs,
    timeToFirstTokenMs: generation.timings.firstTokenMs,
    overheadMs: gatewayOverheadMs(result, latencyMs),
  };
}

/** The served model a failed request asked for (aliases resolve); null for ids the gateway does not serve, which must not become metric keys. */
function modelNamedIn(id: unknown, registry: ModelRegistry): string | null {
  return typeof id === 'string' ? (registry.resolve(id)?.descriptor.id ?? null) : null;
}
