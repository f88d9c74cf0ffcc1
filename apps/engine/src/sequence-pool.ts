/**
 * Hands out a fixed set of llama.cpp sequences to requests, first come first served.
 * Items belong to groups (their context); a free item is taken from the least busy group, so that two requests
 * on two contexts run on two threads instead of sharing one. A waiter whose signal aborts leaves the line at once,
 * so a client that hangs up never holds a place.
 */
export class SequencePool<T> {
  private readonly free: T[];
  private readonly busyByGroup = new Map<number, number>();
  private readonly waiters: Array<{ grant: (item: T) => void }> = [];
  /** Sequences generating right now (TGI's current batch size). */
  inUse = 0;

  constructor(
    items: readonly T[],
    private readonly groupOf: (item: T) => number = () => 0,
  ) {
    this.free = [...items];
    for (const item of items) this.busyByGroup.set(groupOf(item), 0);
  }

  get capacity(): number {
    return this.free.length + this.inUse;
  }

  /** Requests waiting for a sequence (TGI's queue size). */
  get waiting(): number {
    return this.waiters.length;
  }

  acquire(signal?: AbortSignal): Promise<T> {
    if (signal?.aborted) return Promise.reject(signal.reason);
    if (this.free.length > 0) return Promise.resolve(this.take());
    return new Promise<T>((resolve, reject) => {
      const waiter = {
        grant: (granted: T) => {
          signal?.removeEventListener('abort', onAbort);
          resolve(granted);
        },
      };
      const onAbort = () => {
        const index = this.waiters.indexOf(waiter);
        if (index >= 0) this.waiters.splice(index, 1);
        reject(signal!.reason);
      };
      signal?.addEventListener('abort', onAbort, { once: true });
      this.waiters.push(waiter);
    });
  }

  release(item: T): void {
    this.mark(item, -1);
    this.free.push(item);
    const next = this.waiters.shift();
    if (next) next.grant(this.take());
  }

  private take(): T {
    let best = 0;
    for (let i = 1; i < this.free.length; i++) {
      if (this.busy(this.free[i]!) < this.busy(this.free[best]!)) best = i;
    }
    const [item] = this.free.splice(best, 1) as [T];
    this.mark(item, +1);
    return item;
  }

  private busy(item: T): number {
    return this.busyByGroup.get(this.groupOf(item)) ?? 0;
  }

  private mark(item: T, delta: number): void {
    this.inUse += delta;
    this.busyByGroup.set(this.groupOf(item), this.busy(item) + delta);
  }
}
