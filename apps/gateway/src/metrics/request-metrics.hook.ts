import type { ServerResponse } from 'node:http';
import type { FastifyInstance, FastifyRequest } from 'fastify';
import type { GatewayMetrics, RequestRecord, RequestRoute } from '#metrics';
import type { ModelRegistry } from '#model-registry';
import { gatewayOverheadMs } from '../serving/serving-path.service.js';
import { outcomeOfStatus, startObservation, type RequestObservation } from './request-observation.js';

/** Where a request names its model: a body field, or the URL (the per-model TGI routes). */
type ModelNamer = (request: FastifyRequest) => unknown;

const inBody =
  (field: string): ModelNamer =>
  (request) =>
    (request.body as Record<string, unknown> | null | undefined)?.[field];

const inUrl: ModelNamer = (request) => (request.params as Record<string, string | undefined> | undefined)?.id;

const tgi = { route: 'tgi', modelOf: inUrl } as const;

/** The generation routes the metrics follow, by their route pattern, and where each names its model. */
const FOLLOWED: Readonly<Record<string, { route: RequestRoute; modelOf: ModelNamer }>> = {
  '/v1/generate': { route: 'generate', modelOf: inBody('model_id') },
  '/v1/chat/completions': { route: 'chat_completions', modelOf: inBody('model') },
  '/v1/completions': { route: 'completions', modelOf: inBody('model') },
  ...Object.fromEntries(
    ['', '/generate', '/generate_stream', '/v1/completions'].map((route) => [`/models/:id${route}`, tgi]),
  ),
};

/**
 * Follows every generation request (POST /v1/generate, the OpenAI routes and the per-model TGI routes, counted alike) from arrival to the moment its answer is done — sent, failed (validation included,
 * which happens before any handler), or abandoned — and records it exactly once. The response's `close` event is the
 * one thing every path reaches, hijacked streams too.
 */
export function installRequestMetrics(
  fastify: FastifyInstance,
  metrics: GatewayMetrics,
  registry: ModelRegistry,
): void {
  // One listener for every response (no closure per request): what it needs rides on the request's observation.
  function onResponseClose(this: ServerResponse): void {
    const followed = FOLLOWING.get(this);
    if (followed === undefined) return;
    FOLLOWING.delete(this);
    metrics.requestFinished(recordOf(followed, this.writableFinished, this.statusCode, registry));
  }
  fastify.addHook('onRequest', (request, reply, done) => {
    const followed = request.method === 'POST' ? FOLLOWED[request.routeOptions.url ?? ''] : undefined;
    if (followed) {
      const { route, modelOf } = followed;
      FOLLOWING.set(reply.raw, { route, modelOf, request, observation: startObservation(request.raw) });
      metrics.requestStarted();
      reply.raw.on('close', onResponseClose); // a response closes once: no `once` wrapper per request
    }
    done();
  });
}

/** A followed request until its response closes. */
interface Following {
  route: RequestRoute;
  modelOf: ModelNamer;
  request: FastifyRequest;
  observation: RequestObservation;
}

const FOLLOWING = new WeakMap<ServerResponse, Following>();

function recordOf(
  { route, modelOf, request, observation }: Following,
  finished: boolean,
  status: number,
  registry: ModelRegistry,
): RequestRecord & { route: RequestRoute } {
  const latencyMs = performance.now() - observation.arrivedAt;
  const { result } = observation;
  const outcome = observation.errorType ?? (finished ? outcomeOfStatus(status) : 'cancelled');
  if (!result) return { route, modelId: modelNamedIn(modelOf(request), registry), outcome, latencyMs };
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
