import type { GatewayError, InferenceBackend } from '#backends';
import type { BackendConfig } from '#model-registry';
import { backendFactory, type BackendFactory } from './backend-factory.js';

/**
 * Which backend serves each replica of each model right now (a model of one has replica 0 only). Remote
 * backends (TGI, OpenAI-protocol servers) are known from the config; a local engine's address is known only once its process has bound a port, and changes when
 * it is restarted.
 */
export class BackendDirectory {
  private readonly backends = new Map<string, InferenceBackend>();
  /** Per replica: aborted when its engine is replaced, so that the calls still waiting on it fail at once. */
  private readonly engineLives = new Map<string, AbortController>();

  constructor(private readonly createBackend: BackendFactory = backendFactory(2_000)) {}

  /** The replica's client for the backend at `baseUrl`, of the replica's configured backend type. */
  set(modelId: string, baseUrl: string, config: BackendConfig, replica = 0): InferenceBackend {
    const key = keyOf(modelId, replica);
    const current = this.backends.get(key);
    if (current?.baseUrl === baseUrl) return current;
    current?.close();
    const backend = this.createBackend(baseUrl, config);
    this.backends.set(key, backend);
    return backend;
  }

  get(modelId: string, replica = 0): InferenceBackend | undefined {
    return this.backends.get(keyOf(modelId, replica));
  }

  /** Aborts, with `reason`, every call in flight on the replica's current backend (calls made later are not affected). */
  failCallsInFlight(modelId: string, reason: GatewayError, replica = 0): void {
    const key = keyOf(modelId, replica);
    this.engineLives.get(key)?.abort(reason);
    this.engineLives.delete(key);
  }

  /** The signal of the replica's current backend's life: aborted by failCallsInFlight. */
  engineSignal(modelId: string, replica = 0): AbortSignal {
    const key = keyOf(modelId, replica);
    let life = this.engineLives.get(key);
    if (!life) this.engineLives.set(key, (life = new AbortController()));
    return life.signal;
  }

  /** A replica that has gone (and has no call in flight): its client is closed, its connections with it. */
  remove(modelId: string, replica: number): void {
    const key = keyOf(modelId, replica);
    this.backends.get(key)?.close();
    this.backends.delete(key);
    this.engineLives.delete(key);
  }

  closeAll(): void {
    for (const backend of this.backends.values()) backend.close();
    this.backends.clear();
  }
}

function keyOf(modelId: string, replica: number): string {
  return `${modelId}\u0000${replica}`;
}
