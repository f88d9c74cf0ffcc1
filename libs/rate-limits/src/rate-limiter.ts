/**
 * The contract of a per-key rate limiter: one atomic check-and-take per request (requests per minute, tokens per
 * minute, concurrent requests), and a permit that, when the request ends, gives its concurrency slot back and charges
 * the tokens it used. The in-process implementation serves one gateway; the Redis one keeps the counts in Redis, so
 * that every replica sharing it sees the same ones.
 *
 * Windows slide: what counts is what happened in the last 60 s, to the millisecond, so there is no burst at a window's
 * edge and a refusal's Retry-After is the time until enough of the window has left.
 */
export interface RateLimits {
  /** Requests admitted in any 60 s. */
  requestsPerMinute?: number;
  /** Tokens (input + output) charged in any 60 s; a request is admitted while what is charged is below it. */
  tokensPerMinute?: number;
  /** Requests holding a permit at once. */
  maxConcurrent?: number;
}

/** The window every per-minute limit is counted over. */
export const RATE_WINDOW_MS = 60_000;

export type LimitName = 'requests' | 'tokens' | 'concurrent';

/** Where a per-minute limit stands for a key: what the x-ratelimit-* headers say. */
export interface WindowState {
  limit: number;
  /** Admissions (or tokens) left in the window now, after the one just admitted. */
  remaining: number;
  /** Until the oldest counted request (or charge) leaves the window and `remaining` goes up; 0 when none counts. */
  resetMs: number;
}

export interface LimitState {
  /** Present when the key has requests_per_minute. */
  requests?: WindowState;
  /** Present when the key has tokens_per_minute. */
  tokens?: WindowState;
}

export interface Admitted {
  admitted: true;
  state: LimitState;
  permit: RateLimitPermit;
}

export interface Refused {
  admitted: false;
  state: LimitState;
  /** Every limit that refused, in the order requests, tokens, concurrent. */
  refusedBy: LimitName[];
  /** Until every refusing limit would admit again: the window has freed enough (1 s for concurrency, unknowable). */
  retryAfterMs: number;
}

export type Acquisition = Admitted | Refused;

export interface AcquireOptions {
  /**
   * Epoch ms after which the concurrency slot counts as free even if never released: the request's deadline with some
   * grace, so that a replica killed mid-request does not hold a key's slot forever.
   */
  leaseExpiresAt: number;
}

export interface RateLimitPermit {
  /**
   * The request has ended: frees its concurrency slot and charges `tokens` (0 for none) at this moment. Called once;
   * a later call does nothing.
   */
  release(tokens: number): Promise<void>;
}

export interface RateLimiter {
  /** Admits the request and takes its share of every limit the key has, or refuses it and takes nothing. */
  acquire(key: string, limits: RateLimits, options: AcquireOptions): Promise<Acquisition>;
  close(): Promise<void>;
}

/** Whether limits name anything to count (a key without any is never looked up). */
export function hasLimits(limits: RateLimits): boolean {
  return (
    limits.requestsPerMinute !== undefined || limits.tokensPerMinute !== undefined || limits.maxConcurrent !== undefined
  );
}

/** What a refusal of concurrency says to wait: a slot frees when a request ends, which no window predicts. */
export const CONCURRENCY_RETRY_MS = 1000;
