import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { EXIT } from '../cli/exit-codes.js';
import { helpFor } from '../cli/help.js';
import { parseDuration, parseNumber, parseRates } from '../cli/parse-values.js';
import { COMMON_FLAGS, measurementSettings, parseFlags, type LoadSettings } from '../cli/run-options.js';
import { UsageError } from '../cli/usage-error.js';
import { LoadProfile } from '../load/profile.js';
import { executeRun } from '../load/run-load.js';
import type { RequestRecord } from '../metrics/request-record.js';
import { formatSloTable } from '../output/console-summary.js';
import { outputDirectory, writeJson, writeJsonl } from '../output/files.js';
import { progressPrinter } from '../output/progress-line.js';
import { DEFINITIONS, resultBase, type SweepResult, type SweepStep } from '../output/result.js';
import { judgeRun } from '../output/run-section.js';
import { fmtMs, fmtPct, renderTable } from '../output/table.js';
import { renderHtml, sweepReportPage } from '../report/html-report.js';
import { interruptOnSigint, targetRecord, workloadRecord } from './shared.js';

const SWEEP_FLAGS = {
  ...COMMON_FLAGS,
  rates: { type: 'string' },
  bisect: { type: 'string' },
  precision: { type: 'string', default: '0.5' },
  'max-steps': { type: 'string', default: '10' },
  duration: { type: 'string', default: '20s' },
  cooldown: { type: 'string', default: '1s' },
  'keep-going': { type: 'boolean', default: false },
} as const;

/**
 * `bench sweep`: open-loop runs at a series of rates (--rates, ascending, stopping at the first that fails unless
 * --keep-going) or a bisection between two rates (--bisect LOW:HIGH, assuming that what holds at a rate holds below
 * it), and the goodput: the highest offered rate at which the run was valid and every SLO held.
 */
export async function sweepCommand(args: string[]): Promise<number> {
  const { values } = parseFlags(args, SWEEP_FLAGS);
  if (values.help) {
    process.stdout.write(helpFor('sweep'));
    return 0;
  }
  const m = measurementSettings(values);
  if (m.slos.length === 0)
    throw new UsageError(
      'sweep needs at least one --slo: goodput is the highest rate at which the SLOs hold (e.g. --slo e2e.p99<1.5s --slo errors<1%)',
    );
  const ratesText = values.rates as string | undefined;
  const bisectText = values.bisect as string | undefined;
  if ((ratesText === undefined) === (bisectText === undefined))
    throw new UsageError('sweep: give either --rates 1,2,4,8 or --bisect LOW:HIGH');
  const durationMs = parseDuration('--duration', values.duration as string);
  if (durationMs <= m.warmupMs) throw new UsageError('--duration must be longer than --warmup');
  const cooldownMs = parseDuration('--cooldown', values.cooldown as string);
  const precision = parseNumber('--precision', values.precision as string, { min: 0.001 });
  const maxSteps = parseNumber('--max-steps', values['max-steps'] as string, { integer: true, min: 2 });
  let bisect: { low: number; high: number; precision: number } | null = null;
  if (bisectText !== undefined) {
    const [low, high, ...rest] = bisectText.split(':').map((s) => parseNumber('--bisect', s, { min: 0.001 }));
    if (low === undefined || high === undefined || rest.length || !(high > low))
      throw new UsageError(`--bisect "${bisectText}" is not valid: write LOW:HIGH rates per second, e.g. 1:64`);
    bisect = { low, high, precision };
  }
  const rates = ratesText !== undefined ? [...parseRates(ratesText)].sort((a, b) => a - b) : null;

  const dir = outputDirectory(m.out, 'sweep');
  const startedAt = new Date().toISOString();
  const interrupt = interruptOnSigint();
  const steps: SweepStep[] = [];
  const allRecords: RequestRecord[] = [];
  const notes: string[] = [];

  const runStep = async (rate: number): Promise<SweepStep> => {
    if (steps.length > 0 && cooldownMs > 0) await new Promise((r) => setTimeout(r, cooldownMs));
    const index = steps.length;
    const load: LoadSettings = {
      load: {
        kind: 'open',
        profile: LoadProfile.constant(rate, durationMs),
        arrivals: m.arrivals,
        maxInFlight: m.maxInFlight,
        maxPending: m.maxPending,
      },
      durationMs,
      description: `open loop (${m.arrivals}) at ${rate} req/s`,
      parameters: {
        model: 'open',
        rate,
        arrivals: m.arrivals,
        max_in_flight: m.maxInFlight,
        max_pending: m.maxPending,
      },
    };
    const progress = m.quiet ? undefined : progressPrinter(`step ${index + 1} `);
    const outcome = await executeRun(
      {
        target: m.target,
        workload: m.workload,
        load: load.load,
        durationMs,
        warmupMs: m.warmupMs,
        maxRequests: m.maxRequests,
        seed: m.seed,
        timeoutMs: m.timeoutMs,
        thresholds: m.thresholds,
        step: index,
      },
      { onProgress: progress?.print, signal: interrupt.signal },
    );
    progress?.end();
    allRecords.push(...outcome.records);
    const judged = judgeRun(outcome, load, m.warmupMs, m.slos, m.lateThresholdMs);
    const step: SweepStep = { rate, pass: judged.verdict === 'pass', verdict: judged.verdict, ...judged.section };
    steps.push(step);
    const o = step.summary.overall;
    process.stdout.write(
      `step ${index + 1}: ${rate}/s → ${o.throughput.qps.toFixed(2)} ok/s, e2e p50 ${fmtMs(o.latency_ms.e2e.p50)} p99 ${fmtMs(o.latency_ms.e2e.p99)} ms, ` +
        `errors ${fmtPct(o.error_rate)}, ${step.validity.valid ? 'valid' : 'INVALID'}, ${step.pass ? 'PASS' : 'FAIL'}\n`,
    );
    if (!step.validity.valid)
      notes.push(
        `the step at ${rate}/s is invalid (${step.validity.reasons.join('; ')}): the goodput may be limited by the client, not the system`,
      );
    return step;
  };

  try {
    if (rates) {
      for (const rate of rates) {
        const step = await runStep(rate);
        if (interrupt.signal.aborted) break;
        if (!step.pass && !values['keep-going']) {
          if (rate !== rates.at(-1))
            notes.push(`stopped after the first rate that failed (${rate}/s); --keep-going runs them all`);
          break;
        }
      }
    } else {
      let { low, high } = bisect!;
      const lowStep = await runStep(low);
      if (lowStep.pass && !interrupt.signal.aborted) {
        const highStep = await runStep(high);
        if (highStep.pass)
          notes.push(
            `the highest rate of the bisection (${high}/s) passed: the goodput is at least that; bisect higher`,
          );
        else {
          while (high - low > precision && steps.length < maxSteps && !interrupt.signal.aborted) {
            const mid = Math.round((low + high) / 2 / precision) * precision;
            if (mid <= low || mid >= high) break;
            const step = await runStep(Math.round(mid * 1e6) / 1e6);
            if (step.pass) low = step.rate;
            else high = step.rate;
          }
        }
      }
    }
  } finally {
    interrupt.dispose();
  }
  if (interrupt.signal.aborted) notes.push('interrupted: the sweep did not finish');

  const passing = steps.filter((s) => s.pass).sort((a, b) => b.rate - a.rate);
  const best = passing[0];
  const goodput = best ? { rate: best.rate, qps: best.summary.overall.throughput.qps } : null;
  if (best && steps.some((s) => !s.pass && s.rate < best.rate))
    notes.push('not monotonic: a lower rate failed where a higher one passed; run longer steps');
  const anyInvalid = steps.some((s) => !s.validity.valid) || interrupt.signal.aborted;
  const exitCode = anyInvalid ? EXIT.invalidRun : goodput ? EXIT.ok : EXIT.sloFailed;
  const jsonl = join(dir, 'requests.jsonl');
  await writeJsonl(jsonl, allRecords);
  const html = m.html ? join(dir, 'report.html') : null;
  const result: SweepResult = {
    ...resultBase('sweep', m.label, startedAt),
    exit_code: exitCode,
    verdict: anyInvalid ? 'invalid' : goodput ? 'pass' : 'fail',
    target: targetRecord(m),
    workload: workloadRecord(m),
    definitions: DEFINITIONS,
    sweep: { method: rates ? 'rates' : 'bisect', rates, bisect, step_duration_s: durationMs / 1000 },
    slos: m.slos.map((s) => s.text),
    steps,
    goodput,
    notes,
    files: { jsonl, html },
  };
  writeJson(join(dir, 'result.json'), result);
  if (html) writeFileSync(html, renderHtml(sweepReportPage(result)));

  const sorted = [...steps].sort((a, b) => a.rate - b.rate);
  process.stdout.write(
    [
      '',
      `sluice-bench sweep: ${m.target.api} at ${m.target.url}, ${durationMs / 1000} s per step, SLOs ${result.slos.join(' ')}`,
      renderTable(
        ['offered /s', 'qps', 'errors', 'e2e p50', 'e2e p99', 'ttft p99', 'valid', 'SLOs'],
        sorted.map((s) => {
          const o = s.summary.overall;
          return [
            String(s.rate),
            o.throughput.qps.toFixed(2),
            fmtPct(o.error_rate),
            fmtMs(o.latency_ms.e2e.p50),
            fmtMs(o.latency_ms.e2e.p99),
            fmtMs(o.latency_ms.ttft.p99),
            s.validity.valid ? 'yes' : 'NO',
            s.pass ? 'PASS' : 'FAIL',
          ];
        }),
      ),
      ...(best ? ['', `SLOs at the goodput step (${best.rate}/s):`, formatSloTable(best.slo)] : []),
      '',
      goodput
        ? `goodput: ${goodput.rate} req/s offered (${goodput.qps.toFixed(2)} ok/s) is the highest rate at which every SLO held`
        : 'goodput: none — no rate met every SLO',
      ...notes.map((n) => `note: ${n}`),
      `verdict: ${result.verdict.toUpperCase()} (exit ${exitCode})`,
      `files: ${join(dir, 'result.json')}, ${jsonl}${html ? `, ${html}` : ''}`,
      '',
    ].join('\n'),
  );
  return exitCode;
}
