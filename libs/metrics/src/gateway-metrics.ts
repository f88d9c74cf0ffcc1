import { LastMinute } from './last-minute.js';
import { PrometheusMetrics, type ModelGauges } from './prometheus-metrics.js';
import type { RequestRecord } from './request-record.js';
import { STATSD_KEYS } from './statsd-keys.js';
import { StatsdMetrics, type StatsdSettings } from './statsd-metrics.js';

/** One call per fact, fanned out to StatsD (when configured) and Prometheus, so the two can never disagree. */
export class GatewayMetrics {
  readonly prometheus: PrometheusMetrics;
  /** The console's rolling figures (rates, errors, percentiles) over the last minute, per model. */
  readonly lastMinute = new LastMinute();
  private readonly statsd: StatsdMetrics | null;
  private inFlight = 0;

  constructor(
    statsd: StatsdSettings | null,
    options: { onStatsdError?: (error: Error) => void; processMetrics?: boolean } = {},
  ) {
    this.prometheus = new PrometheusMetrics({ processMetrics: options.processMetrics ?? true });
    this.statsd = statsd === null ? null : new StatsdMetrics(statsd, options.onStatsdError ?? (() => {}));
  }

  requestStarted(): void {
    this.inFlight += 1;
  }

  /** Exactly once per request, when its answer is done (sent, failed, or abandoned by the client). */
  requestFinished(record: RequestRecord): void {
    this.inFlight -= 1;
    this.statsd?.recordRequest(record);
    this.prometheus.recordRequest(record);
    this.lastMinute.record(record);
  }

  /** A request refused by its API key's own limits (requests, tokens, concurrent); Prometheus only, by key name. */
  rateLimited(key: string, limits: readonly string[]): void {
    this.prometheus.recordRateLimited(key, limits);
  }

  /** A limited key's request decided without the limiter's Redis: refused, or counted by this replica alone. */
  limitDecidedWithoutRedis(decision: 'refuse' | 'local'): void {
    this.prometheus.recordLimitDecisionWithoutRedis(decision);
  }

  /** Gauges are sampled (see the gateway's metrics reporter), not pushed per request. */
  sampleGauges(models: ReadonlyMap<string, ModelGauges>): void {
    this.prometheus.setInFlight(this.inFlight);
    this.statsd?.gauge(STATSD_KEYS.inFlight, this.inFlight);
    for (const [model, gauges] of models) {
      this.prometheus.setModelGauges(model, gauges);
      if (!this.statsd) continue;
      this.statsd.gauge(STATSD_KEYS.modelInFlight(model), gauges.inFlight);
      this.statsd.gauge(STATSD_KEYS.modelQueued(model), gauges.queued);
      this.statsd.gauge(STATSD_KEYS.modelReady(model), gauges.ready ? 1 : 0);
      if (gauges.coldStartMs !== null) this.statsd.gauge(STATSD_KEYS.modelColdStart(model), gauges.coldStartMs);
      if (gauges.serviceRatePerS !== null)
        this.statsd.gauge(STATSD_KEYS.modelServiceRate(model), Math.round(gauges.serviceRatePerS * 100) / 100);
      this.statsd.gauge(STATSD_KEYS.modelPredictedWait(model), Math.round(gauges.predictedWaitMs));
      if (gauges.resident !== undefined) this.statsd.gauge(STATSD_KEYS.modelResident(model), gauges.resident ? 1 : 0);
      if (gauges.overBudget != null) this.statsd.gauge(STATSD_KEYS.modelOverBudget(model), gauges.overBudget ? 1 : 0);
    }
  }

  close(): Promise<void> {
    return this.statsd?.close() ?? Promise.resolve();
  }
}
