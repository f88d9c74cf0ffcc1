import type { ChainableCommander, Redis } from 'ioredis';
import { priorityClass, turnCost, type TurnScale } from '../caller-turns.js';
import type { JobTurn } from './job-messages.js';
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
 * Fair turns (caller-turns.ts, said again here): the script gives the newcomer its caller's turn from a per-model hash
 * (`<prefix>:<model>:turns`; per policy priority p: `c<p>:<caller>` a caller's next turn, `v<p>` the clock), folds it
 * with the policy's priority into the job's BullMQ priority (lineOrder), and makes the job id `p<that priority>-<uuid>`,
 * which is also its ticket. A job that finds a free slot moves the clock here and goes to BullMQ with priority 0 (its
 * plain list, its fastest path); one that waits moves it when a worker takes it (TURN_STARTED). With no job waiting
 * (no more tickets than slots) the numbers move back to 0 and callers are forgotten as CallerTurns.rebase does, and
 * `o<p>` adds up how far the numbers moved: a waiting job carries its turn plus that offset, so a worker's move of the
 * clock that lands after a move back still lands in the right place. So the clock here lags the in-process one by the
 * waiting jobs taken and not yet reported: within such a moment the two queues may differ by a turn.
 *
 * The jobs ahead of a newcomer are the tickets whose priority sorts at or before its own, less those whose jobs are
 * already running: BullMQ's active list of the model (at most max_concurrent ids), read here as the meta hash is.
 *
 * The script also writes the queue's global concurrency into BullMQ's meta hash (what Queue.setGlobalConcurrency
 * does): a Redis restarted without persistence forgets it, and no job may be added to a queue without its cap.
 *
 * No ticket for a request that has given up. A Redis that hangs (paused, swapping) keeps the admissions sent to it and
 * runs them when it resumes, long after their callers were answered 503 on the client side's command timeout. So an
 * admission carries the moment its caller stops waiting for it (ARGV[13], on Redis's own clock: RedisClock), and the
 * script refuses it once Redis's TIME is past that moment, before it touches anything. The caller also sends RELEASE
 * after a failed admission, on the same connection, so that Redis runs it after the admission whatever happened to it.
 *
 * Nothing outlives its use: the ticket set expires with its furthest ticket (an empty set is gone at once), and the
 * turns and service hashes an hour after the model's last admission (KEY_IDLE_TTL_MS).
 */
/** The turns and service hashes go an hour after the model's last admission: what they hold is stale by then. */
export const KEY_IDLE_TTL_MS = 3_600_000;

const ADMIT = `
local time = redis.call('TIME')
if tonumber(time[1]) * 1000 + math.floor(tonumber(time[2]) / 1000) > tonumber(ARGV[13]) then
  return {3, 0, '0', '', 0, 0}
end
local now = tonumber(ARGV[1])
local slots = tonumber(ARGV[3])
redis.call('ZREMRANGEBYSCORE', KEYS[1], '-inf', now)
redis.call('HSET', KEYS[2], 'concurrency', ARGV[3])
local held = redis.call('ZCARD', KEYS[1])
local function clocksOf(fields)
  local clocks = {}
  for i = 1, #fields, 2 do
    local p = string.match(fields[i], '^v(%d+)$')
    if p then clocks[p] = tonumber(fields[i + 1]) end
  end
  return clocks
end
if held <= slots then
  local fields = redis.call('HGETALL', KEYS[4])
  local clocks = clocksOf(fields)
  local kept = {}
  for i = 1, #fields, 2 do
    local p = string.match(fields[i], '^c(%d+):')
    if p then
      local left = tonumber(fields[i + 1]) - (clocks[p] or 0)
      if left > 0 then kept[#kept + 1] = {fields[i], left} end
    end
  end
  redis.call('DEL', KEYS[4])
  for i = 1, #fields, 2 do
    if string.match(fields[i], '^o%d+$') then redis.call('HSET', KEYS[4], fields[i], fields[i + 1]) end
  end
  for p, clock in pairs(clocks) do redis.call('HINCRBY', KEYS[4], 'o' .. p, clock) end
  if #kept <= slots then
    for _, caller in ipairs(kept) do redis.call('HSET', KEYS[4], caller[1], caller[2]) end
  end
end
local class = math.min(math.max(0, tonumber(ARGV[6])), tonumber(ARGV[12]))
local caller = 'c' .. class .. ':' .. ARGV[9]
local turn = math.max(tonumber(redis.call('HGET', KEYS[4], 'v' .. class) or '0'), tonumber(redis.call('HGET', KEYS[4], caller) or '0'))
local span = tonumber(ARGV[11])
local order = class * span + math.min(turn, span - 1) + 1
local function orderOf(id)
  return tonumber(string.match(id, '^p(%d+)%-'))
end
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
  local ahead = 0
  if queued > 0 then
    for _, member in ipairs(redis.call('ZRANGE', KEYS[1], 0, -1)) do
      local p = orderOf(member)
      if p == nil or p <= order then ahead = ahead + 1 end
    end
    for _, id in ipairs(redis.call('LRANGE', KEYS[5], 0, -1)) do
      local p = orderOf(id)
      if (p == nil or p <= order) and redis.call('ZSCORE', KEYS[1], id) then ahead = ahead - 1 end
    end
    ahead = math.max(0, math.min(queued, ahead))
  end
  wait = (ahead + 1) * service / slots
end
local result = 0
local member = ''
if held >= tonumber(ARGV[2]) then
  result = 1
elseif held >= slots and wait > math.min(tonumber(ARGV[7]), tonumber(ARGV[8]) - now) then
  result = 2
else
  if held == 0 then redis.call('HSET', KEYS[3], 'busy', now) end
  redis.call('HSET', KEYS[4], caller, turn + tonumber(ARGV[10]))
  if redis.call('HLEN', KEYS[4]) > 2 * tonumber(ARGV[2]) then
    local fields = redis.call('HGETALL', KEYS[4])
    local clocks = clocksOf(fields)
    for i = 1, #fields, 2 do
      local p = string.match(fields[i], '^c(%d+):')
      if p and tonumber(fields[i + 1]) <= (clocks[p] or 0) then redis.call('HDEL', KEYS[4], fields[i]) end
    end
  end
  member = 'p' .. order .. '-' .. ARGV[5]
  redis.call('ZADD', KEYS[1], ARGV[4], member)
  local furthest = redis.call('ZRANGE', KEYS[1], -1, -1, 'WITHSCORES')
  redis.call('PEXPIRE', KEYS[1], math.max(1, math.ceil(tonumber(furthest[2]) - now)))
  if held < slots then
    -- A free slot: the job starts at once, which moves the clock now, and BullMQ takes it from its plain list.
    if turn > tonumber(redis.call('HGET', KEYS[4], 'v' .. class) or '0') then redis.call('HSET', KEYS[4], 'v' .. class, turn) end
    order = 0
  end
  held = held + 1
end
redis.call('PEXPIRE', KEYS[3], ${KEY_IDLE_TTL_MS})
redis.call('PEXPIRE', KEYS[4], ${KEY_IDLE_TTL_MS})
return {result, held, tostring(wait), member, order, turn + tonumber(redis.call('HGET', KEYS[4], 'o' .. class) or '0')}
`;

/**
 * A job of priority ARGV[1] has taken a slot: that priority's clock moves on to its turn. The job carries its turn
 * counted from the first (ARGV[2]), and `o<priority>` what the moves back to 0 have taken off since, so a job admitted
 * before a move back still lands where it belongs.
 */
const TURN_STARTED = `
local turn = tonumber(ARGV[2]) - tonumber(redis.call('HGET', KEYS[1], 'o' .. ARGV[1]) or '0')
local clock = 'v' .. ARGV[1]
if turn > tonumber(redis.call('HGET', KEYS[1], clock) or '0') then
  redis.call('HSET', KEYS[1], clock, turn)
  redis.call('PEXPIRE', KEYS[1], ${KEY_IDLE_TTL_MS})
end
return 1
`;

/** Gives back the ticket of the admission ARGV[1] (its uuid), if the script took one. */
const RELEASE = `
local suffix = '-' .. ARGV[1]
for _, member in ipairs(redis.call('ZRANGE', KEYS[1], 0, -1)) do
  if string.sub(member, -#suffix) == suffix then return redis.call('ZREM', KEYS[1], member) end
end
return 0
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
redis.call('PEXPIRE', KEYS[1], ${KEY_IDLE_TTL_MS})
return 1
`;

/** A ticket outlives its deadline by this much, so that a job finishing right at its deadline still holds it. */
const EXPIRY_GRACE_MS = 1000;

/**
 * How long before its command timeout a caller stops accepting its admission: the reply's way back, and the error of
 * RedisClock's reading of Redis's clock.
 */
export const ADMISSION_MARGIN_MS = 250;

interface AdmissionCommands {
  sluiceAdmit(
    tickets: string,
    meta: string,
    service: string,
    turns: string,
    active: string,
    now: number,
    capacity: number,
    maxConcurrent: number,
    expiresAt: number,
    uuid: string,
    priority: number,
    maxQueueWaitMs: number,
    deadline: number,
    caller: string,
    turnCost: number,
    span: number,
    highest: number,
    giveUpAt: number,
  ): Promise<[number, number, string, string, number, number]>;
  sluiceTurnStarted(turns: string, priority: number, turn: number): Promise<number>;
  sluiceRelease(tickets: string, uuid: string): Promise<number>;
}

/** Defines the scripts on a connection: its admissions, and a worker's jobs starting and ending. */
export function defineAdmission(redis: Redis): void {
  redis.defineCommand('sluiceAdmit', { numberOfKeys: 5, lua: ADMIT });
  redis.defineCommand('sluiceServed', { numberOfKeys: 2, lua: SERVED });
  redis.defineCommand('sluiceTurnStarted', { numberOfKeys: 1, lua: TURN_STARTED });
  redis.defineCommand('sluiceRelease', { numberOfKeys: 1, lua: RELEASE });
}

export interface AdmissionRequest {
  tickets: string;
  meta: string;
  service: string;
  turns: string;
  /** BullMQ's list of the model's running jobs. */
  active: string;
  /** The job id's unique part; the script puts the job's place in line before it. */
  uuid: string;
  /** The policy's priority (priority-policy.ts). */
  priority: number;
  caller: { id: string; weight: number };
  scale: TurnScale;
  deadline: number;
  maxConcurrent: number;
  maxQueued: number;
  maxQueueWaitMs: number;
  /** Epoch ms on Redis's clock (RedisClock) after which the caller no longer waits for this admission's answer. */
  giveUpAt: number;
}

export interface Admission {
  admitted: boolean;
  /** Refused because Redis ran it after its caller had given up on it (Redis hung): nothing was taken. */
  late: boolean;
  /** Refused because max_queued was reached (rather than for the predicted wait). */
  full: boolean;
  /** Tickets after the attempt: running and queued over all replicas. */
  held: number;
  /** The newcomer's predicted wait for a slot, ms. */
  predictedWaitMs: number;
  /** Once admitted: the job's id and ticket, `p<order>-<uuid>`. */
  jobId: string;
  /**
   * Once admitted: its BullMQ priority, the policy's priority and its turn folded together (lineOrder); 0 for a job
   * that found a free slot, which BullMQ takes from its plain list, its fastest path.
   */
  order: number;
  /** Once admitted to wait: its caller's turn at its priority, counted from the first (TURN_STARTED). */
  turn: JobTurn | undefined;
}

export async function admit(redis: Redis, r: AdmissionRequest, now = Date.now()): Promise<Admission> {
  const [result, held, wait, jobId, order, turn] = await (redis as unknown as AdmissionCommands).sluiceAdmit(
    r.tickets,
    r.meta,
    r.service,
    r.turns,
    r.active,
    now,
    r.maxConcurrent + r.maxQueued,
    r.maxConcurrent,
    r.deadline + EXPIRY_GRACE_MS,
    r.uuid,
    r.priority,
    r.maxQueueWaitMs,
    r.deadline,
    r.caller.id,
    turnCost(r.caller.weight),
    r.scale.span,
    r.scale.highest,
    r.giveUpAt,
  );
  return {
    admitted: result === 0,
    late: result === 3,
    full: result === 1,
    held,
    predictedWaitMs: Number(wait),
    jobId,
    order,
    turn: order > 0 ? { priority: priorityClass(r.scale, r.priority), turn } : undefined,
  };
}

/** Gives back the ticket of an admission whose answer never came (a command timeout, a dropped connection). */
export function release(redis: Redis, tickets: string, uuid: string): Promise<number> {
  return (redis as unknown as AdmissionCommands).sluiceRelease(tickets, uuid);
}

/** A worker took a job that waited: moves its priority's clock on to its turn. */
export function turnStarted(redis: Redis, turns: string, { priority, turn }: JobTurn): Promise<unknown> {
  return (redis as unknown as AdmissionCommands).sluiceTurnStarted(turns, priority, turn);
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
