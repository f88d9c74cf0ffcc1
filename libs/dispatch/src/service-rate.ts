/** Recent service times (EWMA): how long a job has recently held its slot. */
export const SERVICE_TIME_WEIGHT = 0.2;
/** Intervals between completions are noisier (jobs started together finish together): a slower average. */
export const CYCLE_WEIGHT = 0.05;

/**
 * A model's live service rate: completions per second at its concurrency. Three readings of the time a slot takes per
 * job, the largest wins:
 * - the recent mean service time (EWMA) of finished jobs: the backend's own time;
 * - the measured cycle: while a queue stands behind the slots, `slots ×` the interval between completions (EWMA). It
 *   is the pace at which the line really moves, so it also counts what a slot loses between jobs (the Redis queue's
 *   hand-over to a worker, an event loop kept busy by the overload itself), which the service time cannot see;
 * - the quiet time: how long the backend has been busy without finishing anything (since its last completion, or since
 *   it last went from idle to busy). It makes the first second of an overload safe: a cold model starts optimistic
 *   (nothing has waited yet, so a burst is admitted), and the estimate grows with every millisecond without a
 *   completion, so a backend slower than hoped is found out within one service time, not after a second of history;
 *   it also catches a backend that stalls after a fast history.
 */
export class ServiceRate {
  private mean: number | null = null;
  private cycle: number | null = null;
  private lastCompletionAt = -Infinity;
  private busySince = -Infinity;

  constructor(private readonly now: () => number = () => performance.now()) {}

  /** The mean service time of finished jobs (EWMA), ms; null before the first one finishes. */
  get meanServiceMs(): number | null {
    return this.mean;
  }

  /** The backend went from no job running to one. */
  busy(): void {
    this.busySince = this.now();
  }

  /** A job held its slot `serviceMs`; `queueStands`: others were waiting for a slot when it finished. */
  observe(serviceMs: number, slots: number, queueStands: boolean): void {
    const now = this.now();
    this.mean = this.mean === null ? serviceMs : this.mean + SERVICE_TIME_WEIGHT * (serviceMs - this.mean);
    const since = Math.max(this.lastCompletionAt, this.busySince);
    if (queueStands && Number.isFinite(since)) {
      const sample = slots * (now - since);
      // Starting from the service time, not the first sample: jobs started together finish together, so the first
      // interval after a burst starts is a whole service time and the next ones are nothing.
      const cycle = this.cycle ?? this.mean;
      this.cycle = cycle + CYCLE_WEIGHT * (sample - cycle);
    }
    this.lastCompletionAt = now;
  }

  /** The time a slot takes per job to predict with, ms; 0 when nothing is known (no job has run, none runs). */
  serviceMs(running: number): number {
    const since = Math.max(this.lastCompletionAt, this.busySince);
    const quiet = running > 0 && Number.isFinite(since) ? this.now() - since : 0;
    return Math.max(this.mean ?? 0, this.cycle ?? 0, quiet);
  }
}
