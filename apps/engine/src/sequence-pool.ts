/**
 * Hands out a fixed set of llama.cpp sequences to requests, first come first served.
 * A waiter whose signal aborts leaves the line at once, so a client that hangs up never holds a place.
 */
export class SequencePool<T> {
  private readonly free: T[];
  private readonly waiters: Array<{ grant: (item: T) => void }> = [];

  constructor(items: readonly T[]) {
    this.free = [...items];
  }

  get capacity(): number {
    return this.free.length + this.inUse;
  }

  /** Requests waiting for a sequence (TGI's queue size). */
  get waiting(): number {
    return this.waiters.length;
  }

  /** Sequences generating right now (TGI's current batch size). */
  inUse = 0;

  acquire(signal?: AbortSignal): Promise<T> {
    if (signal?.aborted) return Promise.reject(signal.reason);
    const item = this.free.pop();
    if (item !== undefined) {
      this.inUse++;
      return Promise.resolve(item);
    }
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
    const next = this.waiters.shift();
    if (next) {
      next.grant(item); // stays in use: handed straight to the next request
      return;
    }
    this.inUse--;
    this.free.push(item);
  }
}
