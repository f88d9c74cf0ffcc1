import { join } from 'node:path';
import { EXIT } from '../cli/exit-codes.js';
import { helpFor } from '../cli/help.js';
import { parseDuration, parseFraction, parseNumber } from '../cli/parse-values.js';
import { loadSettings, measurementSettings, parseFlags, RUN_FLAGS } from '../cli/run-options.js';
import { UsageError } from '../cli/usage-error.js';
import { outputDirectory, writeJson } from '../output/files.js';
import { resultBase } from '../output/result.js';
import { processGrowth, soakVerdict } from '../soak/memory-growth.js';
import { requestTotals } from '../soak/request-totals.js';
import { RssSampler } from '../soak/rss-sampler.js';
import { formatSoak } from '../soak/soak-report.js';
import { runMeasuredLoad, targetRecord, workloadRecord, writeRecords } from './shared.js';

const SOAK_FLAGS = {
  ...RUN_FLAGS,
  duration: { type: 'string', default: '30m' },
  warmup: { type: 'string', default: '2m' },
  sample: { type: 'string', default: '10s' },
  'baseline-samples': { type: 'string', default: '3' },
  'max-growth': { type: 'string', default: '10%' },
  'gateway-pid': { type: 'string' },
} as const;

/**
 * `bench soak`: `bench run`'s load for a long time while sampling the RSS of the gateway and of every engine it
 * started; fails when a process grows more than --max-growth after the warm-up, or when any request goes unanswered.
 */
export async function soakCommand(args: string[]): Promise<number> {
  const { values } = parseFlags(args, SOAK_FLAGS);
  if (values.help) {
    process.stdout.write(helpFor('soak'));
    return EXIT.ok;
  }
  const m = measurementSettings(values);
  const load = loadSettings(values, m);
  if (m.warmupMs >= load.durationMs)
    throw new UsageError(
      `--warmup (${m.warmupMs / 1000} s) must be shorter than the load (${load.durationMs / 1000} s)`,
    );
  const sampleMs = parseDuration('--sample', values.sample as string);
  if (sampleMs < 100) throw new UsageError(`--sample "${values.sample as string}" is too short: write 100ms or more`);
  const window = parseNumber('--baseline-samples', values['baseline-samples'] as string, { integer: true, min: 1 });
  const maxGrowth = parseFraction('--max-growth', values['max-growth'] as string);
  const pidFlag = values['gateway-pid'] as string | undefined;
  const gatewayPid = pidFlag === undefined ? null : parseNumber('--gateway-pid', pidFlag, { integer: true, min: 1 });

  const sampler = new RssSampler(m.target, gatewayPid, performance.now());
  await sampler.start(sampleMs);
  if (sampler.processes.length === 0) {
    await sampler.stop();
    throw new UsageError(
      `no process to sample: give --gateway-pid PID, or point --url at a gateway whose admin GET /models lists engine pids (SLUICE_API_KEY with the admin scope where it has keys)`,
    );
  }
  const dir = outputDirectory(m.out, 'soak');
  let outcome;
  try {
    outcome = await runMeasuredLoad(m, load);
  } finally {
    await sampler.stop();
  }
  const processes = sampler.processes.map((p) =>
    processGrowth(p.name, p.pid, p.samples, m.warmupMs, window, maxGrowth),
  );
  const totals = requestTotals(outcome.records);
  const verdict = soakVerdict(processes, totals, outcome.interrupted);
  const exitCode = verdict === 'invalid' ? EXIT.invalidRun : verdict === 'fail' ? EXIT.sloFailed : EXIT.ok;
  const jsonl = await writeRecords(dir, outcome.records);
  writeJson(join(dir, 'result.json'), {
    ...resultBase('soak', m.label, outcome.startedAt),
    finished_at: outcome.finishedAt,
    exit_code: exitCode,
    verdict,
    target: targetRecord(m),
    workload: workloadRecord(m),
    load: { description: load.description, ...load.parameters, duration_s: load.durationMs / 1000 },
    soak: {
      warmup_s: m.warmupMs / 1000,
      sample_s: sampleMs / 1000,
      baseline_samples: window,
      max_growth: maxGrowth,
      interrupted: outcome.interrupted,
    },
    processes: sampler.processes.map((p, i) => ({
      name: p.name,
      pid: p.pid,
      baseline_bytes: processes[i]!.baselineBytes,
      final_bytes: processes[i]!.finalBytes,
      peak_bytes: processes[i]!.peakBytes,
      growth: processes[i]!.growth,
      pass: processes[i]!.pass,
      samples: p.samples.map((s) => ({ at_ms: Math.round(s.atMs), rss_bytes: s.rssBytes })),
    })),
    requests: {
      total: totals.total,
      ok: totals.ok,
      error_answers: totals.errorAnswers,
      unanswered: totals.unanswered,
      by_status: totals.byStatus,
    },
    files: { jsonl },
  });
  process.stdout.write(
    `${formatSoak(processes, totals, maxGrowth, verdict, exitCode)}\nresult: ${join(dir, 'result.json')}\n`,
  );
  return exitCode;
}
