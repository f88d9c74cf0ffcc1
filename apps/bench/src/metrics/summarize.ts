import { percentileOfSorted, sortSamples } from './percentile.js';
import { e2eMs, itlsMs, scheduleLagMs, tpotMs, ttftMs } from './request-metrics.js';
import { roundMs, type RequestRecord } from './request-record.js';

/**
 * Aggregates over a set of requests (the whole run, or one model's). Formulas (also in apps/bench/README.md):
 *
 *   measured      = requests meant to be sent after the warm-up (their intended time), dropped arrivals included
 *   total         = the number of measured requests
 *   error_rate    = failed / total, where failed = every measured request that did not succeed (dropped included)
 *   window        = [t_start, t_stop]: t_start = start of measurement (load start, or end of warm-up), t_stop = when
 *                   the load stopped sending (a run bounded by --requests: when its last answer ended)
 *   duration_s    = (t_stop − t_start) / 1000
 *   qps           = successful answers that ENDED inside the window / duration_s — the steady-state completion
 *                   rate: answers to warm-up requests that end after the warm-up count, the drain after t_stop
 *                   does not, so a server that keeps up with R req/s shows R, not R·T/(T + tail)
 *   responses_per_s     = answers (success or error) that ended inside the window / duration_s
 *   output_tokens_per_s = Σ usage.output_tokens (server's counts) of the successful answers that ended inside the
 *                   window / duration_s; input_tokens_per_s likewise
 *   latencies     = the distributions of request-metrics.ts, over successful measured requests; server_ttft and
 *                   queue are the gateway's own time_to_first_token_ms and queue_ms from its answers
 *   percentiles   = nearest-rank (percentile.ts) over the raw samples; no histograms, no interpolation
 */

export const LATENCY_METRICS = ['e2e', 'ttft', 'tpot', 'itl', 'server_ttft', 'queue'] as const;
export type LatencyMetric = (typeof LATENCY_METRICS)[number];

export interface Distribution {
  count: number;
  min: number | null;
  mean: number | null;
  p50: number | null;
  p90: number | null;
  p95: number | null;
  p99: number | null;
  p99_9: number | null;
  max: number | null;
}

export interface GroupSummary {
  requests: { total: number; ok: number; failed: number; dropped: number; late: number };
  error_rate: number;
  errors_by_type: Record<string, number>;
  duration_s: number;
  throughput: { qps: number; responses_per_s: number; output_tokens_per_s: number; input_tokens_per_s: number };
  /** Server-counted tokens of the successful measured requests (totals, not rates). */
  tokens: { input: number; output: number };
  latency_ms: Record<LatencyMetric, Distribution>;
}

export interface GroupAnalysis {
  summary: GroupSummary;
  /** Sorted raw samples per metric, for percentiles the summary does not list (SLOs) and for the report. */
  samples: Record<LatencyMetric, Float64Array>;
}

export interface Analysis {
  overall: GroupAnalysis;
  perModel: Map<string, GroupAnalysis>;
}

export interface MeasurementWindow {
  /** Start of measurement on the run clock (ms): load start, or end of the warm-up. */
  startMs: number;
  /** When the load generator stopped sending (ms); a run bounded by --requests: when its last answer ended. */
  stopMs: number;
}

export interface AnalyzeOptions {
  window: MeasurementWindow;
  /** A sent request is late when sent − intended exceeds this (ms). */
  lateThresholdMs: number;
}

export function analyze(records: readonly RequestRecord[], options: AnalyzeOptions): Analysis {
  const byModel = new Map<string, RequestRecord[]>();
  for (const r of records) {
    let list = byModel.get(r.model);
    if (!list) byModel.set(r.model, (list = []));
    list.push(r);
  }
  return {
    overall: analyzeGroup(records, options),
    perModel: new Map(
      [...byModel].sort(([a], [b]) => a.localeCompare(b)).map(([model, list]) => [model, analyzeGroup(list, options)]),
    ),
  };
}

/** One group's figures; `records` are all of the group's records, warm-up included (see the formulas above). */
function analyzeGroup(records: readonly RequestRecord[], { window, lateThresholdMs }: AnalyzeOptions): GroupAnalysis {
  const raw: Record<LatencyMetric, number[]> = { e2e: [], ttft: [], tpot: [], itl: [], server_ttft: [], queue: [] };
  const errorsByType: Record<string, number> = {};
  let total = 0;
  let ok = 0;
  let dropped = 0;
  let late = 0;
  const tokens = { input: 0, output: 0 };
  const inWindow = { ok: 0, answered: 0, inputTokens: 0, outputTokens: 0 };
  for (const r of records) {
    if (r.end_ms !== null && r.sent_ms !== null && r.end_ms >= window.startMs && r.end_ms <= window.stopMs) {
      inWindow.answered++;
      if (r.ok) {
        inWindow.ok++;
        inWindow.inputTokens += r.usage?.input_tokens ?? 0;
        inWindow.outputTokens += r.usage?.output_tokens ?? 0;
      }
    }
    if (r.warmup) continue;
    total++;
    const lag = scheduleLagMs(r);
    if (lag !== null && lag > lateThresholdMs) late++;
    if (r.sent_ms === null) dropped++;
    if (!r.ok) {
      const type = r.error_type ?? 'unknown';
      errorsByType[type] = (errorsByType[type] ?? 0) + 1;
      continue;
    }
    ok++;
    tokens.input += r.usage?.input_tokens ?? 0;
    tokens.output += r.usage?.output_tokens ?? 0;
    push(raw.e2e, e2eMs(r));
    push(raw.ttft, ttftMs(r));
    push(raw.tpot, tpotMs(r));
    for (const gap of itlsMs(r)) raw.itl.push(gap);
    push(raw.server_ttft, r.server?.ttft_ms ?? null);
    push(raw.queue, r.server?.queue_ms ?? null);
  }
  const failed = total - ok;
  const durationS = Math.max(0, window.stopMs - window.startMs) / 1000;
  const perSecond = (count: number) => (durationS > 0 ? round(count / durationS) : 0);
  const samples = Object.fromEntries(LATENCY_METRICS.map((m) => [m, sortSamples(raw[m])])) as Record<
    LatencyMetric,
    Float64Array
  >;
  return {
    samples,
    summary: {
      requests: { total, ok, failed, dropped, late },
      error_rate: total > 0 ? round(failed / total, 6) : 0,
      errors_by_type: errorsByType,
      duration_s: round(durationS),
      throughput: {
        qps: perSecond(inWindow.ok),
        responses_per_s: perSecond(inWindow.answered),
        output_tokens_per_s: perSecond(inWindow.outputTokens),
        input_tokens_per_s: perSecond(inWindow.inputTokens),
      },
      tokens,
      latency_ms: Object.fromEntries(LATENCY_METRICS.map((m) => [m, distribution(samples[m])])) as Record<
        LatencyMetric,
        Distribution
      >,
    },
  };
}

/** count, min, mean, nearest-rank percentiles and max of sorted samples, rounded to the microsecond. */
export function distribution(sorted: Float64Array): Distribution {
  const at = (p: number) => {
    const value = percentileOfSorted(sorted, p);
    return value === null ? null : roundMs(value);
  };
  let sum = 0;
  for (const value of sorted) sum += value;
  return {
    count: sorted.length,
    min: at(0),
    mean: sorted.length ? roundMs(sum / sorted.length) : null,
    p50: at(50),
    p90: at(90),
    p95: at(95),
    p99: at(99),
    p99_9: at(99.9),
    max: at(100),
  };
}

function push(list: number[], value: number | null): void {
  if (value !== null && Number.isFinite(value)) list.push(value);
}

function round(value: number, decimals = 3): number {
  const f = 10 ** decimals;
  return Math.round(value * f) / f;
}
