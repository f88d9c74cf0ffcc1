import { GatewayError, isChatRequest, type CallOptions, type GenerationOutcome } from '#backends';
import type { JobExecutor } from '#dispatch';
import type { ModelRegistry } from '#model-registry';
import { modelUnavailableError } from '../serving/model-unavailable.js';
import type { BackendDirectory } from './backend-directory.js';

/**
 * How a dispatch-queue job reaches the model's backend in this replica: with the model's timeouts, the rest of the
 * request's deadline as its total, and a signal that aborts on the job's own (the client's disconnect, wherever the
 * client is) or when the model's engine is replaced (its reason then is the call's one error).
 */
export function backendExecutor(registry: ModelRegistry, directory: BackendDirectory): JobExecutor {
  return (modelId, request, { signal, deadline, onToken, onDelta }) => {
    const backend = directory.get(modelId);
    if (!backend)
      return Promise.reject(
        new GatewayError('unavailable', `model "${modelId}" has no backend address yet`, { retryAfterS: 1 }),
      );
    const entry = registry.get(modelId);
    // A job that waited in line while its backend stopped answering is refused now, not sent to wait on it.
    if (entry.state === 'unhealthy' || entry.state === 'failed') return Promise.reject(modelUnavailableError(entry));
    const { connectMs, firstByteMs, interTokenMs } = entry.descriptor.timeouts;
    const call = linkedAbort(signal, directory.engineSignal(modelId));
    // Nobody reads the generation's tokens before its end: the backend may answer it in one piece. (A chat streams
    // from the backend whatever the client asked.)
    const oneAnswer = !isChatRequest(request) && onToken === undefined && onDelta === undefined;
    const options: CallOptions = {
      signal: call.signal,
      onToken,
      onDelta,
      timeouts: { connectMs, firstByteMs, interTokenMs, totalMs: Math.max(1, deadline - Date.now()) },
      ...(oneAnswer ? { oneAnswer } : {}),
    };
    const outcome: Promise<GenerationOutcome> = isChatRequest(request)
      ? backend.chat(request, options)
      : backend.generate(request, options);
    return outcome.finally(call.unlink);
  };
}

/** A signal that aborts with the reason of whichever of `a` and `b` aborts first; unlink() lets both go. */
function linkedAbort(a: AbortSignal, b: AbortSignal): { signal: AbortSignal; unlink: () => void } {
  const controller = new AbortController();
  if (a.aborted || b.aborted) {
    controller.abort(a.aborted ? a.reason : b.reason);
    return { signal: controller.signal, unlink: () => undefined };
  }
  const fromA = () => controller.abort(a.reason);
  const fromB = () => controller.abort(b.reason);
  a.addEventListener('abort', fromA, { once: true });
  b.addEventListener('abort', fromB, { once: true });
  return {
    signal: controller.signal,
    unlink: () => {
      a.removeEventListener('abort', fromA);
      b.removeEventListener('abort', fromB);
    },
  };
}
