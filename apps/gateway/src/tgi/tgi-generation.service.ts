import { Inject, Injectable } from '@nestjs/common';
import { GatewayError, overlaid, type GenerationRequest } from '#backends';
import { ModelRegistry, type ModelEntry } from '#model-registry';
import { checkModelScope, type Caller } from '../auth/caller.js';
import { BackendDirectory } from '../backends/backend-directory.js';
import type { ServeSignals } from '../openai/openai-generation.service.js';
import { ServingPath, type GenerateResult } from '../serving/serving-path.service.js';
import { readTgiRequest, type TgiRequest } from './tgi-request.js';
import { modelUnavailableError } from '../serving/model-unavailable.js';

/** A TGI request that passed TGI's rules and names a served model, ready to go through the shared path. */
export interface PreparedTgiGeneration {
  modelId: string;
  request: TgiRequest;
  run(signals: ServeSignals): Promise<GenerateResult>;
}

/** The per-model TGI routes' edge of the shared path: a model named by the URL, a body in TGI's own shape. */
@Injectable()
export class TgiGenerationService {
  constructor(
    @Inject(ServingPath) private readonly path: ServingPath,
    @Inject(BackendDirectory) private readonly backends: BackendDirectory,
    @Inject(ModelRegistry) private readonly registry: ModelRegistry,
  ) {}

  prepare(model: string, body: unknown, shape: { compat: boolean; streaming?: boolean }): PreparedTgiGeneration {
    const entry = this.resolve(model);
    const request = readTgiRequest(body, shape);
    const maxNewTokens = this.maxNewTokens(entry, request.parameters.max_new_tokens ?? undefined);
    const backendRequest: GenerationRequest = {
      inputs: request.inputs,
      parameters: overlaid(request.parameters, { max_new_tokens: maxNewTokens }),
      // The prompt's logprobs come only in the backend's one answer; everything else streams from it.
      ...(request.prefill ? { route: 'generate' as const } : {}),
    };
    return {
      modelId: entry.descriptor.id,
      request,
      run: (signals) => this.path.serve(entry, { request: backendRequest, maxNewTokens }, signals),
    };
  }

  /** TGI's Info, as the model's backend answers `GET /info`; 503 while the model is not ready. */
  async info(model: string, caller: Caller): Promise<Record<string, unknown>> {
    const entry = this.readyEntry(model, caller);
    // A model of several replicas answers from one that serves (they run the same model).
    const replica = this.registry.replicas(entry.id).find((r) => r.state === 'ready') ?? entry;
    const backend = this.backends.get(entry.id, replica.replica);
    if (!backend) throw new GatewayError('unavailable', `model "${entry.descriptor.id}" has no backend yet`);
    return backend.info();
  }

  /** TGI's health: nothing when the model serves, else 503. */
  health(model: string, caller: Caller): void {
    this.readyEntry(model, caller);
  }

  private resolve(model: string): ModelEntry {
    return this.path.resolve(model, 'model', '/models');
  }

  private readyEntry(model: string, caller: Caller): ModelEntry {
    const entry = this.resolve(model);
    checkModelScope(caller, entry.descriptor.id);
    if (entry.state !== 'ready') throw modelUnavailableError(entry);
    return entry;
  }

  /** The model's default when not asked; above its ceiling is TGI's validation error. */
  private maxNewTokens({ descriptor }: ModelEntry, asked: number | undefined): number {
    try {
      return this.path.maxNewTokens(descriptor, asked, 'max_new_tokens');
    } catch (error) {
      if (error instanceof GatewayError && error.type === 'validation')
        throw new GatewayError('validation', `Input validation error: ${error.message}`, { param: 'max_new_tokens' });
      throw error;
    }
  }
}
