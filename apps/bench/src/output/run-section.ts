import { EXIT } from '../cli/exit-codes.js';
import type { LoadSettings } from '../cli/run-options.js';
import type { RunOutcome } from '../load/run-load.js';
import { analyze, type Analysis } from '../metrics/summarize.js';
import { histograms, timeline } from '../report/report-data.js';
import { evaluateSlos } from '../slo/evaluate-slos.js';
import type { Slo } from '../slo/slo.js';
import type { RunSection, Verdict } from './result.js';

export interface JudgedRun {
  section: RunSection;
  analysis: Analysis;
  verdict: Verdict['verdict'];
  exitCode: number;
}

/** Measures, checks and judges one run: the part of the result that `run` and each sweep step share. */
export function judgeRun(
  outcome: RunOutcome,
  load: LoadSettings,
  warmupMs: number,
  slos: readonly Slo[],
  lateThresholdMs: number,
): JudgedRun {
  const analysis = analyze(outcome.records, { window: outcome.window, lateThresholdMs });
  const slo = evaluateSlos(slos, analysis);
  const reasons = [
    ...outcome.health.reasons,
    ...(outcome.interrupted ? ['interrupted before the end of the load'] : []),
  ];
  const valid = reasons.length === 0;
  const verdict: Verdict['verdict'] = !valid
    ? 'invalid'
    : slo.some((s) => !s.pass)
      ? 'fail'
      : slo.length > 0
        ? 'pass'
        : 'done';
  const exitCode = verdict === 'invalid' ? EXIT.invalidRun : verdict === 'fail' ? EXIT.sloFailed : EXIT.ok;
  const perModel = Object.fromEntries([...analysis.perModel].map(([model, group]) => [model, group.summary]));
  return {
    analysis,
    verdict,
    exitCode,
    section: {
      load: {
        description: load.description,
        duration_s: load.durationMs / 1000,
        warmup_s: warmupMs / 1000,
        ...load.parameters,
        ...outcome.load,
      },
      window: { start_ms: outcome.window.startMs, stop_ms: outcome.window.stopMs },
      validity: { ...outcome.health, valid, reasons, interrupted: outcome.interrupted },
      summary: { overall: analysis.overall.summary, per_model: perModel },
      slo,
      timeline: timeline(outcome.records, outcome.window),
      histograms: histograms(analysis.overall),
    },
  };
}
