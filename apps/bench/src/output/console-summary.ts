import type { Distribution, GroupSummary, LatencyMetric } from '../metrics/summarize.js';
import { formatSloValue, type SloResult } from '../slo/evaluate-slos.js';
import type { RunResult, RunSection } from './result.js';
import { fmtMs, fmtPct, fmtRate, renderTable } from './table.js';

const LATENCY_LABELS: Record<LatencyMetric, string> = {
  e2e: 'e2e',
  ttft: 'ttft (client, streamed)',
  tpot: 'tpot',
  itl: 'itl (every gap)',
  server_ttft: "server_ttft (gateway's)",
  queue: "queue (gateway's)",
};

export function formatRunResult(result: RunResult): string {
  const w = result.workload as {
    models: Array<{ id: string; weight: number }>;
    languages: string[];
    max_new_tokens: number[];
    temperatures: number[];
    top_p: number | null;
    stream_fraction: number;
    seed: number;
  };
  const lines = [
    `sluice-bench run${result.label ? ` "${result.label}"` : ''}: ${result.target.api} at ${result.target.url} (POST ${result.target.path})`,
    `load: ${result.load.description}, ${result.load.duration_s} s${result.load.warmup_s ? ` (first ${result.load.warmup_s} s warm-up, not measured)` : ''}`,
    `workload: models ${w.models.map((m) => `${m.id}:${m.weight}`).join(',')}; prompts ${w.languages.join('+')}; max_new_tokens ${w.max_new_tokens.join('|')}; ` +
      `temperature ${w.temperatures.length ? w.temperatures.join('|') : 'unset'}; top_p ${w.top_p ?? 'unset'}; streamed ${Math.round(w.stream_fraction * 100)} %; seed ${w.seed}`,
    '',
    ...formatSection(result),
    '',
    `verdict: ${result.verdict.toUpperCase()} (exit ${result.exit_code})`,
  ];
  if (result.files.jsonl || result.files.html)
    lines.push(`files: ${[result.files.jsonl, result.files.html].filter(Boolean).join(', ')}`);
  return lines.join('\n');
}

function formatSection(section: RunSection): string[] {
  const { overall, per_model } = section.summary;
  const groups: Array<[string, GroupSummary]> = [['all', overall], ...Object.entries(per_model)];
  const lines = [
    renderTable(
      ['requests', 'total', 'ok', 'failed', 'error rate', 'qps', 'out tok/s', 'e2e p50', 'p90', 'p99', 'p99.9 ms'],
      groups.map(([name, g]) => [
        name,
        String(g.requests.total),
        String(g.requests.ok),
        String(g.requests.failed),
        fmtPct(g.error_rate),
        fmtRate(g.throughput.qps),
        fmtRate(g.throughput.output_tokens_per_s),
        fmtMs(g.latency_ms.e2e.p50),
        fmtMs(g.latency_ms.e2e.p90),
        fmtMs(g.latency_ms.e2e.p99),
        fmtMs(g.latency_ms.e2e.p99_9),
      ]),
    ),
    '',
    renderTable(
      ['latency, ms (successful requests)', 'count', 'min', 'mean', 'p50', 'p90', 'p95', 'p99', 'p99.9', 'max'],
      (Object.keys(LATENCY_LABELS) as LatencyMetric[]).map((m) =>
        distributionRow(LATENCY_LABELS[m], overall.latency_ms[m]),
      ),
    ),
    `duration ${overall.duration_s} s; tokens in/out ${overall.tokens.input}/${overall.tokens.output} (server's usage); latencies from the intended send time`,
  ];
  const errors = Object.entries(overall.errors_by_type).sort((a, b) => b[1] - a[1]);
  lines.push(errors.length ? `errors: ${errors.map(([type, n]) => `${type} ${n}`).join(', ')}` : 'errors: none');
  const v = section.validity;
  const lag =
    v.schedule_lag_ms.p99 === null
      ? 'n/a (closed loop)'
      : `${v.schedule_lag_ms.p99} ms (limit ${v.thresholds.max_schedule_lag_ms})`;
  lines.push(
    `client: event-loop delay p99 ${v.event_loop_delay_ms.p99} ms (limit ${v.thresholds.max_loop_delay_ms}), schedule lag p99 ${lag}, ` +
      `late ${overall.requests.late}, dropped ${overall.requests.dropped}, cpu ${v.client_cpu_pct} % → ${v.valid ? 'VALID' : 'INVALID'}`,
  );
  for (const reason of v.reasons) lines.push(`  invalid: ${reason}`);
  if (section.slo.length) lines.push('', formatSloTable(section.slo));
  return lines;
}

export function formatSloTable(results: readonly SloResult[]): string {
  return renderTable(
    ['SLO', 'measured', 'result'],
    results.map((r) => [
      r.slo,
      formatSloValue(r.measured, r.unit),
      r.pass ? 'PASS' : `FAIL${r.note ? ` (${r.note})` : ''}`,
    ]),
  );
}

function distributionRow(label: string, d: Distribution): string[] {
  return [
    label,
    String(d.count),
    fmtMs(d.min),
    fmtMs(d.mean),
    fmtMs(d.p50),
    fmtMs(d.p90),
    fmtMs(d.p95),
    fmtMs(d.p99),
    fmtMs(d.p99_9),
    fmtMs(d.max),
  ];
}
