/**
 * The fixed-rate and side-by-side tables of an overhead result as rows of text, shared by the console summary and the
 * HTML report: every figure is the median over rounds (or repetitions) with their min–max. A result written before
 * rounds existed (no `over_rounds`) reads as one round.
 */
import { ADDED_OVER, type LegName } from './overhead-legs.js';
import type { OverheadResult, Percentile } from './overhead-report.js';
import { formatSpread, percentileSpreads, spreadOf } from './overhead-rounds.js';
import type { SideBySideRepetition } from './side-by-side.js';

const PCTS: readonly Percentile[] = ['p50', 'p90', 'p99', 'p99_9'];

export const FIXED_RATE_HEADER = ['leg', 'ok', 'failed', 'qps', 'p50', 'p90', 'p99', 'p99.9', 'valid'];
export const ADDED_HEADER = ['leg', 'over', 'p50', 'p90', 'p99', 'p99.9'];
export const RATIO_HEADER = ['', 'p50', 'p90', 'p99', 'p99.9'];

export function roundCount(r: OverheadResult): number {
  return Math.max(1, r.rounds?.length ?? 1);
}

/** Per leg: requests summed over rounds, qps and e2e percentiles as median (min–max). */
export function fixedRateRows(r: OverheadResult): string[][] {
  const n = roundCount(r);
  const fixed = r.legs.filter((l) => l.phase === 'fixed_rate');
  const legs = [...new Set(fixed.map((l) => l.leg))];
  return legs.map((leg) => {
    const runs = fixed.filter((l) => l.leg === leg);
    const e2e = r.over_rounds?.e2e_ms[leg] ?? percentileSpreads((k) => runs.map((l) => l.e2e_ms[k]));
    const qps = r.over_rounds?.qps[leg] ?? spreadOf(runs.map((l) => l.qps));
    return [
      leg,
      String(runs.reduce((sum, l) => sum + l.requests.ok, 0)),
      String(runs.reduce((sum, l) => sum + l.requests.failed, 0)),
      formatSpread(qps, n, 1),
      ...PCTS.map((k) => formatSpread(e2e[k], n)),
      runs.every((l) => l.validity.valid) ? 'yes' : 'NO',
    ];
  });
}

/** Per gateway leg: its added latency over its base leg, median (min–max) per percentile. */
export function addedRows(r: OverheadResult): string[][] {
  const n = roundCount(r);
  return (Object.keys(r.added_latency_ms) as LegName[]).map((leg) => {
    const spread = r.over_rounds?.added_latency_ms[leg] ?? percentileSpreads((k) => [r.added_latency_ms[leg]![k]]);
    return [leg, ADDED_OVER[leg] ?? 'direct', ...PCTS.map((k) => formatSpread(spread[k], n))];
  });
}

/** The chat/generate ratio of added latency, median (min–max) per percentile; null without both routes. */
export function ratioRow(r: OverheadResult): string[] | null {
  const ratio = r.chat_vs_generate_added;
  if (!ratio) return null;
  const n = roundCount(r);
  const spread = r.over_rounds?.chat_vs_generate_added ?? percentileSpreads((k) => [ratio[k]]);
  return ['gateway-chat / gateway', ...PCTS.map((k) => formatSpread(spread[k], n, 3, '×'))];
}

/** One row per round: its order, each gateway leg's added p50 / p99, and the chat/generate ratio at p50. */
export function roundRows(r: OverheadResult): { header: string[]; rows: string[][] } {
  const rounds = r.rounds ?? [];
  const added = (Object.keys(r.added_latency_ms) as LegName[]).filter((leg) =>
    rounds.some((x) => x.added_latency_ms[leg]),
  );
  const withRatio = rounds.some((x) => x.chat_vs_generate_added);
  const ms = (v: number | null | undefined) => (v == null ? '—' : v.toFixed(3));
  return {
    header: ['round', 'order', ...added.map((leg) => `${leg} p50 / p99`), ...(withRatio ? ['chat/generate p50'] : [])],
    rows: rounds.map((x) => [
      String(x.round),
      x.order.join(' → '),
      ...added.map((leg) => `${ms(x.added_latency_ms[leg]?.p50)} / ${ms(x.added_latency_ms[leg]?.p99)}`),
      ...(withRatio
        ? [x.chat_vs_generate_added?.p50 == null ? '—' : `${x.chat_vs_generate_added.p50.toFixed(3)}×`]
        : []),
    ]),
  };
}

export const SIDE_BY_SIDE_HEADER = [
  'route',
  'rate each',
  'proxy ok',
  'gateway ok',
  'failed',
  'proxy CPU',
  'gateway CPU',
  'gateway / proxy',
  'added p99 ms, proxy',
  'added p99 ms, gateway',
  'gateway / proxy added p99',
];

/**
 * Per route side by side: answers summed over repetitions; CPU per request, the added p99 over direct and their
 * ratios as median (min–max); the added p99 is "—" where direct did not take part.
 */
export function sideBySideRows(routes: NonNullable<OverheadResult['side_by_side']>, repetitions: number): string[][] {
  return routes.map((r) => {
    const sum = (pick: (x: SideBySideRepetition) => number) => r.repetitions.reduce((n, x) => n + pick(x), 0);
    return [
      r.route,
      `${r.rate_per_server}/s`,
      String(sum((x) => x.proxy.ok)),
      String(sum((x) => x.gateway.ok)),
      String(sum((x) => x.proxy.failed + x.gateway.failed)),
      formatSpread(r.proxy_cpu_ms_per_request, repetitions, 4),
      formatSpread(r.gateway_cpu_ms_per_request, repetitions, 4),
      formatSpread(r.ratio, repetitions, 3, '×'),
      r.added_p99 ? formatSpread(r.added_p99.proxy_ms, repetitions, 3) : '—',
      r.added_p99 ? formatSpread(r.added_p99.gateway_ms, repetitions, 3) : '—',
      r.added_p99 ? formatSpread(r.added_p99.ratio, repetitions, 3, '×') : '—',
    ];
  });
}
