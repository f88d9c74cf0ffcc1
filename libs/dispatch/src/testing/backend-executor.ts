import { isChatRequest, type CallOptions, type CallTimeouts, type InferenceBackend } from '#backends';
import type { JobExecutor } from '../dispatch-queue.js';

/**
 * A job executor that runs each job on one backend, as the gateway's does: with these timeouts, and the rest of the
 * job's deadline as its total. For tests and benchmarks of the queue that need a real backend call behind it.
 */
export function executorOn(backend: InferenceBackend, timeouts: Omit<CallTimeouts, 'totalMs'>): JobExecutor {
  return (_modelId, request, { signal, deadline, onToken, onDelta }) => {
    const options: CallOptions = {
      signal,
      timeouts: { ...timeouts, totalMs: Math.max(1, deadline - Date.now()) },
      ...(onToken ? { onToken } : {}),
      ...(onDelta ? { onDelta } : {}),
    };
    return isChatRequest(request) ? backend.chat(request, options) : backend.generate(request, options);
  };
}
