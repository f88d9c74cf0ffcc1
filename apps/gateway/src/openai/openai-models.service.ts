import { Inject, Injectable } from '@nestjs/common';
import { GatewayError, type OpenAiModel, type OpenAiModelList } from '#backends';
import { ModelRegistry } from '#model-registry';

/** GET /v1/models as OpenAI lists models: every id and alias the gateway serves, each as its own entry. */
@Injectable()
export class OpenAiModelsService {
  /** The registry has no creation date; the gateway's start is when its models began to be served. */
  private readonly created = Math.floor(Date.now() / 1000);

  constructor(@Inject(ModelRegistry) private readonly registry: ModelRegistry) {}

  list(): OpenAiModelList {
    const names = this.registry.list().flatMap(({ descriptor }) => [descriptor.id, ...descriptor.aliases]);
    return { object: 'list', data: names.map((name) => this.model(name)) };
  }

  one(name: string): OpenAiModel {
    if (!this.registry.resolve(name))
      throw new GatewayError('model_not_found', `The model "${name}" does not exist (see GET /v1/models)`, {
        param: 'model',
      });
    return this.model(name);
  }

  private model(id: string): OpenAiModel {
    return { id, object: 'model', created: this.created, owned_by: 'sluice' };
  }
}
