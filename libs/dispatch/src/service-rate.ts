/** Recent service times (EWMA): how long a job has recently held its slot. */
export const SERVICE_TIME_WEIGHT = 0.2;

/**
 * A model's live service rate: completions per second at its concurrency, from how long its jobs hold a slot. Two
 * readings, the larger wins. The recent mean service time (EWMA) once a job has finished. And the quiet time: how long
 * the backend has been busy without finishing anything (since its last completion, or since it last went from idle to
 * busy). The quiet time is what makes the first second of an overload safe: a cold model starts optimistic (nothing
 * has waited yet, so a burst is admitted), and the estimate grows with every millisecond that passes without a
 * completion, so a backend slower than hoped is found out within the first service time, not after a second of
 * history; it also catches a backend that stalls after a fast history.
 */
export class ServiceRate {
  private mean: number | null = null;
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

  observe(serviceMs: number): void {
    this.mean = this.mean === null ? serviceMs : this.mean + SERVICE_TIME_WEIGHT * (serviceMs - this.mean);
    this.lastCompletionAt = this.now();
  }

  /** The service time to predict with, ms; 0 when nothing is known (no job has run, none runs). */
  serviceMs(running: number): number {
    const since = Math.max(this.lastCompletionAt, this.busySince);
    const quiet = running > 0 && Number.isFinite(since) ? this.now() - since : 0;
    return Math.max(this.mean ?? 0, quiet);
  }
}
