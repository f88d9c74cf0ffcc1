/**
 * The real monitoring stack for tests: statsd -> carbon -> graphite-web, and Prometheus, each on free ports in a temp
 * dir of its own, deleted on stop; plus Grafana dashboard validation (Grafana itself cannot run here). Typical use:
 *
 *   const graphite = await startGraphite();                       // retentions default 1s:1d
 *   const statsd = await startStatsd({ graphitePort: graphite.lineReceiverPort, flushIntervalMs: 1000 });
 *   ... point the gateway's StatsD client at statsd.port, send traffic, close/flush the client ...
 *   await waitUntilDelivered(statsd, graphite, { paths: ['stats_counts.requests.total'] });
 *   const [total] = await renderSettled(graphite, 'stats_counts.requests.total', { from: startedAt });
 *   assert.equal(seriesSum(total), requestsTheClientCounted);
 *
 * monitoring-stack.int.ts shows the rest (timers, gauges, wildcards and functions, Prometheus).
 */
export {
  renderSettled,
  seriesSum,
  seriesValues,
  startGraphite,
  type Graphite,
  type GraphiteOptions,
  type GraphiteSeries,
  type GraphiteTime,
} from './graphite.js';
export { startStatsd, type Statsd, type StatsdOptions } from './statsd.js';
export type { StatsdGraphitePaths } from './statsd-paths.js';
export { statsdTimerStats, type StatsdTimerStats } from './statsd-timer-stats.js';
export { waitUntilDelivered } from './statsd-delivery.js';
export {
  startPrometheus,
  type Prometheus,
  type PrometheusOptions,
  type PrometheusRangeSeries,
  type PrometheusSample,
} from './prometheus.js';
export { validateGrafanaDashboard } from './grafana-schema.js';
