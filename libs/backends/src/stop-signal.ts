/**
 * What the request path reads of the signal that stops a request's work: the part of AbortSignal it uses, so an
 * AbortSignal is one. The gateway's own stops are a `Stop` below: Node builds an AbortSignal as a full EventTarget,
 * whose making and listeners cost several microseconds a request (9 % of the gateway's CPU per request, measured).
 */
export interface StopSignal {
  readonly aborted: boolean;
  readonly reason: unknown;
  addEventListener(type: 'abort', listener: () => void, options?: { once?: boolean }): void;
  removeEventListener(type: 'abort', listener: () => void): void;
}

/**
 * A StopSignal and its abort in one object, an AbortController's part the request path uses. Its listeners are called
 * once, in the order they came, as an AbortSignal's are; one that throws does not keep the others from their call, and
 * its error is thrown on its own, as an EventTarget reports a listener's.
 */
export class Stop implements StopSignal {
  aborted = false;
  reason: unknown = undefined;
  private listeners: Array<() => void> = [];

  addEventListener(_type: 'abort', listener: () => void): void {
    if (!this.aborted) this.listeners.push(listener);
  }

  removeEventListener(_type: 'abort', listener: () => void): void {
    const at = this.listeners.lastIndexOf(listener);
    if (at !== -1) this.listeners.splice(at, 1);
  }

  abort(reason: unknown): void {
    if (this.aborted) return;
    this.aborted = true;
    this.reason = reason;
    const listeners = this.listeners;
    this.listeners = [];
    for (const listener of listeners) {
      try {
        listener();
      } catch (error) {
        queueMicrotask(() => {
          throw error;
        });
      }
    }
  }
}
