import { randomUUID } from 'node:crypto';
import type { Redis } from 'ioredis';
import { RedisNames } from './redis-keys.js';

/**
 * Takes a call's place on the least busy of the candidate replicas, counted over every gateway: each replica has a
 * sorted set of tickets (`<prefix>:<model>:calls:<address>`), one per call in flight on it, scored by the call's
 * deadline, so a ticket whose gateway died expires by itself, as admission tickets do (admission.ts). KEYS are the
 * candidates in the caller's order of preference (ties go to the earlier: the caller rotates them for round-robin);
 * ARGV: the per-replica cap, the ticket, its expiry (epoch ms), and 1 when the first candidate is preferred while it
 * is under the cap (prefix affinity). Returns the 1-based index of the replica taken, 0 when every one is at its cap.
 * The set expires with its furthest ticket, so nothing outlives the calls.
 */
const TAKE = `
local time = redis.call('TIME')
local now = tonumber(time[1]) * 1000 + math.floor(tonumber(time[2]) / 1000)
local cap = tonumber(ARGV[1])
local best, fewest = 0, nil
for i, key in ipairs(KEYS) do
  redis.call('ZREMRANGEBYSCORE', key, '-inf', now)
  local held = redis.call('ZCARD', key)
  if held < cap then
    if i == 1 and ARGV[4] == '1' then
      best = 1
      break
    end
    if fewest == nil or held < fewest then
      best, fewest = i, held
    end
  end
end
if best == 0 then return 0 end
redis.call('ZADD', KEYS[best], ARGV[3], ARGV[2])
local furthest = redis.call('ZRANGE', KEYS[best], -1, -1, 'WITHSCORES')
redis.call('PEXPIREAT', KEYS[best], furthest[2])
return best
`;

interface ReplicaCallCommands {
  sluiceTakeReplicaCall(keyCount: number, ...keysAndArgs: Array<string | number>): Promise<number>;
}

/** One call's place on a replica; release() gives it back (once; later calls do nothing). */
export interface ReplicaCallTicket {
  /** The index, in the candidates given, of the replica taken. */
  readonly index: number;
  readonly release: () => void;
}

/**
 * Calls in flight per backend replica over every gateway sharing Redis, so that routing picks the least busy replica
 * of all of them and a replica's cap (max_concurrent) holds over all of them together. A replica is known by its
 * address, which every gateway sees alike.
 */
export class RedisReplicaCalls {
  private readonly names: RedisNames;
  private readonly commands: ReplicaCallCommands;

  constructor(
    private readonly redis: Redis,
    prefix: string,
    /** Distinguishes this gateway's tickets from the others'. */
    private readonly gatewayId: string = randomUUID(),
  ) {
    this.names = new RedisNames(prefix);
    redis.defineCommand('sluiceTakeReplicaCall', { lua: TAKE });
    this.commands = redis as unknown as ReplicaCallCommands;
  }

  /**
   * A ticket on the candidate (replica address) with the fewest calls in flight under `cap` — the first one while it
   * is under `cap` if `preferFirst` — held until release() or `expiresAt` (epoch ms); null when all are at `cap`.
   */
  async take(
    modelId: string,
    addresses: readonly string[],
    cap: number,
    expiresAt: number,
    preferFirst = false,
  ): Promise<ReplicaCallTicket | null> {
    const keys = addresses.map((address) => this.names.replicaCalls(modelId, address));
    const ticket = `${this.gatewayId}:${randomUUID()}`;
    const taken = await this.commands.sluiceTakeReplicaCall(
      keys.length,
      ...keys,
      cap,
      ticket,
      Math.ceil(expiresAt),
      preferFirst ? 1 : 0,
    );
    if (taken === 0) return null;
    const key = keys[taken - 1]!;
    let released = false;
    return {
      index: taken - 1,
      release: () => {
        if (released) return;
        released = true;
        // A release lost to a Redis outage is not a leak: the ticket expires at the call's deadline.
        this.redis.zrem(key, ticket).catch(() => undefined);
      },
    };
  }

  /** Calls in flight on each address now, over every gateway. */
  async inFlight(modelId: string, addresses: readonly string[]): Promise<number[]> {
    const now = Date.now();
    return Promise.all(
      addresses.map((address) => this.redis.zcount(this.names.replicaCalls(modelId, address), now, '+inf')),
    );
  }
}
