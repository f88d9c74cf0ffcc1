import { percentileOfSorted, sortSamples } from '../metrics/percentile.js';
import { e2eMs, ttftMs } from '../metrics/request-metrics.js';
import type { RequestRecord } from '../metrics/request-record.js';
import type { GroupAnalysis, LatencyMetric, MeasurementWindow } from '../metrics/summarize.js';

/**
 * What the charts need, derived once from the records and kept in the result JSON (so `bench report` can draw
 * them again from the JSON alone): latency percentiles and throughput per time window, and histograms.
 */
export interface TimelineWindow {
  /** End of the window, s since the start of measurement (the last window ends with the last answer). */
  t_s: number;
  ok: number;
  errors: number;
  qps: number;
  errors_per_s: number;
  e2e_p50: number | null;
  e2e_p90: number | null;
  e2e_p99: number | null;
  ttft_p50: number | null;
  ttft_p99: number | null;
}

export interface Timeline {
  /** Requests are placed in the window in which they ended. */
  window_s: number;
  windows: TimelineWindow[];
}

export interface Histogram {
  metric: LatencyMetric;
  /** Left edge of each bin (ms); bins are equal-width, from the minimum to the p99.9. */
  edges: number[];
  width_ms: number;
  counts: number[];
  /** Samples above the p99.9, left out of the bins so the tail does not flatten the chart. */
  above: number;
}

export function timeline(records: readonly RequestRecord[], window: MeasurementWindow): Timeline {
  const measured = records.filter((r) => !r.warmup && r.end_ms !== null);
  const lastEnd = measured.reduce((t, r) => Math.max(t, r.end_ms!), window.stopMs);
  const spanS = Math.max(0.001, (lastEnd - window.startMs) / 1000);
  const windowS = spanS <= 60 ? 1 : Math.ceil(spanS / 60);
  // A last stretch shorter than half a window joins the one before: a rate over a sliver (the few answers that end
  // after the load stopped) would draw a spike that is not there.
  const count = Math.max(1, Math.round(spanS / windowS));
  const buckets = Array.from({ length: count }, () => ({
    ok: 0,
    errors: 0,
    e2e: [] as number[],
    ttft: [] as number[],
  }));
  for (const r of measured) {
    const i = Math.min(count - 1, Math.max(0, Math.floor((r.end_ms! - window.startMs) / 1000 / windowS)));
    const b = buckets[i]!;
    if (!r.ok) {
      b.errors++;
      continue;
    }
    b.ok++;
    const e2e = e2eMs(r);
    if (e2e !== null) b.e2e.push(e2e);
    const ttft = ttftMs(r);
    if (ttft !== null) b.ttft.push(ttft);
  }
  return {
    window_s: windowS,
    windows: buckets.map((b, i) => {
      // The last window runs to the last answer (half to one and a half windows long): its rate is over its own length.
      const end = i === count - 1 ? spanS : (i + 1) * windowS;
      const length = Math.max(0.001, end - i * windowS);
      const e2e = sortSamples(b.e2e);
      const ttft = sortSamples(b.ttft);
      const at = (s: Float64Array, p: number) => round(percentileOfSorted(s, p));
      return {
        t_s: round(end)!,
        ok: b.ok,
        errors: b.errors,
        qps: round(b.ok / length)!,
        errors_per_s: round(b.errors / length)!,
        e2e_p50: at(e2e, 50),
        e2e_p90: at(e2e, 90),
        e2e_p99: at(e2e, 99),
        ttft_p50: at(ttft, 50),
        ttft_p99: at(ttft, 99),
      };
    }),
  };
}

export function histograms(
  group: GroupAnalysis,
  metrics: LatencyMetric[] = ['e2e', 'ttft', 'tpot', 'itl'],
  bins = 40,
): Histogram[] {
  const result: Histogram[] = [];
  for (const metric of metrics) {
    const sorted = group.samples[metric];
    if (sorted.length === 0) continue;
    const min = sorted[0]!;
    const top = percentileOfSorted(sorted, 99.9)!;
    const width = top > min ? (top - min) / bins : 1;
    const counts = new Array<number>(bins).fill(0);
    let above = 0;
    for (const value of sorted) {
      if (value > top) above++;
      else counts[Math.min(bins - 1, Math.floor((value - min) / width))]!++;
    }
    result.push({
      metric,
      edges: counts.map((_, i) => round(min + i * width)!),
      width_ms: round(width)!,
      counts,
      above,
    });
  }
  return result;
}

function round(value: number | null): number | null {
  return value === null ? null : Math.round(value * 1000) / 1000;
}
