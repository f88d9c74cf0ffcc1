/**
 * What a key was charged in the last window, oldest first: each entry an amount (1 per request, or a request's
 * tokens) at the millisecond it was charged. An entry counts from its moment until exactly one window later, so the
 * sum is what any window ending now holds, and the time until enough has left is read off the entries themselves.
 * The Redis limiter keeps the same log as a sorted set (redis-scripts.ts).
 */
export class SlidingLog {
  private entries: Array<{ at: number; amount: number }> = [];
  /** Entries before it have left the window; the array is compacted now and then rather than shifted each time. */
  private head = 0;
  private sum = 0;

  constructor(private readonly windowMs: number) {}

  /** What the window ending at `now` holds (after dropping what has left it). */
  total(now: number): number {
    const since = now - this.windowMs;
    while (this.head < this.entries.length && this.entries[this.head]!.at <= since) {
      this.sum -= this.entries[this.head]!.amount;
      this.head++;
    }
    if (this.head > 64 && this.head * 2 > this.entries.length) {
      this.entries = this.entries.slice(this.head);
      this.head = 0;
    }
    return this.sum;
  }

  add(now: number, amount: number): void {
    // A clock that stepped back must not put an entry before older ones: the log stays in order.
    const last = this.entries.at(-1);
    this.entries.push({ at: last === undefined ? now : Math.max(now, last.at), amount });
    this.sum += amount;
  }

  /** Until at least `amount` has left the window (0 when that is nothing); call total(now) first. */
  untilFreed(now: number, amount: number): number {
    let freed = 0;
    for (let i = this.head; i < this.entries.length; i++) {
      const entry = this.entries[i]!;
      freed += entry.amount;
      if (freed >= amount) return Math.max(0, entry.at + this.windowMs - now);
    }
    return 0;
  }

  /** Until the oldest entry leaves (what x-ratelimit-reset-* says); 0 when the window is empty. */
  untilOldestLeaves(now: number): number {
    const oldest = this.entries[this.head];
    return oldest === undefined ? 0 : Math.max(0, oldest.at + this.windowMs - now);
  }

  /** Nothing counts any more: the key's log may be dropped. */
  isEmpty(now: number): boolean {
    this.total(now);
    return this.head === this.entries.length;
  }
}
