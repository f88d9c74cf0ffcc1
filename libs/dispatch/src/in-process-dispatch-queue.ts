import type {
  DispatchJob,
  DispatchLimits,
  DispatchQueue,
  DispatchResult,
  DispatchStats,
  JobExecutor,
} from './dispatch-queue.js';
import {
  DEFAULT_MAX_QUEUE_WAIT_MS,
  predictedWaitMs,
  refusalReason,
  retryAfterSeconds,
  serviceRatePerS,
  waitBoundMs,
} from './admission-rule.js';
import { CallerTurns, turnMemory, turnScale, UNNAMED_CALLER } from './caller-turns.js';
import { overloadedError, queuedTimeoutError } from './dispatch-errors.js';
import { MAX_PRIORITY } from './priority-policy.js';
import { PriorityLine } from './priority-line.js';
import { ServiceRate } from './service-rate.js';

interface Waiter {
  /** Runs the job now, or fails it if its deadline passed; false when it did not take the slot. */
  start(): boolean;
}

class ModelLine {
  inFlight = 0;
  readonly waiting = new PriorityLine<Waiter>();
  readonly rate = new ServiceRate();
  readonly turns: CallerTurns;
  readonly maxQueueWaitMs: number;

  readonly limits: DispatchLimits;

  constructor(limits: DispatchLimits) {
    // Its own copy: the cap changes with the model's ready replicas (setMaxConcurrent).
    this.limits = { ...limits };
    this.maxQueueWaitMs = limits.maxQueueWaitMs ?? DEFAULT_MAX_QUEUE_WAIT_MS;
    this.turns = new CallerTurns(
      turnScale(limits.highestPriority ?? MAX_PRIORITY - 1),
      turnMemory(limits.maxConcurrent, limits.maxQueued),
    );
  }

  get hasFreeSlot(): boolean {
    return this.inFlight < this.limits.maxConcurrent;
  }

  /** What a newcomer placed at this order (CallerTurns.orderOf) would wait for a slot now (admission-rule.ts). */
  predictedWaitMs(order: number): number {
    return predictedWaitMs({
      ahead: this.waiting.countAhead(order),
      held: this.inFlight + this.waiting.size,
      slots: this.limits.maxConcurrent,
      serviceMs: this.rate.serviceMs(this.inFlight),
    });
  }
}

/**
 * The embedded default's dispatch queue: the same semantics as the Redis one inside one process, at no cost on the
 * fast path — a job that finds a free slot calls the executor directly, with the caller's own objects.
 */
export class InProcessDispatchQueue implements DispatchQueue {
  private readonly lines = new Map<string, ModelLine>();

  constructor(
    limits: ReadonlyMap<string, DispatchLimits>,
    private readonly execute: JobExecutor,
  ) {
    for (const [modelId, modelLimits] of limits) this.lines.set(modelId, new ModelLine(modelLimits));
  }

  async stats(modelId: string): Promise<DispatchStats> {
    const line = this.line(modelId);
    return {
      inFlight: line.inFlight,
      queued: line.waiting.size,
      admitted: line.inFlight + line.waiting.size,
      serviceRatePerS: serviceRatePerS(line.rate.serviceMs(line.inFlight), line.limits.maxConcurrent),
      predictedWaitMs: line.predictedWaitMs(Infinity),
    };
  }

  async close(): Promise<void> {}

  setMaxConcurrent(modelId: string, maxConcurrent: number): void {
    const line = this.line(modelId);
    line.limits.maxConcurrent = maxConcurrent;
    this.startWaiting(line);
  }

  private startWaiting(line: ModelLine): void {
    while (line.hasFreeSlot && line.waiting.size > 0 && !line.waiting.shift()!.start()) {
      // an expired waiter gave its turn back: offer the slot to the next one
    }
  }

  dispatch(modelId: string, job: DispatchJob): Promise<DispatchResult> {
    const line = this.line(modelId);
    const enqueuedAt = performance.now();
    if (job.signal.aborted) return Promise.reject(job.signal.reason);
    // Its turn (caller-turns.ts), taken only if it is admitted; a job that finds a free slot takes one too, and with it
    // its caller's share of the slots.
    const callerId = job.client?.id ?? UNNAMED_CALLER;
    if (line.waiting.size === 0) line.turns.rebase();
    const turn = line.turns.turnOf(job.priority, callerId);
    if (line.hasFreeSlot && line.waiting.size === 0) {
      if (Date.now() >= job.deadline) return Promise.reject(queuedTimeoutError(modelId, 0));
      line.turns.take(job.priority, callerId, job.client?.weight ?? 1, turn);
      line.turns.started(job.priority, turn);
      return this.run(modelId, line, job, enqueuedAt);
    }
    const order = line.turns.orderOf(job.priority, turn);
    const full = line.waiting.size >= line.limits.maxQueued;
    const predictedMs = line.predictedWaitMs(order);
    const boundMs = waitBoundMs(line.maxQueueWaitMs, job.deadline, Date.now());
    if (full || predictedMs > boundMs) {
      const why = refusalReason({ full, predictedMs, boundMs, maxQueueWaitMs: line.maxQueueWaitMs });
      return Promise.reject(
        overloadedError(
          modelId,
          `${line.inFlight} running and ${line.waiting.size} queued: ${why}`,
          retryAfterSeconds(predictedMs, line.maxQueueWaitMs),
        ),
      );
    }
    line.turns.take(job.priority, callerId, job.client?.weight ?? 1, turn);
    return new Promise<DispatchResult>((resolve, reject) => {
      const settle = () => {
        clearTimeout(timer);
        job.signal.removeEventListener('abort', onAbort);
      };
      const leave = (error: unknown) => {
        if (!line.waiting.remove(place)) return;
        settle();
        reject(error);
      };
      const onAbort = () => leave(job.signal.reason);
      const timer = setTimeout(
        () => leave(queuedTimeoutError(modelId, performance.now() - enqueuedAt)),
        Math.max(0, job.deadline - Date.now()),
      );
      const place = line.waiting.push(
        {
          start: () => {
            settle();
            if (Date.now() >= job.deadline) {
              reject(queuedTimeoutError(modelId, performance.now() - enqueuedAt));
              return false;
            }
            line.turns.started(job.priority, turn);
            this.run(modelId, line, job, enqueuedAt).then(resolve, reject);
            return true;
          },
        },
        order,
      );
      job.signal.addEventListener('abort', onAbort, { once: true });
    });
  }

  private async run(modelId: string, line: ModelLine, job: DispatchJob, enqueuedAt: number): Promise<DispatchResult> {
    if (line.inFlight++ === 0) line.rate.busy();
    const startedAt = performance.now();
    try {
      // The job is its own execution context (signal, deadline, onToken, onDelta): nothing is copied.
      const outcome = await this.execute(modelId, job.request, job);
      return { outcome, queuedMs: startedAt - enqueuedAt };
    } finally {
      line.inFlight--;
      line.rate.observe(performance.now() - startedAt, line.limits.maxConcurrent, line.waiting.size > 0);
      this.startWaiting(line);
    }
  }

  private line(modelId: string): ModelLine {
    const line = this.lines.get(modelId);
    if (!line) throw new Error(`no dispatch limits configured for model "${modelId}"`);
    return line;
  }
}
