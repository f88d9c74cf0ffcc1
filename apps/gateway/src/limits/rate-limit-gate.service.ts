import type { ServerResponse } from 'node:http';
import { Inject, Injectable, Logger } from '@nestjs/common';
import { GatewayError, type BackendRequest, type ChatDelta, type TgiStreamEvent } from '#backends';
import { GatewayMetrics } from '#metrics';
import {
  hasLimits,
  RateLimiterUnavailableError,
  type LimitName,
  type RateLimiter,
  type RateLimitPermit,
} from '#rate-limits';
import type { Caller } from '../auth/caller.js';
import { rateLimitHeaders, retryAfterSeconds } from './rate-limit-headers.js';
import { RATE_LIMITER } from './rate-limiter.providers.js';
import { TokenMeter, type RequestEnd } from './token-meter.js';

/** A concurrency slot outlives the request's deadline by this much before it counts as free without a release. */
const LEASE_GRACE_MS = 5000;

/** The keys file's name of each limit, for refusal messages. */
const SETTING: Readonly<Record<LimitName, string>> = {
  requests: 'requests_per_minute',
  tokens: 'tokens_per_minute',
  concurrent: 'max_concurrent',
};

type Relays = {
  onToken?: ((event: TgiStreamEvent) => void) | undefined;
  onDelta?: ((delta: ChatDelta) => void) | undefined;
};

/** An admitted request, seen by its key's limits: what it streams is counted, and its end charged. */
export interface LimitedRequest {
  /** The callbacks to hand the dispatch queue. */
  relays(given: Relays): Relays;
  /** Frees its concurrency slot and charges its tokens; never throws (a failed charge is logged). Nothing to wait for where the key has no limits. */
  end(how: RequestEnd): Promise<void> | undefined;
}

const UNLIMITED: LimitedRequest = {
  relays: (given) => given,
  end: () => undefined,
};

/**
 * A key's own limits on the request path, after its scope and before the model's readiness and queue: the request
 * is admitted (its share taken atomically, the x-ratelimit-* headers set on whatever answer it gets) or refused with
 * 429 `rate_limited` and a Retry-After read off the window, and nothing of it is counted.
 */
@Injectable()
export class RateLimitGate {
  private readonly logger = new Logger('RateLimits');

  constructor(
    @Inject(RATE_LIMITER) private readonly limiter: RateLimiter,
    @Inject(GatewayMetrics) private readonly metrics: GatewayMetrics,
  ) {}

  /** A key without limits is admitted at once, without a promise: the hot path. */
  admit(
    caller: Caller,
    request: BackendRequest,
    answer: { response: ServerResponse; deadline: number },
  ): LimitedRequest | Promise<LimitedRequest> {
    if (!hasLimits(caller.limits)) return UNLIMITED;
    return this.acquire(caller, request, answer);
  }

  private async acquire(
    caller: Caller,
    request: BackendRequest,
    { response, deadline }: { response: ServerResponse; deadline: number },
  ): Promise<LimitedRequest> {
    let acquisition;
    try {
      acquisition = await this.limiter.acquire(caller.id, caller.limits, { leaseExpiresAt: deadline + LEASE_GRACE_MS });
    } catch (error) {
      if (!(error instanceof RateLimiterUnavailableError)) throw error;
      throw new GatewayError(
        'unavailable',
        `the limits of API key "${caller.id}" cannot be checked while the gateway's Redis is unreachable (RATE_LIMIT_REDIS_DOWN=refuse)`,
        { retryAfterS: 1, cause: error },
      );
    }
    if (!response.headersSent)
      for (const [name, value] of Object.entries(rateLimitHeaders(acquisition.state))) response.setHeader(name, value);
    if (!acquisition.admitted) {
      this.metrics.rateLimited(caller.id, acquisition.refusedBy);
      const retryAfterS = retryAfterSeconds(acquisition.retryAfterMs);
      const over = acquisition.refusedBy.map((limit) => `${SETTING[limit]} (${limitValue(caller, limit)})`);
      throw new GatewayError(
        'rate_limited',
        `API key "${caller.id}" is at its ${over.join(' and ')}: retry after ${retryAfterS} s`,
        { retryAfterS },
      );
    }
    return this.limited(caller, acquisition.permit, new TokenMeter(request));
  }

  private limited(caller: Caller, permit: RateLimitPermit, meter: TokenMeter): LimitedRequest {
    // Streamed tokens are counted only where tokens are limited: for a request that does not stream, counting makes
    // the Redis queue relay every token.
    const counted = caller.limits.tokensPerMinute !== undefined;
    return {
      relays: (given) => (counted ? meter.relays(given) : UNLIMITED.relays(given)),
      end: (how) =>
        permit.release(counted ? meter.charge(how) : 0).catch((error: unknown) => {
          // The slot frees itself at its lease's expiry; the charge is lost.
          this.logger.warn(`could not release a request of API key "${caller.id}": ${(error as Error).message}`);
        }),
    };
  }
}

function limitValue(caller: Caller, limit: LimitName): number | undefined {
  const { requestsPerMinute, tokensPerMinute, maxConcurrent } = caller.limits;
  return limit === 'requests' ? requestsPerMinute : limit === 'tokens' ? tokensPerMinute : maxConcurrent;
}
