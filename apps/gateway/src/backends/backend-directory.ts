import { TgiBackend, type InferenceBackend } from '#backends';

/**
 * Which backend serves each model right now. TGI backends are known from the config; a local engine's address
 * is known only once its process has bound a port, and changes when it is restarted.
 */
export class BackendDirectory {
  private readonly backends = new Map<string, InferenceBackend>();

  set(modelId: string, baseUrl: string): InferenceBackend {
    const current = this.backends.get(modelId);
    if (current?.baseUrl === baseUrl) return current;
    current?.close();
    const backend = new TgiBackend(baseUrl);
    this.backends.set(modelId, backend);
    return backend;
  }

  get(modelId: string): InferenceBackend | undefined {
    return this.backends.get(modelId);
  }

  closeAll(): void {
    for (const backend of this.backends.values()) backend.close();
    this.backends.clear();
  }
}
