import { OpenAiBackend, TgiBackend, type InferenceBackend } from '#backends';
import { replicasOf, type BackendConfig, type ConfigProblem, type ModelRegistry } from '#model-registry';

/** The client for a model's backend at a base URL, by its configured type. */
export type BackendFactory = (baseUrl: string, backend: BackendConfig) => InferenceBackend;

/**
 * `openai` backends, and `process` ones of `protocol: openai`, get an OpenAiBackend with their served model name (and
 * API key); `tgi`, `local` (our engine speaks TGI's protocol) and other `process` ones a TgiBackend. A `process`
 * server is probed on its configured health route.
 */
export function backendFactory(probeTimeoutMs: number, env: NodeJS.ProcessEnv = process.env): BackendFactory {
  return (baseUrl, backend) => {
    if (backend.type === 'process') {
      // Its own health route stays the judge after the start too, not the protocol's usual one.
      const options = { probeTimeoutMs, healthPath: backend.health };
      return backend.protocol === 'openai'
        ? new OpenAiBackend(baseUrl, { ...options, ...(backend.model === null ? {} : { model: backend.model }) })
        : new TgiBackend(baseUrl, options);
    }
    if (backend.type !== 'openai') return new TgiBackend(baseUrl, { probeTimeoutMs });
    const apiKey = backend.apiKeyEnv === null ? undefined : env[backend.apiKeyEnv];
    return new OpenAiBackend(baseUrl, {
      probeTimeoutMs,
      ...(backend.model === null ? {} : { model: backend.model }),
      ...(apiKey ? { apiKey } : {}),
    });
  };
}

/** An `api_key_env` that names an unset variable: found at start-up, before any call goes out without its key. */
export function missingBackendKeys(registry: ModelRegistry, env: NodeJS.ProcessEnv = process.env): ConfigProblem[] {
  return registry.list().flatMap(({ descriptor }, index) => {
    const replicas = replicasOf(descriptor);
    return replicas.flatMap((backend, replica) =>
      backend.type === 'openai' && backend.apiKeyEnv !== null && !env[backend.apiKeyEnv]
        ? [
            {
              path: descriptor.discovery
                ? `models[${index}].replicas.api_key_env`
                : descriptor.replicas === undefined
                  ? `models[${index}].backend.api_key_env`
                  : `models[${index}].replicas[${replica}].api_key_env`,
              message: `${backend.apiKeyEnv} (the API key of model "${descriptor.id}"'s server) is not set — export it, or remove api_key_env if the server takes no key`,
            },
          ]
        : [],
    );
  });
}
