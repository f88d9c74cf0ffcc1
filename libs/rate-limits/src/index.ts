export {
  CONCURRENCY_RETRY_MS,
  hasLimits,
  RATE_WINDOW_MS,
  type AcquireOptions,
  type Acquisition,
  type Admitted,
  type LimitName,
  type LimitState,
  type RateLimiter,
  type RateLimitPermit,
  type RateLimits,
  type Refused,
  type WindowState,
} from './rate-limiter.js';
export { InProcessRateLimiter, type InProcessRateLimiterOptions } from './in-process-rate-limiter.js';
export { RedisRateLimiter, type RedisRateLimiterOptions } from './redis-rate-limiter.js';
export {
  OutageFallbackRateLimiter,
  RateLimiterUnavailableError,
  type OutageHooks,
  type RedisDownPolicy,
} from './outage-fallback.js';
