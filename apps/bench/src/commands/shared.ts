import { join } from 'node:path';
import type { MeasurementSettings } from '../cli/run-options.js';
import { requestPath } from '../client/target-api.js';
import { SCENARIO_PROMPTS } from '../load/workload.js';
import type { RequestRecord } from '../metrics/request-record.js';
import { writeJsonl } from '../output/files.js';

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
