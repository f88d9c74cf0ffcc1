import { monitorEventLoopDelay, type IntervalHistogram } from 'node:perf_hooks';
import { percentileOfSorted, sortSamples } from '../metrics/percentile.js';

/**
 * Is the load generator itself the bottleneck? A saturated client sends late and reads answers late, and every
 * latency it reports is then partly its own. Two signals, each with a threshold (flags), any one marking the run
 * invalid:
 *   event-loop delay  — perf_hooks.monitorEventLoopDelay; reported as the delay beyond the sampling interval
 *                       (the histogram's values minus its resolution), p99 over the run;
 *   schedule lag      — open loop: actual − intended send time of arrivals sent as soon as they were due (the
 *                       timer's lateness; waits for a free connection are the server's doing and not counted).
 * Also reported, not judged: the client process's CPU use (user + system time / wall time; 100 % = one core).
 */
export interface HealthThresholds {
  maxLoopDelayMs: number;
  maxScheduleLagMs: number;
}

export interface ClientHealthReport {
  valid: boolean;
  reasons: string[];
  event_loop_delay_ms: { p50: number; p99: number; max: number };
  schedule_lag_ms: { count: number; p50: number | null; p99: number | null; max: number | null };
  client_cpu_pct: number;
  thresholds: { max_loop_delay_ms: number; max_schedule_lag_ms: number };
}

const RESOLUTION_MS = 10;

export class ClientHealthMonitor {
  private readonly histogram: IntervalHistogram = monitorEventLoopDelay({ resolution: RESOLUTION_MS });
  private cpuAtStart = process.cpuUsage();
  private wallAtStart = performance.now();

  start(): void {
    this.histogram.reset();
    this.histogram.enable();
    this.cpuAtStart = process.cpuUsage();
    this.wallAtStart = performance.now();
  }

  /** The loop delay now, for the progress line (p99 since start, ms beyond the sampling interval). */
  currentLoopDelayP99(): number {
    return this.histogram.count ? excess(this.histogram.percentile(99)) : 0;
  }

  finish(timerLagMs: number[], thresholds: HealthThresholds, extraReasons: string[] = []): ClientHealthReport {
    this.histogram.disable();
    const cpu = process.cpuUsage(this.cpuAtStart);
    const wallMs = performance.now() - this.wallAtStart;
    const h = this.histogram;
    const loop = h.count
      ? { p50: excess(h.percentile(50)), p99: excess(h.percentile(99)), max: excess(h.max) }
      : { p50: 0, p99: 0, max: 0 };
    const lags = sortSamples(timerLagMs);
    const lag = {
      count: lags.length,
      p50: round(percentileOfSorted(lags, 50)),
      p99: round(percentileOfSorted(lags, 99)),
      max: round(percentileOfSorted(lags, 100)),
    };
    const reasons = [...extraReasons];
    if (loop.p99 > thresholds.maxLoopDelayMs) {
      reasons.push(
        `client saturated: event-loop delay p99 ${loop.p99} ms > ${thresholds.maxLoopDelayMs} ms (--max-loop-delay-ms)`,
      );
    }
    if (lag.p99 !== null && lag.p99 > thresholds.maxScheduleLagMs) {
      reasons.push(
        `client saturated: schedule lag p99 ${lag.p99} ms > ${thresholds.maxScheduleLagMs} ms (--max-schedule-lag-ms)`,
      );
    }
    return {
      valid: reasons.length === 0,
      reasons,
      event_loop_delay_ms: loop,
      schedule_lag_ms: lag,
      client_cpu_pct: wallMs > 0 ? Math.round(((cpu.user + cpu.system) / 1000 / wallMs) * 1000) / 10 : 0,
      thresholds: { max_loop_delay_ms: thresholds.maxLoopDelayMs, max_schedule_lag_ms: thresholds.maxScheduleLagMs },
    };
  }
}

function excess(ns: number): number {
  return Math.round(Math.max(0, ns / 1e6 - RESOLUTION_MS) * 1000) / 1000;
}

function round(value: number | null): number | null {
  return value === null ? null : Math.round(value * 1000) / 1000;
}
