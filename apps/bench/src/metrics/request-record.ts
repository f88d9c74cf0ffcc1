/**
 * One request as the benchmark saw it: the row of the per-request JSONL file, and the only input of every
 * metric. Times are milliseconds on the client's monotonic clock (performance.now()) from the run's origin
 * (`started_at` in the result JSON), rounded to the microsecond when recorded, so that figures recomputed
 * from the JSONL equal the result's.
 */
export interface RequestRecord {
  /** Arrival number, from 0, in the order the load model produced the arrivals. */
  id: number;
  /** Sweep step (index of the rate), in a sweep's file only. */
  step?: number;
  model: string;
  scenario: string;
  lang: string;
  stream: boolean;
  max_new_tokens: number;
  /**
   * When the request was meant to go out. Open loop: its arrival time in the schedule, whatever happened to the
   * client. Closed loop (users, concurrency): when its user was ready to send it. Every latency starts here.
   */
  intended_ms: number;
  /** When it actually went out (http.request called); null for an arrival that was dropped, never sent. */
  sent_ms: number | null;
  /** Arrival of the first token event (streamed requests); null otherwise. */
  first_token_ms: number | null;
  /** Arrival of every token event, in order (streamed requests); [] otherwise. */
  token_ms: number[];
  /** When the answer was complete (or failed); null for a dropped arrival. */
  end_ms: number | null;
  /** HTTP status; 0 when no HTTP answer came (connection error, client timeout); null when never sent. */
  status: number | null;
  ok: boolean;
  /** The server's `error_type` (validation, overloaded, timeout, unavailable, upstream, generation, ...), or the
   * client's: network, client_timeout, protocol, dropped. */
  error_type: string | null;
  error: string | null;
  /** Token counts as the server reported them (gateway `usage`; TGI `details` or x-*-tokens headers). */
  usage: { input_tokens: number; output_tokens: number } | null;
  /** The gateway's own timings from its answer (`latency_ms`, `queue_ms`, `time_to_first_token_ms`). */
  server: { latency_ms: number | null; queue_ms: number | null; ttft_ms: number | null } | null;
  /** Sent during the warm-up: in the JSONL, left out of every metric. */
  warmup: boolean;
}

/** Microsecond rounding, applied to every recorded time. */
export function roundMs(value: number): number {
  return Math.round(value * 1000) / 1000;
}
