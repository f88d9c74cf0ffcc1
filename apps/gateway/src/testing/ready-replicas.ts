import type { InferenceBackend } from '#backends';
import { ModelRegistry, parseRegistryConfig } from '#model-registry';
import { BackendDirectory } from '../backends/backend-directory.js';

/**
 * The models of `yaml`, every replica of `modelId` ready, and a directory whose backends nothing is called on: for
 * tests of how replicas are chosen, not called.
 */
export function readyReplicas(yaml: string, modelId: string): { registry: ModelRegistry; directory: BackendDirectory } {
  const registry = new ModelRegistry(parseRegistryConfig(yaml, 'replicas.yaml'));
  const directory = new BackendDirectory((baseUrl) => ({ baseUrl }) as InferenceBackend);
  for (const replica of registry.replicas(modelId)) {
    directory.set(modelId, replica.status.address!, replica.descriptor.backend, replica.replica);
    replica.markLoading();
    replica.markReady();
  }
  return { registry, directory };
}
