import { metricSegment } from './metric-segment.js';

/**
 * The StatsD keys. The first six are the user's, exactly as their guide names them; never rename them. Everything
 * else is added beside them.
 */
export const STATSD_KEYS = {
  /** Counter: every /v1/generate request, failed ones included. */
  requestsTotal: 'requests.total',
  /** Counter: requests for a model the gateway serves. */
  requestsForModel: (model: string) => `requests.model.${metricSegment(model)}`,
  /** Counter, incremented by the backend's prompt token count. */
  inputTokens: (model: string) => `requests.model.${metricSegment(model)}.input_tokens`,
  /** Counter, incremented by the generated token count. */
  outputTokens: (model: string) => `requests.model.${metricSegment(model)}.output_tokens`,
  /** Timer, ms: end to end in the gateway. */
  requestLatency: 'request.latency',
  /** Counter: answers with error_type `timeout` (504, or in-stream). */
  timeoutErrors: 'requests.errors.timeout',

  /** Counter per error type (`requests.errors.timeout` is the seed's own, and one of these). */
  errors: (type: string) => `requests.errors.${type}`,
  /** Counter per model and error type. */
  modelErrors: (model: string, type: string) => `requests.model.${metricSegment(model)}.errors.${type}`,
  /** Timers, ms. Per model only the latency: every timer value is a UDP payload on the hot path (Prometheus has the rest per model). */
  modelLatency: (model: string) => `request.model.${metricSegment(model)}.latency`,
  queueWait: 'request.queue_wait',
  timeToFirstToken: 'request.ttft',
  gatewayOverhead: 'request.gateway_overhead',

  /** Gauges. */
  inFlight: 'gateway.in_flight',
  modelInFlight: (model: string) => `model.${metricSegment(model)}.in_flight`,
  modelQueued: (model: string) => `model.${metricSegment(model)}.queued`,
  modelReady: (model: string) => `model.${metricSegment(model)}.ready`,
  /** Gauges: the dispatch queue's service-rate estimate (completions/s) and a newcomer's predicted wait (ms). */
  modelServiceRate: (model: string) => `model.${metricSegment(model)}.service_rate`,
  modelPredictedWait: (model: string) => `model.${metricSegment(model)}.predicted_wait_ms`,
  /** Gauges: 1 while the model is loaded (holds its VRAM budget); 1 while its process uses more GPU memory than it. */
  modelResident: (model: string) => `model.${metricSegment(model)}.resident`,
  modelOverBudget: (model: string) => `model.${metricSegment(model)}.over_budget`,
  /** Gauge: the latest cold start of the model, ms. */
  modelColdStart: (model: string) => `model.${metricSegment(model)}.cold_start_ms`,
} as const;
