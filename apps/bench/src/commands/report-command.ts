import { readFileSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { helpFor } from '../cli/help.js';
import { parseFlags } from '../cli/run-options.js';
import { UsageError } from '../cli/usage-error.js';
import { RESULT_SCHEMA, type RunResult, type SweepResult } from '../output/result.js';
import { renderHtml, runReportPage, sweepReportPage } from '../report/html-report.js';
import { overheadReportPage, type OverheadResult } from '../overhead/overhead-report.js';

/** `bench report result.json [--out report.html]`: draws the HTML report again from a result file. */
export async function reportCommand(args: string[]): Promise<number> {
  const { values, positionals } = parseFlags(
    args,
    { out: { type: 'string' }, help: { type: 'boolean', short: 'h', default: false } },
    1,
  );
  if (values.help) {
    process.stdout.write(helpFor('report'));
    return 0;
  }
  const path = positionals[0];
  if (!path) throw new UsageError('report needs a result file: bench report result.json');
  let result: RunResult | SweepResult | OverheadResult;
  try {
    result = JSON.parse(readFileSync(path, 'utf8')) as typeof result;
  } catch (error) {
    throw new UsageError(`report: cannot read ${path} as JSON (${(error as Error).message})`);
  }
  if (result.schema !== RESULT_SCHEMA) throw new UsageError(`report: ${path} is not a ${RESULT_SCHEMA} result`);
  const page =
    result.kind === 'run'
      ? runReportPage(result)
      : result.kind === 'sweep'
        ? sweepReportPage(result)
        : overheadReportPage(result);
  const out = (values.out as string | undefined) ?? join(dirname(path), 'report.html');
  writeFileSync(out, renderHtml(page));
  process.stdout.write(`report: ${out}\n`);
  return 0;
}
