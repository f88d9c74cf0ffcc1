/**
 * Admission by predicted wait, the one rule of both queues (bullmq/admission.ts says it again in Lua, atomically).
 * A newcomer starts once the jobs ahead of it (queued at its priority or before) and itself have gone through the
 * model's slots: `(ahead + 1) × service time / slots` when every slot is taken, nothing when one is free. It is
 * admitted only when that fits both its own deadline and the model's max_queue_wait_ms, and only below max_queued,
 * which stays the hard cap. Otherwise it gets 429 at once, with a Retry-After from the same estimate.
 *
 * This replaces the standing-queue rule, which held a queue that had stood for an interval to max_concurrent waiting:
 * it could only act after the interval, so the first second of an overload filled max_queued. Predicted wait acts
 * from the first request, and with max_queue_wait_ms at one service time it holds the same line the standing rule
 * held; a burst that drains within the bound is still queued whole, a standing queue is never allowed to grow past it.
 */

/** The registry's default max_queue_wait_ms (registry-defaults.ts): a second of waiting keeps the guide's P99 < 1.5 s. */
export const DEFAULT_MAX_QUEUE_WAIT_MS = 1000;

export interface WaitInputs {
  /** Jobs queued that would start before the newcomer. */
  ahead: number;
  /** Jobs running and queued, all priorities. */
  held: number;
  slots: number;
  /** ServiceRate.serviceMs: 0 when nothing is known yet. */
  serviceMs: number;
}

export function predictedWaitMs({ ahead, held, slots, serviceMs }: WaitInputs): number {
  if (held < slots) return 0;
  return ((ahead + 1) * serviceMs) / Math.max(1, slots);
}

/** Completions per second at the model's concurrency; null before anything is known. */
export function serviceRatePerS(serviceMs: number, slots: number): number | null {
  return serviceMs > 0 ? (1000 * slots) / serviceMs : null;
}

/** The longest a newcomer may be predicted to wait: the model's bound, or less when its own deadline is nearer. */
export function waitBoundMs(maxQueueWaitMs: number, deadline: number, now: number): number {
  return Math.min(maxQueueWaitMs, deadline - now);
}

/** Whole seconds (at least 1, as Retry-After counts) until a newcomer's predicted wait would fit the model's bound. */
export function retryAfterSeconds(predictedMs: number, maxQueueWaitMs: number): number {
  return Math.max(1, Math.ceil((predictedMs - maxQueueWaitMs) / 1000));
}

/** Why a newcomer was refused, for the 429's message. */
export function refusalReason({
  full,
  predictedMs,
  boundMs,
  maxQueueWaitMs,
}: {
  full: boolean;
  predictedMs: number;
  boundMs: number;
  maxQueueWaitMs: number;
}): string {
  if (full) return 'the queue is full (max_queued)';
  const predicted = `predicted wait ${Math.round(predictedMs)} ms`;
  return boundMs < maxQueueWaitMs
    ? `${predicted} exceeds the request's remaining deadline of ${Math.max(0, Math.round(boundMs))} ms`
    : `${predicted} exceeds max_queue_wait_ms ${maxQueueWaitMs}`;
}
