import { Inject, Injectable } from '@nestjs/common';
import { GatewayError, type OpenAiModel, type OpenAiModelList } from '#backends';
import { ModelRegistry } from '#model-registry';
import { checkModelScope, mayUseModel, type Caller } from '../auth/caller.js';

/**
 * GET /v1/models as OpenAI lists models: every id and alias the gateway serves, each as its own entry; with keys, only
 * the models in the caller's scope.
 */
@Injectable()
export class OpenAiModelsService {
  /** The registry has no creation date; the gateway's start is when its models began to be served. */
  private readonly created = Math.floor(Date.now() / 1000);

  constructor(@Inject(ModelRegistry) private readonly registry: ModelRegistry) {}

  /** The names of the models the caller may use: what an OpenAI client offers its user to pick from. */
  list(caller: Caller): OpenAiModelList {
    const names = this.registry
      .list()
      .filter(({ descriptor }) => mayUseModel(caller, descriptor.id))
      .flatMap(({ descriptor }) => [descriptor.id, ...descriptor.aliases]);
    return { object: 'list', data: names.map((name) => this.model(name)) };
  }

  one(name: string, caller: Caller): OpenAiModel {
    const entry = this.registry.resolve(name);
    if (!entry)
      throw new GatewayError('model_not_found', `The model "${name}" does not exist (see GET /v1/models)`, {
        param: 'model',
      });
    checkModelScope(caller, entry.descriptor.id);
    return this.model(name);
  }

  private model(id: string): OpenAiModel {
    return { id, object: 'model', created: this.created, owned_by: 'sluice' };
  }
}
