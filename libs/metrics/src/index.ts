export { GatewayMetrics } from './gateway-metrics.js';
export { LAST_MINUTE_S, LastMinute, type LastMinuteFigures, type LatencyPercentiles } from './last-minute.js';
export { metricSegment } from './metric-segment.js';
export { MetricsSettingsError, readStatsdSettings } from './metrics-settings.js';
export { PrometheusMetrics, type ModelGauges } from './prometheus-metrics.js';
export { ReplicaMetrics, type ReplicaCallOutcome } from './replica-metrics.js';
export { REQUEST_OUTCOMES, type RequestOutcome, type RequestRecord, type RequestRoute } from './request-record.js';
export { STATSD_KEYS } from './statsd-keys.js';
export { STATSD_DEFAULTS, StatsdMetrics, type StatsdSettings } from './statsd-metrics.js';
