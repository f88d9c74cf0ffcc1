/*
 * StatsD (Etsy's daemon, the statsd/statsd image) for the compose stack: listens on UDP 8125 and flushes to
 * Graphite's carbon (the `graphite` service) every 10 s. Counters land under stats.counters.<key>.count and
 * .rate, timers under stats.timers.<key>.* (mean, upper_90, count, ...), e.g. stats.counters.requests.total.count.
 */
{
  port: 8125,
  backends: ["./backends/graphite"],
  graphiteHost: "graphite",
  graphitePort: 2003,
  flushInterval: 10000,
  percentThreshold: [90, 95, 99],
  deleteIdleStats: false,
  graphite: {
    legacyNamespace: false
  }
}
