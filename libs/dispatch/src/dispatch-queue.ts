import type { BackendRequest, ChatDelta, GenerationOutcome, StopSignal, TgiStreamEvent } from '#backends';

/**
 * The contract between the API and the backends: the API hands each generation to the queue of its model as a job,
 * and the queue runs it on the backend when a slot is free — a per-model concurrency cap with a bounded, prioritised
 * line behind it. The in-process implementation serves the embedded default; the Redis (BullMQ) one shares caps and
 * lines across gateway replicas, and its job may run in another replica than the one holding the client.
 */
export interface DispatchLimits {
  /** Jobs a model's backend runs at once (across all replicas for the Redis queue). */
  maxConcurrent: number;
  /** Jobs allowed to wait; one more is refused with 429 at once. The hard cap, whatever the predicted wait. */
  maxQueued: number;
  /**
   * The longest a newcomer may be predicted to wait for a slot (admission-rule.ts); one predicted to wait longer, or
   * past its own deadline, is refused with 429 at once. Default DEFAULT_MAX_QUEUE_WAIT_MS.
   */
  maxQueueWaitMs?: number;
  /**
   * The largest priority number the model's jobs may carry (0 under FIFO; highestPriorityOf in priority-policy.ts).
   * Priorities share BullMQ's range with callers' fair turns (caller-turns.ts): the fewer priorities, the more turns
   * fit. Default MAX_PRIORITY - 1, which leaves no room for turns: arrival order within a priority.
   */
  highestPriority?: number;
}

export interface DispatchJob {
  /** What the backend gets. JSON-serialisable: a Redis queue carries it to another replica's worker. */
  request: BackendRequest;
  /** Lower runs first; within a priority, callers take turns, and each caller's jobs keep arrival order. */
  priority: number;
  /**
   * Whose request it is (an API key's name, or a client address) and its weight: waiting callers take turns, a
   * weight-2 caller two for a weight-1 caller's one (caller-turns.ts). Jobs without one share one caller's turns.
   */
  client?: { id: string; weight: number };
  /** Epoch milliseconds. A job not started by then fails with `timeout` and never reaches the backend. */
  deadline: number;
  /** The client's disconnect: a queued job leaves the line, a running one has its backend call aborted. */
  signal: StopSignal;
  /** Called per token as the backend streams it, wherever the job runs. */
  onToken?: (event: TgiStreamEvent) => void;
  /** A chat job's counterpart of onToken: called per streamed chunk of text. */
  onDelta?: (delta: ChatDelta) => void;
}

export interface DispatchResult {
  outcome: GenerationOutcome;
  /**
   * Time the request spent in dispatch besides its backend call: waiting for a slot, plus, for the Redis queue,
   * getting to the worker and the answer back. The queue's whole cost to this request.
   */
  queuedMs: number;
}

/** What the executing side (this process, or a worker in another replica) gets with a job. */
export interface ExecutionContext {
  signal: StopSignal;
  deadline: number;
  onToken?: (event: TgiStreamEvent) => void;
  onDelta?: (delta: ChatDelta) => void;
}

/** Runs one job on the model's backend. Every replica registers the same one: a worker may run any replica's job. */
export type JobExecutor = (
  modelId: string,
  request: BackendRequest,
  context: ExecutionContext,
) => Promise<GenerationOutcome>;

export interface DispatchStats {
  /** Jobs running on the backend now. */
  inFlight: number;
  /** Jobs waiting for a slot. */
  queued: number;
  /**
   * Admission tickets held: the running and waiting jobs that admission counts (for the Redis queue, the live tickets
   * in Redis over all replicas, which may include jobs just admitted and not yet in BullMQ's lists).
   */
  admitted: number;
  /** The live estimate admission uses: completions per second at the model's concurrency; null before any is known. */
  serviceRatePerS: number | null;
  /** What a newcomer at the back of the line would be predicted to wait for a slot now, ms. */
  predictedWaitMs: number;
}

export interface DispatchQueue {
  /**
   * Runs the job when the model has a free slot and resolves with its outcome. Rejects with a GatewayError:
   * `overloaded` (line full, or its predicted wait past max_queue_wait_ms or its deadline; with Retry-After), `timeout` (deadline passed while queued), `unavailable` (the queue
   * itself cannot be reached), or the backend's own error; with the signal's reason when the client left.
   */
  dispatch(modelId: string, job: DispatchJob): Promise<DispatchResult>;
  /**
   * Changes the model's cap (its ready backend replicas changed): more slots start waiting jobs at once; fewer let the
   * running ones finish and start no more until they are under the new cap.
   */
  setMaxConcurrent(modelId: string, maxConcurrent: number): void;
  /** For /models; the Redis queue counts every replica's jobs. */
  stats(modelId: string): Promise<DispatchStats>;
  /** Stops taking jobs, lets running ones finish, releases connections. */
  close(): Promise<void>;
}
