/** Where a load model sends its arrivals: it decides when, the sink does the request and keeps the record. */
export interface ArrivalSink {
  /** Send arrival `id` meant for `intendedMs` (run clock) now; resolves when it is answered or failed. */
  issue(id: number, intendedMs: number): Promise<void>;
  /** Arrival `id` will never be sent: count it, with why. */
  drop(id: number, intendedMs: number, why: string): void;
}

/** The run's clock: ms since its origin (performance.now() based, monotonic). */
export type Clock = () => number;
