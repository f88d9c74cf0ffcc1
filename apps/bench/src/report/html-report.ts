import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import type { GroupSummary } from '../metrics/summarize.js';
import { formatSloValue } from '../slo/evaluate-slos.js';
import { DEFINITIONS, type RunResult, type RunSection, type SweepResult } from '../output/result.js';
import type { ChartSpec, MissingChart } from './chart-spec.js';
import { drawCharts } from './draw-charts.js';

/**
 * The offline HTML report: one self-contained file — uPlot's JS and CSS (node_modules/uplot/dist) and the data
 * inlined — that opens from disk with no network at all.
 */
const UPLOT_DIST = dirname(createRequire(import.meta.url).resolve('uplot'));

export interface ReportPage {
  title: string;
  /** Sections of HTML, already escaped. */
  body: string[];
  charts: ChartSpec[];
  missing: MissingChart[];
}

export function renderHtml(page: ReportPage): string {
  const uplotJs = readFileSync(join(UPLOT_DIST, 'uPlot.iife.min.js'), 'utf8');
  const uplotCss = readFileSync(join(UPLOT_DIST, 'uPlot.min.css'), 'utf8');
  const chartDivs = page.charts.map((c) => `<div class="chart" id="${c.id}"></div>`).join('\n');
  const missing = page.missing
    .map((m) => `<div class="chart missing"><h3>${esc(m.title)}</h3><p>${esc(m.why)}</p></div>`)
    .join('\n');
  return `<!doctype html>
<html lang="en" data-charts-expected="${page.charts.length}">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>${esc(page.title)}</title>
<style>${uplotCss}</style>
<style>${PAGE_CSS}</style>
</head>
<body>
<main>
${page.body.join('\n')}
<h2>Charts</h2>
<div class="charts">
${chartDivs}
${missing}
</div>
<h2>Definitions</h2>
<dl class="definitions">${Object.entries(DEFINITIONS)
    .map(([k, v]) => `<dt>${esc(k)}</dt><dd>${esc(v)}</dd>`)
    .join('')}</dl>
</main>
<script>window.addEventListener('error', function (e) { document.documentElement.dataset.reportError = String(e.message); });</script>
<script>${inlineScript(uplotJs)}</script>
<script type="application/json" id="charts">${inlineJson(page.charts)}</script>
<script>${inlineScript(`(${drawCharts.toString()})(JSON.parse(document.getElementById('charts').textContent), window.uPlot);`)}</script>
</body>
</html>
`;
}

const PAGE_CSS = `
body { font: 14px/1.45 system-ui, -apple-system, "Segoe UI", "Noto Sans", "Noto Sans CJK SC", sans-serif; color: #111827; background: #f8fafc; margin: 0; }
main { max-width: 1220px; margin: 0 auto; padding: 16px 20px 40px; }
h1 { font-size: 22px; margin: 8px 0 4px; } h2 { font-size: 17px; margin: 22px 0 8px; border-bottom: 1px solid #e5e7eb; padding-bottom: 4px; }
.meta { color: #4b5563; margin: 2px 0; }
.badge { display: inline-block; padding: 2px 10px; border-radius: 10px; font-weight: 600; color: white; margin-left: 8px; font-size: 13px; vertical-align: middle; }
.pass { background: #16a34a; } .fail { background: #dc2626; } .invalid { background: #9333ea; } .done { background: #2563eb; }
table { border-collapse: collapse; background: white; font-variant-numeric: tabular-nums; }
th, td { border: 1px solid #e5e7eb; padding: 4px 8px; text-align: right; } th:first-child, td:first-child { text-align: left; }
th { background: #f1f5f9; font-weight: 600; }
.charts { display: grid; grid-template-columns: minmax(0, 1fr) minmax(0, 1fr); gap: 14px; }
.chart { background: white; border: 1px solid #e5e7eb; border-radius: 6px; padding: 6px; min-height: 120px; overflow: hidden; }
.chart.missing { color: #6b7280; } .chart.missing h3 { font-size: 14px; margin: 4px 0; color: #374151; }
.reasons { color: #9333ea; } dl.definitions { display: grid; grid-template-columns: max-content 1fr; gap: 2px 14px; color: #374151; } dt { font-weight: 600; } dd { margin: 0; }
`;

// ---- run ----

export function runReportPage(result: RunResult): ReportPage {
  const name = result.label ?? `${result.target.api} ${result.target.url}`;
  const body = [
    `<h1>sluice-bench: ${esc(name)} <span class="badge ${result.verdict}">${result.verdict.toUpperCase()}</span></h1>`,
    `<p class="meta">${esc(result.started_at)} · POST ${esc(result.target.url + result.target.path)} (${esc(result.target.api)}) · ${esc(result.load.description)}, ${result.load.duration_s} s</p>`,
    `<p class="meta">workload: ${esc(workloadText(result.workload))}</p>`,
    ...sectionHtml(result),
  ];
  const { charts, missing } = runCharts(result, 'run');
  return { title: `sluice-bench report: ${name}`, body, charts, missing };
}

function sectionHtml(section: RunSection): string[] {
  const { overall, per_model } = section.summary;
  const rows: Array<[string, GroupSummary]> = [['all', overall], ...Object.entries(per_model)];
  const v = section.validity;
  const html = [
    '<h2>Summary</h2>',
    table(
      [
        '',
        'requests',
        'ok',
        'failed',
        'error rate',
        'qps',
        'out tok/s',
        'e2e p50',
        'e2e p90',
        'e2e p99',
        'e2e p99.9',
        'ttft p50',
        'ttft p99',
        'tpot p50',
        'tpot p99',
      ],
      rows.map(([name, g]) => [
        name,
        g.requests.total,
        g.requests.ok,
        g.requests.failed,
        `${(g.error_rate * 100).toFixed(2)} %`,
        g.throughput.qps.toFixed(2),
        g.throughput.output_tokens_per_s.toFixed(1),
        ms(g.latency_ms.e2e.p50),
        ms(g.latency_ms.e2e.p90),
        ms(g.latency_ms.e2e.p99),
        ms(g.latency_ms.e2e.p99_9),
        ms(g.latency_ms.ttft.p50),
        ms(g.latency_ms.ttft.p99),
        ms(g.latency_ms.tpot.p50),
        ms(g.latency_ms.tpot.p99),
      ]),
    ),
    `<p class="meta">Latencies in ms, of successful requests, from the intended send time; nearest-rank percentiles. Duration ${overall.duration_s} s.
Errors: ${
      Object.entries(overall.errors_by_type)
        .map(([t, n]) => `${esc(t)} ${n}`)
        .join(', ') || 'none'
    }.</p>`,
    '<h2>Client</h2>',
    `<p class="meta">event-loop delay p99 ${v.event_loop_delay_ms.p99} ms (limit ${v.thresholds.max_loop_delay_ms}) · schedule lag p99 ${v.schedule_lag_ms.p99 ?? 'n/a'} ms (limit ${v.thresholds.max_schedule_lag_ms}) · late ${overall.requests.late} · dropped ${overall.requests.dropped} · client CPU ${v.client_cpu_pct} % · <b>${v.valid ? 'valid' : 'INVALID'}</b></p>`,
    ...v.reasons.map((r) => `<p class="reasons">${esc(r)}</p>`),
  ];
  if (section.slo.length) {
    html.push(
      '<h2>SLOs</h2>',
      table(
        ['SLO', 'measured', 'result'],
        section.slo.map((s) => [
          s.slo,
          formatSloValue(s.measured, s.unit),
          s.pass ? 'PASS' : `FAIL${s.note ? ` (${s.note})` : ''}`,
        ]),
      ),
    );
  }
  return html;
}

function runCharts(section: RunSection, prefix: string): { charts: ChartSpec[]; missing: MissingChart[] } {
  const charts: ChartSpec[] = [];
  const missing: MissingChart[] = [];
  const w = section.timeline.windows;
  const x = w.map((b) => b.t_s);
  const hasTtft = w.some((b) => b.ttft_p99 !== null);
  charts.push({
    id: `${prefix}-latency-time`,
    title: `Latency percentiles over time (per ${section.timeline.window_s} s window, by end time)`,
    kind: 'lines',
    xLabel: 's',
    yLabel: 'ms',
    x,
    series: [
      { label: 'e2e p50', values: w.map((b) => b.e2e_p50) },
      { label: 'e2e p90', values: w.map((b) => b.e2e_p90) },
      { label: 'e2e p99', values: w.map((b) => b.e2e_p99) },
      ...(hasTtft ? [{ label: 'ttft p99', values: w.map((b) => b.ttft_p99) }] : []),
    ],
  });
  charts.push({
    id: `${prefix}-throughput-time`,
    title: 'Throughput over time',
    kind: 'lines',
    xLabel: 's',
    yLabel: 'per second',
    x,
    series: [
      { label: 'ok/s', values: w.map((b) => b.qps) },
      { label: 'errors/s', values: w.map((b) => b.errors_per_s) },
    ],
  });
  const titles: Record<string, string> = {
    e2e: 'E2E latency distribution',
    ttft: 'TTFT distribution (client-observed)',
    tpot: 'TPOT distribution',
    itl: 'ITL distribution (every gap)',
  };
  for (const metric of ['e2e', 'ttft', 'tpot', 'itl'] as const) {
    const h = section.histograms.find((hh) => hh.metric === metric);
    if (!h) {
      missing.push({
        title: titles[metric]!,
        why:
          metric === 'e2e'
            ? 'no successful request'
            : 'no samples: this metric needs streamed requests (--stream or --stream-fraction)',
      });
      continue;
    }
    charts.push({
      id: `${prefix}-hist-${metric}`,
      title: `${titles[metric]}${h.above ? ` (${h.above} above p99.9 not shown)` : ''}`,
      kind: 'bars',
      xLabel: 'ms',
      yLabel: 'requests',
      x: h.edges.map((e) => Math.round((e + h.width_ms / 2) * 1000) / 1000),
      barWidth: h.width_ms,
      series: [{ label: metric, values: h.counts }],
    });
  }
  const models = Object.entries(section.summary.per_model);
  if (models.length > 0) {
    const streamed = models.some(([, g]) => g.latency_ms.ttft.count > 0);
    charts.push({
      id: `${prefix}-per-model`,
      title: 'Per model: latency (ms)',
      kind: 'categories',
      xLabel: 'model',
      yLabel: 'ms',
      x: models.map((_, i) => i),
      categories: models.map(([m, g]) => `${m} (${g.requests.ok} ok)`),
      series: [
        { label: 'e2e p50', values: models.map(([, g]) => g.latency_ms.e2e.p50) },
        { label: 'e2e p99', values: models.map(([, g]) => g.latency_ms.e2e.p99) },
        ...(streamed
          ? [
              { label: 'ttft p50', values: models.map(([, g]) => g.latency_ms.ttft.p50) },
              { label: 'ttft p99', values: models.map(([, g]) => g.latency_ms.ttft.p99) },
            ]
          : []),
      ],
    });
  }
  return { charts, missing };
}

// ---- sweep ----

export function sweepReportPage(result: SweepResult): ReportPage {
  const name = result.label ?? `${result.target.api} ${result.target.url}`;
  const steps = [...result.steps].sort((a, b) => a.rate - b.rate);
  const body = [
    `<h1>sluice-bench sweep: ${esc(name)} <span class="badge ${result.verdict}">${result.verdict.toUpperCase()}</span></h1>`,
    `<p class="meta">${esc(result.started_at)} · POST ${esc(result.target.url + result.target.path)} · ${result.sweep.method === 'rates' ? `rates ${result.sweep.rates!.join(', ')}/s` : `bisection ${result.sweep.bisect!.low}–${result.sweep.bisect!.high}/s (precision ${result.sweep.bisect!.precision})`} · ${result.sweep.step_duration_s} s per step</p>`,
    `<p class="meta">workload: ${esc(workloadText(result.workload))} · SLOs: ${result.slos.map(esc).join(', ')}</p>`,
    `<h2>Goodput</h2><p><b>${result.goodput ? `${result.goodput.rate} req/s offered (${result.goodput.qps.toFixed(2)} ok/s achieved) is the highest rate at which every SLO held` : 'no rate met every SLO'}</b></p>`,
    ...result.notes.map((n) => `<p class="reasons">${esc(n)}</p>`),
    '<h2>Steps</h2>',
    table(
      ['offered /s', 'achieved qps', 'error rate', 'e2e p50', 'e2e p99', 'ttft p99', 'tpot p50', 'valid', 'SLOs'],
      steps.map((s) => {
        const o = s.summary.overall;
        return [
          s.rate,
          o.throughput.qps.toFixed(2),
          `${(o.error_rate * 100).toFixed(2)} %`,
          ms(o.latency_ms.e2e.p50),
          ms(o.latency_ms.e2e.p99),
          ms(o.latency_ms.ttft.p99),
          ms(o.latency_ms.tpot.p50),
          s.validity.valid ? 'yes' : 'NO',
          s.pass ? 'PASS' : 'FAIL',
        ];
      }),
    ),
  ];
  const o = steps.map((s) => s.summary.overall);
  const charts: ChartSpec[] = [
    {
      id: 'sweep-latency-throughput',
      title: 'Latency vs throughput (one point per step)',
      kind: 'points',
      xLabel: 'achieved qps',
      yLabel: 'ms',
      x: o.map((g) => g.throughput.qps),
      series: [
        { label: 'e2e p50', values: o.map((g) => g.latency_ms.e2e.p50) },
        { label: 'e2e p99', values: o.map((g) => g.latency_ms.e2e.p99) },
        ...(o.some((g) => g.latency_ms.ttft.count > 0)
          ? [{ label: 'ttft p99', values: o.map((g) => g.latency_ms.ttft.p99) }]
          : []),
      ],
    },
    {
      id: 'sweep-offered-achieved',
      title: 'Offered rate vs achieved throughput',
      kind: 'points',
      xLabel: 'offered req/s',
      yLabel: 'per second',
      x: steps.map((s) => s.rate),
      series: [
        { label: 'achieved qps', values: o.map((g) => g.throughput.qps) },
        { label: 'offered', values: steps.map((s) => s.rate) },
        {
          label: 'errors/s',
          values: o.map((g) => Math.round((g.requests.failed / Math.max(g.duration_s, 1e-9)) * 1000) / 1000),
        },
      ],
    },
  ];
  return { title: `sluice-bench sweep: ${name}`, body, charts, missing: [] };
}

// ---- helpers ----

export function table(header: string[], rows: Array<Array<string | number>>): string {
  return `<table><thead><tr>${header.map((h) => `<th>${esc(h)}</th>`).join('')}</tr></thead><tbody>${rows
    .map((r) => `<tr>${r.map((c) => `<td>${esc(String(c))}</td>`).join('')}</tr>`)
    .join('')}</tbody></table>`;
}

export function esc(text: string): string {
  return text.replace(/[&<>"']/g, (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' })[c]!);
}

function ms(value: number | null): string {
  return value === null ? '—' : value >= 100 ? value.toFixed(0) : value.toFixed(2);
}

function workloadText(w: Record<string, unknown>): string {
  const x = w as {
    models: Array<{ id: string; weight: number }>;
    languages: string[];
    max_new_tokens: number[];
    temperatures: number[];
    top_p: number | null;
    stream_fraction: number;
    seed: number;
  };
  return `models ${x.models.map((m) => `${m.id}:${m.weight}`).join(', ')}; prompts ${x.languages.join('+')}; max_new_tokens ${x.max_new_tokens.join('|')}; temperature ${x.temperatures.join('|') || 'unset'}; top_p ${x.top_p ?? 'unset'}; streamed ${Math.round(x.stream_fraction * 100)} %; seed ${x.seed}`;
}

/** JSON inside <script type="application/json">: `<` escaped so no `</script>` can end it early. */
function inlineJson(value: unknown): string {
  return JSON.stringify(value).replace(/</g, '\\u003c');
}

function inlineScript(source: string): string {
  return source.replace(/<\/script/gi, '<\\/script');
}
