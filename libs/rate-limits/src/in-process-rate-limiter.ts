import {
  CONCURRENCY_RETRY_MS,
  RATE_WINDOW_MS,
  type AcquireOptions,
  type Acquisition,
  type LimitName,
  type LimitState,
  type RateLimiter,
  type RateLimits,
  type WindowState,
} from './rate-limiter.js';
import { SlidingLog } from './sliding-log.js';

interface KeyCounts {
  requests: SlidingLog;
  tokens: SlidingLog;
  /** Held concurrency slots, each with the moment it counts as free even if never released. */
  leases: Map<number, number>;
}

export interface InProcessRateLimiterOptions {
  /** Epoch ms; injected by tests to move through windows without waiting. */
  clock?: () => number;
}

/**
 * Per-key limits counted in this process: exact for one gateway (JavaScript runs one acquire at a time, so the check
 * and the take cannot interleave), and what a replica falls back to while Redis is away, if told to (then each
 * replica counts alone).
 */
export class InProcessRateLimiter implements RateLimiter {
  private readonly keys = new Map<string, KeyCounts>();
  private readonly clock: () => number;
  private nextLease = 0;

  constructor({ clock = Date.now }: InProcessRateLimiterOptions = {}) {
    this.clock = clock;
  }

  acquire(key: string, limits: RateLimits, { leaseExpiresAt }: AcquireOptions): Promise<Acquisition> {
    const now = this.clock();
    const counts = this.countsOf(key);
    for (const [lease, expiresAt] of counts.leases) if (expiresAt <= now) counts.leases.delete(lease);
    const requests = counts.requests.total(now);
    const tokens = counts.tokens.total(now);

    const refusedBy: LimitName[] = [];
    let retryAfterMs = 0;
    const { requestsPerMinute: rpm, tokensPerMinute: tpm, maxConcurrent } = limits;
    if (rpm !== undefined && requests >= rpm) {
      refusedBy.push('requests');
      retryAfterMs = Math.max(retryAfterMs, counts.requests.untilFreed(now, requests - rpm + 1));
    }
    if (tpm !== undefined && tokens >= tpm) {
      refusedBy.push('tokens');
      retryAfterMs = Math.max(retryAfterMs, counts.tokens.untilFreed(now, tokens - tpm + 1));
    }
    if (maxConcurrent !== undefined && counts.leases.size >= maxConcurrent) {
      refusedBy.push('concurrent');
      retryAfterMs = Math.max(retryAfterMs, CONCURRENCY_RETRY_MS);
    }
    if (refusedBy.length > 0) {
      this.forgetIfIdle(key, counts, now);
      return Promise.resolve({ admitted: false, state: this.state(counts, limits, now), refusedBy, retryAfterMs });
    }

    if (rpm !== undefined) counts.requests.add(now, 1);
    const lease = this.nextLease++;
    if (maxConcurrent !== undefined) counts.leases.set(lease, leaseExpiresAt);
    let released = false;
    const permit = {
      release: (charge: number): Promise<void> => {
        if (released) return Promise.resolve();
        released = true;
        const at = this.clock();
        const current = this.countsOf(key);
        current.leases.delete(lease);
        if (tpm !== undefined && charge > 0) current.tokens.add(at, charge);
        this.forgetIfIdle(key, current, at);
        return Promise.resolve();
      },
    };
    return Promise.resolve({ admitted: true, state: this.state(counts, limits, now), permit });
  }

  close(): Promise<void> {
    this.keys.clear();
    return Promise.resolve();
  }

  private countsOf(key: string): KeyCounts {
    let counts = this.keys.get(key);
    if (!counts) {
      counts = { requests: new SlidingLog(RATE_WINDOW_MS), tokens: new SlidingLog(RATE_WINDOW_MS), leases: new Map() };
      this.keys.set(key, counts);
    }
    return counts;
  }

  /** A key with nothing in its windows and no slot held takes no memory. */
  private forgetIfIdle(key: string, counts: KeyCounts, now: number): void {
    if (counts.leases.size === 0 && counts.requests.isEmpty(now) && counts.tokens.isEmpty(now)) this.keys.delete(key);
  }

  private state(counts: KeyCounts, limits: RateLimits, now: number): LimitState {
    const window = (log: SlidingLog, limit: number): WindowState => ({
      limit,
      remaining: Math.max(0, limit - log.total(now)),
      resetMs: log.untilOldestLeaves(now),
    });
    // Set one by one: two spreads cost ten times as much in Node 20 (PERFORMANCE.md).
    const state: LimitState = {};
    if (limits.requestsPerMinute !== undefined) state.requests = window(counts.requests, limits.requestsPerMinute);
    if (limits.tokensPerMinute !== undefined) state.tokens = window(counts.tokens, limits.tokensPerMinute);
    return state;
  }
}
