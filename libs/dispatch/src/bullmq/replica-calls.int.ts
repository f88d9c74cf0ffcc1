import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { after, before, describe, it } from 'node:test';
import { Redis } from 'ioredis';
import { externalRedisUrl, startRedisServer, type TestRedis } from '../testing/redis-server.js';
import { RedisReplicaCalls } from './replica-calls.js';

/** The per-replica call counts that gateways share, on a REAL redis-server: two gateways' views of one Redis. */
describe('RedisReplicaCalls (calls in flight per replica, over every gateway)', () => {
  let server: TestRedis | undefined;
  let redis: Redis;
  let other: Redis;
  const prefix = `sluice-test-${randomUUID()}`;
  const soon = () => Date.now() + 30_000;
  const A = 'http://10.0.0.1:80';
  const B = 'http://10.0.0.2:80';

  before(async () => {
    const url = externalRedisUrl() ?? (server = await startRedisServer()).url;
    redis = new Redis(url);
    other = new Redis(url);
  });
  after(async () => {
    redis?.disconnect();
    other?.disconnect();
    await server?.stop();
  });

  it('takes the replica with the fewest calls over both gateways, the earlier on a tie, never above the cap', async () => {
    const one = new RedisReplicaCalls(redis, prefix);
    const two = new RedisReplicaCalls(other, prefix);
    const first = await one.take('m', [A, B], 2, soon());
    assert.equal(first?.index, 0, 'a tie goes to the earlier candidate');
    const second = await two.take('m', [A, B], 2, soon());
    assert.equal(second?.index, 1, "the other gateway sees A's call and takes B");
    const third = await two.take('m', [B, A], 2, soon());
    assert.equal(third?.index, 0, 'a tie again: the earlier in this order, B');
    const fourth = await one.take('m', [A, B], 2, soon());
    assert.equal(fourth?.index, 0, 'A has 1, B 2');
    assert.deepEqual(await one.inFlight('m', [A, B]), [2, 2]);
    assert.equal(await two.take('m', [A, B], 2, soon()), null, 'both at the cap of 2');
    second.release();
    second.release(); // a second release gives back nothing more
    const fifth = await one.take('m', [A, B], 2, soon());
    assert.equal(fifth?.index, 1, "B's place, given back by the other gateway");
    for (const ticket of [first, third, fourth, fifth]) ticket.release();
    await new Promise((resolve) => setTimeout(resolve, 50));
    assert.deepEqual(await one.inFlight('m', [A, B]), [0, 0]);
    assert.equal(await redis.exists(`${prefix}:m:calls:${A}`, `${prefix}:m:calls:${B}`), 0, 'no set left');
  });

  it('prefers the first candidate while it is under the cap (prefix affinity), then the least busy', async () => {
    const calls = new RedisReplicaCalls(redis, prefix);
    const held = [await calls.take('p', [A, B], 2, soon(), true), await calls.take('p', [A, B], 2, soon(), true)];
    assert.deepEqual(
      held.map((t) => t?.index),
      [0, 0],
      'A twice, although B is idle',
    );
    const full = await calls.take('p', [A, B], 2, soon(), true);
    assert.equal(full?.index, 1, 'A at its cap: B');
    for (const ticket of [...held, full]) ticket!.release();
  });

  it("forgets a dead gateway's calls at their deadline, and the set expires with its furthest ticket", async () => {
    const dead = new RedisReplicaCalls(other, prefix);
    const lost = await dead.take('d', [A], 1, Date.now() + 300); // its gateway dies: never released
    assert.equal(lost?.index, 0);
    const calls = new RedisReplicaCalls(redis, prefix);
    assert.equal(await calls.take('d', [A], 1, soon()), null, 'held until its deadline');
    const ttl = await redis.pttl(`${prefix}:d:calls:${A}`);
    assert.ok(ttl > 0 && ttl <= 300, `the set expires with the ticket (${ttl} ms)`);
    await new Promise((resolve) => setTimeout(resolve, 350));
    const after = await calls.take('d', [A], 1, soon());
    assert.equal(after?.index, 0, 'the place is free again');
    after.release();
  });
});
