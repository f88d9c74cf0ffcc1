import { readFileSync } from 'node:fs';
import { helpFor } from '../cli/help.js';
import { parseFlags } from '../cli/run-options.js';
import { UsageError } from '../cli/usage-error.js';
import type { GroupSummary, LatencyMetric } from '../metrics/summarize.js';
import { RESULT_SCHEMA, type RunResult, type SweepResult } from '../output/result.js';
import { renderTable } from '../output/table.js';

/** `bench compare A.json B.json`: two results side by side, with B − A and B / A for every figure. */
export async function compareCommand(args: string[]): Promise<number> {
  const { values, positionals } = parseFlags(args, { help: { type: 'boolean', short: 'h', default: false } }, 2);
  if (values.help) {
    process.stdout.write(helpFor('compare'));
    return 0;
  }
  if (positionals.length !== 2) throw new UsageError('compare needs two result files: bench compare A.json B.json');
  const [a, b] = positionals.map(readResult) as [RunResult | SweepResult, RunResult | SweepResult];
  if (a.kind !== b.kind)
    throw new UsageError(
      `compare: ${positionals[0]} is a ${a.kind} result and ${positionals[1]} a ${b.kind} result; compare like with like`,
    );
  const name = (r: RunResult | SweepResult, path: string) => r.label ?? path;
  const lines = [
    `A: ${name(a, positionals[0]!)} (${a.started_at})`,
    `B: ${name(b, positionals[1]!)} (${b.started_at})`,
    '',
  ];
  if (a.kind === 'run') lines.push(...compareRuns(a, b as RunResult));
  else lines.push(...compareSweeps(a, b as SweepResult));
  process.stdout.write(`${lines.join('\n')}\n`);
  return 0;
}

function readResult(path: string): RunResult | SweepResult {
  let value: { schema?: unknown; kind?: unknown };
  try {
    value = JSON.parse(readFileSync(path, 'utf8')) as typeof value;
  } catch (error) {
    throw new UsageError(`compare: cannot read ${path} as JSON (${(error as Error).message})`);
  }
  if (value.schema !== RESULT_SCHEMA)
    throw new UsageError(`compare: ${path} is not a ${RESULT_SCHEMA} result (schema ${JSON.stringify(value.schema)})`);
  if (value.kind !== 'run' && value.kind !== 'sweep')
    throw new UsageError(
      `compare: ${path} is a result of kind "${String(value.kind)}"; compare reads run and sweep results`,
    );
  return value as RunResult | SweepResult;
}

type Row = [label: string, a: number | null, b: number | null, unit: string];

function groupRows(a: GroupSummary, b: GroupSummary): Row[] {
  const rows: Row[] = [
    ['requests', a.requests.total, b.requests.total, ''],
    ['qps', a.throughput.qps, b.throughput.qps, '/s'],
    ['output tokens/s', a.throughput.output_tokens_per_s, b.throughput.output_tokens_per_s, '/s'],
    ['error rate', a.error_rate * 100, b.error_rate * 100, '%'],
  ];
  const latency: Array<[LatencyMetric, Array<'p50' | 'p90' | 'p99' | 'p99_9'>]> = [
    ['e2e', ['p50', 'p90', 'p99', 'p99_9']],
    ['ttft', ['p50', 'p90', 'p99']],
    ['tpot', ['p50', 'p99']],
    ['itl', ['p50', 'p99']],
    ['server_ttft', ['p50', 'p99']],
  ];
  for (const [metric, stats] of latency) {
    if (a.latency_ms[metric].count === 0 && b.latency_ms[metric].count === 0) continue;
    for (const stat of stats)
      rows.push([`${metric} ${stat.replace('_', '.')}`, a.latency_ms[metric][stat], b.latency_ms[metric][stat], 'ms']);
  }
  return rows;
}

function compareRuns(a: RunResult, b: RunResult): string[] {
  const lines = [renderRows('all requests', groupRows(a.summary.overall, b.summary.overall))];
  for (const model of Object.keys(a.summary.per_model)) {
    const other = b.summary.per_model[model];
    if (other) lines.push('', renderRows(`model ${model}`, groupRows(a.summary.per_model[model]!, other)));
  }
  lines.push(
    '',
    `valid: A ${a.validity.valid ? 'yes' : 'NO'}, B ${b.validity.valid ? 'yes' : 'NO'}; verdict: A ${a.verdict}, B ${b.verdict}`,
  );
  return lines;
}

function compareSweeps(a: SweepResult, b: SweepResult): string[] {
  const rows: Row[] = [
    ['goodput rate', a.goodput?.rate ?? null, b.goodput?.rate ?? null, '/s'],
    ['goodput qps', a.goodput?.qps ?? null, b.goodput?.qps ?? null, '/s'],
  ];
  for (const stepA of [...a.steps].sort((x, y) => x.rate - y.rate)) {
    const stepB = b.steps.find((s) => s.rate === stepA.rate);
    if (!stepB) continue;
    rows.push([
      `at ${stepA.rate}/s: qps`,
      stepA.summary.overall.throughput.qps,
      stepB.summary.overall.throughput.qps,
      '/s',
    ]);
    rows.push([
      `at ${stepA.rate}/s: e2e p99`,
      stepA.summary.overall.latency_ms.e2e.p99,
      stepB.summary.overall.latency_ms.e2e.p99,
      'ms',
    ]);
  }
  return [renderRows('sweep', rows)];
}

function renderRows(title: string, rows: Row[]): string {
  const num = (v: number | null, unit: string) =>
    v === null ? '—' : `${Number.isInteger(v) ? v : v.toFixed(v >= 100 ? 1 : 3)}${unit === '%' ? ' %' : ''}`;
  return renderTable(
    [title, 'A', 'B', 'B − A', 'B / A'],
    rows.map(([label, x, y, unit]) => [
      label + (unit && unit !== '%' ? ` (${unit})` : ''),
      num(x, unit),
      num(y, unit),
      x === null || y === null ? '—' : `${y - x >= 0 ? '+' : ''}${num(Math.round((y - x) * 1000) / 1000, unit)}`,
      x === null || y === null || x === 0 ? '—' : `${(y / x).toFixed(3)}×`,
    ]),
  );
}
