import type { GatewayError, InferenceBackend } from '#backends';
import type { BackendConfig } from '#model-registry';
import { backendFactory, type BackendFactory } from './backend-factory.js';

/**
 * Which backend serves each model right now. TGI and OpenAI-protocol backends are known from the config; a local engine's address
 * is known only once its process has bound a port, and changes when it is restarted.
 */
export class BackendDirectory {
  private readonly backends = new Map<string, InferenceBackend>();
  /** Per model: aborted when its engine is replaced, so that the calls still waiting on it fail at once. */
  private readonly engineLives = new Map<string, AbortController>();

  constructor(private readonly createBackend: BackendFactory = backendFactory(2_000)) {}

  /** The model's client for the backend at `baseUrl`, of the model's configured backend type. */
  set(modelId: string, baseUrl: string, config: BackendConfig): InferenceBackend {
    const current = this.backends.get(modelId);
    if (current?.baseUrl === baseUrl) return current;
    current?.close();
    const backend = this.createBackend(baseUrl, config);
    this.backends.set(modelId, backend);
    return backend;
  }

  get(modelId: string): InferenceBackend | undefined {
    return this.backends.get(modelId);
  }

  /** Aborts, with `reason`, every call in flight on the model's current backend (calls made later are not affected). */
  failCallsInFlight(modelId: string, reason: GatewayError): void {
    this.engineLives.get(modelId)?.abort(reason);
    this.engineLives.delete(modelId);
  }

  /** The signal of the model's current backend's life: aborted by failCallsInFlight. */
  engineSignal(modelId: string): AbortSignal {
    let life = this.engineLives.get(modelId);
    if (!life) this.engineLives.set(modelId, (life = new AbortController()));
    return life.signal;
  }

  closeAll(): void {
    for (const backend of this.backends.values()) backend.close();
    this.backends.clear();
  }
}
