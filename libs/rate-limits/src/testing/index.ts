/** Test helpers for anything that implements or uses a RateLimiter: import them from here. */
export { describeRateLimiterBehaviour, type LimiterFactory, type LimiterUnderTest } from './rate-limiter-behaviour.js';
