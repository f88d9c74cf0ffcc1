import { join } from 'node:path';
import type { LoadSettings, MeasurementSettings } from '../cli/run-options.js';
import { requestPath } from '../client/target-api.js';
import { executeRun, type RunOutcome } from '../load/run-load.js';
import { SCENARIO_PROMPTS } from '../load/workload.js';
import type { RequestRecord } from '../metrics/request-record.js';
import { writeJsonl } from '../output/files.js';
import { progressPrinter } from '../output/progress-line.js';

/** The workload as the result JSON records it. */
export function workloadRecord(m: MeasurementSettings): Record<string, unknown> {
  const w = m.workload;
  return {
    models: w.models,
    languages: w.languages,
    max_new_tokens: w.maxNewTokens,
    temperatures: w.temperatures,
    top_p: w.topP,
    stream_fraction: w.streamFraction,
    seed: m.seed,
    timeout_ms: m.timeoutMs,
    prompts: SCENARIO_PROMPTS,
  };
}

export function targetRecord(m: MeasurementSettings): { url: string; api: string; path: string } {
  const { api, url } = m.target;
  const f = m.workload.streamFraction;
  const path =
    api !== 'tgi'
      ? requestPath(api, f > 0)
      : f === 1
        ? '/generate_stream'
        : f === 0
          ? '/generate'
          : '/generate and /generate_stream';
  return { url, api, path };
}

/** SIGINT stops the load (what was measured is still written); a second one exits at once. */
export function interruptOnSigint(): { signal: AbortSignal; dispose(): void } {
  const controller = new AbortController();
  const onSigint = () => {
    if (controller.signal.aborted) process.exit(130);
    process.stderr.write('\ninterrupted: stopping the load and writing what was measured (Ctrl-C again to quit now)\n');
    controller.abort();
  };
  process.on('SIGINT', onSigint);
  return { signal: controller.signal, dispose: () => process.off('SIGINT', onSigint) };
}

export async function writeRecords(dir: string, records: RequestRecord[]): Promise<string> {
  const path = join(dir, 'requests.jsonl');
  await writeJsonl(path, records);
  return path;
}

/** One measured load from the command's settings, with a progress line (unless quiet) and Ctrl-C stopping it. */
export async function runMeasuredLoad(m: MeasurementSettings, load: LoadSettings): Promise<RunOutcome> {
  const progress = m.quiet ? undefined : progressPrinter();
  const interrupt = interruptOnSigint();
  try {
    return await executeRun(
      {
        target: m.target,
        workload: m.workload,
        load: load.load,
        durationMs: load.durationMs,
        warmupMs: m.warmupMs,
        maxRequests: m.maxRequests,
        seed: m.seed,
        timeoutMs: m.timeoutMs,
        thresholds: m.thresholds,
      },
      { onProgress: progress?.print, signal: interrupt.signal },
    );
  } finally {
    progress?.end();
    interrupt.dispose();
  }
}
