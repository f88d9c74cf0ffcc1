import type { Counter } from 'prom-client';

/**
 * One series of a prom-client Counter, counted in a plain number and handed to the counter when /metrics is read
 * (`flushInto`, from the counter's `collect`): a Counter child's `inc` checks and hashes the series' labels on every
 * call, which the per-request counters paid for on every request.
 */
export class PendingCount {
  private pending = 0;
  /** Something was added since the last read, 0 included: prom-client shows a series from its first `inc`, 0 or not. */
  private added = false;

  constructor(private readonly series: Counter.Internal) {}

  add(amount = 1): void {
    this.pending += amount;
    this.added = true;
  }

  /** What was counted since the last read goes to the counter. */
  flush(): void {
    if (!this.added) return;
    this.series.inc(this.pending);
    this.pending = 0;
    this.added = false;
  }

  /** Every series of one counter, flushed when the counter is read: its `collect`. */
  static flushAll(counts: Iterable<PendingCount>): void {
    for (const count of counts) count.flush();
  }
}
