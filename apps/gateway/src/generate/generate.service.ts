import { Inject, Injectable } from '@nestjs/common';
import { GatewayError, type GenerationOutcome, type TgiStreamEvent } from '#backends';
import { priorityOf, type DispatchQueue, type PriorityPolicy } from '#dispatch';
import { DISPATCH_DEFAULTS, ModelRegistry, type ModelEntry } from '#model-registry';
import { DISPATCH_QUEUE } from '../dispatch.providers.js';
import type { GenerateRequestDto } from './generate-request.dto.js';
import { toTgiParameters } from './tgi-parameters.js';

export interface GenerateContext {
  /** The client's disconnect: aborts waiting, queueing and the backend call. */
  signal: AbortSignal;
  onToken?: (event: TgiStreamEvent) => void;
}

export interface GenerateResult {
  modelId: string;
  outcome: GenerationOutcome;
  queuedMs: number;
}

/** The gateway's own share of a served request that has taken `elapsedMs` so far: neither queue wait nor backend call. */
export function gatewayOverheadMs({ outcome, queuedMs }: GenerateResult, elapsedMs: number): number {
  return Math.max(0, elapsedMs - queuedMs - outcome.timings.backendMs);
}

/**
 * The request path after validation: model → readiness → dispatch queue, which runs the backend call (here, or in
 * another replica's worker) when the model has a free slot.
 */
@Injectable()
export class GenerateService {
  private readonly priority: PriorityPolicy;

  constructor(
    @Inject(ModelRegistry) private readonly registry: ModelRegistry,
    @Inject(DISPATCH_QUEUE) private readonly queue: DispatchQueue,
  ) {
    const { priority, scenarioPriority } = registry.config.dispatch ?? DISPATCH_DEFAULTS;
    this.priority = { order: priority, scenarioPriority };
  }

  async generate(request: GenerateRequestDto, { signal, onToken }: GenerateContext): Promise<GenerateResult> {
    const entry = this.registry.resolve(request.model_id);
    if (!entry) {
      const known = this.registry
        .list()
        .map((e) => e.descriptor.id)
        .join(', ');
      throw new GatewayError(
        'model_not_found',
        `unknown model_id "${request.model_id}"; this gateway serves: ${known} (see GET /models)`,
      );
    }
    const { descriptor } = entry;
    const maxNewTokens = request.parameters?.max_new_tokens ?? descriptor.defaultMaxNewTokens;
    if (maxNewTokens > descriptor.maxNewTokens) {
      throw new GatewayError(
        'validation',
        `parameters.max_new_tokens ${maxNewTokens} is above the ceiling of model "${descriptor.id}" (${descriptor.maxNewTokens})`,
      );
    }
    // The model's total_ms, or less if the client asks for less.
    const deadline = Date.now() + Math.min(request.timeout_ms ?? Infinity, descriptor.timeouts.totalMs);
    await this.untilReady(entry, signal, deadline);

    const { outcome, queuedMs } = await this.queue.dispatch(descriptor.id, {
      request: { inputs: request.inputs, parameters: toTgiParameters(request.parameters, maxNewTokens) },
      priority: priorityOf(this.priority, { scenario: request.scenario, maxNewTokens }),
      deadline,
      signal,
      onToken,
    });
    return { modelId: descriptor.id, outcome, queuedMs };
  }

  /**
   * A model that is still starting or loading is waited for within the request's deadline (a cold start the
   * client can ride out); one that is unhealthy or stopped is refused at once with 503.
   */
  private untilReady(entry: ModelEntry, signal: AbortSignal, deadline: number): Promise<void> {
    const refuse = () => {
      const { state, lastError } = entry.status;
      const why = lastError ? `: ${lastError.message}` : '';
      return new GatewayError('unavailable', `model "${entry.descriptor.id}" is ${state}${why}`, { retryAfterS: 5 });
    };
    const state = entry.status.state;
    if (state === 'ready') return Promise.resolve();
    if (state === 'unhealthy' || state === 'stopped') return Promise.reject(refuse());
    return new Promise<void>((resolve, reject) => {
      const finish = (error?: Error) => {
        unsubscribe();
        clearTimeout(timer);
        signal.removeEventListener('abort', onAbort);
        if (error === undefined) resolve();
        else reject(error);
      };
      const onAbort = () => finish(signal.reason as Error);
      const unsubscribe = entry.onChange((changed) => {
        const now = changed.status.state;
        if (now === 'ready') finish();
        else if (now === 'unhealthy' || now === 'stopped') finish(refuse());
      });
      const timer = setTimeout(
        () =>
          finish(
            new GatewayError(
              'unavailable',
              `model "${entry.descriptor.id}" is still ${entry.status.state} (cold start)`,
              { retryAfterS: 5 },
            ),
          ),
        Math.max(0, deadline - Date.now()),
      );
      signal.addEventListener('abort', onAbort, { once: true });
    });
  }
}
