import { setTimeout as sleep } from 'node:timers/promises';
import { GenerateClient } from '../client/generate-client.js';
import type { Target } from '../client/target-api.js';
import { arrivalSchedule } from '../load/arrival-schedule.js';
import type { ArrivalSink } from '../load/arrival-sink.js';
import { runOpenLoop } from '../load/open-loop.js';
import { LoadProfile } from '../load/profile.js';
import { Rng } from '../load/rng.js';
import { Workload, type WorkloadConfig } from '../load/workload.js';
import { percentile } from '../metrics/percentile.js';
import { e2eMs } from '../metrics/request-metrics.js';
import type { RequestRecord } from '../metrics/request-record.js';
import { legUsage, type ProcessUsage } from './process-usage.js';
import { round3, spreadOf, type Spread } from './overhead-rounds.js';

export interface SideBySideServer {
  target: Target;
  /** The server process's own CPU time (its usage reporter, over IPC). */
  usage(): Promise<ProcessUsage>;
}

/**
 * The servers of a side-by-side measure: the proxy and the gateway, and the backend asked straight (`direct`, as the
 * direct leg asks it), whose latency over the same seconds is what the other two add to.
 */
export interface SideBySideServers {
  direct?: { target: Target };
  proxy: SideBySideServer;
  gateway: SideBySideServer;
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
  /** Its answers' e2e latency in the window (ms, from the intended send time, nearest rank); null without answers. */
  e2e_ms: { p50: number | null; p99: number | null };
}

export interface SideBySideRepetition {
  repetition: number;
  /** The backend asked straight, where it took part: its answers and latency (its CPU is not measured here). */
  direct?: Pick<SideBySideCount, 'ok' | 'failed' | 'e2e_ms'>;
  proxy: SideBySideCount;
  gateway: SideBySideCount;
  /** gateway / proxy CPU per request. */
  ratio: number | null;
  /** p99 e2e over direct's in the same window (ms), for the proxy and the gateway; absent without direct. */
  added_p99_ms?: { proxy: number | null; gateway: number | null };
  /** The gateway's added p99 / the proxy's; null where either is missing or the proxy's is not above zero. */
  added_p99_ratio?: number | null;
}

export interface SideBySideResult {
  rate_per_server: number;
  duration_s: number;
  repetitions: SideBySideRepetition[];
  ratio: Spread | null;
  proxy_cpu_ms_per_request: Spread | null;
  gateway_cpu_ms_per_request: Spread | null;
  /** Over the repetitions, where direct took part: each one's added p99 (ms) and the ratio of the two. */
  added_p99?: { proxy_ms: Spread | null; gateway_ms: Spread | null; ratio: Spread | null };
}

type Side = 'direct' | 'proxy' | 'gateway';

/**
 * The proxy's and the gateway's CPU per request measured over the same seconds: one open-loop Poisson stream at
 * `ratePerServer` for each server taking part, each request sent to one of them at random. Legs run one after the other meet the
 * machine at different moments (its other tenants, its caches), which moves one server's CPU per request by ±15 %
 * from leg to leg here; side by side, both pay for the same moments, and the ratio of their CPU per request is the
 * gateway's own work. With `direct`, the backend takes a third share of the stream straight, at the same rate, and
 * each path's added p99 is its p99 over direct's in the same seconds: a leg's p99 is a handful of its slowest
 * requests, and a pause of the machine's within one leg and not the other decides the legs' comparison. Repeated
 * `repetitions` times; the summary is the median of each ratio and its range.
 *
 * The repetitions run one after another; each waits for its requests still in flight before the next begins.
 */
export async function measureSideBySide(
  servers: SideBySideServers,
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
    ...(servers.direct === undefined
      ? {}
      : {
          added_p99: {
            proxy_ms: spreadOf(repetitions.map((r) => r.added_p99_ms?.proxy)),
            gateway_ms: spreadOf(repetitions.map((r) => r.added_p99_ms?.gateway)),
            ratio: spreadOf(repetitions.map((r) => r.added_p99_ratio)),
          },
        }),
  };
}

/**
 * One repetition: the run's own open loop (arrivalSchedule, runOpenLoop) at both rates together, each arrival sent by
 * the client of the side it is drawn for (GenerateClient, which reads and checks every answer as `run` does).
 */
async function repetition(
  index: number,
  servers: SideBySideServers,
  settings: SideBySideSettings,
  signal?: AbortSignal,
): Promise<SideBySideRepetition> {
  const originMs = performance.now();
  const clock = () => performance.now() - originMs;
  const seed = settings.seed + index;
  const { direct } = servers;
  const sidesTaken: Side[] = direct === undefined ? ['proxy', 'gateway'] : ['direct', 'proxy', 'gateway'];
  const clients = new Map(
    sidesTaken.map((side) => [
      side,
      new GenerateClient(servers[side]!.target, { originMs, timeoutMs: settings.timeoutMs }),
    ]),
  );
  const workload = new Workload(settings.workload, seed);
  const sides = new Rng(seed, 7);
  const records: Record<Side, RequestRecord[]> = { direct: [], proxy: [], gateway: [] };
  const sideOf: Side[] = [];
  const pick = (id: number) => (sideOf[id] ??= sidesTaken[Math.floor(sides.next() * sidesTaken.length)]!);
  const sink: ArrivalSink = {
    issue: async (id, intendedMs) => {
      const side = pick(id);
      records[side].push(await clients.get(side)!.send(id, workload.next(), intendedMs));
    },
    drop: (id, intendedMs, why) => {
      const side = pick(id);
      records[side].push(clients.get(side)!.dropped(id, workload.next(), intendedMs, why, false));
    },
  };
  const lengthMs = settings.warmupMs + settings.durationMs;
  const totalRate = sidesTaken.length * settings.ratePerServer;
  const arrivals = arrivalSchedule(LoadProfile.constant(totalRate, lengthMs), 'poisson', seed);
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
    // Every request that ended inside the window is in its side's records before they are read.
    await load;
    const proxy = countOf('proxy', records.proxy, fromMs, toMs, before[0], after[0]);
    const gateway = countOf('gateway', records.gateway, fromMs, toMs, before[1], after[1]);
    const ratio =
      proxy.cpu_ms_per_request !== null && gateway.cpu_ms_per_request !== null && proxy.cpu_ms_per_request > 0
        ? round3(gateway.cpu_ms_per_request / proxy.cpu_ms_per_request)
        : null;
    if (direct === undefined) return { repetition: index, proxy, gateway, ratio };
    const straight = answersOf(records.direct, fromMs, toMs);
    const over = (side: SideBySideCount) =>
      side.e2e_ms.p99 !== null && straight.e2e_ms.p99 !== null ? round3(side.e2e_ms.p99 - straight.e2e_ms.p99) : null;
    const added = { proxy: over(proxy), gateway: over(gateway) };
    return {
      repetition: index,
      direct: straight,
      proxy,
      gateway,
      ratio,
      added_p99_ms: added,
      added_p99_ratio:
        added.proxy !== null && added.gateway !== null && added.proxy > 0 ? round3(added.gateway / added.proxy) : null,
    };
  } finally {
    await load;
    for (const client of clients.values()) client.close();
  }
}

/** The answers that ended inside the window: how many, how many failed, and their e2e latency's p50 and p99. */
function answersOf(
  records: readonly RequestRecord[],
  fromMs: number,
  toMs: number,
): Pick<SideBySideCount, 'ok' | 'failed' | 'e2e_ms'> {
  const inWindow = records.filter((r) => {
    const endedMs = r.end_ms ?? r.intended_ms;
    return endedMs >= fromMs && endedMs <= toMs;
  });
  const latencies = inWindow.map(e2eMs).filter((ms) => ms !== null);
  const at = (p: number) => {
    const ms = percentile(latencies, p);
    return ms === null ? null : round3(ms);
  };
  return {
    ok: latencies.length,
    failed: inWindow.length - latencies.length,
    e2e_ms: { p50: at(50), p99: at(99) },
  };
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
  const answers = answersOf(records, fromMs, toMs);
  const { cpu_ms, cpu_ms_per_request } = legUsage(side, before, after, answers.ok);
  return { ...answers, cpu_ms, cpu_ms_per_request };
}
