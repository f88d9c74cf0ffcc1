import { GatewayError } from '../../backends/src/index.js';
import type { AcquireOptions, DispatchLimits, DispatchQueue, DispatchSlot, DispatchStats } from './dispatch-queue.js';

interface Waiter {
  enqueuedAt: number;
  grant(): void;
  settled: boolean;
}

/** Recent service times (EWMA) give Retry-After an honest estimate instead of a constant. */
const SERVICE_TIME_WEIGHT = 0.2;

class ModelLine {
  inFlight = 0;
  readonly waiters: Waiter[] = [];
  meanServiceMs = 1000;

  constructor(readonly limits: DispatchLimits) {}

  /** Seconds until a new arrival would likely start: the work ahead of it spread over the slots. */
  retryAfterSeconds(): number {
    const ahead = this.waiters.length + this.inFlight;
    return Math.max(1, Math.ceil((ahead * this.meanServiceMs) / this.limits.maxConcurrent / 1000));
  }

  observeService(ms: number): void {
    this.meanServiceMs += SERVICE_TIME_WEIGHT * (ms - this.meanServiceMs);
  }
}

/** FIFO per model, inside one process: the embedded default's dispatch queue. */
export class InProcessDispatchQueue implements DispatchQueue {
  private readonly lines = new Map<string, ModelLine>();

  constructor(limits: ReadonlyMap<string, DispatchLimits>) {
    for (const [modelId, modelLimits] of limits) this.lines.set(modelId, new ModelLine(modelLimits));
  }

  stats(modelId: string): DispatchStats {
    const line = this.line(modelId);
    return { inFlight: line.inFlight, queued: line.waiters.length };
  }

  acquire(modelId: string, { signal, deadline }: AcquireOptions): Promise<DispatchSlot> {
    const line = this.line(modelId);
    const enqueuedAt = performance.now();
    if (signal.aborted) return Promise.reject(signal.reason);
    if (line.inFlight < line.limits.maxConcurrent && line.waiters.length === 0) {
      line.inFlight++;
      return Promise.resolve(this.slot(line, enqueuedAt));
    }
    if (line.waiters.length >= line.limits.maxQueued) {
      return Promise.reject(
        new GatewayError('overloaded', `model "${modelId}" is at capacity: ${line.inFlight} running and ${line.waiters.length} queued`, {
          retryAfterS: line.retryAfterSeconds(),
        }),
      );
    }
    return new Promise<DispatchSlot>((resolve, reject) => {
      const leave = (error: unknown) => {
        if (waiter.settled) return;
        waiter.settled = true;
        clearTimeout(timer);
        signal.removeEventListener('abort', onAbort);
        const index = line.waiters.indexOf(waiter);
        if (index >= 0) line.waiters.splice(index, 1);
        reject(error);
      };
      const onAbort = () => leave(signal.reason);
      const waiter: Waiter = {
        enqueuedAt,
        settled: false,
        grant: () => {
          waiter.settled = true;
          clearTimeout(timer);
          signal.removeEventListener('abort', onAbort);
          line.inFlight++;
          resolve(this.slot(line, enqueuedAt));
        },
      };
      const timer = setTimeout(
        () => leave(new GatewayError('timeout', `deadline passed after ${Math.round(performance.now() - enqueuedAt)} ms waiting in the queue of "${modelId}"`)),
        Math.max(0, deadline - Date.now()),
      );
      signal.addEventListener('abort', onAbort, { once: true });
      line.waiters.push(waiter);
    });
  }

  private slot(line: ModelLine, enqueuedAt: number): DispatchSlot {
    const grantedAt = performance.now();
    let released = false;
    return {
      queuedMs: grantedAt - enqueuedAt,
      release: () => {
        if (released) return;
        released = true;
        line.inFlight--;
        line.observeService(performance.now() - grantedAt);
        line.waiters.shift()?.grant();
      },
    };
  }

  private line(modelId: string): ModelLine {
    const line = this.lines.get(modelId);
    if (!line) throw new Error(`no dispatch limits configured for model "${modelId}"`);
    return line;
  }
}
