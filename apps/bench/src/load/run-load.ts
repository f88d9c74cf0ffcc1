import { GenerateClient } from '../client/generate-client.js';
import type { Target } from '../client/target-api.js';
import type { RequestRecord } from '../metrics/request-record.js';
import type { MeasurementWindow } from '../metrics/summarize.js';
import type { ArrivalSink } from './arrival-sink.js';
import { arrivalSchedule, type ArrivalProcess } from './arrival-schedule.js';
import { ClientHealthMonitor, type ClientHealthReport, type HealthThresholds } from './client-health.js';
import { runClosedLoop } from './closed-loop.js';
import { runOpenLoop } from './open-loop.js';
import type { LoadProfile } from './profile.js';
import { RunCounters, type ProgressSnapshot } from './run-counters.js';
import { Workload, type RequestSpec, type WorkloadConfig } from './workload.js';

export type LoadModel =
  | { kind: 'open'; profile: LoadProfile; arrivals: ArrivalProcess; maxInFlight: number; maxPending: number }
  | { kind: 'users'; profile: LoadProfile; thinkTimeS: [number, number] | null }
  | { kind: 'concurrency'; profile: LoadProfile };

export interface RunSpec {
  target: Target;
  workload: WorkloadConfig;
  load: LoadModel;
  /** Length of the load, warm-up included. */
  durationMs: number;
  /** Requests meant to go out in the first warmupMs are sent, recorded, and left out of the metrics. */
  warmupMs: number;
  maxRequests: number;
  seed: number;
  timeoutMs: number;
  thresholds: HealthThresholds;
  /** Sweep step stamped on the records. */
  step?: number;
}

export interface RunOutcome {
  /** Wall-clock time of the run clock's origin. */
  startedAt: string;
  finishedAt: string;
  records: RequestRecord[];
  window: MeasurementWindow;
  health: ClientHealthReport;
  interrupted: boolean;
  /** Open loop: arrivals scheduled, arrivals that had to wait for a slot. Closed loop: most users at once. */
  load: { scheduled: number | null; queued: number; peak_users: number | null };
}

export interface RunHooks {
  /** Called about once a second with the live figures. */
  onProgress?: (snapshot: ProgressSnapshot) => void;
  signal?: AbortSignal;
}

/** Runs one load against one target and returns every request's record with the client's health. */
export async function executeRun(spec: RunSpec, hooks: RunHooks = {}): Promise<RunOutcome> {
  const originMs = performance.now();
  const startedAt = new Date().toISOString();
  const clock = () => performance.now() - originMs;
  const client = new GenerateClient(spec.target, { originMs, timeoutMs: spec.timeoutMs, step: spec.step });
  const workload = new Workload(spec.workload, spec.seed);
  const specs: RequestSpec[] = [];
  // Request k's content depends on k only, whatever order arrivals are sent or dropped in.
  const specFor = (id: number) => {
    while (specs.length <= id) specs.push(workload.next());
    return specs[id]!;
  };
  const records: RequestRecord[] = [];
  const counters = new RunCounters();
  const health = new ClientHealthMonitor();
  const startMs = clock();
  const isWarmup = (intendedMs: number) => intendedMs - startMs < spec.warmupMs;
  const sink: ArrivalSink = {
    issue: async (id, intendedMs) => {
      counters.onSent();
      const record = await client.send(id, specFor(id), intendedMs, isWarmup(intendedMs));
      records.push(record);
      counters.onRecord(record);
    },
    drop: (id, intendedMs, why) => {
      const record = client.dropped(id, specFor(id), intendedMs, why, isWarmup(intendedMs));
      records.push(record);
      counters.onRecord(record);
    },
  };

  const describeTarget = (): string => {
    const t = Math.max(0, clock() - startMs);
    const value = spec.load.profile.at(t);
    if (spec.load.kind === 'open') return `rate ${value.toFixed(value < 10 ? 2 : 1)}/s`;
    return `${spec.load.kind === 'users' ? 'users' : 'concurrency'} ${Math.floor(value + 1e-9)}`;
  };
  const progressTimer = hooks.onProgress
    ? setInterval(() => {
        const interval = counters.takeInterval();
        hooks.onProgress!({
          elapsedS: Math.max(0, clock() - startMs) / 1000,
          totalS: spec.durationMs / 1000,
          sent: counters.sent,
          done: counters.done,
          ok: counters.ok,
          failed: counters.failed,
          dropped: counters.dropped,
          inFlight: client.inFlight,
          intervalQps: interval.qps,
          intervalE2eMs: interval.e2e,
          loopDelayP99Ms: health.currentLoopDelayP99(),
          target: describeTarget(),
        });
      }, 1000)
    : undefined;

  health.start();
  let stoppedAtMs: number;
  let interrupted: boolean;
  let timerLagMs: number[] = [];
  let load: RunOutcome['load'];
  try {
    if (spec.load.kind === 'open') {
      const arrivals = arrivalSchedule(spec.load.profile, spec.load.arrivals, spec.seed, spec.maxRequests);
      // A run bounded by --requests ends with its last arrival (plus a moment to send it).
      const stopAfterMs =
        arrivals.length === spec.maxRequests
          ? Math.min(spec.durationMs, arrivals[arrivals.length - 1]! + 1)
          : spec.durationMs;
      const outcome = await runOpenLoop(
        { arrivals, startMs, stopAfterMs, maxInFlight: spec.load.maxInFlight, maxPending: spec.load.maxPending },
        sink,
        clock,
        hooks.signal,
      );
      ({ stoppedAtMs, interrupted, timerLagMs } = outcome);
      load = { scheduled: arrivals.length, queued: outcome.queued, peak_users: null };
    } else {
      const outcome = await runClosedLoop(
        {
          profile: spec.load.profile,
          startMs,
          stopAfterMs: spec.durationMs,
          thinkTimeS: spec.load.kind === 'users' ? spec.load.thinkTimeS : null,
          maxRequests: spec.maxRequests,
          seed: spec.seed,
        },
        sink,
        clock,
        hooks.signal,
      );
      ({ stoppedAtMs, interrupted } = outcome);
      load = { scheduled: null, queued: 0, peak_users: outcome.peakUsers };
    }
  } finally {
    clearInterval(progressTimer);
    client.close();
  }
  const measured = records.filter((r) => !r.warmup);
  const report = health.finish(timerLagMs, spec.thresholds, [
    ...(measured.length === 0
      ? ['no request was measured (the run was too short, or everything fell in the warm-up)']
      : []),
    ...(measured.length > 0 && !measured.some((r) => r.ok)
      ? ['no request succeeded: there is no latency to report']
      : []),
  ]);
  records.sort((a, b) => a.id - b.id);
  // A run bounded by --requests is over when its last answer is in, not when its last request went out.
  const boundedByRequests = !interrupted && Number.isFinite(spec.maxRequests) && records.length >= spec.maxRequests;
  if (boundedByRequests) stoppedAtMs = records.reduce((t, r) => Math.max(t, r.end_ms ?? t), stoppedAtMs);
  return {
    startedAt,
    finishedAt: new Date().toISOString(),
    records,
    window: { startMs: startMs + Math.min(spec.warmupMs, stoppedAtMs - startMs), stopMs: stoppedAtMs },
    health: report,
    interrupted,
    load,
  };
}
