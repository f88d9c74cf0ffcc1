/**
 * The gateway against the plain proxy, per route (`/v1/generate` over the backend's generate route, the chat route
 * over the backend's chat route): CPU per request of each server process, saturation, and added p99, each a ratio
 * taken within a round and then summarized over rounds (median, min–max), so a machine that drifts between rounds
 * moves both sides of a ratio alike.
 */
import type { LegName } from './overhead-legs.js';
import type { OverheadLeg, PercentileSpreads } from './overhead-report.js';
import { formatSpread, round3, spreadOf, type Spread } from './overhead-rounds.js';

export const GOAL_CPU_RATIO = 1.3;
export const GOAL_SATURATION_RATIO = 0.6;
export const GOAL_ADDED_P99_RATIO = 2;
/** The chat route's figures may be this much worse than `/v1/generate`'s. */
export const GOAL_CHAT_WITHIN = 0.1;

const PATHS = [
  { route: '/v1/generate', gateway: 'gateway', proxy: 'proxy' },
  { route: '/v1/chat/completions', gateway: 'gateway-chat', proxy: 'proxy-chat' },
] as const satisfies ReadonlyArray<{ route: string; gateway: LegName; proxy: LegName }>;

type Phase = OverheadLeg['phase'];

export interface PathComparison {
  route: (typeof PATHS)[number]['route'];
  gateway_leg: LegName;
  proxy_leg: LegName;
  /** CPU ms per successful request of each server process, by phase, over rounds. */
  cpu_ms_per_request: Record<'gateway' | 'proxy', Record<Phase, Spread | null>>;
  /** Gateway CPU per request / proxy's, each round's ratio, over rounds. */
  cpu_ratio: Record<Phase, Spread | null>;
  /** Gateway saturation qps / proxy's, each round's ratio, over rounds. */
  saturation_ratio: Spread | null;
  /** Added p99 at the fixed rate (each over its direct leg of the same round), over rounds. */
  added_p99_ms: Record<'gateway' | 'proxy', Spread | null>;
  /** The gateway's median added p99 / the proxy's (null where the proxy's is not above zero). */
  added_p99_ratio: number | null;
  /** Event-loop delay p99 of each server process at the fixed rate, over rounds (ms). */
  loop_delay_p99_ms: Record<'gateway' | 'proxy', Spread | null>;
  loop_delay_max_ms: Record<'gateway' | 'proxy', Spread | null>;
  /** Garbage collections per 1000 requests and the longest pause at the fixed rate, over rounds. */
  gc_per_1000_requests: Record<'gateway' | 'proxy', Spread | null>;
  gc_max_pause_ms: Record<'gateway' | 'proxy', Spread | null>;
}

export function comparePaths(
  legs: readonly OverheadLeg[],
  addedOver: Partial<Record<LegName, PercentileSpreads>>,
): PathComparison[] {
  const rounds = [...new Set(legs.map((l) => l.round ?? 1))].sort((a, b) => a - b);
  const find = (leg: LegName, phase: Phase, round: number) =>
    legs.find((l) => l.leg === leg && l.phase === phase && (l.round ?? 1) === round);
  const cpu = (leg: LegName, phase: Phase, round: number) => find(leg, phase, round)?.usage?.cpu_ms_per_request ?? null;
  const overRounds = (f: (round: number) => number | null | undefined) => spreadOf(rounds.map(f));
  const ratio = (a: number | null | undefined, b: number | null | undefined) =>
    a == null || b == null || b <= 0 ? null : round3(a / b);

  const comparisons: PathComparison[] = [];
  for (const path of PATHS) {
    if (!legs.some((l) => l.leg === path.gateway) || !legs.some((l) => l.leg === path.proxy)) continue;
    const byPhase = (f: (phase: Phase) => Spread | null) => ({
      saturation: f('saturation'),
      fixed_rate: f('fixed_rate'),
    });
    const perProcess = <T>(f: (leg: LegName) => T) => ({ gateway: f(path.gateway), proxy: f(path.proxy) });
    const added = perProcess((leg) => addedOver[leg]?.p99 ?? null);
    comparisons.push({
      route: path.route,
      gateway_leg: path.gateway,
      proxy_leg: path.proxy,
      cpu_ms_per_request: perProcess((leg) => byPhase((phase) => overRounds((r) => cpu(leg, phase, r)))),
      cpu_ratio: byPhase((phase) => overRounds((r) => ratio(cpu(path.gateway, phase, r), cpu(path.proxy, phase, r)))),
      saturation_ratio: overRounds((r) =>
        ratio(find(path.gateway, 'saturation', r)?.qps, find(path.proxy, 'saturation', r)?.qps),
      ),
      added_p99_ms: added,
      added_p99_ratio: ratio(added.gateway?.median, added.proxy?.median),
      loop_delay_p99_ms: perProcess((leg) => overRounds((r) => find(leg, 'fixed_rate', r)?.usage?.loop_delay_ms.p99)),
      loop_delay_max_ms: perProcess((leg) => overRounds((r) => find(leg, 'fixed_rate', r)?.usage?.loop_delay_ms.max)),
      gc_per_1000_requests: perProcess((leg) =>
        overRounds((r) => find(leg, 'fixed_rate', r)?.usage?.gc?.per_1000_requests),
      ),
      gc_max_pause_ms: perProcess((leg) => overRounds((r) => find(leg, 'fixed_rate', r)?.usage?.gc?.max_pause_ms)),
    });
  }
  return comparisons;
}

export interface Goal {
  goal: string;
  measured: string;
  met: boolean | null;
}

/** The goals for each route, and the chat route against `/v1/generate` where both ran. */
export function pathGoals(paths: readonly PathComparison[], rate: number, rounds: number): Goal[] {
  const of = rounds > 1 ? `median of ${rounds} rounds` : 'one round';
  const goals: Goal[] = [];
  for (const p of paths) {
    const cpu = p.cpu_ratio.fixed_rate;
    goals.push({
      goal: `${p.route}: gateway CPU per request ≤ ${GOAL_CPU_RATIO}× the plain proxy's at ${rate}/s (${of})`,
      measured: formatSpread(cpu, rounds, 3, '×'),
      met: cpu === null ? null : cpu.median <= GOAL_CPU_RATIO,
    });
    goals.push({
      goal: `${p.route}: gateway saturation ≥ ${GOAL_SATURATION_RATIO}× the plain proxy's (${of})`,
      measured: formatSpread(p.saturation_ratio, rounds, 3, '×'),
      met: p.saturation_ratio === null ? null : p.saturation_ratio.median >= GOAL_SATURATION_RATIO,
    });
    goals.push({
      goal: `${p.route}: gateway added p99 ≤ ${GOAL_ADDED_P99_RATIO}× the plain proxy's at ${rate}/s (${of})`,
      measured:
        p.added_p99_ratio === null
          ? '—'
          : `${p.added_p99_ratio.toFixed(3)}× (${formatSpread(p.added_p99_ms.gateway, rounds)} vs ${formatSpread(p.added_p99_ms.proxy, rounds)} ms)`,
      met: p.added_p99_ratio === null ? null : p.added_p99_ratio <= GOAL_ADDED_P99_RATIO,
    });
  }
  const generate = paths.find((p) => p.route === '/v1/generate');
  const chat = paths.find((p) => p.route === '/v1/chat/completions');
  if (generate && chat) {
    const within = (
      name: string,
      c: number | null | undefined,
      g: number | null | undefined,
      higherIsWorse: boolean,
    ): Goal => {
      const r = c == null || g == null || g <= 0 ? null : round3(c / g);
      const bound = higherIsWorse ? 1 + GOAL_CHAT_WITHIN : 1 - GOAL_CHAT_WITHIN;
      return {
        goal: `chat route's ${name} ${higherIsWorse ? '≤' : '≥'} ${bound}× /v1/generate's`,
        measured: r === null ? '—' : `${r.toFixed(3)}× (${c!.toFixed(3)} vs ${g!.toFixed(3)})`,
        met: r === null ? null : higherIsWorse ? r <= bound : r >= bound,
      };
    };
    goals.push(
      within(
        'gateway CPU per request',
        chat.cpu_ms_per_request.gateway.fixed_rate?.median,
        generate.cpu_ms_per_request.gateway.fixed_rate?.median,
        true,
      ),
      within('saturation ratio to its proxy', chat.saturation_ratio?.median, generate.saturation_ratio?.median, false),
      within('added p99', chat.added_p99_ms.gateway?.median, generate.added_p99_ms.gateway?.median, true),
    );
  }
  return goals;
}

/** Console / HTML rows: one per route and process. */
export const PATH_HEADER = [
  'route',
  'process',
  'CPU ms/req @rate',
  'CPU ms/req @saturation',
  'added p99 ms',
  'loop delay p99 ms',
  'loop delay max ms',
  'GC /1000 req',
  'GC longest ms',
];

export function pathRows(paths: readonly PathComparison[], rounds: number): string[][] {
  const rows: string[][] = [];
  for (const p of paths) {
    for (const who of ['proxy', 'gateway'] as const) {
      rows.push([
        p.route,
        `${who} (${who === 'proxy' ? p.proxy_leg : p.gateway_leg})`,
        formatSpread(p.cpu_ms_per_request[who].fixed_rate, rounds, 4),
        formatSpread(p.cpu_ms_per_request[who].saturation, rounds, 4),
        formatSpread(p.added_p99_ms[who], rounds),
        formatSpread(p.loop_delay_p99_ms[who], rounds),
        formatSpread(p.loop_delay_max_ms[who], rounds),
        formatSpread(p.gc_per_1000_requests[who], rounds, 1),
        formatSpread(p.gc_max_pause_ms[who], rounds, 2),
      ]);
    }
    rows.push([
      p.route,
      'gateway / proxy',
      formatSpread(p.cpu_ratio.fixed_rate, rounds, 3, '×'),
      formatSpread(p.cpu_ratio.saturation, rounds, 3, '×'),
      p.added_p99_ratio === null ? '—' : `${p.added_p99_ratio.toFixed(3)}×`,
      `saturation ${formatSpread(p.saturation_ratio, rounds, 3, '×')}`,
      '',
      '',
      '',
    ]);
  }
  return rows;
}
