import type { FastifyInstance } from 'fastify';
import type { GatewayMetrics, RequestRecord } from '#metrics';
import type { ModelRegistry } from '#model-registry';
import { gatewayOverheadMs } from '../generate/generate.service.js';
import { outcomeOfStatus, startObservation, type RequestObservation } from './request-observation.js';

const GENERATE_URL = '/v1/generate';

/**
 * Follows every POST /v1/generate from arrival to the moment its answer is done — sent, failed (validation included,
 * which happens before any handler), or abandoned — and records it exactly once. The response's `close` event is the
 * one thing every path reaches, hijacked streams too.
 */
export function installRequestMetrics(
  fastify: FastifyInstance,
  metrics: GatewayMetrics,
  registry: ModelRegistry,
): void {
  fastify.addHook('onRequest', (request, reply, done) => {
    if (request.method === 'POST' && request.routeOptions.url === GENERATE_URL) {
      const observation = startObservation(request.raw);
      metrics.requestStarted();
      reply.raw.once('close', () =>
        metrics.requestFinished(
          recordOf(observation, reply.raw.writableFinished, reply.raw.statusCode, request.body, registry),
        ),
      );
    }
    done();
  });
}

function recordOf(
  observation: RequestObservation,
  finished: boolean,
  status: number,
  body: unknown,
  registry: ModelRegistry,
): RequestRecord {
  const latencyMs = performance.now() - observation.arrivedAt;
  const { result } = observation;
  const outcome = observation.errorType ?? (finished ? outcomeOfStatus(status) : 'cancelled');
  if (!result) return { modelId: modelNamedIn(body, registry), outcome, latencyMs };
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
function modelNamedIn(body: unknown, registry: ModelRegistry): string | null {
  const id = (body as { model_id?: unknown } | null | undefined)?.model_id;
  return typeof id === 'string' ? (registry.resolve(id)?.descriptor.id ?? null) : null;
}
