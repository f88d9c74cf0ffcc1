import { Inject, Injectable } from '@nestjs/common';
import { GatewayError, type GenerationOutcome, type TgiStreamEvent } from '../../../../libs/backends/src/index.js';
import type { DispatchQueue } from '../../../../libs/dispatch/src/index.js';
import { ModelRegistry, type ModelEntry } from '../../../../libs/model-registry/src/index.js';
import { BackendDirectory } from '../backends/backend-directory.js';
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

/** The request path after validation: model → readiness → dispatch queue → backend. */
@Injectable()
export class GenerateService {
  constructor(
    @Inject(ModelRegistry) private readonly registry: ModelRegistry,
    @Inject(BackendDirectory) private readonly directory: BackendDirectory,
    @Inject(DISPATCH_QUEUE) private readonly queue: DispatchQueue,
  ) {}

  async generate(request: GenerateRequestDto, { signal, onToken }: GenerateContext): Promise<GenerateResult> {
    const entry = this.registry.resolve(request.model_id);
    if (!entry) {
      const known = this.registry.list().map((e) => e.descriptor.id).join(', ');
      throw new GatewayError('model_not_found', `unknown model_id "${request.model_id}"; this gateway serves: ${known} (see GET /models)`);
    }
    const { descriptor } = entry;
    const maxNewTokens = request.parameters?.max_new_tokens ?? descriptor.defaultMaxNewTokens;
    if (maxNewTokens > descriptor.maxNewTokens) {
      throw new GatewayError('validation', `parameters.max_new_tokens ${maxNewTokens} is above the ceiling of model "${descriptor.id}" (${descriptor.maxNewTokens})`);
    }
    const deadline = Date.now() + descriptor.timeouts.totalMs;
    await this.untilReady(entry, signal, deadline);

    const slot = await this.queue.acquire(descriptor.id, { signal, deadline });
    try {
      const backend = this.directory.get(descriptor.id);
      if (!backend) throw new GatewayError('unavailable', `model "${descriptor.id}" has no backend address yet`, { retryAfterS: 1 });
      const { connectMs, firstByteMs, interTokenMs } = descriptor.timeouts;
      const outcome = await backend.generate(
        { inputs: request.inputs, parameters: toTgiParameters(request.parameters, maxNewTokens) },
        { signal, timeouts: { connectMs, firstByteMs, interTokenMs, totalMs: Math.max(1, deadline - Date.now()) }, onToken },
      );
      return { modelId: descriptor.id, outcome, queuedMs: slot.queuedMs };
    } finally {
      slot.release();
    }
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
      const finish = (error?: unknown) => {
        unsubscribe();
        clearTimeout(timer);
        signal.removeEventListener('abort', onAbort);
        if (error === undefined) resolve();
        else reject(error);
      };
      const onAbort = () => finish(signal.reason);
      const unsubscribe = entry.onChange((changed) => {
        const now = changed.status.state;
        if (now === 'ready') finish();
        else if (now === 'unhealthy' || now === 'stopped') finish(refuse());
      });
      const timer = setTimeout(
        () => finish(new GatewayError('unavailable', `model "${entry.descriptor.id}" is still ${entry.status.state} (cold start)`, { retryAfterS: 5 })),
        Math.max(0, deadline - Date.now()),
      );
      signal.addEventListener('abort', onAbort, { once: true });
    });
  }
}
