import type { LoadProfile } from './profile.js';
import { Rng } from './rng.js';

export type ArrivalProcess = 'constant' | 'poisson';

/**
 * The open-loop schedule, computed before the run: intended send times (ms from the load's start) for a rate
 * profile. Constant: evenly spaced, the k-th arrival where Λ(t) = k (k = 0, 1, …; the first at t = 0). Poisson:
 * the k-th where Λ(t) = E₁ + … + E_k, Eᵢ ~ Exp(1) drawn from the seeded RNG (a non-homogeneous Poisson process by
 * time rescaling). The same profile and seed always give the same times.
 */
export function arrivalSchedule(
  profile: LoadProfile,
  process: ArrivalProcess,
  seed: number,
  maxArrivals = Infinity,
): Float64Array {
  const times: number[] = [];
  const rng = new Rng(seed, 1);
  let cumulative = process === 'constant' ? 0 : rng.exponential();
  while (times.length < maxArrivals) {
    const t = profile.timeForCumulative(cumulative);
    if (t === null || t >= profile.totalMs) break;
    times.push(t);
    cumulative += process === 'constant' ? 1 : rng.exponential();
  }
  return Float64Array.from(times);
}
