import type { DispatchLimits } from './dispatch-queue.js';
import type { ThroughputEstimate } from './throughput-estimate.js';

/** The shortest time a queue must stay long before it counts as standing: longer than any burst's first moments. */
const MIN_INTERVAL_MS = 1000;

/**
 * Tells a burst from sustained overload, as CoDel does for network queues. A burst makes a queue that drains: max_queued
 * is there to absorb it, every request served in turn. Sustained overload makes a queue that stands, and a standing
 * queue only turns excess demand into waiting for everyone admitted. So once every job started over an interval had
 * waited longer than a service time, new arrivals may only join a line the backend clears in about one service time
 * (max_concurrent waiting), and the rest are refused at once with 429. It stands until the line is seen empty again.
 * Admitted requests then wait about one service time however hard the load, and the backend never idles.
 */
export class StandingQueue {
  private standing = false;
  /** Last time the line was short: an arrival met no queue, or a job started within a service time. */
  private shortAt: number;
  /** Last time a job started after waiting longer than a service time. */
  private longAt = -Infinity;

  constructor(
    private readonly throughput: ThroughputEstimate,
    private readonly now: () => number = () => performance.now(),
  ) {
    this.shortAt = now();
  }

  /** An arrival found a free slot and nobody waiting. */
  sawEmptyLine(): void {
    this.standing = false;
    this.shortAt = this.now();
  }

  /** A job left the line for a slot after waiting this long. */
  started(waitedMs: number): void {
    if (waitedMs > this.throughput.meanServiceMs) this.longAt = this.now();
    else if (!this.standing) this.shortAt = this.now(); // once standing, only an empty line ends it: no flapping
  }

  /** How many may wait now: max_queued, or about one service time's worth while the queue stands. */
  queueLimit({ maxConcurrent, maxQueued }: DispatchLimits): number {
    const now = this.now();
    const interval = Math.max(MIN_INTERVAL_MS, 2 * this.throughput.meanServiceMs);
    if (!this.standing && now - this.shortAt > interval && now - this.longAt <= interval) this.standing = true;
    return this.standing ? Math.min(maxQueued, maxConcurrent) : maxQueued;
  }
}
