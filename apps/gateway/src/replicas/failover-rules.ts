import { GatewayError, type StopSignal } from '#backends';
import type { ReplicaCallOutcome } from '#metrics';

/** Time a second try needs at least; a request with less left keeps the first replica's error. */
const LEAST_TIME_FOR_A_RETRY_MS = 50;

/**
 * Whether a failed call may be tried again on another replica: only when the replica refused it before its first
 * byte — it could not be reached (refused, reset, unreachable, connect timeout), it answered 503, or it said it is
 * overloaded (a 429, or TGI's `overloaded` event opening a 200 stream) — so that nothing was generated; never once a
 * token went to the client, never after the client left, never past the deadline. Every `overloaded` error the
 * executor sees is a replica's: the gateway's own queue refuses before a job reaches it.
 */
export function mayFailOver(
  error: unknown,
  started: boolean,
  { signal, deadline }: { signal: StopSignal; deadline: number },
): boolean {
  if (started || signal.aborted || deadline - Date.now() < LEAST_TIME_FOR_A_RETRY_MS) return false;
  if (!(error instanceof GatewayError)) return false;
  if (error.type === 'unavailable') return true;
  if (error.type === 'overloaded') return true;
  return error.type === 'timeout' && error.message.startsWith('backend connect timeout');
}

/**
 * What a failed call tells about its replica: `cancelled` when the client left (no fault of the replica); `failed`
 * when the replica could not be reached, failed mid-call or timed out; otherwise (the request's own fault, or the
 * replica's overload, which is load and not ill health) `ok`.
 */
export function outlierOutcome(error: unknown, clientSignal: StopSignal): ReplicaCallOutcome {
  if (clientSignal.aborted) return 'cancelled';
  if (!(error instanceof GatewayError)) return 'failed';
  return error.type === 'unavailable' || error.type === 'upstream' || error.type === 'timeout' ? 'failed' : 'ok';
}
