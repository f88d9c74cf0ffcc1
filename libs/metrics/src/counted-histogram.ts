import type { Registry } from 'prom-client';

/** One series of a CountedHistogram: observations counted in their bucket (not yet cumulative), their sum and count. */
export class HistogramSeries {
  readonly bucketCounts: number[];
  sum = 0;
  count = 0;

  constructor(
    readonly labels: Readonly<Record<string, string>>,
    private readonly upperBounds: readonly number[],
  ) {
    this.bucketCounts = upperBounds.map(() => 0);
  }

  /** A value that is not a finite number is not counted (prom-client's Histogram throws on it). */
  observe(value: number): void {
    if (!Number.isFinite(value)) return;
    const bounds = this.upperBounds;
    for (let i = 0; i < bounds.length; i++) {
      if (value <= bounds[i]!) {
        this.bucketCounts[i]! += 1;
        break;
      }
    }
    this.sum += value;
    this.count += 1;
  }
}

interface ExportedValue {
  labels: Record<string, string | number>;
  sharedLabels: Readonly<Record<string, string>>;
  value: number;
  metricName: string;
  /** prom-client's: null on a bucket (no exemplars kept), undefined on the sum and count. */
  exemplar: null | undefined;
}

/** What prom-client's registry reads of a metric (`get`, `getForPromString`). */
interface ExportedMetric<Value> {
  name: string;
  help: string;
  type: string;
  values: Value[];
  aggregator: string;
}

/**
 * A Prometheus histogram kept as plain counts per series, each series found once by its label values and written
 * out at scrape time in prom-client's own form (the same lines as its Histogram). prom-client's Histogram checks
 * and hashes a series' labels again on every observation, which the per-request series paid for on every request.
 * It is a prom-client metric like any other (`registerMetric`): the registry formats it, `/metrics` reads it.
 */
export class CountedHistogram {
  readonly type = 'histogram';
  readonly aggregator = 'sum';
  private readonly series = new Map<string, HistogramSeries>();

  constructor(
    readonly name: string,
    readonly help: string,
    private readonly labelNames: readonly string[],
    private readonly upperBounds: readonly number[],
    registry: Registry,
    /** Called before each read: whoever holds observations back hands them over. */
    private readonly beforeRead: () => void = () => {},
  ) {
    registry.registerMetric(this as unknown as Parameters<Registry['registerMetric']>[0]);
    // As prom-client's: a histogram without labels has its one series from the start, a labelled one from its first value.
    if (labelNames.length === 0) this.labels();
  }

  /** The series of these label values (in `labelNames`' order), made at its first use. */
  labels(...values: string[]): HistogramSeries {
    const key = values.join('\u0000');
    let series = this.series.get(key);
    if (series === undefined) {
      const labels = Object.fromEntries(this.labelNames.map((name, i) => [name, values[i] ?? '']));
      series = new HistogramSeries(labels, this.upperBounds);
      this.series.set(key, series);
    }
    return series;
  }

  /** The exposition's values: each series' cumulative buckets, `+Inf`, sum and count, as prom-client's Histogram gives them. */
  getForPromString(): ExportedMetric<ExportedValue> {
    this.beforeRead();
    const bucket = `${this.name}_bucket`;
    const values: ExportedValue[] = [];
    for (const series of this.series.values()) {
      if (series.count === 0 && this.labelNames.length > 0) continue;
      const sharedLabels = series.labels;
      let cumulative = 0;
      this.upperBounds.forEach((le, i) => {
        cumulative += series.bucketCounts[i]!;
        values.push({ labels: { le }, sharedLabels, value: cumulative, metricName: bucket, exemplar: null });
      });
      values.push({ labels: { le: '+Inf' }, sharedLabels, value: series.count, metricName: bucket, exemplar: null });
      values.push({ labels: {}, sharedLabels, value: series.sum, metricName: `${this.name}_sum`, exemplar: undefined });
      values.push({
        labels: {},
        sharedLabels,
        value: series.count,
        metricName: `${this.name}_count`,
        exemplar: undefined,
      });
    }
    return { name: this.name, help: this.help, type: this.type, values, aggregator: this.aggregator };
  }

  /** As getForPromString, each value's labels in one object (prom-client's JSON form). */
  get(): ExportedMetric<Omit<ExportedValue, 'sharedLabels'>> {
    const metric = this.getForPromString();
    return {
      ...metric,
      values: metric.values.map(({ labels, sharedLabels, ...rest }) => ({
        ...rest,
        labels: { ...labels, ...sharedLabels },
      })),
    };
  }

  reset(): void {
    for (const series of this.series.values()) {
      series.bucketCounts.fill(0);
      series.sum = 0;
      series.count = 0;
    }
  }
}
