import { collectDefaultMetrics, Counter, Gauge, Registry } from 'prom-client';
import { CountedHistogram, type HistogramSeries } from './counted-histogram.js';
import { PendingCount } from './pending-count.js';
import { REQUEST_OUTCOMES, type RequestOutcome, type RequestRecord, type RequestRoute } from './request-record.js';

/** Seconds. 1.5 s is there because the user's P99 target is 1.5 s: `le="1.5"` answers "how many met it" exactly. */
const LATENCY_BUCKETS = [0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 0.75, 1, 1.5, 2, 3, 5, 10, 30, 60];
const FIRST_TOKEN_BUCKETS = [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2, 5, 10];
const QUEUE_BUCKETS = [0.001, 0.005, 0.01, 0.05, 0.1, 0.25, 0.5, 1, 2, 5, 10];
/** The gateway's own time is sub-millisecond when healthy: fine buckets from 50 µs. */
const OVERHEAD_BUCKETS = [0.00005, 0.0001, 0.00025, 0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1];

/** A request that named no model the gateway serves is labelled with the empty model (Prometheus: no label). */
const NO_MODEL = '';

interface ModelSeries {
  /** Per route, per outcome. */
  requests: Map<RequestRoute, Map<RequestOutcome, PendingCount>>;
  inputTokens: PendingCount;
  outputTokens: PendingCount;
  latency: HistogramSeries;
  queueWait: HistogramSeries;
  timeToFirstToken: HistogramSeries;
}

export interface ModelGauges {
  inFlight: number;
  queued: number;
  ready: boolean;
  /** The model's state, one of MODEL_STATES: sluice_model_state is 1 for it and 0 for the others. */
  state: string;
  /** Restarts of its engine since the gateway started: crashes, and hung engines the watchdog replaced. */
  restarts: number;
  /** The latest cold start; null until the model has been ready once. */
  coldStartMs: number | null;
  /** The dispatch queue's live estimate of completions per second; null until it knows one. */
  serviceRatePerS: number | null;
  /** What a request arriving now would be predicted to wait for a slot (what admission judges), ms. */
  predictedWaitMs: number;
  /** Loaded: it holds its VRAM budget (a model on demand may not be). Absent: not sampled. */
  resident?: boolean;
  /** Its process uses more GPU memory than its budget (nvidia-smi); null or absent where that is not measured. */
  overBudget?: boolean | null;
}

/** The states of a model (model-registry's ModelState), each a value of sluice_model_state's `state` label. */
export const MODEL_STATES = ['starting', 'loading', 'ready', 'unhealthy', 'failed', 'stopped'] as const;

/** The same facts as StatsD, as Prometheus counters, histograms and gauges (names `sluice_*`, seconds). */
export class PrometheusMetrics {
  readonly registry = new Registry();
  /** The per-request counters' series, handed to their counters when /metrics is read. */
  private readonly requestCounts: PendingCount[] = [];
  private readonly tokenCounts: PendingCount[] = [];
  private readonly requests = new Counter({
    name: 'sluice_requests_total',
    help: 'Generation requests by model, outcome (ok or the error type) and route (generate, chat_completions, completions, tgi).',
    labelNames: ['model', 'outcome', 'route'],
    registers: [this.registry],
    collect: () => {
      this.beforeRead();
      PendingCount.flushAll(this.requestCounts);
    },
  });
  private readonly tokens = new Counter({
    name: 'sluice_tokens_total',
    help: 'Tokens the backends counted, by model and kind (input or output).',
    labelNames: ['model', 'kind'],
    registers: [this.registry],
    collect: () => {
      this.beforeRead();
      PendingCount.flushAll(this.tokenCounts);
    },
  });
  private readonly latency = new CountedHistogram(
    'sluice_request_duration_seconds',
    'End to end in the gateway, every request.',
    ['model'],
    LATENCY_BUCKETS,
    this.registry,
    () => this.beforeRead(),
  );
  private readonly queueWait = new CountedHistogram(
    'sluice_queue_wait_seconds',
    'Waiting for a slot of the model.',
    ['model'],
    QUEUE_BUCKETS,
    this.registry,
    () => this.beforeRead(),
  );
  private readonly timeToFirstToken = new CountedHistogram(
    'sluice_time_to_first_token_seconds',
    "From dispatch to the backend's first token.",
    ['model'],
    FIRST_TOKEN_BUCKETS,
    this.registry,
    () => this.beforeRead(),
  );
  private readonly overhead = new CountedHistogram(
    'sluice_gateway_overhead_seconds',
    "The gateway's own time: end to end minus queue wait and backend call.",
    [],
    OVERHEAD_BUCKETS,
    this.registry,
    () => this.beforeRead(),
  ).labels();
  private readonly inFlight = new Gauge({
    name: 'sluice_in_flight_requests',
    help: 'Generate requests the gateway holds now.',
    registers: [this.registry],
  });
  private readonly modelInFlight = new Gauge({
    name: 'sluice_model_in_flight',
    help: "Jobs running on the model's backend now.",
    labelNames: ['model'],
    registers: [this.registry],
  });
  private readonly modelQueued = new Gauge({
    name: 'sluice_model_queued',
    help: 'Jobs waiting for a slot of the model.',
    labelNames: ['model'],
    registers: [this.registry],
  });
  private readonly modelReady = new Gauge({
    name: 'sluice_model_ready',
    help: '1 when the model serves, else 0.',
    labelNames: ['model'],
    registers: [this.registry],
  });
  private readonly modelState = new Gauge({
    name: 'sluice_model_state',
    help: "1 for the model's current state (starting, loading, ready, unhealthy, failed, stopped), 0 for the others.",
    labelNames: ['model', 'state'],
    registers: [this.registry],
  });
  private readonly modelRestarts = new Gauge({
    name: 'sluice_model_restarts',
    help: "Restarts of the model's engine since the gateway started (crashes, and hung engines replaced).",
    labelNames: ['model'],
    registers: [this.registry],
  });
  private readonly modelColdStart = new Gauge({
    name: 'sluice_model_cold_start_seconds',
    help: "The model's latest cold start.",
    labelNames: ['model'],
    registers: [this.registry],
  });
  private readonly modelResident = new Gauge({
    name: 'sluice_model_resident',
    help: '1 while the model is loaded and holds its VRAM budget (a model on demand is 0 until a request loads it).',
    labelNames: ['model'],
    registers: [this.registry],
  });
  private readonly modelOverBudget = new Gauge({
    name: 'sluice_model_over_budget',
    help: "1 while the model's process uses more GPU memory than its vram_budget_gb (nvidia-smi); absent without one.",
    labelNames: ['model'],
    registers: [this.registry],
  });
  private readonly modelServiceRate = new Gauge({
    name: 'sluice_model_service_rate',
    help: "The dispatch queue's estimate of the model's completions per second at its concurrency (admission uses it).",
    labelNames: ['model'],
    registers: [this.registry],
  });
  private readonly modelPredictedWait = new Gauge({
    name: 'sluice_model_predicted_wait_seconds',
    help: 'What a request arriving now would be predicted to wait for a slot; above max_queue_wait_ms it is refused.',
    labelNames: ['model'],
    registers: [this.registry],
  });
  private readonly rateLimited = new Counter({
    name: 'sluice_rate_limited_total',
    help: "Requests refused by their API key's own limit, by key name and limit (requests, tokens, concurrent).",
    labelNames: ['key', 'limit'],
    registers: [this.registry],
  });
  private readonly limitsWithoutRedis = new Counter({
    name: 'sluice_rate_limit_decisions_without_redis_total',
    help: "Limited keys' requests decided while the limiter's Redis was unreachable: refused (503) or counted locally.",
    labelNames: ['decision'],
    registers: [this.registry],
  });
  private readonly series = new Map<string, ModelSeries>();

  /** What the per-request metrics' reads call first: whoever holds records back hands them over (GatewayMetrics). */
  private readonly beforeRead: () => void;

  constructor(options: { processMetrics?: boolean; beforeRead?: () => void } = {}) {
    this.beforeRead = options.beforeRead ?? (() => {});
    if (options.processMetrics ?? true) collectDefaultMetrics({ register: this.registry });
  }

  recordRequest(record: RequestRecord): void {
    const model = record.modelId ?? NO_MODEL;
    const series = this.seriesOf(model);
    this.requestCounters(series, model, record.route ?? 'generate')
      .get(record.outcome)!
      .add();
    series.latency.observe(record.latencyMs / 1000);
    if (record.inputTokens !== undefined) series.inputTokens.add(record.inputTokens);
    if (record.outputTokens !== undefined) series.outputTokens.add(record.outputTokens);
    if (record.queueMs !== undefined) series.queueWait.observe(record.queueMs / 1000);
    if (record.timeToFirstTokenMs !== undefined) series.timeToFirstToken.observe(record.timeToFirstTokenMs / 1000);
    if (record.overheadMs !== undefined) this.overhead.observe(record.overheadMs / 1000);
  }

  /** A request refused by its key's limits: one count for each limit that refused it. */
  recordRateLimited(key: string, limits: readonly string[]): void {
    for (const limit of limits) this.rateLimited.labels(key, limit).inc();
  }

  recordLimitDecisionWithoutRedis(decision: 'refuse' | 'local'): void {
    this.limitsWithoutRedis.labels(decision).inc();
  }

  setInFlight(requests: number): void {
    this.inFlight.set(requests);
  }

  setModelGauges(model: string, gauges: ModelGauges): void {
    this.modelInFlight.labels(model).set(gauges.inFlight);
    this.modelQueued.labels(model).set(gauges.queued);
    this.modelReady.labels(model).set(gauges.ready ? 1 : 0);
    for (const state of MODEL_STATES) this.modelState.labels(model, state).set(state === gauges.state ? 1 : 0);
    this.modelRestarts.labels(model).set(gauges.restarts);
    if (gauges.coldStartMs !== null) this.modelColdStart.labels(model).set(gauges.coldStartMs / 1000);
    if (gauges.serviceRatePerS !== null) this.modelServiceRate.labels(model).set(gauges.serviceRatePerS);
    this.modelPredictedWait.labels(model).set(gauges.predictedWaitMs / 1000);
    if (gauges.resident !== undefined) this.modelResident.labels(model).set(gauges.resident ? 1 : 0);
    if (gauges.overBudget != null) this.modelOverBudget.labels(model).set(gauges.overBudget ? 1 : 0);
  }

  /** The text exposition format, for GET /metrics. */
  exposition(): Promise<string> {
    return this.registry.metrics();
  }

  get contentType(): string {
    return this.registry.contentType;
  }

  /** A route's counters for a model, made when the route is first seen; every outcome starts at 0. */
  private requestCounters(series: ModelSeries, model: string, route: RequestRoute): Map<RequestOutcome, PendingCount> {
    let counters = series.requests.get(route);
    if (!counters) {
      counters = new Map(
        REQUEST_OUTCOMES.map((outcome) => [
          outcome,
          this.pending(this.requestCounts, zeroed(this.requests.labels(model, outcome, route))),
        ]),
      );
      series.requests.set(route, counters);
    }
    return counters;
  }

  /** Label children are looked up once per model; every outcome starts at 0 so rates and ratios exist from the start. */
  private pending(counts: PendingCount[], series: Counter.Internal): PendingCount {
    const count = new PendingCount(series);
    counts.push(count);
    return count;
  }

  private seriesOf(model: string): ModelSeries {
    let series = this.series.get(model);
    if (!series) {
      series = {
        requests: new Map(),
        inputTokens: this.pending(this.tokenCounts, this.tokens.labels(model, 'input')),
        outputTokens: this.pending(this.tokenCounts, this.tokens.labels(model, 'output')),
        latency: this.latency.labels(model),
        queueWait: this.queueWait.labels(model),
        timeToFirstToken: this.timeToFirstToken.labels(model),
      };
      this.series.set(model, series);
    }
    return series;
  }
}

function zeroed(counter: Counter.Internal): Counter.Internal {
  counter.inc(0);
  return counter;
}
