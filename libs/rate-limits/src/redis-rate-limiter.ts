import { randomUUID } from 'node:crypto';
import type { Redis } from 'ioredis';
import {
  CONCURRENCY_RETRY_MS,
  RATE_WINDOW_MS,
  type AcquireOptions,
  type Acquisition,
  type LimitName,
  type LimitState,
  type RateLimiter,
  type RateLimits,
} from './rate-limiter.js';
import { ACQUIRE, RELEASE } from './redis-scripts.js';

interface LimitCommands {
  sluiceLimitAcquire(
    ...args: Array<string | number>
  ): Promise<[number, number, number, number, number, number, string]>;
  sluiceLimitRelease(...args: Array<string | number>): Promise<number>;
}

export interface RedisRateLimiterOptions {
  /**
   * A connection that fails a command at once while Redis is away (no offline queue, no retries), so that an acquire
   * is refused or falls back instead of waiting; the dispatch queue's command connection is one.
   */
  redis: Redis;
  /** The prefix of its keys (the dispatch queue's): replicas that share limits share it. */
  prefix: string;
  /** Epoch ms; injected by tests to move through windows without waiting. */
  clock?: () => number;
  /** Whether close() also closes the connection (true when the limiter owns it). */
  ownsConnection?: boolean;
}

/**
 * Per-key limits counted in Redis with one script per acquire (redis-scripts.ts), so they hold across every gateway
 * replica that shares the Redis and the prefix. A command that fails (Redis away) rejects: the caller decides whether
 * that refuses the request or falls back (outage-fallback.ts).
 */
export class RedisRateLimiter implements RateLimiter {
  private readonly redis: Redis;
  private readonly commands: LimitCommands;
  private readonly clock: () => number;

  constructor(private readonly options: RedisRateLimiterOptions) {
    this.redis = options.redis;
    this.redis.defineCommand('sluiceLimitAcquire', { numberOfKeys: 4, lua: ACQUIRE });
    this.redis.defineCommand('sluiceLimitRelease', { numberOfKeys: 3, lua: RELEASE });
    this.commands = this.redis as unknown as LimitCommands;
    this.clock = options.clock ?? Date.now;
  }

  async acquire(key: string, limits: RateLimits, { leaseExpiresAt }: AcquireOptions): Promise<Acquisition> {
    const names = this.namesOf(key);
    const member = randomUUID();
    const [admitted, requests, tokens, requestsResetMs, tokensResetMs, retryAfterMs, refused] =
      await this.commands.sluiceLimitAcquire(
        names.requests,
        names.tokens,
        names.tokensSum,
        names.leases,
        this.clock(),
        RATE_WINDOW_MS,
        limits.requestsPerMinute ?? 0,
        limits.tokensPerMinute ?? 0,
        limits.maxConcurrent ?? 0,
        member,
        Math.round(leaseExpiresAt),
        CONCURRENCY_RETRY_MS,
      );
    // Set one by one: two spreads cost ten times as much in Node 20 (PERFORMANCE.md).
    const state: LimitState = {};
    if (limits.requestsPerMinute !== undefined) {
      const { requestsPerMinute: limit } = limits;
      state.requests = { limit, remaining: Math.max(0, limit - requests), resetMs: requestsResetMs };
    }
    if (limits.tokensPerMinute !== undefined) {
      const { tokensPerMinute: limit } = limits;
      state.tokens = { limit, remaining: Math.max(0, limit - tokens), resetMs: tokensResetMs };
    }
    if (admitted !== 1) return { admitted: false, state, refusedBy: refused.split(' ') as LimitName[], retryAfterMs };
    let released = false;
    const permit = {
      release: async (charge: number): Promise<void> => {
        if (released) return;
        released = true;
        const tokensToCharge = limits.tokensPerMinute !== undefined ? Math.max(0, Math.round(charge)) : 0;
        if (limits.maxConcurrent === undefined && tokensToCharge === 0) return; // nothing held, nothing to charge
        await this.commands.sluiceLimitRelease(
          names.tokens,
          names.tokensSum,
          names.leases,
          this.clock(),
          RATE_WINDOW_MS,
          member,
          tokensToCharge,
        );
      },
    };
    return { admitted: true, state, permit };
  }

  async close(): Promise<void> {
    if (this.options.ownsConnection) await this.redis.quit().catch(() => undefined);
  }

  private namesOf(key: string) {
    const base = `${this.options.prefix}:limits:${key}`;
    return {
      requests: `${base}:requests`,
      tokens: `${base}:tokens`,
      tokensSum: `${base}:tokens-sum`,
      leases: `${base}:leases`,
    };
  }
}
