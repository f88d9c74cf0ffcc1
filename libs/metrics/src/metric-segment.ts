/**
 * A model id as one segment of a StatsD key: Graphite splits keys on dots and statsd rewrites most other
 * punctuation, so anything outside [A-Za-z0-9_-] becomes `_` (`Qwen2.5-7B/int4` → `Qwen2_5-7B_int4`).
 */
export function metricSegment(id: string): string {
  const cleaned = id.replace(/[^A-Za-z0-9_-]/g, '_');
  return cleaned === '' ? '_' : cleaned;
}
