/**
 * Exact percentiles from raw samples, by the nearest-rank definition: with the n samples sorted ascending as
 * x₁ ≤ … ≤ xₙ, the p-th percentile (0 < p ≤ 100) is x_k with k = ⌈p/100 · n⌉ — the smallest sample such that at
 * least p % of the samples are less than or equal to it. It is always one of the samples (never interpolated);
 * p = 0 gives x₁ (the minimum); no samples give null. Example: [15, 20, 35, 40, 50] → p30 = 20, p40 = 20,
 * p50 = 35, p100 = 50.
 */

/** The samples sorted ascending, as a typed array (numeric sort, no comparator churn). */
export function sortSamples(samples: ArrayLike<number>): Float64Array {
  return Float64Array.from(samples).sort();
}

/** The rank k of the nearest-rank definition, computed in integers so that p99.9 of 1000 samples is exactly 999. */
export function nearestRank(p: number, n: number): number {
  if (!(p >= 0 && p <= 100)) throw new RangeError(`percentile ${p} is outside 0..100`);
  // p carries at most 4 decimals (p99.99); scaled to an integer, p·n/100 is an exact integer ratio.
  const scaled = Math.round(p * 10_000) * n;
  return Math.max(1, Math.ceil(scaled / 1_000_000));
}

/** The p-th percentile of samples already sorted ascending; null when there are none. */
export function percentileOfSorted(sorted: ArrayLike<number>, p: number): number | null {
  if (sorted.length === 0) return null;
  return sorted[nearestRank(p, sorted.length) - 1]!;
}

export function percentile(samples: ArrayLike<number>, p: number): number | null {
  return percentileOfSorted(sortSamples(samples), p);
}
