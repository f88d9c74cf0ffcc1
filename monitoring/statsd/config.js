/*
 * StatsD (Etsy's daemon, the statsd/statsd image) for the compose stack: listens on UDP 8125 and flushes to
 * Graphite's carbon (the `graphite` service) every 10 s. Counters land under stats.counters.<key>.count and .rate,
 * timers under stats.timers.<key>.* (upper_50/upper_95/upper_99 from percentThreshold, mean, count, ...), gauges under
 * stats.gauges.<key>: e.g. stats.counters.requests.total.count, stats.timers.request.latency.upper_99. The Grafana
 * dashboards (monitoring/grafana/dashboards/) query exactly these paths.
 */
{
  port: 8125,
  backends: ["./backends/graphite"],
  graphiteHost: "graphite",
  graphitePort: 2003,
  flushInterval: 10000,
  percentThreshold: [50, 95, 99],
  deleteIdleStats: false,
  graphite: {
    legacyNamespace: false
  }
}
