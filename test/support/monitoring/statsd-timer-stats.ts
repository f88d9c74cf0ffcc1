/**
 * What statsd 0.9.0 writes for one timer in one flush (lib/process_metrics.js), for values that all arrived in that
 * flush without sampling, so that a test can predict Graphite's numbers from the raw values a client measured.
 *
 * statsd's percentile is NOT interpolated and NOT nearest-rank-ceil: with the flush's n values sorted ascending and
 * p in percentThreshold,
 *   k = Math.round(p / 100 * n)            (JavaScript rounding: .5 goes up)
 *   upper_p = sorted[k - 1]                (the k-th smallest value)
 *   mean_p = mean of the k smallest, sum_p = their sum, count_p = k
 * and nothing is written for p when k is 0 (n small: e.g. p = 1 with n < 50). With n = 1 every upper_p is that
 * value. So with n = 20, upper_95 is the 19th smallest (the maximum is left out); with n = 10, it is the maximum
 * (round(9.5) = 10). A negative p gives lower_|p| from the top instead: not used here.
 * median: the middle value (n odd) or the mean of the two middle values (n even). std: population standard
 * deviation. count: the number of values (each divided by its sample rate, so unsampled = n); count_ps = count / flush
 * seconds. Percentiles are per flush: statsd never combines flushes, and neither does Graphite.
 */
export type StatsdTimerStats = Record<string, number>;

export function statsdTimerStats(
  values: number[],
  percentThreshold: number[],
  flushIntervalMs: number,
): StatsdTimerStats {
  if (values.length === 0) return { count: 0, count_ps: 0 };
  const sorted = [...values].sort((a, b) => a - b);
  const n = sorted.length;
  const prefixSum = (k: number) => sorted.slice(0, k).reduce((s, v) => s + v, 0);
  const prefixSumSquares = (k: number) => sorted.slice(0, k).reduce((s, v) => s + v * v, 0);
  const stats: StatsdTimerStats = {};
  for (const pct of percentThreshold) {
    if (pct <= 0) throw new Error('statsdTimerStats: negative percentiles (lower_p) are not modelled');
    const k = n > 1 ? Math.round((pct / 100) * n) : n;
    if (k === 0) continue;
    const name = String(pct).replace('.', '_');
    stats[`count_${name}`] = k;
    stats[`mean_${name}`] = prefixSum(k) / k;
    stats[`upper_${name}`] = sorted[k - 1]!;
    stats[`sum_${name}`] = prefixSum(k);
    stats[`sum_squares_${name}`] = prefixSumSquares(k);
  }
  const sum = prefixSum(n);
  const mean = sum / n;
  const mid = Math.floor(n / 2);
  stats.std = Math.sqrt(sorted.reduce((s, v) => s + (v - mean) ** 2, 0) / n);
  stats.upper = sorted[n - 1]!;
  stats.lower = sorted[0]!;
  stats.count = n;
  stats.count_ps = n / (flushIntervalMs / 1000);
  stats.sum = sum;
  stats.sum_squares = prefixSumSquares(n);
  stats.mean = mean;
  stats.median = n % 2 ? sorted[mid]! : (sorted[mid - 1]! + sorted[mid]!) / 2;
  return stats;
}
