import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { describeRateLimiterBehaviour } from '#rate-limits/testing';
import { InProcessRateLimiter } from './in-process-rate-limiter.js';
import { SlidingLog } from './sliding-log.js';

describeRateLimiterBehaviour('in process', (clock) => {
  const limiter = new InProcessRateLimiter({ clock });
  return Promise.resolve({ limiter, close: () => limiter.close() });
});

describe('SlidingLog: the window maths', () => {
  it('counts an entry from its millisecond until exactly one window later', () => {
    const log = new SlidingLog(60_000);
    log.add(1_000, 5);
    assert.equal(log.total(1_000), 5);
    assert.equal(log.total(60_999), 5);
    assert.equal(log.total(61_000), 0);
  });

  it('says how long until enough has left, oldest first, and when the oldest leaves', () => {
    const log = new SlidingLog(60_000);
    log.add(0, 10);
    log.add(15_000, 20);
    log.add(30_000, 30);
    assert.equal(log.total(40_000), 60);
    assert.equal(log.untilOldestLeaves(40_000), 20_000);
    assert.equal(log.untilFreed(40_000, 10), 20_000);
    assert.equal(log.untilFreed(40_000, 11), 35_000);
    assert.equal(log.untilFreed(40_000, 60), 50_000);
    assert.equal(new SlidingLog(60_000).untilOldestLeaves(0), 0);
  });

  it('keeps its order when the clock steps back, and forgets what left', () => {
    const log = new SlidingLog(1_000);
    log.add(5_000, 1);
    log.add(4_000, 1); // counted as at 5 000
    assert.equal(log.untilFreed(5_000, 2), 1_000);
    for (let t = 6_000; t < 6_200; t++) log.add(t, 1);
    assert.equal(log.total(7_099), 100);
    assert.equal(log.isEmpty(7_100), false);
    assert.equal(log.isEmpty(7_200), true);
  });
});

describe('InProcessRateLimiter', () => {
  it('forgets a key once nothing of it counts, so idle keys take no memory', async () => {
    let now = 0;
    const limiter = new InProcessRateLimiter({ clock: () => now });
    const keys = (limiter as unknown as { keys: Map<string, unknown> }).keys;
    const held = await limiter.acquire('k', { requestsPerMinute: 1, maxConcurrent: 1 }, { leaseExpiresAt: 10_000 });
    assert.ok(held.admitted);
    await held.permit.release(0);
    assert.equal(keys.size, 1, 'the request still counts');
    now = 60_000;
    assert.ok((await limiter.acquire('other', { maxConcurrent: 1 }, { leaseExpiresAt: 70_000 })).admitted);
    const again = await limiter.acquire('k', { requestsPerMinute: 1 }, { leaseExpiresAt: 70_000 });
    assert.ok(again.admitted);
    now = 120_000;
    await again.permit.release(0);
    assert.deepEqual([...keys.keys()], ['other']);
  });
});
