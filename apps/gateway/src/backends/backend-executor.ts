import {
  GatewayError,
  isChatRequest,
  Stop,
  type BackendRequest,
  type CallOptions,
  type GenerationOutcome,
} from '#backends';
import type { ExecutionContext, JobExecutor } from '#dispatch';
import { isSupervised, type ModelRegistry } from '#model-registry';
import type { ReplicaRouter } from '../replicas/replica-router.service.js';
import { mayFailOver, outlierOutcome } from '../replicas/failover-rules.js';
import { promptPrefix } from '../replicas/prompt-prefix.js';
import { modelUnavailableError } from '../serving/model-unavailable.js';
import type { BackendDirectory } from './backend-directory.js';

/** A request is tried on this many replicas at most: the first pick, and one other if the first refused it. */
const MOST_TRIES = 2;

/**
 * How a dispatch-queue job reaches the model's backend in this replica: on the replica the router picks, with the
 * model's timeouts, the rest of the request's deadline as its total, and a signal that aborts on the job's own (the
 * client's disconnect, wherever the client is) or when that replica's engine is replaced (its reason then is the
 * call's one error). A replica that refuses the call before its first byte (failover-rules.ts) hands it to another
 * one, once.
 */
export function backendExecutor(
  registry: ModelRegistry,
  directory: BackendDirectory,
  router: ReplicaRouter,
): JobExecutor {
  return async (modelId, request, context) => {
    const entry = registry.get(modelId);
    // A job that waited in line while its backend stopped answering is refused now, not sent to wait on it.
    if (entry.state === 'unhealthy' || entry.state === 'failed') throw modelUnavailableError(entry);
    const tried = new Set<number>();
    const prefix = entry.descriptor.routing === 'prefix' ? promptPrefix(request) : undefined;
    let lastError: { error: unknown } | undefined;
    while (tried.size < MOST_TRIES) {
      const acquired = router.acquire(modelId, tried, context.deadline, context.signal, prefix);
      const place = acquired instanceof Promise ? await acquired : acquired;
      if (place === undefined) break;
      const { replica } = place;
      if (lastError !== undefined) router.failedOver(modelId, [...tried].at(-1)!);
      tried.add(replica);
      const attempt = { started: false };
      try {
        return await callReplica(modelId, replica, request, context, attempt);
      } catch (error) {
        lastError = { error };
        if (!mayFailOver(error, attempt.started, context)) throw error;
      } finally {
        place.release();
      }
    }
    if (lastError) throw lastError.error;
    if (directory.get(modelId) === undefined)
      throw new GatewayError('unavailable', `model "${modelId}" has no backend address yet`, { retryAfterS: 1 });
    throw modelUnavailableError(entry);
  };

  async function callReplica(
    modelId: string,
    replica: number,
    request: BackendRequest,
    { signal, deadline, onToken, onDelta }: ExecutionContext,
    attempt: { started: boolean },
  ): Promise<GenerationOutcome> {
    const backend = directory.get(modelId, replica)!;
    const { connectMs, firstByteMs, interTokenMs } = registry.get(modelId).descriptor.timeouts;
    // A server the gateway runs may be replaced under the call (failCallsInFlight): the call gets a stop of its own,
    // which the client's signal aborts too. A remote backend's call needs none: the client's signal is its own.
    const call = isSupervised(registry.get(modelId).descriptor.backend) ? new Stop() : undefined;
    const onClientAbort = () => call!.abort(signal.reason);
    if (call !== undefined) {
      if (signal.aborted) onClientAbort();
      else signal.addEventListener('abort', onClientAbort);
    }
    const callsThere = call === undefined ? undefined : directory.enterCall(modelId, replica, call);
    // Once a token has gone to the client, this call is the request's only one (no failover after the first byte).
    // Nobody reads the generation's tokens before its end: the backend may answer it in one piece.
    const oneAnswer = onToken === undefined && onDelta === undefined;
    const options: CallOptions = {
      signal: call ?? signal,
      ...(onToken && { onToken: (event) => ((attempt.started = true), onToken(event)) }),
      ...(onDelta && { onDelta: (delta) => ((attempt.started = true), onDelta(delta)) }),
      timeouts: { connectMs, firstByteMs, interTokenMs, totalMs: Math.max(1, deadline - Date.now()) },
      ...(oneAnswer ? { oneAnswer } : {}),
    };
    router.callStarted(modelId, replica);
    try {
      const outcome = await (isChatRequest(request)
        ? backend.chat(request, options)
        : backend.generate(request, options));
      router.callEnded(modelId, replica, 'ok');
      return outcome;
    } catch (error) {
      router.callEnded(modelId, replica, outlierOutcome(error, signal), error instanceof Error ? error : undefined);
      throw error;
    } finally {
      if (call !== undefined) {
        signal.removeEventListener('abort', onClientAbort);
        callsThere!.delete(call);
      }
    }
  }
}
