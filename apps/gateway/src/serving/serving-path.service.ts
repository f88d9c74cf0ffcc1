import type { ServerResponse } from 'node:http';
import { Inject, Injectable } from '@nestjs/common';
import {
  GatewayError,
  type BackendRequest,
  type ChatDelta,
  type GenerationOutcome,
  type StopSignal,
  type TgiStreamEvent,
} from '#backends';
import { priorityOf, type DispatchQueue, type PriorityPolicy } from '#dispatch';
import {
  DISPATCH_DEFAULTS,
  ModelRegistry,
  type ModelDescriptor,
  type ModelEntry,
  type ModelState,
} from '#model-registry';
import { checkModelScope, type Caller } from '../auth/caller.js';
import { DISPATCH_QUEUE } from '../dispatch.providers.js';
import { RateLimitGate } from '../limits/rate-limit-gate.service.js';
import { ResidencyService } from '../residency/residency.service.js';
import { modelUnavailableError } from './model-unavailable.js';

export interface ServeContext {
  /** The client's disconnect: aborts waiting, queueing and the backend call. */
  signal: StopSignal;
  /** Who asks: its scope, limits and turn in the model's queue. */
  caller: Caller;
  /** The answer's response, for headers that must go out with whatever answer it gets (x-ratelimit-*). */
  response: ServerResponse;
  onToken?: (event: TgiStreamEvent) => void;
  onDelta?: (delta: ChatDelta) => void;
}

/**
 * A client's context with the relays of its answer. Written out rather than `{ ...client, onToken }`: Node 20's V8
 * builds a spread followed by more keys in its runtime, about ten times the cost of a literal (PERFORMANCE.md).
 */
export function serveContext(
  { signal, caller, response }: Pick<ServeContext, 'signal' | 'caller' | 'response'>,
  { onToken, onDelta }: Pick<ServeContext, 'onToken' | 'onDelta'>,
): ServeContext {
  return { signal, caller, response, onToken, onDelta };
}

export interface ServeJob {
  request: BackendRequest;
  /** The tokens the job may generate: with the scenario, what its priority is judged by. */
  maxNewTokens: number;
  scenario?: string;
  /** The client's own deadline, ms; the model's total_ms when absent or longer. */
  timeoutMs?: number;
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
 * The request path every API dialect shares after its own validation and mapping: model → readiness → deadline →
 * dispatch queue, which runs the backend call (here, or in another replica's worker) when the model has a free slot.
 */
@Injectable()
export class ServingPath {
  private readonly priority: PriorityPolicy;

  constructor(
    @Inject(ModelRegistry) private readonly registry: ModelRegistry,
    @Inject(DISPATCH_QUEUE) private readonly queue: DispatchQueue,
    @Inject(RateLimitGate) private readonly limits: RateLimitGate,
    @Inject(ResidencyService) private readonly residency: ResidencyService,
  ) {
    const { priority, scenarioPriority } = registry.config.dispatch ?? DISPATCH_DEFAULTS;
    this.priority = { order: priority, scenarioPriority };
  }

  /** The model an id or alias names; `model_not_found` naming `param` and what the gateway serves otherwise. */
  resolve(name: string, param: string, modelsRoute: string): ModelEntry {
    const entry = this.registry.resolve(name);
    if (entry) return entry;
    const known = this.registry
      .list()
      .map((e) => e.descriptor.id)
      .join(', ');
    throw new GatewayError(
      'model_not_found',
      `unknown ${param} "${name}"; this gateway serves: ${known} (see GET ${modelsRoute})`,
      { param },
    );
  }

  /** The tokens a request may generate: what it asked, else the model's default; above its ceiling is `validation`. */
  maxNewTokens(descriptor: ModelDescriptor, asked: number | undefined, param: string): number {
    const maxNewTokens = asked ?? descriptor.defaultMaxNewTokens;
    if (maxNewTokens > descriptor.maxNewTokens) {
      throw new GatewayError(
        'validation',
        `${param} ${maxNewTokens} is above the ceiling of model "${descriptor.id}" (${descriptor.maxNewTokens})`,
        { param },
      );
    }
    return maxNewTokens;
  }

  async serve(
    entry: ModelEntry,
    job: ServeJob,
    { signal, caller, response, onToken, onDelta }: ServeContext,
  ): Promise<GenerateResult> {
    const { descriptor } = entry;
    checkModelScope(caller, descriptor.id);
    // The model's total_ms, or less if the client asks for less.
    const deadline = Date.now() + Math.min(job.timeoutMs ?? Infinity, descriptor.timeouts.totalMs);
    // The key's own limits: refused here (429 rate_limited), or admitted and charged when the request ends.
    // Each step below answers at once when it has nothing to wait for (no limits, resident, ready): no promise.
    const admission = this.limits.admit(caller, job.request, { response, deadline });
    const limited = admission instanceof Promise ? await admission : admission;
    let release: (() => void) | undefined;
    try {
      // A model not loaded is loaded now (room made on its GPU if need be) and waited for: the request's queue time.
      const waitStartedAt = performance.now();
      if (!signal.aborted) release = this.residency.admitNow(entry);
      release ??= await this.residency.admit(entry, signal, deadline);
      const readiness = this.untilReady(entry, signal, deadline);
      if (readiness !== undefined) await readiness;
      const loadWaitMs = performance.now() - waitStartedAt;
      const dispatched = await this.queue.dispatch(descriptor.id, {
        request: job.request,
        priority: priorityOf(this.priority, { scenario: job.scenario, maxNewTokens: job.maxNewTokens }),
        client: { id: caller.id, weight: caller.weight },
        deadline,
        signal,
        ...limited.relays({ onToken, onDelta }),
      });
      const { outcome } = dispatched;
      const ended = limited.end({ outcome });
      if (ended !== undefined) await ended;
      return { modelId: descriptor.id, outcome, queuedMs: dispatched.queuedMs + loadWaitMs };
    } catch (error) {
      await limited.end({
        failure: { type: error instanceof GatewayError ? error.type : undefined, cutShort: signal.aborted },
      });
      throw error;
    } finally {
      release?.();
    }
  }

  /**
   * A model that is still starting or loading is waited for within the request's deadline (a cold start the
   * client can ride out); one that is unhealthy, failed (its file is missing or refused) or stopped is refused at once
   * with 503 and the reason. A ready model: undefined, nothing to wait for.
   */
  private untilReady(entry: ModelEntry, signal: StopSignal, deadline: number): Promise<void> | undefined {
    const state = entry.state;
    if (state === 'ready') return undefined;
    const refuse = () => modelUnavailableError(entry);
    if (refusesAtOnce(state)) return Promise.reject(refuse());
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
        else if (refusesAtOnce(now)) finish(refuse());
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

/** States no wait within a deadline would see through: only a change the gateway makes (a restart, a retry) can. */
function refusesAtOnce(state: ModelState): boolean {
  return state === 'unhealthy' || state === 'failed' || state === 'stopped';
}
