import { GatewayError, isChatRequest, type CallOptions } from '#backends';
import type { JobExecutor } from '#dispatch';
import type { ModelRegistry } from '#model-registry';
import type { BackendDirectory } from './backend-directory.js';

/**
 * How a dispatch-queue job reaches the model's backend in this replica: with the model's timeouts, the rest of the
 * request's deadline as its total, and the job's signal (the client's disconnect, wherever the client is).
 */
export function backendExecutor(registry: ModelRegistry, directory: BackendDirectory): JobExecutor {
  return (modelId, request, { signal, deadline, onToken, onDelta }) => {
    const backend = directory.get(modelId);
    if (!backend)
      return Promise.reject(
        new GatewayError('unavailable', `model "${modelId}" has no backend address yet`, { retryAfterS: 1 }),
      );
    const { connectMs, firstByteMs, interTokenMs } = registry.get(modelId).descriptor.timeouts;
    const options: CallOptions = {
      signal,
      onToken,
      onDelta,
      timeouts: { connectMs, firstByteMs, interTokenMs, totalMs: Math.max(1, deadline - Date.now()) },
    };
    return isChatRequest(request) ? backend.chat(request, options) : backend.generate(request, options);
  };
}
