import type { GatewayError, InferenceBackend, Stop } from '#backends';
import type { BackendConfig } from '#model-registry';
import { backendFactory, type BackendFactory } from './backend-factory.js';

/**
 * Which backend serves each replica of each model right now (a model of one has replica 0 only). Remote
 * backends (TGI, OpenAI-protocol servers) are known from the config; a local engine's address is known only once its process has bound a port, and changes when
 * it is restarted.
 */
export class BackendDirectory {
  private readonly backends = new Map<string, InferenceBackend>();
  /**
   * Per replica: the calls in flight on its current backend, aborted when its engine is replaced so that they fail at
   * once. A set each call enters and leaves, not a listener per call on a signal shared by all of them.
   */
  private readonly callsInFlight = new Map<string, Set<Stop>>();

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
    const calls = this.callsInFlight.get(key);
    this.callsInFlight.delete(key);
    for (const call of calls ?? []) call.abort(reason);
  }

  /** A call on the replica's current backend, in the set returned, until it deletes itself from it: failCallsInFlight aborts it. */
  enterCall(modelId: string, replica: number, call: Stop): Set<Stop> {
    const key = keyOf(modelId, replica);
    let calls = this.callsInFlight.get(key);
    if (!calls) this.callsInFlight.set(key, (calls = new Set()));
    calls.add(call);
    return calls;
  }

  /** A replica that has gone (and has no call in flight): its client is closed, its connections with it. */
  remove(modelId: string, replica: number): void {
    const key = keyOf(modelId, replica);
    this.backends.get(key)?.close();
    this.backends.delete(key);
    this.callsInFlight.delete(key);
  }

  closeAll(): void {
    for (const backend of this.backends.values()) backend.close();
    this.backends.clear();
  }
}

function keyOf(modelId: string, replica: number): string {
  return `${modelId}\u0000${replica}`;
}
