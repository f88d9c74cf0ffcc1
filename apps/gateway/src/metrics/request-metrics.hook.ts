import type { FastifyInstance } from 'fastify';
import type { GatewayMetrics, RequestRecord, RequestRoute } from '#metrics';
import type { ModelRegistry } from '#model-registry';
import { gatewayOverheadMs } from '../serving/serving-path.service.js';
import { outcomeOfStatus, startObservation, type RequestObservation } from './request-observation.js';

/** The generation routes the metrics follow, and the body field each names its model in. */
const FOLLOWED: Readonly<Record<string, { route: RequestRoute; modelField: string }>> = {
  '/v1/generate': { route: 'generate', modelField: 'model_id' },
  '/v1/chat/completions': { route: 'chat_completions', modelField: 'model' },
  '/v1/completions': { route: 'completions', modelField: 'model' },
};

/**
 * Follows every generation request (POST /v1/generate and the OpenAI routes, counted alike) from arrival to the moment its answer is done — sent, failed (validation included,
 * which happens before any handler), or abandoned — and records it exactly once. The response's `close` event is the
 * one thing every path reaches, hijacked streams too.
 */
export function installRequestMetrics(
  fastify: FastifyInstance,
  metrics: GatewayMetrics,
  registry: ModelRegistry,
): void {
  fastify.addHook('onRequest', (request, reply, done) => {
    const followed = request.method === 'POST' ? FOLLOWED[request.routeOptions.url ?? ''] : undefined;
    if (followed) {
      const observation = startObservation(request.raw);
      metrics.requestStarted();
      reply.raw.once('close', () =>
        metrics.requestFinished({
          route: followed.route,
          ...recordOf(observation, reply.raw.writableFinished, reply.raw.statusCode, () =>
            modelNamedIn(request.body, followed.modelField, registry),
          ),
        }),
      );
    }
    done();
  });
}

function recordOf(
  observation: RequestObservation,
  finished: boolean,
  status: number,
  namedModel: () => string | null,
): RequestRecord {
  const latencyMs = performance.now() - observation.arrivedAt;
  const { result } = observation;
  const outcome = observation.errorType ?? (finished ? outcomeOfStatus(status) : 'cancelled');
  if (!result) return { modelId: namedModel(), outcome, latencyMs };
  const { outcome: generation, queuedMs } = result;
  return {
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
function modelNamedIn(body: unknown, field: string, registry: ModelRegistry): string | null {
  const id = (body as Record<string, unknown> | null | undefined)?.[field];
  return typeof id === 'string' ? (registry.resolve(id)?.descriptor.id ?? null) : null;
}
