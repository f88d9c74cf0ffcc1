/** Recent service times (EWMA) give Retry-After an honest estimate instead of a constant. */
const SERVICE_TIME_WEIGHT = 0.2;
/** Before the first job finishes: a second per job. */
const INITIAL_SERVICE_MS = 1000;

/** A model's recent throughput, from how long its jobs took; tells a refused client when to come back. */
export class ThroughputEstimate {
  private mean = INITIAL_SERVICE_MS;

  /** How long a job has recently held its slot, ms. */
  get meanServiceMs(): number {
    return this.mean;
  }

  observe(serviceMs: number): void {
    this.mean += SERVICE_TIME_WEIGHT * (serviceMs - this.mean);
  }

  /** Whole seconds (at least 1, as Retry-After counts) until `ahead` jobs have gone through `slots` slots. */
  retryAfterSeconds(ahead: number, slots: number): number {
    return Math.max(1, Math.ceil((ahead * this.mean) / Math.max(1, slots) / 1000));
  }
}
