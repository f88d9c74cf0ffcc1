import type { ClientHealthReport } from '../load/client-health.js';
import type { GroupSummary } from '../metrics/summarize.js';
import type { Histogram, Timeline } from '../report/report-data.js';
import type { SloResult } from '../slo/evaluate-slos.js';

/**
 * The result files: versioned JSON. `schema` changes only when a field changes meaning or goes away; new fields
 * may appear within a version. Times are ms unless a name says otherwise (_s: seconds, _pct: percent).
 */
export const RESULT_SCHEMA = 'sluice-bench/1';
const TOOL = { name: 'sluice-bench', version: '1.0.0' } as const;

export const DEFINITIONS = {
  percentiles: 'nearest-rank over raw samples: the ⌈p/100·n⌉-th smallest (no interpolation, no histogram)',
  latency_origin:
    'every latency starts at the intended send time (open loop: the schedule; closed loop: when the user was ready)',
  e2e: 'end − intended, successful requests',
  ttft: 'first token event − intended, streamed successful requests (client-observed)',
  tpot: '(last token event − first token event) / (usage.output_tokens − 1), streamed successful requests with ≥ 2 tokens',
  itl: 'every gap between consecutive token events, streamed successful requests',
  server_ttft:
    "the gateway's time_to_first_token_ms from its answers (its dispatch to the backend's first token); streamed or not",
  queue: "the gateway's queue_ms from its answers",
  duration_s:
    'the measurement window: from the start of measurement (load start, or end of warm-up) to when the load stopped sending (runs bounded by --requests: to the last answer)',
  qps: 'successful answers that ended inside the window / duration_s (the steady-state completion rate)',
  output_tokens_per_s:
    "Σ usage.output_tokens (the server's counts) of the successful answers that ended inside the window / duration_s",
  error_rate:
    'failed / total over the requests meant for the window (warm-up excluded); dropped arrivals count as failed (error_type dropped)',
  late: 'sent more than --late-after-ms after the intended time',
} as const;

export interface ResultBase {
  schema: typeof RESULT_SCHEMA;
  kind: 'run' | 'sweep' | 'overhead' | 'soak';
  label: string | null;
  tool: { name: string; version: string; node: string };
  command: string[];
  started_at: string;
  finished_at: string;
  exit_code: number;
}

export interface Verdict {
  /** pass: valid and every SLO held; fail: an SLO failed; invalid: not a valid measurement; done: no SLOs asked. */
  verdict: 'pass' | 'fail' | 'invalid' | 'done';
}

export interface RunSection {
  load: Record<string, unknown> & { description: string; duration_s: number; warmup_s: number };
  window: { start_ms: number; stop_ms: number };
  validity: ClientHealthReport & { interrupted: boolean };
  summary: { overall: GroupSummary; per_model: Record<string, GroupSummary> };
  slo: SloResult[];
  timeline: Timeline;
  histograms: Histogram[];
}

export interface RunResult extends ResultBase, Verdict, RunSection {
  kind: 'run';
  target: { url: string; api: string; path: string };
  workload: Record<string, unknown>;
  definitions: typeof DEFINITIONS;
  files: { jsonl: string | null; html: string | null };
}

export interface SweepStep extends Verdict, RunSection {
  rate: number;
  pass: boolean;
}

export interface SweepResult extends ResultBase, Verdict {
  kind: 'sweep';
  target: { url: string; api: string; path: string };
  workload: Record<string, unknown>;
  definitions: typeof DEFINITIONS;
  sweep: {
    method: 'rates' | 'bisect';
    rates: number[] | null;
    bisect: { low: number; high: number; precision: number } | null;
    step_duration_s: number;
  };
  slos: string[];
  steps: SweepStep[];
  /** The highest offered rate at which every SLO held and the run was valid; null if none. */
  goodput: { rate: number; qps: number } | null;
  /** Why the answer may understate the system (an invalid step bounded the search). */
  notes: string[];
  files: { jsonl: string | null; html: string | null };
}

export function resultBase<K extends ResultBase['kind']>(
  kind: K,
  label: string | null,
  startedAt: string,
): ResultBase & { kind: K } {
  return {
    schema: RESULT_SCHEMA,
    kind,
    label,
    tool: { ...TOOL, node: process.version },
    command: process.argv.slice(2),
    started_at: startedAt,
    finished_at: new Date().toISOString(),
    exit_code: 0,
  };
}
