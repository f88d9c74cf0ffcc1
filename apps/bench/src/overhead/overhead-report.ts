import type { ChartSpec } from '../report/chart-spec.js';
import { esc, table, type ReportPage } from '../report/html-report.js';
import type { Distribution } from '../metrics/summarize.js';
import type { ResultBase, Verdict } from '../output/result.js';
import type { ClientHealthReport } from '../load/client-health.js';
import type { LegName } from './overhead-legs.js';
import { PATH_HEADER, pathRows, type PathComparison } from './overhead-paths.js';
import type { LegUsage } from './process-usage.js';
import type { SideBySideResult } from './side-by-side.js';
import type { Spread } from './overhead-rounds.js';
import {
  ADDED_HEADER,
  addedRows,
  FIXED_RATE_HEADER,
  fixedRateRows,
  RATIO_HEADER,
  ratioRow,
  roundCount,
  roundRows,
  SIDE_BY_SIDE_HEADER,
  sideBySideRows,
} from './overhead-tables.js';

export type Percentile = 'p50' | 'p90' | 'p99' | 'p99_9';
export type Percentiles = Record<Percentile, number | null>;
export type PercentileSpreads = Record<Percentile, Spread | null>;

export interface OverheadLeg {
  leg: LegName;
  phase: 'saturation' | 'fixed_rate';
  /** Which round (1, 2, ...); absent in results written before rounds. */
  round?: number;
  url: string;
  request: string;
  requests: { total: number; ok: number; failed: number };
  errors_by_type: Record<string, number>;
  qps: number;
  e2e_ms: Distribution;
  ttft_ms: Distribution;
  validity: ClientHealthReport;
  jsonl: string;
  /** The leg's own server process (the proxy, the gateway, or the backend for a direct leg) during the leg. */
  usage?: LegUsage;
  /** The backend process during the leg, where the benchmark started it. */
  backend_usage?: LegUsage;
}

export interface OverheadResult extends ResultBase, Verdict {
  kind: 'overhead';
  compared: string[];
  settings: Record<string, unknown>;
  legs: OverheadLeg[];
  /**
   * Fixed rate: leg − its direct leg (proxy, gateway: direct; gateway-chat: direct-chat), per percentile of e2e (ms);
   * the median over rounds (each round's in `rounds`, the range in `over_rounds`).
   */
  added_latency_ms: Partial<Record<LegName, Percentiles>>;
  /** gateway-chat's added latency / gateway's, per percentile, the median over rounds; null without both routes. */
  chat_vs_generate_added: Percentiles | null;
  /** Each fixed-rate round: its leg order and its own added latency and chat/generate ratio (absent in results written before rounds). */
  rounds?: OverheadRound[];
  /** The fixed-rate figures over rounds: median, min and max (absent in results written before rounds). */
  over_rounds?: {
    e2e_ms: Partial<Record<LegName, PercentileSpreads>>;
    qps: Partial<Record<LegName, Spread | null>>;
    added_latency_ms: Partial<Record<LegName, PercentileSpreads>>;
    chat_vs_generate_added: PercentileSpreads | null;
  };
  /** Saturation throughput per leg, the median over rounds. */
  saturation_qps: Partial<Record<LegName, number>>;
  /** The gateway against the plain proxy per route: CPU per request, saturation, added p99 (absent before these). */
  paths?: PathComparison[];
  /** Per route, the proxy's and the gateway's CPU per request measured over the same seconds (absent before these). */
  side_by_side?: SideBySideRoute[];
  ratios: Record<string, number | null>;
  goals: Array<{ goal: string; measured: string; met: boolean | null }>;
  notes: string[];
}

export interface SideBySideRoute extends SideBySideResult {
  route: string;
}

export interface OverheadRound {
  round: number;
  order: LegName[];
  added_latency_ms: Partial<Record<LegName, Percentiles>>;
  /** null without both routes; a percentile is null where gateway's added latency is ≤ 0. */
  chat_vs_generate_added: Percentiles | null;
}

export function overheadReportPage(result: OverheadResult): ReportPage {
  const saturation = result.legs.filter((l) => l.phase === 'saturation');
  const ms = (v: number | null) => (v === null ? '—' : v.toFixed(3));
  const n = roundCount(result);
  const overRounds = n > 1 ? `; median over ${n} rounds (min–max)` : '';
  const ratio = ratioRow(result);
  const perRound = roundRows(result);
  const body = [
    `<h1>sluice-bench overhead <span class="badge ${result.verdict}">${result.verdict.toUpperCase()}</span></h1>`,
    `<p class="meta">${esc(result.started_at)}</p>`,
    ...result.compared.map((c) => `<p class="meta">${esc(c)}</p>`),
    `<h2>Fixed rate: latency (ms, e2e from the intended send time${overRounds})</h2>`,
    table(FIXED_RATE_HEADER, fixedRateRows(result)),
    `<h2>Added latency vs direct (ms${overRounds})</h2>`,
    table(ADDED_HEADER, addedRows(result)),
    ...(ratio
      ? [
          `<h2>Added latency, /v1/chat/completions over /v1/generate (ratio${overRounds})</h2>`,
          table(RATIO_HEADER, [ratio]),
        ]
      : []),
    ...(n > 1 && perRound.header.length > 2
      ? ['<h2>Each round: added latency (ms) in its leg order</h2>', table(perRound.header, perRound.rows)]
      : []),
    '<h2>Saturation (closed loop)</h2>',
    table(
      ['leg', 'req/s', 'e2e p50', 'e2e p99', 'failed', 'valid'],
      saturation.map((l) => [
        l.leg,
        l.qps.toFixed(1),
        ms(l.e2e_ms.p50),
        ms(l.e2e_ms.p99),
        l.requests.failed,
        l.validity.valid ? 'yes' : 'NO',
      ]),
    ),
    ...(result.paths?.length
      ? [
          `<h2>Gateway vs plain proxy: CPU per request, added p99, event-loop delay${overRounds}</h2>`,
          table(PATH_HEADER, pathRows(result.paths, n)),
        ]
      : []),
    ...(result.side_by_side?.length
      ? [
          `<h2>CPU per request and added p99 side by side (ms; each request to one of the paths at random${n > 1 ? `; median over ${n} repetitions (min–max)` : ''})</h2>`,
          table(SIDE_BY_SIDE_HEADER, sideBySideRows(result.side_by_side, n)),
        ]
      : []),
    `<p class="meta">${Object.entries(result.ratios)
      .map(([k, v]) => `${esc(k)} ${v === null ? '—' : v.toFixed(3)}`)
      .join(' · ')}</p>`,
    '<h2>Goals</h2>',
    table(
      ['goal', 'measured', 'result'],
      result.goals.map((g) => [g.goal, g.measured, g.met === null ? 'n/a' : g.met ? 'met' : 'NOT MET']),
    ),
    ...result.notes.map((n) => `<p class="reasons">${esc(n)}</p>`),
  ];
  const charts: ChartSpec[] = [];
  const medianE2e = Object.entries(result.over_rounds?.e2e_ms ?? {});
  const fixed = result.legs.filter((l) => l.phase === 'fixed_rate' && (l.round ?? 1) === 1);
  const latency: Array<[string, Array<number | null>]> = medianE2e.length
    ? (['p50', 'p99', 'p99_9'] as const).map((k) => [k, medianE2e.map(([, e]) => e[k]?.median ?? null)])
    : (['p50', 'p99', 'p99_9'] as const).map((k) => [k, fixed.map((l) => l.e2e_ms[k])]);
  const categories = medianE2e.length ? medianE2e.map(([leg]) => leg) : fixed.map((l) => l.leg);
  if (categories.length) {
    charts.push({
      id: 'overhead-latency',
      title: `Latency at the fixed rate (ms${n > 1 ? `, median over ${n} rounds` : ''})`,
      kind: 'categories',
      xLabel: 'leg',
      yLabel: 'ms',
      x: categories.map((_, i) => i),
      categories,
      series: latency.map(([k, values]) => ({ label: k.replace('_', '.'), values })),
    });
  }
  if (saturation.length) {
    charts.push({
      id: 'overhead-saturation',
      title: 'Saturation throughput (req/s)',
      kind: 'categories',
      xLabel: 'leg',
      yLabel: 'req/s',
      x: saturation.map((_, i) => i),
      categories: saturation.map((l) => l.leg),
      series: [{ label: 'req/s', values: saturation.map((l) => l.qps) }],
    });
  }
  return { title: 'sluice-bench overhead', body, charts, missing: [] };
}
