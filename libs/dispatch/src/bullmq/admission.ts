import type { Redis } from 'ioredis';

/**
 * max_queued, held atomically across replicas. Each admitted request holds a ticket — a member of a per-model sorted
 * set scored by its deadline — from admission until its job ends (the worker, or the caller giving up, removes it).
 * One script counts the tickets and adds one only below max_concurrent + max_queued, so two replicas can never both
 * take the last place. Counting BullMQ's own wait list instead would leave a gap between the count and the add;
 * scoring by deadline means a ticket whose holder died (a replica killed mid-request) expires by itself.
 *
 * The script also writes the queue's global concurrency into BullMQ's meta hash (what Queue.setGlobalConcurrency
 * does): a Redis restarted without persistence forgets it, and no job may be added to a queue without its cap.
 */
const ADMIT = `
redis.call('ZREMRANGEBYSCORE', KEYS[1], '-inf', ARGV[1])
redis.call('HSET', KEYS[2], 'concurrency', ARGV[3])
local held = redis.call('ZCARD', KEYS[1])
if held >= tonumber(ARGV[2]) then return {0, held} end
redis.call('ZADD', KEYS[1], ARGV[4], ARGV[5])
return {1, held + 1}
`;

/** A ticket outlives its deadline by this much, so that a job finishing right at its deadline still holds it. */
const EXPIRY_GRACE_MS = 1000;

interface AdmissionCommands {
  sluiceAdmit(
    tickets: string,
    meta: string,
    now: number,
    capacity: number,
    maxConcurrent: number,
    expiresAt: number,
    jobId: string,
  ): Promise<[number, number]>;
}

export function defineAdmission(redis: Redis): void {
  redis.defineCommand('sluiceAdmit', { numberOfKeys: 2, lua: ADMIT });
}

export interface AdmissionRequest {
  tickets: string;
  meta: string;
  jobId: string;
  deadline: number;
  maxConcurrent: number;
  /** How many may wait now: max_queued, or less while the queue stands (standing-queue.ts). */
  queueLimit: number;
}

/** Takes a ticket if there is room; `held` counts the tickets after the attempt (for Retry-After). */
export async function admit(redis: Redis, r: AdmissionRequest): Promise<{ admitted: boolean; held: number }> {
  const [admitted, held] = await (redis as unknown as AdmissionCommands).sluiceAdmit(
    r.tickets,
    r.meta,
    Date.now(),
    r.maxConcurrent + r.queueLimit,
    r.maxConcurrent,
    r.deadline + EXPIRY_GRACE_MS,
    r.jobId,
  );
  return { admitted: admitted === 1, held };
}
