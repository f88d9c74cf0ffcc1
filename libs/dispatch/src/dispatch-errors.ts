import { GatewayError } from '#backends';

/** The queue's own refusals, worded the same by both implementations. */

/** `occupancy` says what fills the model and why the request does not fit, e.g. "4 running and 256 queued: ...". */
export function overloadedError(modelId: string, occupancy: string, retryAfterS: number): GatewayError {
  return new GatewayError('overloaded', `model "${modelId}" is at capacity: ${occupancy}`, { retryAfterS });
}

/** The Redis queue cannot be reached: nothing was sent to a backend, and trying again soon may work. */
export function queueUnavailableError(why: string, cause?: unknown): GatewayError {
  return new GatewayError('unavailable', `the dispatch queue (Redis) is unavailable: ${why}`, {
    retryAfterS: 1,
    cause,
  });
}

export function queuedTimeoutError(modelId: string, waitedMs: number): GatewayError {
  return new GatewayError(
    'timeout',
    `deadline passed after ${Math.round(waitedMs)} ms waiting in the queue of "${modelId}"`,
  );
}
