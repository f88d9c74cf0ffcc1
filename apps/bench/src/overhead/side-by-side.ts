import { setTimeout as sleep } from 'node:timers/promises';
import { GenerateClient } from '../client/generate-client.js';
import type { Target } from '../client/target-api.js';
import { arrivalSchedule } from '../load/arrival-schedule.js';
import type { ArrivalSink } from '../load/arrival-sink.js';
import { runOpenLoop } from '../load/open-loop.js';
import { LoadProfile } from '../load/profile.js';
import { Rng } from '../load/rng.js';
import { Workload, type WorkloadConfig } from '../load/workload.js';
import type { RequestRecord } from '../metrics/request-record.js';
import { legUsage, type ProcessUsage } from './process-usage.js';
import { spreadOf, type Spread } from './overhead-rounds.js';

export interface SideBySideServer {
  target: Target;
  /** The server process's own CPU time (its usage reporter, over IPC). */
  usage(): Promise<ProcessUsage>;
}

export interface SideBySideSettings {
  /** Arrivals per second at each server. */
  ratePerServer: number;
  /** Measured length of a repetition, after its warm-up. */
  durationMs: number;
  warmupMs: number;
  repetitions: number;
  seed: number;
  timeoutMs: number;
  workload: WorkloadConfig;
}

/** One server over one repetition's measured window. */
export interface SideBySideCount {
  /** Answers that ended inside the window and that the client took as complete and ok (as `run` counts them). */
  ok: number;
  /** Failures inside the window: error answers, lost connections, timeouts, dropped arrivals. */
  failed: number;
  cpu_ms: number;
  cpu_ms_per_request: number | null;
}

export interface SideBySideRepetition {
  repetition: number;
  proxy: SideBySideCount;
  gateway: SideBySideCount;
  /** gateway / proxy CPU per request. */
  ratio: number | null;
}

export interface SideBySideResult {
  rate_per_server: number;
  duration_s: number;
  repetitions: SideBySideRepetition[];
  ratio: Spread | null;
  proxy_cpu_ms_per_request: Spread | null;
  gateway_cpu_ms_per_request: Spread | null;
}

type Side = 'proxy' | 'gateway';

/**
 * The proxy's and the gateway's CPU per request measured over the same seconds: one open-loop Poisson stream at
 * twice `ratePerServer`, each request sent to one of the two at random. Legs run one after the other meet the
 * machine at different moments (its other tenants, its caches), which moves one server's CPU per request by ±15 %
 * from leg to leg here; side by side, both pay for the same moments, and the ratio of their CPU per request is the
 * gateway's own work. Repeated `repetitions` times; the summary is the median ratio and its range.
 *
 * The repetitions run one after another; each waits for its requests still in flight before the next begins.
 */
export async function measureSideBySide(
  servers: Record<Side, SideBySideServer>,
  settings: SideBySideSettings,
  signal?: AbortSignal,
): Promise<SideBySideResult> {
  const repetitions: SideBySideRepetition[] = [];
  for (let i = 1; i <= settings.repetitions && !signal?.aborted; i++)
    repetitions.push(await repetition(i, servers, settings, signal));
  return {
    rate_per_server: settings.ratePerServer,
    duration_s: settings.durationMs / 1000,
    repetitions,
    ratio: spreadOf(repetitions.map((r) => r.ratio)),
    proxy_cpu_ms_per_request: spreadOf(repetitions.map((r) => r.proxy.cpu_ms_per_request)),
    gateway_cpu_ms_per_request: spreadOf(repetitions.map((r) => r.gateway.cpu_ms_per_request)),
  };
}

/**
 * One repetition: the run's own open loop (arrivalSchedule, runOpenLoop) at both rates together, each arrival sent by
 * the client of the side it is drawn for (GenerateClient, which reads and checks every answer as `run` does).
 */
async function repetition(
  index: number,
  servers: Record<Side, SideBySideServer>,
  settings: SideBySideSettings,
  signal?: AbortSignal,
): Promise<SideBySideRepetition> {
  const originMs = performance.now();
  const clock = () => performance.now() - originMs;
  const seed = settings.seed + index;
  const clientOf = (side: Side) =>
    new GenerateClient(servers[side].target, { originMs, timeoutMs: settings.timeoutMs });
  const clients: Record<Side, GenerateClient> = { proxy: clientOf('proxy'), gateway: clientOf('gateway') };
  const workload = new Workload(settings.workload, seed);
  const sides = new Rng(seed, 7);
  const records: Record<Side, RequestRecord[]> = { proxy: [], gateway: [] };
  const sideOf: Side[] = [];
  const pick = (id: number) => (sideOf[id] ??= sides.next() < 0.5 ? 'proxy' : 'gateway');
  const sink: ArrivalSink = {
    issue: async (id, intendedMs) => {
      const side = pick(id);
      records[side].push(await clients[side].send(id, workload.next(), intendedMs));
    },
    drop: (id, intendedMs, why) => {
      const side = pick(id);
      records[side].push(clients[side].dropped(id, workload.next(), intendedMs, why, false));
    },
  };
  const lengthMs = settings.warmupMs + settings.durationMs;
  const arrivals = arrivalSchedule(LoadProfile.constant(2 * settings.ratePerServer, lengthMs), 'poisson', seed);
  const load = runOpenLoop(
    { arrivals, startMs: 0, stopAfterMs: lengthMs, maxInFlight: 10_000, maxPending: 100_000 },
    sink,
    clock,
    signal,
  );
  try {
    await sleep(settings.warmupMs);
    const before = await Promise.all([servers.proxy.usage(), servers.gateway.usage()]);
    const fromMs = clock();
    await sleep(settings.durationMs);
    const toMs = clock();
    const after = await Promise.all([servers.proxy.usage(), servers.gateway.usage()]);
    const proxy = countOf('proxy', records.proxy, fromMs, toMs, before[0], after[0]);
    const gateway = countOf('gateway', records.gateway, fromMs, toMs, before[1], after[1]);
    const ratio =
      proxy.cpu_ms_per_request !== null && gateway.cpu_ms_per_request !== null && proxy.cpu_ms_per_request > 0
        ? Math.round((gateway.cpu_ms_per_request / proxy.cpu_ms_per_request) * 1000) / 1000
        : null;
    return { repetition: index, proxy, gateway, ratio };
  } finally {
    await load;
    clients.proxy.close();
    clients.gateway.close();
  }
}

/** A side's answers that ended inside the CPU window, and its CPU per successful one (legUsage, as the legs'). */
function countOf(
  side: Side,
  records: readonly RequestRecord[],
  fromMs: number,
  toMs: number,
  before: ProcessUsage,
  after: ProcessUsage,
): SideBySideCount {
  const inWindow = records.filter((r) => {
    const endedMs = r.end_ms ?? r.intended_ms;
    return endedMs >= fromMs && endedMs <= toMs;
  });
  const ok = inWindow.filter((r) => r.ok).length;
  const { cpu_ms, cpu_ms_per_request } = legUsage(side, before, after, ok);
  return { ok, failed: inWindow.length - ok, cpu_ms, cpu_ms_per_request };
}
