import type { AcquireOptions, Acquisition, RateLimiter, RateLimits } from './rate-limiter.js';

/** What a replica does with a limited key's request while its limiter's Redis cannot be reached. */
export type RedisDownPolicy = 'refuse' | 'local';

export class RateLimiterUnavailableError extends Error {
  override readonly name = 'RateLimiterUnavailableError';
}

export interface OutageHooks {
  /** Once per outage, at its first failed acquire. */
  onOutage(error: Error): void;
  /** Once, at the first acquire that works again. */
  onRecovery(): void;
  /** Every request decided without Redis: refused, or counted by this replica alone. */
  onDecidedWithoutRedis(decision: RedisDownPolicy): void;
}

/**
 * The Redis limiter with an explicit answer for an outage, never a silent one: `refuse` rejects with
 * RateLimiterUnavailableError (the gateway answers 503), `local` counts in this process (each replica then enforces
 * the limits on its own share of the traffic, so a key may get up to one full limit per replica) until Redis answers
 * again. Either way the outage is reported once and every request decided without Redis is reported.
 */
export class OutageFallbackRateLimiter implements RateLimiter {
  private down = false;

  constructor(
    private readonly primary: RateLimiter,
    private readonly policy: RedisDownPolicy,
    private readonly local: RateLimiter,
    private readonly hooks: OutageHooks,
  ) {}

  async acquire(key: string, limits: RateLimits, options: AcquireOptions): Promise<Acquisition> {
    let acquisition: Acquisition;
    try {
      acquisition = await this.primary.acquire(key, limits, options);
    } catch (error) {
      if (!this.down) {
        this.down = true;
        this.hooks.onOutage(error as Error);
      }
      this.hooks.onDecidedWithoutRedis(this.policy);
      if (this.policy === 'local') return this.local.acquire(key, limits, options);
      throw new RateLimiterUnavailableError(`the rate limiter's Redis cannot be reached: ${(error as Error).message}`, {
        cause: error,
      });
    }
    if (this.down) {
      this.down = false;
      this.hooks.onRecovery();
    }
    return acquisition;
  }

  async close(): Promise<void> {
    await Promise.all([this.primary.close(), this.local.close()]);
  }
}
