import type { ChainableCommander, Redis } from 'ioredis';
import { CYCLE_WEIGHT, SERVICE_TIME_WEIGHT } from '../service-rate.js';

/**
 * Admission, held atomically across replicas. Each admitted request holds a ticket — a member of a per-model sorted
 * set scored by its deadline — from admission until its job ends (the worker, or the caller giving up, removes it).
 * One script counts the tickets, predicts the newcomer's wait and adds its ticket only when the rule of
 * admission-rule.ts says so, so two replicas can never both take the last place, and every replica judges with the
 * same estimate. Counting BullMQ's own wait list instead would leave a gap between the count and the add; scoring by
 * deadline means a ticket whose holder died (a replica killed mid-request) expires by itself.
 *
 * The estimate lives beside the tickets, in a hash (`<prefix>:<model>:service`) that every replica's workers feed
 * (SERVED below): the mean service time (EWMA), the cycle, the last completion, and when the model last got busy (set
 * here when the first ticket is taken after none, and again by a worker when its first job of the model starts:
 * job-runner.ts). It is ServiceRate (service-rate.ts) kept in Redis so that replicas share it; its times are the
 * calling replicas' epoch milliseconds, so their clocks should agree.
 *
 * A ticket's member is the job id, which the dispatching replica makes `p<priority>-<uuid>` (jobIdOf), so that the
 * script can count the tickets that would go before a newcomer of a given priority. It cannot tell a running ticket
 * from a queued one, so with priorities in use it may count up to max_concurrent running jobs as ahead (a wait
 * over-predicted by one service time at most); under FIFO the count is exact.
 *
 * The script also writes the queue's global concurrency into BullMQ's meta hash (what Queue.setGlobalConcurrency
 * does): a Redis restarted without persistence forgets it, and no job may be added to a queue without its cap.
 */
const ADMIT = `
local now = tonumber(ARGV[1])
local slots = tonumber(ARGV[3])
redis.call('ZREMRANGEBYSCORE', KEYS[1], '-inf', now)
redis.call('HSET', KEYS[2], 'concurrency', ARGV[3])
local held = redis.call('ZCARD', KEYS[1])
local wait = 0
if held >= slots then
  local mean = tonumber(redis.call('HGET', KEYS[3], 'mean') or '0')
  local last = tonumber(redis.call('HGET', KEYS[3], 'last') or '0')
  local busy = tonumber(redis.call('HGET', KEYS[3], 'busy') or '0')
  local cycle = tonumber(redis.call('HGET', KEYS[3], 'cycle') or '0')
  local since = math.max(last, busy)
  local quiet = 0
  if since > 0 then quiet = now - since end
  local service = math.max(mean, cycle, quiet)
  local queued = held - slots
  local ahead = queued
  local priority = tonumber(ARGV[6])
  if priority > 0 and queued > 0 then
    local before = 0
    for _, member in ipairs(redis.call('ZRANGE', KEYS[1], 0, -1)) do
      local p = tonumber(string.match(member, '^p(%d+)%-'))
      if p == nil or p <= priority then before = before + 1 end
    end
    ahead = math.min(queued, before)
  end
  wait = (ahead + 1) * service / slots
end
local result = 0
if held >= tonumber(ARGV[2]) then
  result = 1
elseif held >= slots and wait > math.min(tonumber(ARGV[7]), tonumber(ARGV[8]) - now) then
  result = 2
else
  if held == 0 then redis.call('HSET', KEYS[3], 'busy', now) end
  redis.call('ZADD', KEYS[1], ARGV[4], ARGV[5])
  held = held + 1
end
return {result, held, tostring(wait)}
`;

/**
 * A job that held its slot ARGV[1] ms has just finished (ARGV[2]: now, ARGV[3]: max_concurrent), its ticket already
 * given back: the shared estimate learns its service time and, while a queue stands behind the slots (as many tickets
 * left as slots), the cycle — slots × the interval since the last completion (ServiceRate in service-rate.ts).
 */
const SERVED = `
local ran = tonumber(ARGV[1])
local now = tonumber(ARGV[2])
local slots = tonumber(ARGV[3])
local mean = tonumber(redis.call('HGET', KEYS[1], 'mean') or '')
if mean == nil then mean = ran else mean = mean + ${SERVICE_TIME_WEIGHT} * (ran - mean) end
local since = math.max(tonumber(redis.call('HGET', KEYS[1], 'last') or '0'), tonumber(redis.call('HGET', KEYS[1], 'busy') or '0'))
if since > 0 and redis.call('ZCOUNT', KEYS[2], now, '+inf') >= slots then
  local sample = slots * (now - since)
  local cycle = tonumber(redis.call('HGET', KEYS[1], 'cycle') or '')
  if cycle == nil then cycle = mean end
  cycle = cycle + ${CYCLE_WEIGHT} * (sample - cycle)
  redis.call('HSET', KEYS[1], 'cycle', tostring(cycle))
end
redis.call('HSET', KEYS[1], 'mean', tostring(mean), 'last', ARGV[2])
return 1
`;

/** A ticket outlives its deadline by this much, so that a job finishing right at its deadline still holds it. */
const EXPIRY_GRACE_MS = 1000;

interface AdmissionCommands {
  sluiceAdmit(
    tickets: string,
    meta: string,
    service: string,
    now: number,
    capacity: number,
    maxConcurrent: number,
    expiresAt: number,
    ticket: string,
    priority: number,
    maxQueueWaitMs: number,
    deadline: number,
  ): Promise<[number, number, string]>;
}

export function defineAdmission(redis: Redis): void {
  redis.defineCommand('sluiceAdmit', { numberOfKeys: 3, lua: ADMIT });
  redis.defineCommand('sluiceServed', { numberOfKeys: 2, lua: SERVED });
}

/** A new job's id, which is also its ticket: its priority first, for the script to count the ones ahead. */
export function jobIdOf(priority: number, uuid: string): string {
  return `p${priority}-${uuid}`;
}

export interface AdmissionRequest {
  tickets: string;
  meta: string;
  service: string;
  jobId: string;
  priority: number;
  deadline: number;
  maxConcurrent: number;
  maxQueued: number;
  maxQueueWaitMs: number;
}

export interface Admission {
  admitted: boolean;
  /** Refused because max_queued was reached (rather than for the predicted wait). */
  full: boolean;
  /** Tickets after the attempt: running and queued over all replicas. */
  held: number;
  /** The newcomer's predicted wait for a slot, ms. */
  predictedWaitMs: number;
}

export async function admit(redis: Redis, r: AdmissionRequest, now = Date.now()): Promise<Admission> {
  const [result, held, wait] = await (redis as unknown as AdmissionCommands).sluiceAdmit(
    r.tickets,
    r.meta,
    r.service,
    now,
    r.maxConcurrent + r.maxQueued,
    r.maxConcurrent,
    r.deadline + EXPIRY_GRACE_MS,
    r.jobId,
    r.priority,
    r.maxQueueWaitMs,
    r.deadline,
  );
  return { admitted: result === 0, full: result === 1, held, predictedWaitMs: Number(wait) };
}

/** Adds the shared estimate's update, for a job that held its slot `ranMs`, to a pipeline (after its ticket's ZREM). */
export function served(
  pipeline: ChainableCommander,
  keys: { service: string; tickets: string },
  ranMs: number,
  slots: number,
  now = Date.now(),
): void {
  (pipeline as unknown as Record<string, (...args: unknown[]) => unknown>)['sluiceServed']!(
    keys.service,
    keys.tickets,
    Math.round(ranMs),
    now,
    slots,
  );
}
