/** The soak's memory verdict: per process, RSS after the warm-up against RSS at the end. */

export interface RssSample {
  /** Milliseconds from the start of the load. */
  atMs: number;
  rssBytes: number;
}

export interface ProcessGrowth {
  name: string;
  pid: number;
  /** Mean of the first `window` samples taken after the warm-up; null when none was taken. */
  baselineBytes: number | null;
  /** Mean of the last `window` samples. */
  finalBytes: number | null;
  /** Highest sample after the warm-up. */
  peakBytes: number | null;
  /** (final − baseline) / baseline. */
  growth: number | null;
  samples: number;
  pass: boolean;
}

const mean = (values: number[]) => values.reduce((t, v) => t + v, 0) / values.length;

/**
 * Growth of one process over the samples taken at or after `warmupMs`; with fewer than 2 × `window` samples the
 * baseline and final means overlap, which only understates growth on a run too short to judge anyway.
 */
export function processGrowth(
  name: string,
  pid: number,
  samples: RssSample[],
  warmupMs: number,
  window: number,
  maxGrowth: number,
): ProcessGrowth {
  const after = samples.filter((s) => s.atMs >= warmupMs).map((s) => s.rssBytes);
  if (after.length === 0)
    return { name, pid, baselineBytes: null, finalBytes: null, peakBytes: null, growth: null, samples: 0, pass: false };
  const baselineBytes = mean(after.slice(0, window));
  const finalBytes = mean(after.slice(-window));
  const growth = baselineBytes > 0 ? (finalBytes - baselineBytes) / baselineBytes : null;
  return {
    name,
    pid,
    baselineBytes,
    finalBytes,
    peakBytes: Math.max(...after),
    growth,
    samples: after.length,
    pass: growth !== null && growth <= maxGrowth,
  };
}

export interface RequestTotals {
  total: number;
  /** 2xx answers that completed. */
  ok: number;
  /** Answered with an error (4xx, 5xx, or an error event in the stream): an answer all the same. */
  errorAnswers: number;
  /** Never answered: client timeout, connection lost, or dropped before it was sent. */
  unanswered: number;
  byStatus: Record<string, number>;
}

export type SoakVerdict = 'pass' | 'fail' | 'invalid';

/** fail: a process grew past the limit or a request went unanswered; invalid: interrupted or no memory figure. */
export function soakVerdict(processes: ProcessGrowth[], totals: RequestTotals, interrupted: boolean): SoakVerdict {
  if (interrupted || processes.length === 0 || processes.some((p) => p.growth === null)) return 'invalid';
  return totals.unanswered > 0 || processes.some((p) => !p.pass) ? 'fail' : 'pass';
}
