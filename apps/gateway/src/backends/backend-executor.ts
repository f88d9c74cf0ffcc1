import { GatewayError } from '#backends';
import type { JobExecutor } from '#dispatch';
import type { ModelRegistry } from '#model-registry';
import type { BackendDirectory } from './backend-directory.js';

/**
 * How a dispatch-queue job reaches the model's backend in this replica: with the model's timeouts, the rest of the
 * request's deadline as its total, and the job's signal (the client's disconnect, wherever the client is).
 */
export function backendExecutor(registry: ModelRegistry, directory: BackendDirectory): JobExecutor {
  return (modelId, request, { signal, deadline, onToken }) => {
    const backend = directory.get(modelId);
    if (!backend)
      return Promise.reject(
        new GatewayError('unavailable', `model "${modelId}" has no backend address yet`, { retryAfterS: 1 }),
      );
    const { connectMs, firstByteMs, interTokenMs } = registry.get(modelId).descriptor.timeouts;
    return backend.generate(request, {
      signal,
      onToken,
      timeouts: { connectMs, firstByteMs, interTokenMs, totalMs: Math.max(1, deadline - Date.now()) },
    });
  };
}
