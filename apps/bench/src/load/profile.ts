/**
 * A load profile: the target (arrival rate, users or concurrency) as a function of time, piecewise linear as k6's
 * stages are: each stage ramps linearly from the previous target to its own over its duration (a 0 s stage jumps).
 */
export interface Stage {
  durationMs: number;
  target: number;
}

export class LoadProfile {
  readonly totalMs: number;
  private readonly segments: Array<{ startMs: number; endMs: number; from: number; to: number }> = [];

  constructor(start: number, stages: readonly Stage[]) {
    let t = 0;
    let from = start;
    for (const stage of stages) {
      this.segments.push({ startMs: t, endMs: t + stage.durationMs, from, to: stage.target });
      t += stage.durationMs;
      from = stage.target;
    }
    this.totalMs = t;
  }

  static constant(value: number, durationMs: number): LoadProfile {
    return new LoadProfile(value, [
      { durationMs: 0, target: value },
      { durationMs, target: value },
    ]);
  }

  /** The target at time t (ms); after the last stage, its target. */
  at(tMs: number): number {
    for (const s of this.segments) {
      if (tMs < s.endMs)
        return s.endMs === s.startMs ? s.to : s.from + ((s.to - s.from) * (tMs - s.startMs)) / (s.endMs - s.startMs);
    }
    return this.segments.at(-1)?.to ?? 0;
  }

  /**
   * For an arrival-rate profile (per second): the time (ms) at which the expected number of arrivals since 0,
   * Λ(t) = ∫₀ᵗ rate, reaches `count`; null when the profile ends first. Inverting Λ turns a unit-rate sequence
   * (0, 1, 2, … for constant spacing; cumulative Exp(1) gaps for Poisson) into arrivals that follow the ramps.
   */
  timeForCumulative(count: number): number | null {
    let done = 0;
    for (const s of this.segments) {
      const durationS = (s.endMs - s.startMs) / 1000;
      if (durationS === 0) continue;
      const area = ((s.from + s.to) / 2) * durationS;
      if (done + area >= count && area > 0) {
        const need = count - done;
        if (need <= 0) return s.startMs;
        const slope = (s.to - s.from) / durationS; // rate change per second
        // from·τ + slope·τ²/2 = need, solved for τ ≥ 0 in the stable form.
        const tau =
          Math.abs(slope) < 1e-12
            ? need / s.from
            : (2 * need) / (s.from + Math.sqrt(s.from * s.from + 2 * slope * need));
        return s.startMs + Math.min(durationS, tau) * 1000;
      }
      done += area;
    }
    return null;
  }
}
