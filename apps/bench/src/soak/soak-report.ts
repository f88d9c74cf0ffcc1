import { renderTable } from '../output/table.js';
import type { ProcessGrowth, RequestTotals, SoakVerdict } from './memory-growth.js';

const mib = (bytes: number | null) => (bytes === null ? '—' : `${(bytes / 2 ** 20).toFixed(1)} MiB`);
const pct = (fraction: number | null) => (fraction === null ? '—' : `${(fraction * 100).toFixed(1)} %`);

/** The console summary: a row per process, the request totals, the verdict. */
export function formatSoak(
  processes: ProcessGrowth[],
  totals: RequestTotals,
  maxGrowth: number,
  verdict: SoakVerdict,
  exitCode: number,
): string {
  const table = renderTable(
    ['process', 'pid', 'samples', 'baseline', 'final', 'peak', 'growth', `≤ ${pct(maxGrowth)}`],
    processes.map((p) => [
      p.name,
      String(p.pid),
      String(p.samples),
      mib(p.baselineBytes),
      mib(p.finalBytes),
      mib(p.peakBytes),
      pct(p.growth),
      p.growth === null ? 'NO DATA' : p.pass ? 'PASS' : 'FAIL',
    ]),
  );
  const statuses = Object.entries(totals.byStatus)
    .map(([status, n]) => `${status}: ${n}`)
    .join(', ');
  return [
    'memory (RSS after the warm-up; baseline and final are means of the first and last samples):',
    table,
    `requests: ${totals.total} sent, ${totals.ok} ok, ${totals.errorAnswers} answered with an error, ${totals.unanswered} unanswered (by status: ${statuses || 'none'})`,
    `verdict: ${verdict.toUpperCase()} (exit ${exitCode})`,
  ].join('\n');
}
