import {
  GatewayError,
  type GatewayErrorType,
  type BackendRequest,
  type ChatDelta,
  type GenerationOutcome,
  type TgiStreamEvent,
} from '#backends';

/** What a BullMQ job holds, and only while it is queued or running (jobs are removed when they finish). */
export interface JobData {
  request: BackendRequest;
  /** Epoch ms; a worker that takes the job later drops it. */
  deadline: number;
  /** The replica holding the client's connection: replies go to its channel. */
  replyTo: string;
  /** Relay every token, or every chat delta (a streaming client), or only the outcome. */
  relayTokens: boolean;
  /**
   * A job that waits for a slot: its caller's turn (caller-turns.ts), to which the worker that takes it moves the
   * clock of its priority. Absent for one that found a free slot: its admission moved the clock.
   */
  turn?: JobTurn;
}

/** A job's turn and the policy priority whose clock it counts on. */
export interface JobTurn {
  priority: number;
  /** Counted from the priority's first turn, not from its last move back to 0 (admission.ts). */
  turn: number;
}

export interface SerializedError {
  type: GatewayErrorType;
  message: string;
  retryAfterS?: number;
  backendStatus?: number;
  status?: number;
}

/** From the executing worker to the replica that holds the client. */
export type Reply =
  | { id: string; kind: 'started' }
  | { id: string; kind: 'token'; event: TgiStreamEvent }
  | { id: string; kind: 'delta'; delta: ChatDelta }
  | { id: string; kind: 'done'; outcome: GenerationOutcome; runMs: number }
  | { id: string; kind: 'failed'; error: SerializedError };

/** Broadcast to every replica: whichever runs the job aborts it. `until`: after it the job is dead anyway. */
export interface CancelNotice {
  id: string;
  until: number;
}

/**
 * Backends fail with GatewayErrors of the taxonomy; anything else thrown while running a job is this gateway's own
 * fault, and is reported as such (internal), never as the backend's.
 */
export function serializeError(error: unknown): SerializedError {
  const e =
    error instanceof GatewayError
      ? error
      : new GatewayError('internal', 'the gateway failed to run this request; its log has the details', {
          cause: error,
        });
  return {
    type: e.type,
    message: e.message,
    retryAfterS: e.retryAfterS,
    backendStatus: e.backendStatus,
    status: e.status,
  };
}

export function deserializeError({ type, message, retryAfterS, backendStatus, status }: SerializedError): GatewayError {
  return new GatewayError(type, message, { retryAfterS, backendStatus, status });
}
