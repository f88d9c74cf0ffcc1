import { Redis, type RedisOptions } from 'ioredis';

/**
 * The three kinds of Redis connection a replica holds, tuned for one rule: while Redis is away, a request fails at
 * once with 503 instead of waiting, and everything comes back by itself when Redis does.
 */

/** Reconnect quickly and keep trying: Redis coming back must be noticed within a fraction of a second. */
const retryStrategy = (attempt: number): number => Math.min(50 * attempt, 500);

const common: RedisOptions = { retryStrategy, connectTimeout: 1000, lazyConnect: false };

/** How long a request's command may go unanswered before it fails (a Redis that hangs without closing the socket). */
export const COMMAND_TIMEOUT_MS = 2000;

/**
 * Requests' commands (admission, adding jobs, replies, cancellation) and the BullMQ Queue. No offline queue and no
 * retries: a command issued while Redis is away fails at once, one that was in flight fails when the connection
 * drops, and a Redis that stops answering without closing the socket fails it after commandTimeout.
 */
export function commandConnection(url: string): Redis {
  return new Redis(url, {
    ...common,
    enableOfflineQueue: false,
    maxRetriesPerRequest: 0,
    commandTimeout: COMMAND_TIMEOUT_MS,
  });
}

/**
 * Pub/sub for replies and cancellations. It only ever sends SUBSCRIBE, so it may queue that until connected; ioredis
 * subscribes again by itself after a reconnect.
 */
export function subscriberConnection(url: string): Redis {
  return new Redis(url, { ...common, autoResubscribe: true });
}

/**
 * The BullMQ Workers' connection (each Worker adds a blocking duplicate). BullMQ requires maxRetriesPerRequest null
 * here: a worker waits out an outage and resumes fetching jobs on its own, which is what we want of it.
 */
export function workerConnection(url: string): Redis {
  return new Redis(url, { ...common, maxRetriesPerRequest: null });
}
