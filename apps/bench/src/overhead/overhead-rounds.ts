/**
 * Rounds of the fixed-rate phase. On a shared machine the load drifts over a run, so a leg measured early and its
 * baseline measured late differ by the drift, not only by the path. Every round measures each leg against its own
 * direct leg, and the order flips from round to round (forward, reversed, forward, ...: ABBA), so a steady drift
 * favours each side equally; the summary then reports the median over rounds and how far the rounds spread.
 */

import type { Percentile, PercentileSpreads } from './overhead-report.js';

/** The leg order of each round: forward in odd rounds, reversed in even ones. */
export function roundOrders<T>(legs: readonly T[], rounds: number): T[][] {
  return Array.from({ length: rounds }, (_, i) => (i % 2 === 0 ? [...legs] : [...legs].reverse()));
}

/** A figure over rounds: the median, and the lowest and highest round. */
export interface Spread {
  median: number;
  min: number;
  max: number;
}

/** A figure to three decimals, as every ratio and millisecond figure of the overhead result is written. */
export const round3 = (x: number) => Math.round(x * 1000) / 1000;

/** Median (the mean of the middle two for an even count), min and max of the rounds that have the figure. */
export function spreadOf(values: ReadonlyArray<number | null | undefined>): Spread | null {
  const known = values.filter((x): x is number => typeof x === 'number' && Number.isFinite(x)).sort((a, b) => a - b);
  if (known.length === 0) return null;
  const mid = Math.floor(known.length / 2);
  const median = known.length % 2 === 1 ? known[mid]! : (known[mid - 1]! + known[mid]!) / 2;
  return { median: round3(median), min: round3(known[0]!), max: round3(known[known.length - 1]!) };
}

/** "1.234 ms (1.100–1.500)": the median with the rounds' range; just the figure when there was one round. */
export function formatSpread(s: Spread | null, rounds: number, digits = 3, unit = ''): string {
  if (s === null) return '—';
  const median = `${s.median.toFixed(digits)}${unit}`;
  return rounds > 1 ? `${median} (${s.min.toFixed(digits)}–${s.max.toFixed(digits)})` : median;
}

/** A spread per percentile, from the rounds' values at each. */
export function percentileSpreads(
  valuesAt: (k: Percentile) => ReadonlyArray<number | null | undefined>,
): PercentileSpreads {
  return {
    p50: spreadOf(valuesAt('p50')),
    p90: spreadOf(valuesAt('p90')),
    p99: spreadOf(valuesAt('p99')),
    p99_9: spreadOf(valuesAt('p99_9')),
  };
}
