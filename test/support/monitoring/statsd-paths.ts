/**
 * Where statsd 0.9.0's graphite backend (backends/graphite.js) writes each kind of key, with the default prefixes
 * (globalPrefix `stats`, prefixCounter `counters`, prefixTimer `timers`, prefixGauge `gauges`) and no suffix:
 *
 * | kind    | legacyNamespace: true (default)        | legacyNamespace: false                   |
 * |---------|----------------------------------------|------------------------------------------|
 * | counter | stats_counts.<key> (count per flush)   | stats.counters.<key>.count               |
 * |         | stats.<key> (per second)               | stats.counters.<key>.rate                |
 * | timer   | stats.timers.<key>.<stat>              | same                                     |
 * | gauge   | stats.gauges.<key>                     | same                                     |
 * | set     | stats.sets.<key>.count                 | same                                     |
 *
 * Timer stats per flush: count, count_ps, lower, upper, mean, median, std, sum, sum_squares, and for each
 * percentThreshold p (dots become `_`): upper_p, mean_p, count_p, sum_p, sum_squares_p (statsd-timer-stats.ts).
 * statsd's own: statsd.numStats / stats.statsd.* (legacy) or stats.statsd.* (not legacy).
 */
export interface StatsdGraphitePaths {
  counterCount(key: string): string;
  counterRate(key: string): string;
  timer(key: string, stat: string): string;
  gauge(key: string): string;
  setCount(key: string): string;
}

export function statsdGraphitePaths(options: { legacyNamespace: boolean }): StatsdGraphitePaths {
  return {
    counterCount: (key) => (options.legacyNamespace ? `stats_counts.${key}` : `stats.counters.${key}.count`),
    counterRate: (key) => (options.legacyNamespace ? `stats.${key}` : `stats.counters.${key}.rate`),
    timer: (key, stat) => `stats.timers.${key}.${stat}`,
    gauge: (key) => `stats.gauges.${key}`,
    setCount: (key) => `stats.sets.${key}.count`,
  };
}
