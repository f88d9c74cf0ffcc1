import { e2eMs } from '../metrics/request-metrics.js';
import type { RequestRecord } from '../metrics/request-record.js';

export interface ProgressSnapshot {
  elapsedS: number;
  totalS: number;
  sent: number;
  done: number;
  ok: number;
  failed: number;
  dropped: number;
  inFlight: number;
  /** Successful answers per second and their e2e latencies, over the interval since the previous snapshot. */
  intervalQps: number;
  intervalE2eMs: number[];
  loopDelayP99Ms: number;
  /** The load model's current target: `rate 10/s`, `users 50`, ... */
  target: string;
}

/** What the progress line shows, counted as records arrive. */
export class RunCounters {
  sent = 0;
  done = 0;
  ok = 0;
  failed = 0;
  dropped = 0;
  private intervalE2e: number[] = [];
  private intervalOk = 0;
  private intervalStart = performance.now();

  onSent(): void {
    this.sent++;
  }

  onRecord(r: RequestRecord): void {
    if (r.sent_ms === null) {
      this.dropped++;
      this.failed++;
      return;
    }
    this.done++;
    if (r.ok) {
      this.ok++;
      this.intervalOk++;
      const e2e = e2eMs(r);
      if (e2e !== null) this.intervalE2e.push(e2e);
    } else {
      this.failed++;
    }
  }

  /** The interval's figures; starts the next interval. */
  takeInterval(): { qps: number; e2e: number[] } {
    const now = performance.now();
    const seconds = (now - this.intervalStart) / 1000;
    const result = { qps: seconds > 0 ? this.intervalOk / seconds : 0, e2e: this.intervalE2e };
    this.intervalE2e = [];
    this.intervalOk = 0;
    this.intervalStart = now;
    return result;
  }
}
