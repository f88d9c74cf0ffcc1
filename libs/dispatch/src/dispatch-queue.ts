/**
 * The contract between the API and the backends: a per-model concurrency cap in front of each backend and a
 * bounded line behind it. The in-process implementation serves the embedded default; a Redis (BullMQ) one
 * shares the same contract across gateway replicas.
 */
export interface DispatchLimits {
  /** Requests a model's backend runs at once. */
  maxConcurrent: number;
  /** Requests allowed to wait; one more is refused with 429 at once. */
  maxQueued: number;
}

export interface AcquireOptions {
  /** The client's disconnect: a waiter that aborts leaves the line and never reaches the backend. */
  signal: AbortSignal;
  /** Epoch milliseconds after which a still-waiting request fails with a timeout instead of being dispatched. */
  deadline: number;
}

export interface DispatchSlot {
  /** How long the request waited for its slot. */
  readonly queuedMs: number;
  /** Gives the slot back; safe to call more than once. */
  release(): void;
}

export interface DispatchStats {
  inFlight: number;
  queued: number;
}

export interface DispatchQueue {
  acquire(modelId: string, options: AcquireOptions): Promise<DispatchSlot>;
  stats(modelId: string): DispatchStats;
}
