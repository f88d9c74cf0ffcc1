import { GatewayError } from '#backends';
import type { DispatchJob, DispatchResult } from '../dispatch-queue.js';
import { queuedTimeoutError } from '../dispatch-errors.js';
import { deserializeError, type Reply } from './job-messages.js';

/**
 * One client's wait for its job, wherever the job runs. It settles exactly once — on the job's outcome, its error,
 * the client leaving, the deadline, or Redis going away — and whatever arrives after that is dropped. Its own
 * deadline timer means no answer is ever lost to a worker that died or a message that never came.
 */
export class PendingJob {
  readonly result: Promise<DispatchResult>;
  private settled = false;
  private started = false;
  private readonly timer: NodeJS.Timeout;
  private resolve!: (result: DispatchResult) => void;
  private reject!: (error: unknown) => void;

  constructor(
    readonly id: string,
    readonly modelId: string,
    private readonly job: DispatchJob,
    private readonly enqueuedAt: number,
    private readonly hooks: {
      /** The job left the queue for a worker's slot after waiting this long. */
      started(waitedMs: number): void;
      /** The client gave up (left, or its deadline passed): the job must be removed or cancelled. */
      gaveUp(pending: PendingJob): void;
      settled(pending: PendingJob): void;
    },
  ) {
    this.result = new Promise<DispatchResult>((resolve, reject) => {
      this.resolve = resolve;
      this.reject = reject;
    });
    this.timer = setTimeout(() => this.giveUp(this.deadlineError()), Math.max(0, job.deadline - Date.now()));
    job.signal.addEventListener('abort', this.onAbort, { once: true });
  }

  get deadline(): number {
    return this.job.deadline;
  }

  /** False when this job no longer waits for anything. */
  onReply(reply: Reply): boolean {
    if (this.settled) return false;
    switch (reply.kind) {
      case 'started':
        this.started = true;
        this.hooks.started(performance.now() - this.enqueuedAt);
        return true;
      case 'token':
        this.job.onToken?.(reply.event);
        return true;
      case 'delta':
        this.job.onDelta?.(reply.delta);
        return true;
      case 'done':
        this.settle();
        this.resolve({
          outcome: reply.outcome,
          queuedMs: Math.max(0, performance.now() - this.enqueuedAt - reply.runMs),
        });
        return true;
      case 'failed':
        this.settle();
        this.reject(deserializeError(reply.error));
        return true;
    }
  }

  /** Ends the wait from this side (the job could not be added, or Redis went away). */
  fail(error: unknown): void {
    if (this.settled) return;
    this.settle();
    this.reject(error);
  }

  private readonly onAbort = (): void => this.giveUp(this.job.signal.reason);

  private giveUp(error: unknown): void {
    if (this.settled) return;
    this.fail(error);
    this.hooks.gaveUp(this);
  }

  private settle(): void {
    this.settled = true;
    clearTimeout(this.timer);
    this.job.signal.removeEventListener('abort', this.onAbort);
    this.hooks.settled(this);
  }

  private deadlineError(): GatewayError {
    const waited = performance.now() - this.enqueuedAt;
    if (!this.started) return queuedTimeoutError(this.modelId, waited);
    return new GatewayError(
      'timeout',
      `deadline passed after ${Math.round(waited)} ms: model "${this.modelId}" had not finished`,
    );
  }
}
