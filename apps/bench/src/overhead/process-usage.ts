/** What a server process started by `bench overhead` says of itself when asked (see usage-reporter.ts). */
export interface ProcessUsage {
  /** `process.cpuUsage()`: microseconds since the process started. */
  cpuUserUs: number;
  cpuSystemUs: number;
  /**
   * The event loop's delay since the last question, monitorEventLoopDelay's histogram (the sampling timer's
   * lateness: how long callbacks waited behind other work).
   */
  loopDelayMs: { p50: number; p99: number; max: number; mean: number };
  rssBytes: number;
  /** Garbage collections since the last question: how many, their pauses in all and the longest (ms). */
  gc: { count: number; totalMs: number; maxMs: number };
}

export const USAGE_QUESTION = 'sluice-bench:usage?';

/** A server's CPU per answered request and its event-loop delay over one leg, from the usages before and after. */
export interface LegUsage {
  process: string;
  /** CPU milliseconds (user + system) the process spent during the leg, per successful request of the leg. */
  cpu_ms_per_request: number | null;
  cpu_ms: number;
  /** Requests the CPU is divided by: every successful one of the leg, warm-up included (the CPU window's). */
  requests: number;
  loop_delay_ms: ProcessUsage['loopDelayMs'];
  /** The leg's garbage collections: per 1000 requests, their pauses in all per request, and the longest pause. */
  gc: { per_1000_requests: number | null; pause_ms_per_request: number | null; max_pause_ms: number };
}

export function legUsage(process: string, before: ProcessUsage, after: ProcessUsage, requests: number): LegUsage {
  const cpuMs = (after.cpuUserUs + after.cpuSystemUs - before.cpuUserUs - before.cpuSystemUs) / 1000;
  const r3 = (x: number) => Math.round(x * 1000) / 1000;
  return {
    process,
    cpu_ms_per_request: requests > 0 ? Math.round((cpuMs / requests) * 10_000) / 10_000 : null,
    cpu_ms: r3(cpuMs),
    requests,
    loop_delay_ms: {
      p50: r3(after.loopDelayMs.p50),
      p99: r3(after.loopDelayMs.p99),
      max: r3(after.loopDelayMs.max),
      mean: r3(after.loopDelayMs.mean),
    },
    gc: {
      per_1000_requests: requests > 0 ? r3((after.gc.count / requests) * 1000) : null,
      pause_ms_per_request: requests > 0 ? Math.round((after.gc.totalMs / requests) * 10_000) / 10_000 : null,
      max_pause_ms: r3(after.gc.maxMs),
    },
  };
}
