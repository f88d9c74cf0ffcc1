import { LastMinute, type LastMinuteFigures } from './last-minute.js';
import { PrometheusMetrics, type ModelGauges } from './prometheus-metrics.js';
import type { RequestRecord } from './request-record.js';
import { STATSD_KEYS } from './statsd-keys.js';
import { StatsdMetrics, type StatsdSettings } from './statsd-metrics.js';

/** Finished requests held before they are recorded together (see GatewayMetrics.requestFinished). */
const RECORD_BATCH = 64;

/** One call per fact, fanned out to StatsD (when configured) and Prometheus, so the two can never disagree. */
export class GatewayMetrics {
  readonly prometheus: PrometheusMetrics;
  /** The console's rolling figures (rates, errors, percentiles) over the last minute, per model. */
  private readonly lastMinute = new LastMinute();
  private readonly statsd: StatsdMetrics | null;
  private inFlight = 0;
  /** Finished requests not yet recorded, and when each finished (the last minute's clock, for its seconds). */
  private readonly finished: RequestRecord[] = [];
  private readonly finishedAt: number[] = [];

  constructor(
    statsd: StatsdSettings | null,
    options: { onStatsdError?: (error: Error) => void; processMetrics?: boolean } = {},
  ) {
    const recordFinished = () => this.recordFinished();
    this.prometheus = new PrometheusMetrics({
      processMetrics: options.processMetrics ?? true,
      beforeRead: recordFinished,
    });
    this.statsd =
      statsd === null ? null : new StatsdMetrics(statsd, options.onStatsdError ?? (() => {}), recordFinished);
  }

  requestStarted(): void {
    this.inFlight += 1;
  }

  /**
   * Exactly once per request, when its answer is done (sent, failed, or abandoned by the client). The request is
   * recorded with the next RECORD_BATCH - 1, or before anything reads the figures (a scrape, the console, StatsD's
   * flush), whichever comes first: every reader sees every finished request. Recorded one at a time, each request met
   * the metrics' code and data cold, the process having slept since the last; 64 at a time cost the gateway 2–3 % less
   * CPU per request at a few hundred requests a second (PERFORMANCE.md).
   */
  requestFinished(record: RequestRecord): void {
    this.inFlight -= 1;
    this.finishedAt.push(this.lastMinute.now());
    if (this.finished.push(record) >= RECORD_BATCH) this.recordFinished();
  }

  /** The last minute of one model (by canonical id; null: requests that named no model the gateway serves). */
  lastMinuteOf(modelId: string | null): LastMinuteFigures {
    this.recordFinished();
    return this.lastMinute.of(modelId);
  }

  /** The last minute of every request the gateway followed. */
  lastMinuteTotal(): LastMinuteFigures {
    this.recordFinished();
    return this.lastMinute.total();
  }

  /** Records the finished requests held so far. */
  private recordFinished(): void {
    const { finished, finishedAt, statsd, prometheus, lastMinute } = this;
    for (let i = 0; i < finished.length; i++) {
      const record = finished[i]!;
      statsd?.recordRequest(record);
      prometheus.recordRequest(record);
      lastMinute.record(record, finishedAt[i]);
    }
    finished.length = 0;
    finishedAt.length = 0;
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
    this.recordFinished();
    return this.statsd?.close() ?? Promise.resolve();
  }
}
