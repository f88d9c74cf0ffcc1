import { percentileOfSorted } from '../metrics/percentile.js';
import type { Analysis, GroupAnalysis } from '../metrics/summarize.js';
import { compare, type Slo } from './slo.js';

export interface SloResult {
  slo: string;
  model: string | null;
  /** Measured value in the SLO's canonical unit (ms, /s, fraction); null when there was nothing to measure. */
  measured: number | null;
  threshold: number;
  op: Slo['op'];
  unit: Slo['unit'];
  pass: boolean;
  /** Why it failed without a value (no samples, unknown model). */
  note: string | null;
}

/** Checks each SLO against the run's raw samples. An SLO with nothing to measure fails: it was not shown to hold. */
export function evaluateSlos(slos: readonly Slo[], analysis: Analysis): SloResult[] {
  return slos.map((slo) => {
    const group = slo.model === null ? analysis.overall : analysis.perModel.get(slo.model);
    const base = { slo: slo.text, model: slo.model, threshold: slo.threshold, op: slo.op, unit: slo.unit };
    if (!group) return { ...base, measured: null, pass: false, note: `no requests for model "${slo.model}"` };
    const measured = measure(slo, group);
    if (measured === null)
      return {
        ...base,
        measured: null,
        pass: false,
        note: 'no samples (a streamed-only metric in a run without streaming?)',
      };
    return { ...base, measured, pass: compare(measured, slo.op, slo.threshold), note: null };
  });
}

function measure(slo: Slo, group: GroupAnalysis): number | null {
  const { metric } = slo;
  const summary = group.summary;
  switch (metric.kind) {
    case 'latency': {
      const sorted = group.samples[metric.metric];
      if (sorted.length === 0) return null;
      if (metric.stat === 'mean') return sorted.reduce((s, v) => s + v, 0) / sorted.length;
      if (metric.stat === 'min') return sorted[0]!;
      if (metric.stat === 'max') return sorted[sorted.length - 1]!;
      return percentileOfSorted(sorted, metric.stat.percentile);
    }
    case 'qps':
      return summary.requests.total === 0 ? null : summary.throughput.qps;
    case 'tokens_per_s':
      return summary.requests.total === 0 ? null : summary.throughput.output_tokens_per_s;
    case 'errors': {
      if (summary.requests.total === 0) return null;
      if (metric.errorType === null) return summary.requests.failed / summary.requests.total;
      return (summary.errors_by_type[metric.errorType] ?? 0) / summary.requests.total;
    }
  }
}

/** The measured value in the unit the SLO was written in: `1.234 s`, `87.5 ms`, `0.40 %`, `10.2 /s`. */
export function formatSloValue(value: number | null, unit: Slo['unit']): string {
  if (value === null) return '—';
  switch (unit) {
    case 's':
      return `${(value / 1000).toFixed(3)} s`;
    case 'ms':
      return `${value.toFixed(value < 10 ? 3 : 1)} ms`;
    case '%':
      return `${(value * 100).toFixed(2)} %`;
    case '/s':
      return `${value.toFixed(2)} /s`;
  }
}
