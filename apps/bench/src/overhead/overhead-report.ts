import type { ChartSpec } from '../report/chart-spec.js';
import { esc, table, type ReportPage } from '../report/html-report.js';
import type { Distribution } from '../metrics/summarize.js';
import type { ResultBase, Verdict } from '../output/result.js';
import type { ClientHealthReport } from '../load/client-health.js';
import type { LegName } from './overhead-legs.js';

type Percentiles = Record<'p50' | 'p90' | 'p99' | 'p99_9', number | null>;

export interface OverheadLeg {
  leg: LegName;
  phase: 'saturation' | 'fixed_rate';
  url: string;
  request: string;
  requests: { total: number; ok: number; failed: number };
  errors_by_type: Record<string, number>;
  qps: number;
  e2e_ms: Distribution;
  ttft_ms: Distribution;
  validity: ClientHealthReport;
  jsonl: string;
}

export interface OverheadResult extends ResultBase, Verdict {
  kind: 'overhead';
  compared: string[];
  settings: Record<string, unknown>;
  legs: OverheadLeg[];
  /** Fixed rate: leg − its direct leg (proxy, gateway: direct; gateway-chat: direct-chat), per percentile of e2e (ms). */
  added_latency_ms: Partial<Record<LegName, Percentiles>>;
  /** gateway-chat's added latency / gateway's, per percentile; null without both (or where gateway's is ≤ 0). */
  chat_vs_generate_added: Percentiles | null;
  saturation_qps: Partial<Record<LegName, number>>;
  ratios: Record<string, number | null>;
  goals: Array<{ goal: string; measured: string; met: boolean | null }>;
  notes: string[];
}

const PCTS = ['p50', 'p90', 'p99', 'p99_9'] as const;

export function overheadReportPage(result: OverheadResult): ReportPage {
  const fixed = result.legs.filter((l) => l.phase === 'fixed_rate');
  const saturation = result.legs.filter((l) => l.phase === 'saturation');
  const ms = (v: number | null) => (v === null ? '—' : v.toFixed(3));
  const times = (v: number | null) => (v === null ? '—' : `${v.toFixed(3)}×`);
  const ratio = result.chat_vs_generate_added ?? null;
  const body = [
    `<h1>sluice-bench overhead <span class="badge ${result.verdict}">${result.verdict.toUpperCase()}</span></h1>`,
    `<p class="meta">${esc(result.started_at)}</p>`,
    ...result.compared.map((c) => `<p class="meta">${esc(c)}</p>`),
    '<h2>Fixed rate: latency (ms, e2e from the intended send time)</h2>',
    table(
      ['leg', 'requests', 'failed', 'qps', 'p50', 'p90', 'p99', 'p99.9', 'valid'],
      fixed.map((l) => [
        l.leg,
        l.requests.total,
        l.requests.failed,
        l.qps.toFixed(1),
        ms(l.e2e_ms.p50),
        ms(l.e2e_ms.p90),
        ms(l.e2e_ms.p99),
        ms(l.e2e_ms.p99_9),
        l.validity.valid ? 'yes' : 'NO',
      ]),
    ),
    '<h2>Added latency vs direct (ms)</h2>',
    table(
      ['leg', 'over', 'p50', 'p90', 'p99', 'p99.9'],
      Object.entries(result.added_latency_ms).map(([leg, a]) => [
        leg,
        leg === 'gateway-chat' ? 'direct-chat' : 'direct',
        ms(a.p50),
        ms(a.p90),
        ms(a.p99),
        ms(a.p99_9),
      ]),
    ),
    ...(ratio
      ? [
          '<h2>Added latency, /v1/chat/completions over /v1/generate (ratio)</h2>',
          table(['', 'p50', 'p90', 'p99', 'p99.9'], [['gateway-chat / gateway', ...PCTS.map((k) => times(ratio[k]))]]),
        ]
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
  if (fixed.length) {
    charts.push({
      id: 'overhead-latency',
      title: `Latency at the fixed rate (ms)`,
      kind: 'categories',
      xLabel: 'leg',
      yLabel: 'ms',
      x: fixed.map((_, i) => i),
      categories: fixed.map((l) => l.leg),
      series: [
        { label: 'p50', values: fixed.map((l) => l.e2e_ms.p50) },
        { label: 'p99', values: fixed.map((l) => l.e2e_ms.p99) },
        { label: 'p99.9', values: fixed.map((l) => l.e2e_ms.p99_9) },
      ],
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
