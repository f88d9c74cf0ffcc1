import http from 'node:http';
import { requestBody, requestPath, type Target } from '../client/target-api.js';
import { Rng } from '../load/rng.js';
import { Workload, type WorkloadConfig } from '../load/workload.js';
import type { ProcessUsage } from './process-usage.js';
import { spreadOf, type Spread } from './overhead-rounds.js';

/**
 * The proxy's and the gateway's CPU per request measured over the same seconds: one open-loop Poisson stream at
 * twice `ratePerServer`, each request sent to one of the two at random. Legs run one after the other meet the
 * machine at different moments (its other tenants, its caches), which moves one server's CPU per request by ±15 %
 * from leg to leg here; side by side, both pay for the same moments, and the ratio of their CPU per request is the
 * gateway's own work. Repeated `repetitions` times; the summary is the median ratio and its range.
 */
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
  /** Answers with status 200, read to their end, that ended inside the window. */
  ok: number;
  /** Answers of another status, lost connections and timeouts, inside the window. */
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

interface Tally {
  ok: number;
  failed: number;
}

/** Runs the repetitions one after another; each waits for its requests still in flight before the next begins. */
export async function measureSideBySide(
  servers: Record<Side, SideBySideServer>,
  settings: SideBySideSettings,
  signal?: AbortSignal,
): Promise<SideBySideResult> {
  const agent = new http.Agent({ keepAlive: true, maxSockets: Infinity });
  const repetitions: SideBySideRepetition[] = [];
  try {
    for (let i = 1; i <= settings.repetitions && !signal?.aborted; i++)
      repetitions.push(await repetition(i, servers, settings, agent));
  } finally {
    agent.destroy();
  }
  return {
    rate_per_server: settings.ratePerServer,
    duration_s: settings.durationMs / 1000,
    repetitions,
    ratio: spreadOf(repetitions.map((r) => r.ratio)),
    proxy_cpu_ms_per_request: spreadOf(repetitions.map((r) => r.proxy.cpu_ms_per_request)),
    gateway_cpu_ms_per_request: spreadOf(repetitions.map((r) => r.gateway.cpu_ms_per_request)),
  };
}

async function repetition(
  index: number,
  servers: Record<Side, SideBySideServer>,
  settings: SideBySideSettings,
  agent: http.Agent,
): Promise<SideBySideRepetition> {
  const arrivals = new Rng(settings.seed + index, 7);
  const workload = new Workload(settings.workload, settings.seed + index);
  const tallies: Record<Side, Tally> = { proxy: { ok: 0, failed: 0 }, gateway: { ok: 0, failed: 0 } };
  let counting = false;
  let inFlight = 0;
  let allAnswered: (() => void) | undefined;
  const count = (side: Side, ok: boolean) => {
    if (counting) tallies[side][ok ? 'ok' : 'failed']++;
    if (--inFlight === 0) allAnswered?.();
  };
  const send = (side: Side) => {
    inFlight++;
    const spec = workload.next();
    exchange(servers[side].target, spec.stream, requestBody(servers[side].target, spec), agent, settings.timeoutMs)
      .then((ok) => count(side, ok))
      .catch(() => count(side, false));
  };

  // Arrivals at both servers together, each to one of them at random, until `sending` ends.
  const meanGapMs = 1000 / (2 * settings.ratePerServer);
  let sending = true;
  let nextAt = performance.now();
  let timer: NodeJS.Timeout | undefined;
  const pump = () => {
    const now = performance.now();
    while (sending && nextAt <= now) {
      send(arrivals.next() < 0.5 ? 'proxy' : 'gateway');
      nextAt += -Math.log(1 - arrivals.next()) * meanGapMs;
    }
    if (sending) timer = setTimeout(pump, Math.max(0, nextAt - performance.now()));
  };
  pump();
  try {
    await sleep(settings.warmupMs);
    const before = await Promise.all([servers.proxy.usage(), servers.gateway.usage()]);
    counting = true;
    await sleep(settings.durationMs);
    counting = false;
    const after = await Promise.all([servers.proxy.usage(), servers.gateway.usage()]);
    const proxy = countOf(tallies.proxy, before[0], after[0]);
    const gateway = countOf(tallies.gateway, before[1], after[1]);
    const ratio =
      proxy.cpu_ms_per_request !== null && gateway.cpu_ms_per_request !== null && proxy.cpu_ms_per_request > 0
        ? Math.round((gateway.cpu_ms_per_request / proxy.cpu_ms_per_request) * 1000) / 1000
        : null;
    return { repetition: index, proxy, gateway, ratio };
  } finally {
    sending = false;
    clearTimeout(timer);
    if (inFlight > 0) await new Promise<void>((resolve) => (allAnswered = resolve));
  }
}

function countOf({ ok, failed }: Tally, before: ProcessUsage, after: ProcessUsage): SideBySideCount {
  const cpuMs = (after.cpuUserUs + after.cpuSystemUs - before.cpuUserUs - before.cpuSystemUs) / 1000;
  return {
    ok,
    failed,
    cpu_ms: Math.round(cpuMs * 1000) / 1000,
    cpu_ms_per_request: ok > 0 ? Math.round((cpuMs / ok) * 10_000) / 10_000 : null,
  };
}

/** One request, its answer read to the end: true for a 200. A request past `timeoutMs` is cut and counts as failed. */
function exchange(
  target: Target,
  stream: boolean,
  body: string,
  agent: http.Agent,
  timeoutMs: number,
): Promise<boolean> {
  const url = new URL(requestPath(target.api, stream), target.url);
  return new Promise((resolve) => {
    const request = http.request(
      url,
      {
        method: 'POST',
        agent,
        headers: {
          'content-type': 'application/json',
          'content-length': Buffer.byteLength(body),
          ...(target.apiKey !== undefined ? { authorization: `Bearer ${target.apiKey}` } : {}),
        },
      },
      (answer) => {
        answer.on('data', () => undefined);
        answer.on('error', () => undefined); // a cut answer closes incomplete
        answer.on('close', () => resolve(answer.complete && answer.statusCode === 200));
      },
    );
    request.setTimeout(timeoutMs, () => request.destroy(new Error('timed out')));
    request.on('error', () => resolve(false));
    request.end(body);
  });
}

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));
