import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { helpFor } from '../cli/help.js';
import { loadSettings, measurementSettings, parseFlags, RUN_FLAGS } from '../cli/run-options.js';
import { UsageError } from '../cli/usage-error.js';
import { formatRunResult } from '../output/console-summary.js';
import { outputDirectory, writeJson } from '../output/files.js';
import { DEFINITIONS, resultBase, type RunResult } from '../output/result.js';
import { judgeRun } from '../output/run-section.js';
import { renderHtml, runReportPage } from '../report/html-report.js';
import { runMeasuredLoad, targetRecord, workloadRecord, writeRecords } from './shared.js';

/** `bench run`: one load against one target; console summary, result JSON, per-request JSONL, HTML report. */
export async function runCommand(args: string[]): Promise<number> {
  const { values } = parseFlags(args, RUN_FLAGS);
  if (values.help) {
    process.stdout.write(helpFor('run'));
    return 0;
  }
  const m = measurementSettings(values);
  const load = loadSettings(values, m);
  if (m.warmupMs >= load.durationMs)
    throw new UsageError(
      `--warmup (${m.warmupMs / 1000} s) must be shorter than the load (${load.durationMs / 1000} s)`,
    );
  const dir = outputDirectory(m.out, 'run');
  const outcome = await runMeasuredLoad(m, load);
  const judged = judgeRun(outcome, load, m.warmupMs, m.slos, m.lateThresholdMs);
  const jsonl = await writeRecords(dir, outcome.records);
  const html = m.html ? join(dir, 'report.html') : null;
  const result: RunResult = {
    ...resultBase('run', m.label, outcome.startedAt),
    finished_at: outcome.finishedAt,
    exit_code: judged.exitCode,
    verdict: judged.verdict,
    target: targetRecord(m),
    workload: workloadRecord(m),
    definitions: DEFINITIONS,
    ...judged.section,
    files: { jsonl, html },
  };
  writeJson(join(dir, 'result.json'), result);
  if (html) writeFileSync(html, renderHtml(runReportPage(result)));
  process.stdout.write(`${formatRunResult(result)}\nresult: ${join(dir, 'result.json')}\n`);
  return judged.exitCode;
}
