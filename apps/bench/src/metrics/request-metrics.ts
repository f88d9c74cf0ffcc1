import type { RequestRecord } from './request-record.js';

/**
 * The per-request formulas. Latencies start at the request's intended send time (see RequestRecord.intended_ms),
 * so that a client that sent late — because it was busy, or because the server was slow to free a connection —
 * does not hide the wait (coordinated omission). Only successful requests have latencies.
 *
 *   e2e   = end − intended
 *   ttft  = first token event − intended                                 (streamed requests only)
 *   tpot  = (last token event − first token event) / (output_tokens − 1) (streamed, output_tokens ≥ 2;
 *                                                                          output_tokens is the server's usage)
 *   itl   = token_ms[i] − token_ms[i−1] for every i ≥ 1                   (streamed; every gap, not a mean)
 *   lag   = sent − intended                                              (schedule lag, every sent request)
 */

export function e2eMs(r: RequestRecord): number | null {
  return r.ok && r.end_ms !== null ? r.end_ms - r.intended_ms : null;
}

export function ttftMs(r: RequestRecord): number | null {
  return r.ok && r.stream && r.first_token_ms !== null ? r.first_token_ms - r.intended_ms : null;
}

export function tpotMs(r: RequestRecord): number | null {
  if (!r.ok || !r.stream || r.usage === null || r.usage.output_tokens < 2 || r.token_ms.length === 0) return null;
  const first = r.token_ms[0]!;
  const last = r.token_ms[r.token_ms.length - 1]!;
  return (last - first) / (r.usage.output_tokens - 1);
}

export function itlsMs(r: RequestRecord): number[] {
  if (!r.ok || !r.stream) return [];
  const gaps: number[] = [];
  for (let i = 1; i < r.token_ms.length; i++) gaps.push(r.token_ms[i]! - r.token_ms[i - 1]!);
  return gaps;
}

export function scheduleLagMs(r: RequestRecord): number | null {
  return r.sent_ms === null ? null : r.sent_ms - r.intended_ms;
}
